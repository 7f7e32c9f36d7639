//! Numbers as perf prints them: counts with `%.0f`, clocks in msec with
//! `%.2f`, and the thousands separator of the user's locale (perf's `%'18.0f`
//! with `setlocale(LC_ALL, "")`: `1,234,567` in en_US, none in C/C.UTF-8).

/// The locale's thousands separator for numbers, if it has one.
pub fn locale_thousands_separator() -> Option<char> {
    let name = ["LC_ALL", "LC_NUMERIC", "LANG"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))?;
    separator_for_locale(&name)
}

/// The separator glibc's locale data uses for the common locales; none for
/// C, POSIX and C.UTF-8 (and for locales we do not know, to be safe).
pub fn separator_for_locale(name: &str) -> Option<char> {
    let language = name.split(['.', '@']).next().unwrap_or("");
    match language {
        "C" | "POSIX" | "" => None,
        l if l.starts_with("en_") || l.starts_with("ja_") || l.starts_with("zh_") => Some(','),
        l if l.starts_with("ko_") || l.starts_with("he_") || l.starts_with("th_") => Some(','),
        _ => None,
    }
}

/// Inserts `separator` every three digits of the integer part of `formatted`.
pub fn group_thousands(formatted: &str, separator: Option<char>) -> String {
    let Some(separator) = separator else {
        return formatted.to_string();
    };
    let (sign, rest) = match formatted.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", formatted),
    };
    let (int, frac) = match rest.find('.') {
        Some(dot) => rest.split_at(dot),
        None => (rest, ""),
    };
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return formatted.to_string();
    }
    let mut out = String::with_capacity(formatted.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(separator);
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

/// A counted value: two decimals for msec clocks, none otherwise.
pub fn count(shown: f64, is_clock: bool, separator: Option<char>) -> String {
    let plain = if is_clock {
        format!("{shown:.2}")
    } else {
        format!("{shown:.0}")
    };
    group_thousands(&plain, separator)
}

/// An interval timestamp: perf's `%6lu.%09lu` of the seconds since start.
pub fn interval_time(elapsed_ns: u64) -> String {
    format!(
        "{:6}.{:09}",
        elapsed_ns / 1_000_000_000,
        elapsed_ns % 1_000_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_like_printf_quote_flag() {
        assert_eq!(group_thousands("1234567", Some(',')), "1,234,567");
        assert_eq!(group_thousands("24040.16", Some(',')), "24,040.16");
        assert_eq!(group_thousands("999", Some(',')), "999");
        assert_eq!(group_thousands("-1000", Some(',')), "-1,000");
        assert_eq!(group_thousands("1234567", None), "1234567");
        assert_eq!(group_thousands("<not counted>", Some(',')), "<not counted>");
    }

    #[test]
    fn locales() {
        assert_eq!(separator_for_locale("C.UTF-8"), None);
        assert_eq!(separator_for_locale("POSIX"), None);
        assert_eq!(separator_for_locale("en_US.UTF-8"), Some(','));
        assert_eq!(separator_for_locale("de_DE.UTF-8"), None);
    }

    #[test]
    fn counts_and_times() {
        assert_eq!(count(0.775, true, None), "0.78");
        assert_eq!(count(75.0, false, None), "75");
        assert_eq!(count(1234567.4, false, Some(',')), "1,234,567");
        assert_eq!(interval_time(100_157_606), "     0.100157606");
        assert_eq!(interval_time(12_000_000_001), "    12.000000001");
    }
}
