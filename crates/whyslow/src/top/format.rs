//! Short number formats for `whyslow top`'s narrow columns: 1024-based sizes
//! in at most 5 characters ("1.2K", "123M"), shares as percentages, and
//! uptime as "3d 04:12".

/// Bytes with a 1024-based unit, at most 5 characters: "0", "812", "1.2K", "123K", "12M".
pub fn bytes(value: f64) -> String {
    if !value.is_finite() || value <= 0.0 {
        return "0".to_string();
    }
    let mut v = value;
    let mut unit = "";
    for next in ["K", "M", "G", "T", "P"] {
        if v < 1000.0 {
            break;
        }
        v /= 1024.0;
        unit = next;
    }
    if unit.is_empty() {
        format!("{v:.0}")
    } else if v < 9.95 {
        format!("{v:.1}{unit}")
    } else {
        format!("{v:.0}{unit}")
    }
}

/// A share (1.0 = 100 %) as "0.4%", "23%", "100%".
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p > 0.0 && p < 9.95 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// Seconds since boot as "3d 04:12" or "04:12" (hours:minutes).
pub fn uptime(seconds: f64) -> String {
    let total = seconds.max(0.0) as u64 / 60;
    let (days, hours, minutes) = (total / 1440, total / 60 % 24, total % 60);
    if days > 0 {
        format!("{days}d {hours:02}:{minutes:02}")
    } else {
        format!("{hours:02}:{minutes:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_fit_five_characters() {
        assert_eq!(bytes(0.0), "0");
        assert_eq!(bytes(812.0), "812");
        assert_eq!(bytes(1000.0), "1.0K");
        assert_eq!(bytes(1536.0), "1.5K");
        assert_eq!(bytes(123.0 * 1024.0), "123K");
        assert_eq!(bytes(1023.0 * 1024.0 * 1024.0), "1.0G");
        assert_eq!(bytes(12.3 * 1024.0 * 1024.0), "12M");
        for v in [999.0, 1e3, 1e6, 1e9, 1e12, 1e15, 1e17] {
            assert!(bytes(v).len() <= 5, "{v} -> {}", bytes(v));
        }
    }

    #[test]
    fn shares_and_uptime() {
        assert_eq!(percent(0.004), "0.4%");
        assert_eq!(percent(0.234), "23%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(
            uptime(3.0 * 86400.0 + 4.0 * 3600.0 + 12.0 * 60.0),
            "3d 04:12"
        );
        assert_eq!(uptime(59.0), "00:00");
    }
}
