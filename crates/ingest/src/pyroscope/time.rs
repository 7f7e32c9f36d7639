//! The `from` and `until` parameters of `/ingest`, read as Pyroscope's
//! `attime.Parse` reads them: digits by their count (10 = seconds, 13 =
//! milliseconds, 16 = microseconds, 19 = nanoseconds, 8 = a `YYYYMMDD`
//! date), `now`, and `now-1h`-style offsets (units `s`, `m`, `h`, `d`, `w`).
//! pyroscope-go sends nanoseconds; old pyroscope-rs sent seconds.

use super::error::ProfileError;

const NS_PER_SEC: i64 = 1_000_000_000;

/// Unix nanoseconds of `text` given the current time `now_ns`.
pub fn parse_time(text: &str, now_ns: i64) -> Result<i64, ProfileError> {
    let text = text.trim();
    let invalid = || {
        ProfileError::Invalid(format!(
            "cannot read the time '{}': send Unix time as 10 (s), 13 (ms), 16 (µs) or 19 (ns) digits, a YYYYMMDD date, or now-<N><s|m|h|d|w>",
            super::labels::shorten(text)
        ))
    };
    if let Some(offset) = text.strip_prefix("now") {
        return if offset.is_empty() {
            Ok(now_ns)
        } else {
            relative(offset, now_ns).ok_or_else(invalid)
        };
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let value: i64 = text.parse().map_err(|_| invalid())?;
    let scale = match text.len() {
        8 => return date(value).ok_or_else(invalid),
        10 => NS_PER_SEC,
        13 => 1_000_000,
        16 => 1_000,
        19 => 1,
        _ => return Err(invalid()),
    };
    value.checked_mul(scale).ok_or_else(invalid)
}

/// `-1h`, `+30m`, ... applied to `now_ns`.
fn relative(offset: &str, now_ns: i64) -> Option<i64> {
    let (sign, rest) = match offset.as_bytes().first()? {
        b'-' => (-1i64, &offset[1..]),
        b'+' => (1, &offset[1..]),
        _ => return None,
    };
    let unit = rest.chars().last()?;
    let count: i64 = rest[..rest.len() - unit.len_utf8()].parse().ok()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    let delta = count.checked_mul(seconds)?.checked_mul(NS_PER_SEC)?;
    now_ns.checked_add(delta.checked_mul(sign)?)
}

/// Midnight UTC of a `YYYYMMDD` date, in Unix nanoseconds.
fn date(value: i64) -> Option<i64> {
    let (year, month, day) = (value / 10_000, (value / 100) % 100, value % 100);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days.checked_mul(86_400 * NS_PER_SEC)
}

/// The current time in Unix nanoseconds.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000 * NS_PER_SEC;

    #[test]
    fn digits_are_read_by_their_count() {
        let t = 1_700_000_000 * NS_PER_SEC;
        assert_eq!(parse_time("1700000000", NOW).unwrap(), t);
        assert_eq!(parse_time("1700000000000", NOW).unwrap(), t);
        assert_eq!(parse_time("1700000000000000", NOW).unwrap(), t);
        assert_eq!(parse_time("1700000000000000000", NOW).unwrap(), t);
        assert_eq!(parse_time("1700000000123", NOW).unwrap(), t + 123_000_000);
        assert_eq!(
            parse_time("20231114", NOW).unwrap(),
            1_699_920_000 * NS_PER_SEC
        );
        assert_eq!(parse_time("19700101", NOW).unwrap(), 0);
    }

    #[test]
    fn now_and_offsets() {
        assert_eq!(parse_time("now", NOW).unwrap(), NOW);
        assert_eq!(parse_time("now-1h", NOW).unwrap(), NOW - 3600 * NS_PER_SEC);
        assert_eq!(parse_time("now+30s", NOW).unwrap(), NOW + 30 * NS_PER_SEC);
        assert_eq!(
            parse_time("now-2d", NOW).unwrap(),
            NOW - 2 * 86_400 * NS_PER_SEC
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "12345",
            "17000000000",
            "9999999999999999999",
            "now-",
            "now-1y",
            "now-h",
            "now1h",
            "1.5",
            "20231399",
            "-1700000000",
            "now-é",
        ] {
            let err = parse_time(bad, NOW).unwrap_err();
            assert!(
                err.to_string().contains("cannot read the time"),
                "{bad}: {err}"
            );
        }
    }
}
