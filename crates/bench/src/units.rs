//! Human-readable times and sizes for the terminal, Markdown and HTML views:
//! one unit chosen per table so columns line up (s, ms or µs; KiB, MiB, GiB).

/// A time unit for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds.
    Second,
    /// Milliseconds.
    Millisecond,
    /// Microseconds.
    Microsecond,
}

impl TimeUnit {
    /// The unit that shows `seconds` with 1–3 digits before the point.
    pub fn for_seconds(seconds: f64) -> Self {
        if seconds >= 1.0 {
            TimeUnit::Second
        } else if seconds >= 1e-3 || seconds == 0.0 {
            TimeUnit::Millisecond
        } else {
            TimeUnit::Microsecond
        }
    }

    /// Unit symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "µs",
        }
    }

    /// `seconds` in this unit.
    pub fn scale(self, seconds: f64) -> f64 {
        match self {
            TimeUnit::Second => seconds,
            TimeUnit::Millisecond => seconds * 1e3,
            TimeUnit::Microsecond => seconds * 1e6,
        }
    }
}

/// "50.3 ms", "1.234 s", "812.0 µs".
pub fn format_seconds(seconds: f64) -> String {
    let unit = TimeUnit::for_seconds(seconds.abs());
    format_in(seconds, unit)
}

/// `seconds` in `unit` with precision suited to it.
pub fn format_in(seconds: f64, unit: TimeUnit) -> String {
    match unit {
        TimeUnit::Second => format!("{:.3} {}", unit.scale(seconds), unit.symbol()),
        _ => format!("{:.1} {}", unit.scale(seconds), unit.symbol()),
    }
}

/// "1.9 MiB".
pub fn format_bytes(bytes: u64) -> String {
    let value = bytes as f64;
    if value >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", value / (1024.0 * 1024.0 * 1024.0))
    } else if value >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", value / (1024.0 * 1024.0))
    } else {
        format!("{:.0} KiB", value / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_readable_units() {
        assert_eq!(format_seconds(0.0503), "50.3 ms");
        assert_eq!(format_seconds(1.2344), "1.234 s");
        assert_eq!(format_seconds(0.000_812), "812.0 µs");
        assert_eq!(format_bytes(2 * 1024 * 1024), "2.0 MiB");
        assert_eq!(format_seconds(0.0), "0.0 ms");
    }
}
