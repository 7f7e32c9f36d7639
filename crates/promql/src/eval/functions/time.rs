//! Calendar functions (`minute`, `hour`, `day_of_week`, `day_of_month`,
//! `day_of_year`, `days_in_month`, `month`, `year`) of Unix seconds, in UTC,
//! with Go's conversion of a float to whole seconds.

/// Go's `int64(f)` on amd64: truncation, and the minimum for NaN, ±Inf and
/// out-of-range values.
pub(super) fn go_int64(v: f64) -> i64 {
    // ±2^63: the first values outside i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if v.is_nan() || !(-LIMIT..LIMIT).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

const SECONDS_PER_DAY: u64 = 86_400;
const DAYS_PER_400_YEARS: u64 = 365 * 400 + 97;
const DAYS_PER_100_YEARS: u64 = 365 * 100 + 24;
const DAYS_PER_4_YEARS: u64 = 365 * 4 + 1;
/// Go's `absoluteZeroYear`.
const ABSOLUTE_ZERO_YEAR: i64 = -292_277_022_399;
/// Go's `unixToInternal + internalToAbsolute`: Unix seconds to Go's
/// "absolute" seconds (wrapping, as Go's arithmetic does for extreme values).
const UNIX_TO_ABSOLUTE: i64 = 9_223_372_028_715_321_600;
/// Days before each month in a non-leap year.
const DAYS_BEFORE: [u64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Go's `absDate`: `(year, month 1-12, day 1-31, day of year 0-365)`.
fn abs_date(abs: u64) -> (i64, u64, u64, u64) {
    let mut d = abs / SECONDS_PER_DAY;
    let mut n = d / DAYS_PER_400_YEARS;
    let mut y = 400 * n;
    d -= DAYS_PER_400_YEARS * n;
    n = d / DAYS_PER_100_YEARS;
    n -= n >> 2;
    y += 100 * n;
    d -= DAYS_PER_100_YEARS * n;
    n = d / DAYS_PER_4_YEARS;
    y += 4 * n;
    d -= DAYS_PER_4_YEARS * n;
    n = d / 365;
    n -= n >> 2;
    y += n;
    d -= 365 * n;
    let year = (y as i64).wrapping_add(ABSOLUTE_ZERO_YEAR);
    let yday = d;
    let mut day = yday;
    if is_leap(year) {
        if day > 31 + 29 - 1 {
            day -= 1;
        } else if day == 31 + 29 - 1 {
            return (year, 2, 29, yday);
        }
    }
    let mut month = (day / 31) as usize;
    let end = DAYS_BEFORE[month + 1];
    let begin = if day >= end {
        month += 1;
        end
    } else {
        DAYS_BEFORE[month]
    };
    (year, month as u64 + 1, day - begin + 1, yday)
}

fn days_in(y: i64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The named calendar field of Unix time `secs` (UTC), as Go's `time`
/// package computes it (including its wrap-around for extreme values).
pub(super) fn date_part(name: &str, secs: i64) -> f64 {
    let abs = secs.wrapping_add(UNIX_TO_ABSOLUTE) as u64;
    let v = match name {
        "minute" => (abs % 3600) / 60,
        "hour" => (abs % SECONDS_PER_DAY) / 3600,
        // Go: (abs + Monday * day) % week / day, Sunday = 0.
        "day_of_week" => {
            (abs.wrapping_add(SECONDS_PER_DAY) % (7 * SECONDS_PER_DAY)) / SECONDS_PER_DAY
        }
        _ => {
            let (y, m, d, yday) = abs_date(abs);
            return match name {
                "day_of_month" => d as f64,
                "day_of_year" => (yday + 1) as f64,
                "days_in_month" => days_in(y, m) as f64,
                "month" => m as f64,
                _ => y as f64,
            };
        }
    };
    v as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_fields_match_known_dates() {
        // 2024-02-29T13:45:00Z, a Thursday, day 60 of a leap year.
        let t = 1_709_214_300;
        assert_eq!(date_part("year", t), 2024.0);
        assert_eq!(date_part("month", t), 2.0);
        assert_eq!(date_part("day_of_month", t), 29.0);
        assert_eq!(date_part("day_of_week", t), 4.0);
        assert_eq!(date_part("day_of_year", t), 60.0);
        assert_eq!(date_part("days_in_month", t), 29.0);
        assert_eq!(date_part("hour", t), 13.0);
        assert_eq!(date_part("minute", t), 45.0);
        // Before the epoch: 1969-12-31T23:59:59Z, a Wednesday.
        assert_eq!(date_part("day_of_week", -1), 3.0);
        assert_eq!(date_part("year", -1), 1969.0);
        assert_eq!(go_int64(f64::NAN), i64::MIN);
        assert_eq!(go_int64(-1.5), -1);
        // What Go prints for NaN (int64 minimum): checked with promtool.
        assert_eq!(date_part("hour", go_int64(f64::NAN)), 15.0);
        assert_eq!(date_part("minute", go_int64(f64::NAN)), 30.0);
    }
}
