//! bpftrace 0.17's text output, as pure functions over plain values: maps
//! printed at exit and by `print()`, and `printf` (in `format/printf.rs`).
//!
//! Layout of one map (verified byte for byte against bpftrace 0.17 by
//! `tests/bpftrace_layout.rs`):
//!
//! - integers (count, sum, min, max, plain): `@x[1, foo]: 5` per element,
//!   then nothing more (a plain map of unsigned values prints them unsigned,
//!   keys always print signed);
//! - avg and stats: the same lines (`@s: count 2, average 15, total 30`),
//!   then one empty line;
//! - hist and lhist: `@h[key]: ` then the bucket rows, an empty line after
//!   each element;
//! - stacks (`@s = kstack`): a newline, then the frames indented by 8 on
//!   their own lines, elements run together and one empty line after the
//!   last; as keys they are indented by 4 inside `[` `]` (perf mode: frames
//!   as `\tADDRESS SYMBOL`, not indented); a stack that could not be read
//!   prints as nothing (`@[]: 3`);
//! - `func` values run together the same way (`@f[1]: main@f[2]: foo`);
//! - a map without elements: one empty line (two for avg and stats).
//!
//! At exit bpftrace prints two newlines, then every map sorted by name.

pub mod hist;
pub mod printf;
pub mod sort;
pub mod value;

pub use value::{Key, MapSnapshot, MapValue, Stack};

use crate::types::{AggKind, Type};

/// The line bpftrace prints once its probes are attached.
pub fn attaching_line(probes: usize) -> String {
    if probes == 1 {
        "Attaching 1 probe...\n".to_string()
    } else {
        format!("Attaching {probes} probes...\n")
    }
}

/// Everything printed at exit: two newlines, then all maps by name.
pub fn format_exit(maps: &[MapSnapshot]) -> String {
    let mut sorted: Vec<&MapSnapshot> = maps.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut out = String::from("\n\n");
    for map in sorted {
        out.push_str(&format_map(map, 0, 1));
    }
    out
}

/// One map as `print(@m, top, div)` prints it (`top` 0 = all, `div` 0 or 1 =
/// no division).
pub fn format_map(map: &MapSnapshot, top: usize, div: u64) -> String {
    let mut entries = map.entries.clone();
    sort::sort_entries(&mut entries);
    let Some((_, first)) = entries.first() else {
        let stats_like = matches!(map.kind, Type::Agg(AggKind::Avg | AggKind::Stats));
        return if stats_like { "\n\n" } else { "\n" }.to_string();
    };
    let div = div.max(1);
    let stats_like = matches!(first, MapValue::Avg { .. } | MapValue::Stats { .. });
    let honours_top = !matches!(first, MapValue::Stats { .. });
    let joined_tight = matches!(first, MapValue::Stack(_) | MapValue::Sym(_));
    if top > 0 && honours_top && entries.len() > top {
        entries.drain(..entries.len() - top);
    }
    let elements: Vec<String> = entries
        .iter()
        .map(|(keys, value)| {
            let mut element = format!("{}{}: ", map.name, key_list(keys));
            element.push_str(&value_text(value, div));
            element
        })
        .collect();
    let separator = if joined_tight { "" } else { "\n" };
    let mut out = elements.join(separator);
    out.push('\n');
    if stats_like {
        out.push('\n');
    }
    out
}

fn key_list(keys: &[Key]) -> String {
    if keys.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = keys.iter().map(key_text).collect();
    format!("[{}]", parts.join(", "))
}

/// A key component as bpftrace prints it inside `[…]`.
pub fn key_text(key: &Key) -> String {
    match key {
        Key::Int(v) => v.to_string(),
        Key::Str(s) | Key::Sym(s) | Key::Probe(s) => s.clone(),
        Key::Stack(stack) => stack_text(stack, 4),
    }
}

/// A stack as bpftrace prints it in `printf("%s")` and as a map value.
pub fn stack_value_text(stack: &Stack) -> String {
    stack_text(stack, 8)
}

fn stack_text(stack: &Stack, indent: usize) -> String {
    if stack.frames.is_empty() {
        return String::new();
    }
    let indent = if stack.perf { 0 } else { indent };
    let mut out = String::from("\n");
    for frame in &stack.frames {
        out.push_str(&" ".repeat(indent));
        out.push_str(frame);
        out.push('\n');
    }
    out
}

fn value_text(value: &MapValue, div: u64) -> String {
    let sdiv = div as i64;
    match value {
        MapValue::Count(v) | MapValue::UInt(v) => (v / div).to_string(),
        MapValue::Sum(v) | MapValue::Min(v) | MapValue::Max(v) | MapValue::Int(v) => {
            v.wrapping_div(sdiv).to_string()
        }
        MapValue::Str(s) | MapValue::Sym(s) => s.clone(),
        MapValue::Stack(stack) => stack_text(stack, 8),
        MapValue::Avg { count, total } => {
            sort::average(*count, *total).wrapping_div(sdiv).to_string()
        }
        MapValue::Stats { count, total } => {
            format!(
                "count {count}, average {}, total {total}",
                sort::average(*count, *total)
            )
        }
        MapValue::Hist(buckets) => format!("\n{}", hist::hist_rows(buckets, div)),
        MapValue::Lhist {
            min,
            max,
            step,
            buckets,
        } => format!("\n{}", hist::lhist_rows(buckets, *min, *max, *step)),
    }
}

#[cfg(test)]
mod tests;
