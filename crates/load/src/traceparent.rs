//! W3C Trace Context `traceparent` values for requests that should be traceable
//! end to end: a random 16-byte trace id, a random 8-byte parent id, sampled.

/// A fresh `traceparent` header value and its trace id (32 lowercase hex digits).
pub fn new_traceparent() -> (String, String) {
    let trace_id = format!("{:032x}", fastrand::u128(1..));
    let parent_id = format!("{:016x}", fastrand::u64(1..));
    (format!("00-{trace_id}-{parent_id}-01"), trace_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_w3c_format() {
        let (value, trace_id) = new_traceparent();
        let parts: Vec<&str> = value.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1], trace_id);
        assert_eq!(parts[1].len(), 32);
        assert_eq!(parts[2].len(), 16);
        assert_eq!(parts[3], "01");
        assert!(trace_id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(new_traceparent().1, trace_id);
    }
}
