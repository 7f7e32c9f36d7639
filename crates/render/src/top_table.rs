//! Terminal tables: the top functions of a profile (`SELF%  TOTAL%  FUNCTION
//! FILE:LINE`) and the biggest changes between two (`BEFORE%  AFTER%  DELTA
//! FUNCTION`), under a header with totals and unit; long names are shortened in
//! the middle, never wrapped. Text only: the numbers come from `query`.

use model::Profile;
use query::{top_changes, top_functions, ValueView};
use std::fmt::Write;

/// Width used when neither `COLUMNS` nor the terminal says.
const DEFAULT_WIDTH_CHARS: usize = 120;
/// Narrowest width tables are laid out for.
const MIN_WIDTH_CHARS: usize = 60;
/// Widest the FILE:LINE column gets.
const MAX_FILE_CHARS: usize = 40;

/// The width to lay tables out for: `$COLUMNS`, else the terminal on stdout,
/// else 120 characters.
pub fn terminal_width_chars() -> usize {
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return cols;
    }
    terminal_size::terminal_size()
        .map(|(w, _)| usize::from(w.0))
        .unwrap_or(DEFAULT_WIDTH_CHARS)
}

/// The top `limit` functions of `profile` by self value, laid out for the terminal.
pub fn top_table(profile: &Profile, view: ValueView, limit: usize) -> String {
    top_table_with_width(profile, view, limit, terminal_width_chars())
}

/// [`top_table`] laid out for `width_chars` columns.
pub fn top_table_with_width(
    profile: &Profile,
    view: ValueView,
    limit: usize,
    width_chars: usize,
) -> String {
    let width = width_chars.max(MIN_WIDTH_CHARS);
    let rows = top_functions(profile, view);
    let total = view.total(profile);
    let shown = &rows[..rows.len().min(limit)];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}; top {} of {} functions by self",
        describe_total(profile, view),
        shown.len(),
        rows.len()
    );
    let files: Vec<String> = shown
        .iter()
        .map(|r| match (r.filename.as_str(), r.line) {
            ("", _) => String::new(),
            (f, 0) => f.to_string(),
            (f, l) => format!("{f}:{l}"),
        })
        .collect();
    let has_files = files.iter().any(|f| !f.is_empty());
    let file_width = if has_files {
        files
            .iter()
            .map(|f| f.chars().count())
            .max()
            .unwrap_or(0)
            .clamp("FILE:LINE".len(), MAX_FILE_CHARS)
    } else {
        0
    };
    // " SELF%  TOTAL%  " is 16 characters, and "  " before FILE:LINE.
    let file_column = if has_files { 2 + file_width } else { 0 };
    let name_width = width.saturating_sub(16 + file_column).max(20);
    let header = format!(
        " SELF%  TOTAL%  {:<name_width$}  {}",
        "FUNCTION",
        if has_files { "FILE:LINE" } else { "" }
    );
    let _ = writeln!(out, "{}", header.trim_end());
    for (row, file) in shown.iter().zip(&files) {
        let line = format!(
            "{:>5.1}%  {:>5.1}%  {:<name_width$}  {}",
            percent(row.self_value, total),
            percent(row.total_value, total),
            shorten_middle(&row.name, name_width),
            shorten_start(file, file_width),
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.truncate(out.trim_end().len());
    out
}

/// The `limit` functions whose share of self value changed most between
/// `before` and `after`, laid out for the terminal.
pub fn changes_table(before: &Profile, after: &Profile, view: ValueView, limit: usize) -> String {
    changes_table_with_width(before, after, view, limit, terminal_width_chars())
}

/// [`changes_table`] laid out for `width_chars` columns.
pub fn changes_table_with_width(
    before: &Profile,
    after: &Profile,
    view: ValueView,
    limit: usize,
    width_chars: usize,
) -> String {
    let width = width_chars.max(MIN_WIDTH_CHARS);
    let rows = top_changes(before, after, view);
    let shown = &rows[..rows.len().min(limit)];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "before: {}; after: {}; top {} of {} functions by change in self share",
        describe_total(before, view),
        describe_total(after, view),
        shown.len(),
        rows.len()
    );
    // "BEFORE%  AFTER%   DELTA  " is 25 characters.
    let name_width = width.saturating_sub(25).max(20);
    let _ = writeln!(out, "BEFORE%  AFTER%   DELTA  FUNCTION");
    for row in shown {
        let _ = writeln!(
            out,
            "{:>6.1}%  {:>5.1}%  {:>+6.1}  {}",
            row.before_percent,
            row.after_percent,
            row.delta_points,
            shorten_middle(&row.name, name_width)
        );
    }
    out.truncate(out.trim_end().len());
    out
}

/// `part` as a percentage of `whole` (0 when `whole` is 0).
fn percent(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// The total of a view with its unit: "12 345 samples", "1.23 s of CPU (123 samples)".
pub fn describe_total(profile: &Profile, view: ValueView) -> String {
    let total = view.total(profile);
    let unit = view.unit(profile);
    let samples = match view {
        ValueView::Samples => None,
        _ if unit == "count" => None,
        _ => ValueView::Samples
            .extractor(profile)
            .is_available()
            .then(|| ValueView::Samples.total(profile)),
    };
    let mut text = match unit {
        "count" => format!("{} samples", group_thousands(total)),
        "nanoseconds" => {
            let what = match view {
                ValueView::Cpu => " of CPU",
                ValueView::OffCpu => " off-CPU",
                ValueView::Wall => " of wall time",
                ValueView::Samples => "",
            };
            format!("{}{what}", format_duration_ns(total))
        }
        "bytes" => format_bytes(total),
        other => format!("{} {other}", group_thousands(total)),
    };
    if let Some(n) = samples {
        let _ = write!(text, " ({} samples)", group_thousands(n));
    }
    text
}

/// `12345678` → `"12 345 678"`.
pub fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A duration for people: `1.23 s`, `45.6 ms`, `789 µs`, `12 ns`.
pub fn format_duration_ns(duration_ns: i64) -> String {
    let abs = duration_ns.unsigned_abs() as f64;
    let sign = if duration_ns < 0 { "-" } else { "" };
    if abs >= 1e9 {
        format!("{sign}{:.2} s", abs / 1e9)
    } else if abs >= 1e6 {
        format!("{sign}{:.1} ms", abs / 1e6)
    } else if abs >= 1e3 {
        format!("{sign}{:.0} µs", abs / 1e3)
    } else {
        format!("{sign}{abs} ns")
    }
}

/// A byte count for people: `1.5 MiB`.
fn format_bytes(bytes: i64) -> String {
    let abs = bytes.unsigned_abs() as f64;
    let sign = if bytes < 0 { "-" } else { "" };
    for (scale, unit) in [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
        if abs >= scale as f64 {
            return format!("{sign}{:.1} {unit}", abs / scale as f64);
        }
    }
    format!("{sign}{abs} B")
}

/// `text` cut to `max_chars` by replacing its middle with `…`.
pub fn shorten_middle(text: &str, max_chars: usize) -> String {
    let count = text.chars().count();
    if count <= max_chars {
        return text.to_string();
    }
    if max_chars <= 1 {
        return "…".chars().take(max_chars).collect();
    }
    let keep = max_chars - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(count - tail));
    out
}

/// `text` cut to `max_chars` by replacing its start with `…` (for paths).
fn shorten_start(text: &str, max_chars: usize) -> String {
    let count = text.chars().count();
    if count <= max_chars {
        return text.to_string();
    }
    let keep = max_chars.saturating_sub(1);
    let mut out = String::from("…");
    out.extend(text.chars().skip(count - keep));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::rich_profile;

    #[test]
    fn numbers_for_people() {
        assert_eq!(group_thousands(12_345), "12 345");
        assert_eq!(group_thousands(-1_234_567), "-1 234 567");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(format_duration_ns(1_234_000_000), "1.23 s");
        assert_eq!(format_duration_ns(45_600_000), "45.6 ms");
        assert_eq!(format_duration_ns(789_000), "789 µs");
        assert_eq!(format_duration_ns(12), "12 ns");
        assert_eq!(format_bytes(3 << 20), "3.0 MiB");
    }

    #[test]
    fn shortening_keeps_both_ends() {
        assert_eq!(shorten_middle("abcdefghij", 10), "abcdefghij");
        assert_eq!(shorten_middle("abcdefghij", 7), "abc…hij");
        assert_eq!(shorten_middle("abcdefghij", 6).chars().count(), 6);
        assert_eq!(shorten_start("/very/long/path.rs:3", 10), "…path.rs:3");
    }

    #[test]
    fn top_table_lists_functions_by_self() {
        let p = rich_profile();
        let table = top_table_with_width(&p, ValueView::Cpu, 3, 80);
        let expected = format!(
            "40.0 ms of CPU (6 samples); top 3 of 5 functions by self\n \
             SELF%  TOTAL%  {:<53}  FILE:LINE\n \
             75.0%   75.0%  {:<53}  lib.rs:12\n \
             25.0%   25.0%  0x2000\n  \
             0.0%  100.0%  app",
            "FUNCTION", "inner"
        );
        assert_eq!(table, expected);
        assert!(table.lines().all(|l| l.chars().count() <= 80));
    }

    #[test]
    fn long_names_are_shortened_to_the_width() {
        let mut p = rich_profile();
        p.functions[1].name = format!("very::long::{}::name", "x".repeat(200));
        let table = top_table_with_width(&p, ValueView::Samples, 10, 70);
        assert!(table.lines().all(|l| l.chars().count() <= 70), "{table}");
        assert!(table.contains('…'));
    }

    #[test]
    fn changes_table_signs_the_delta() {
        let before = rich_profile();
        let mut after = rich_profile();
        after.samples[1].values[1] *= 3;
        let table = changes_table_with_width(&before, &after, ValueView::Cpu, 5, 80);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[1], "BEFORE%  AFTER%   DELTA  FUNCTION");
        assert_eq!(lines[2], "  25.0%   50.0%   +25.0  0x2000");
        assert_eq!(lines[3], "  75.0%   50.0%   -25.0  inner");
    }
}
