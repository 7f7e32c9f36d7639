//! Checks of single values in a scrape configuration: label names, target
//! addresses and sizes. Errors are phrases; the config parser adds the line.

/// A Prometheus size: `512KB`, `10MB`, `1GB`, `100B`, `0` (1024-based).
pub(super) fn parse_size(text: &str) -> Option<usize> {
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number: usize = text[..digits].parse().ok()?;
    let scale: usize = match &text[digits..] {
        "" if number == 0 => 1,
        "B" => 1,
        "KB" | "KiB" => 1 << 10,
        "MB" | "MiB" => 1 << 20,
        "GB" | "GiB" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(scale)
}

pub(super) fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "{name:?} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)"
        ));
    }
    if name.starts_with("__") {
        return Err(format!(
            "label {name:?}: names starting with __ are for relabeling, which whyslow does not do"
        ));
    }
    Ok(())
}

/// `host:port` (or a bare host, port 80), no scheme or path.
pub(super) fn check_address(address: &str) -> Result<(), String> {
    if address.contains("://") || address.contains('/') {
        return Err(format!("target {address:?} must be host:port, without a scheme or path (set scheme and metrics_path instead)"));
    }
    if address.is_empty() || address.contains(char::is_whitespace) {
        return Err(format!("target {address:?} is not host:port"));
    }
    if let Some((host, port)) = address.rsplit_once(':') {
        if !host.ends_with(']') && host.contains(':') {
            return Err(format!(
                "target {address:?}: write an IPv6 address in brackets, e.g. [::1]:9100"
            ));
        }
        if port.parse::<u16>().is_err() {
            return Err(format!("target {address:?} has an invalid port {port:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_addresses_and_label_names() {
        assert_eq!(parse_size("10MB"), Some(10 << 20));
        assert_eq!(parse_size("512KB"), Some(512 << 10));
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("10"), None);
        assert_eq!(parse_size("1.5MB"), None);
        assert!(check_address("localhost:9100").is_ok());
        assert!(check_address("[::1]:9100").is_ok());
        assert!(check_address("::1:9100").is_err());
        assert!(check_address("host").is_ok());
        assert!(check_label_name("env").is_ok());
        assert!(check_label_name("1env").is_err());
        assert!(check_label_name("__address__").is_err());
    }
}
