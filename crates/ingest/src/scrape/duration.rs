//! Prometheus durations as its configuration writes them: `15s`, `1m30s`,
//! `500ms`, `2h`, `1d`, `1w`, `1y` (units from largest to smallest, each at
//! most once, integer amounts).

use std::time::Duration;

/// Parses a Prometheus duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let invalid = || format!("invalid duration {text:?} (examples: 15s, 1m30s, 500ms, 2h)");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text;
    let mut total: u64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(invalid)?;
        if digits == 0 {
            return Err(invalid());
        }
        let amount: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        let after = &rest[digits..];
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let unit = &after[..unit_len];
        let index = UNITS[next_unit..]
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or_else(invalid)?
            + next_unit;
        total = amount
            .checked_mul(UNITS[index].1)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(invalid)?;
        next_unit = index + 1;
        rest = &after[unit_len..];
    }
    if text.is_empty() {
        return Err(invalid());
    }
    Ok(Duration::from_millis(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations_parse() {
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h0m5s"), Ok(Duration::from_secs(3605)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "5", "s", "1.5s", "30s1m", "1s1s", "-1s", "10 s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
