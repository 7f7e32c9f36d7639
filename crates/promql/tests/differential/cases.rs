//! The queries (`queries.txt`, one per line) and where each is evaluated.
//!
//! Line syntax: `# --- section ---` (groups the pass counts), `# comment`, blank, or `[mode: ]query` (colon and space) where mode is
//! - none: instant at every [`INSTANT_TIMES`] and range over every [`RANGES`];
//! - `instant:` only instant (queries whose result is a range vector or a string);
//! - `range:` only range queries;
//! - `error:` must fail in Prometheus (instant at 30 m and the first range):
//!   parse errors, many-to-many matching, duplicate output label sets.
//!
//! `{{t0}}`, `{{t0+60m}}`, `{{t0+90s}}` in a query become Unix seconds (for `@`).

use crate::data::MINUTE;

/// Instant evaluation times (offset from t0, name).
pub const INSTANT_TIMES: [(i64, &str); 10] = [
    (10_000, "start edge"),
    (30 * MINUTE, "aligned"),
    (47 * MINUTE + 13_500, "unaligned"),
    (60 * MINUTE, "at api-2's stale marker"),
    (65 * MINUTE, "api-2 stale"),
    (80 * MINUTE, "api-2's first sample back"),
    (93 * MINUTE, "web-2 gap, in lookback"),
    (97 * MINUTE + 30_000, "web-2 gap, past lookback"),
    (119 * MINUTE + 45_000, "last sample"),
    (123 * MINUTE, "after end, in lookback"),
];

/// Range queries (start, end, step as offsets from t0; name).
pub const RANGES: [(i64, i64, i64, &str); 5] = [
    (
        5 * MINUTE + 7_000,
        130 * MINUTE,
        MINUTE,
        "whole, 1m step, unaligned start",
    ),
    (55 * MINUTE, 85 * MINUTE, 15_000, "stale and back, 15s step"),
    (
        88 * MINUTE + 500,
        102 * MINUTE + 30_000,
        30_000,
        "gap, 30s step",
    ),
    (
        -10 * MINUTE,
        137 * MINUTE,
        7 * MINUTE + 13_000,
        "beyond both ends, odd step",
    ),
    (
        MINUTE + 123,
        125 * MINUTE,
        17_500,
        "millisecond start, 17.5s step",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Both,
    InstantOnly,
    RangeOnly,
    Error,
}

#[derive(Debug, Clone)]
pub struct Query {
    /// 1-based line in queries.txt.
    pub line: usize,
    pub text: String,
    pub mode: Mode,
    /// The last `# --- name ---` heading above it.
    pub section: String,
}

/// One evaluation (offsets from t0).
#[derive(Debug, Clone, Copy)]
pub enum Eval {
    Instant { t: i64 },
    Range { start: i64, end: i64, step: i64 },
}

/// Parses queries.txt.
pub fn parse(text: &str) -> Result<Vec<Query>, String> {
    let mut out = Vec::new();
    let mut section = String::from("(no section)");
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(heading) = line.strip_prefix("# ---") {
            section = heading
                .trim_matches(|c: char| c == '-' || c.is_whitespace())
                .into();
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (mode, query) = match line.split_once(": ") {
            Some(("instant", q)) => (Mode::InstantOnly, q),
            Some(("range", q)) => (Mode::RangeOnly, q),
            Some(("error", q)) => (Mode::Error, q),
            _ => (Mode::Both, line),
        };
        let query = query.trim();
        if query.is_empty() {
            return Err(format!("queries.txt line {}: empty query", i + 1));
        }
        out.push(Query {
            line: i + 1,
            text: query.to_string(),
            mode,
            section: section.clone(),
        });
    }
    Ok(out)
}

/// Where `query` is evaluated.
pub fn evals(query: &Query) -> Vec<Eval> {
    let instants = INSTANT_TIMES.iter().map(|(t, _)| Eval::Instant { t: *t });
    let ranges = RANGES.iter().map(|(start, end, step, _)| Eval::Range {
        start: *start,
        end: *end,
        step: *step,
    });
    match query.mode {
        Mode::Both => instants.chain(ranges).collect(),
        Mode::InstantOnly => instants.collect(),
        Mode::RangeOnly => ranges.collect(),
        Mode::Error => vec![
            Eval::Instant { t: 30 * MINUTE },
            Eval::Range {
                start: RANGES[0].0,
                end: RANGES[0].1,
                step: RANGES[0].2,
            },
        ],
    }
}

/// `t0+65m`, `t0+47m13.5s`, `t0-10m`.
pub fn fmt_offset(offset: i64) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let ms = offset.abs();
    let (m, s, rest) = (ms / MINUTE, (ms % MINUTE) / 1000, ms % 1000);
    let mut out = format!("t0{sign}{m}m");
    if s != 0 || rest != 0 {
        out.push_str(&format!("{s}"));
        if rest != 0 {
            out.push_str(format!(".{rest:03}").trim_end_matches('0'));
        }
        out.push('s');
    }
    out
}

impl Eval {
    pub fn describe(&self) -> String {
        match *self {
            Eval::Instant { t } => {
                let name = INSTANT_TIMES
                    .iter()
                    .find(|(x, _)| *x == t)
                    .map(|(_, n)| format!(" ({n})"))
                    .unwrap_or_default();
                format!("instant at {}{name}", fmt_offset(t))
            }
            Eval::Range { start, end, step } => format!(
                "range {}..{} step {}s",
                fmt_offset(start),
                fmt_offset(end),
                step as f64 / 1000.0
            ),
        }
    }
}

/// Replaces `{{t0}}` / `{{t0+<n>m}}` / `{{t0+<n>s}}` with Unix seconds.
pub fn resolve(text: &str, t0: i64) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in {text}"))?;
        let inner = &rest[open + 2..open + close];
        let offset_ms = match inner.strip_prefix("t0") {
            Some("") => 0,
            Some(o) => {
                let (number, unit) = o.split_at(o.len() - 1);
                let n: i64 = number
                    .trim_start_matches('+')
                    .parse()
                    .map_err(|e| format!("bad offset {inner:?} in {text}: {e}"))?;
                match unit {
                    "m" => n * MINUTE,
                    "s" => n * 1000,
                    _ => return Err(format!("bad unit in {inner:?} (m or s) in {text}")),
                }
            }
            None => return Err(format!("unknown placeholder {inner:?} in {text}")),
        };
        let ms = t0 + offset_ms;
        out.push_str(&format!(
            "{}.{:03}",
            ms.div_euclid(1000),
            ms.rem_euclid(1000)
        ));
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
