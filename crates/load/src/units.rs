//! Parsing and printing of the units load tests speak: durations (`30s`,
//! `500ms`, `2m`) and latencies in microseconds printed as `1.23ms`.

use std::time::Duration;

/// Parses `10s`, `500ms`, `250us`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix("us").or_else(|| text.strip_suffix("µs")) {
        (n, 1e-6)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3600.0)
    } else if let Some(n) = text.strip_suffix('d') {
        (n, 86_400.0)
    } else if let Some(n) = text.strip_suffix('w') {
        (n, 604_800.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration '{text}' (examples: 10s, 500ms, 2m, 7d)"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("duration must not be negative, got '{text}'"));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

/// Prints a latency given in microseconds with a unit that keeps 3 significant digits.
pub fn format_latency_us(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0}µs")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1000.0)
    } else {
        format!("{:.3}s", us / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn latencies_print_readably() {
        assert_eq!(format_latency_us(512.0), "512µs");
        assert_eq!(format_latency_us(5_120.0), "5.12ms");
        assert_eq!(format_latency_us(1_500_000.0), "1.500s");
    }
}
