//! Helpers of the rule tests: samples written ahead of time (so both
//! servers see exactly the same data at every evaluation), GET of JSON API
//! answers, and waiting for a moment between two group evaluations.
#![allow(dead_code)]

use crate::support::{now_ms, try_http, write_request, REMOTE_WRITE_HEADERS};
use std::time::{Duration, Instant};

/// `name{instance}` samples every 250 ms over `[from_ms, to_ms)`, value by time.
pub fn schedule(
    name: &'static str,
    instance: &str,
    from_ms: i64,
    to_ms: i64,
    value: impl Fn(i64) -> f64,
) -> crate::support::SeriesToSend<'static> {
    let samples = (from_ms..to_ms)
        .step_by(250)
        .map(|t| (t, value(t)))
        .collect();
    (
        vec![
            ("__name__", name.to_string()),
            ("instance", instance.to_string()),
            ("job", "demo".to_string()),
        ],
        samples,
    )
}

/// remote_writes `series` to `addr` (serve or a Prometheus with the receiver on).
pub fn remote_write(addr: &str, series: &[crate::support::SeriesToSend]) {
    let body = write_request(series);
    let (status, text) = try_http(addr, "POST", "/api/v1/write", REMOTE_WRITE_HEADERS, &body)
        .unwrap_or_else(|| panic!("{addr}: no answer to remote_write"));
    assert!(
        (200..300).contains(&status),
        "{addr} remote_write: {status} {text}"
    );
}

/// GET `path` on `addr`; the `data` of a success answer.
pub fn get_data(addr: &str, path: &str) -> serde_json::Value {
    let (status, body) =
        try_http(addr, "GET", path, &[], b"").unwrap_or_else(|| panic!("{addr}{path}: no answer"));
    assert_eq!(status, 200, "{addr}{path}: {body}");
    let json: serde_json::Value = serde_json::from_str(&body)
        .or_else(|_| serde_json::from_str(&dechunk(&body)))
        .unwrap_or_else(|e| panic!("{addr}{path}: not JSON ({e}): {body}"));
    assert_eq!(json["status"], "success", "{body}");
    json["data"].clone()
}

/// Unix ns of an RFC 3339 time as Go writes it.
pub fn parse_time_ns(text: &str) -> i64 {
    let (secs, frac) = match text.trim_end_matches('Z').split_once('.') {
        Some((s, f)) => (s.to_string() + "Z", f.to_string()),
        None => (text.to_string(), String::new()),
    };
    let digits = format!("{frac:0<9}");
    let nanos: i64 = digits[..9].parse().unwrap_or(0);
    // yyyy-mm-ddThh:mm:ssZ, UTC.
    let date = &secs[..10];
    let time = &secs[11..19];
    let (y, m, d): (i64, i64, i64) = (
        date[..4].parse().unwrap(),
        date[5..7].parse().unwrap(),
        date[8..10].parse().unwrap(),
    );
    let (hh, mm, ss): (i64, i64, i64) = (
        time[..2].parse().unwrap(),
        time[3..5].parse().unwrap(),
        time[6..8].parse().unwrap(),
    );
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000 + nanos
}

/// Sleeps until `offset_ms` after the next evaluation of the (only) group
/// of `addr`'s `/api/v1/rules`, whose interval is 1 s; bounded.
pub fn wait_between_evaluations(addr: &str, offset_ms: i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let data = get_data(addr, "/api/v1/rules");
        let last = data["groups"][0]["lastEvaluation"].as_str().unwrap_or("");
        if !last.starts_with("0001") && !last.is_empty() {
            let phase_ms = parse_time_ns(last).div_euclid(1_000_000).rem_euclid(1000);
            let now = now_ms();
            let target = now - now.rem_euclid(1000) + phase_ms + offset_ms;
            let target = if target <= now { target + 1000 } else { target };
            std::thread::sleep(Duration::from_millis((target - now) as u64));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{addr} never evaluated its rules"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `check` every 100 ms until it gives `Some`, at most `within`.
pub fn eventually<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The body of a `Transfer-Encoding: chunked` answer (Go's server chunks
/// bodies over a few KB).
pub fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}
