//! Human-readable times and sizes for the terminal, table exports and HTML
//! views: one unit per table so columns line up (s, ms or µs, chosen from the
//! times or given with `--time-unit`; KiB, MiB, GiB).

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
    /// Parses a `--time-unit` value: hyperfine's `microsecond`, `millisecond`
    /// and `second`, or the symbols `us`, `µs`, `ms` and `s`. The error lists
    /// the accepted values.
    pub fn parse(text: &str) -> Result<TimeUnit, String> {
        match text {
            // "µs" with the micro sign (what `symbol` writes) or the Greek mu.
            "microsecond" | "us" | "\u{b5}s" | "\u{3bc}s" => Ok(TimeUnit::Microsecond),
            "millisecond" | "ms" => Ok(TimeUnit::Millisecond),
            "second" | "s" => Ok(TimeUnit::Second),
            _ => Err(format!(
                "unknown time unit {text:?}: use microsecond, millisecond or second \
                 (or us, µs, ms, s)"
            )),
        }
    }

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
    format!("{} {}", format_number_in(seconds, unit), unit.symbol())
}

/// `seconds` in `unit` without the symbol, as tables print it under a
/// "[ms]" header: three decimals in seconds, one in ms and µs (hyperfine's).
pub fn format_number_in(seconds: f64, unit: TimeUnit) -> String {
    match unit {
        TimeUnit::Second => format!("{:.3}", unit.scale(seconds)),
        _ => format!("{:.1}", unit.scale(seconds)),
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

    #[test]
    fn parses_hyperfine_time_unit_names_and_symbols() {
        for (text, unit) in [
            ("microsecond", TimeUnit::Microsecond),
            ("us", TimeUnit::Microsecond),
            ("µs", TimeUnit::Microsecond),
            ("μs", TimeUnit::Microsecond),
            ("millisecond", TimeUnit::Millisecond),
            ("ms", TimeUnit::Millisecond),
            ("second", TimeUnit::Second),
            ("s", TimeUnit::Second),
        ] {
            assert_eq!(TimeUnit::parse(text), Ok(unit), "{text}");
        }
        // Every unit's own symbol parses back to it.
        for unit in [
            TimeUnit::Second,
            TimeUnit::Millisecond,
            TimeUnit::Microsecond,
        ] {
            assert_eq!(TimeUnit::parse(unit.symbol()), Ok(unit));
        }
    }

    #[test]
    fn rejects_other_time_units_listing_the_accepted_ones() {
        for text in ["", "minute", "sec", "MS", " ms", "ns"] {
            let error = TimeUnit::parse(text).expect_err(text);
            assert!(error.contains(&format!("{text:?}")), "{error}");
            for accepted in [
                "microsecond",
                "millisecond",
                "second",
                "us",
                "µs",
                "ms",
                "s",
            ] {
                assert!(error.contains(accepted), "{error} lacks {accepted}");
            }
        }
    }
}
