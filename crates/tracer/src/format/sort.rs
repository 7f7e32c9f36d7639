//! The order bpftrace 0.17 prints a map's elements in.
//!
//! - count, sum, min, max and plain integers: by value, ascending (largest
//!   last);
//! - avg and stats: by average, ascending;
//! - hist and lhist: by total count over the buckets, ascending;
//! - plain strings, stacks and symbols: by key (integers as unsigned,
//!   strings bytewise, first key first).
//!
//! Ties keep the order of the keys' bytes as the kernel stores them
//! (integers little-endian, strings NUL-padded), which is what bpftrace's
//! `std::map` gives hist/avg/stats maps; for count/sum/min/max bpftrace
//! leaves ties in hash order, which no one can rely on.

use super::value::{Key, MapValue};
use std::cmp::Ordering;

/// Sorts elements in place in bpftrace's printing order.
pub fn sort_entries(entries: &mut [(Vec<Key>, MapValue)]) {
    let Some((_, first)) = entries.first() else {
        return;
    };
    match first {
        MapValue::Str(_) | MapValue::Stack(_) | MapValue::Sym(_) => {
            entries.sort_by(|a, b| by_key_value(&a.0, &b.0));
        }
        _ => {
            entries.sort_by(|a, b| by_key_bytes(&a.0, &b.0));
            entries.sort_by_key(|e| rank(&e.1));
        }
    }
}

/// The value an element is ranked by.
fn rank(value: &MapValue) -> i128 {
    match value {
        MapValue::Count(v) | MapValue::UInt(v) => i128::from(*v),
        MapValue::Sum(v) | MapValue::Min(v) | MapValue::Max(v) | MapValue::Int(v) => i128::from(*v),
        MapValue::Avg { count, total } | MapValue::Stats { count, total } => {
            i128::from(average(*count, *total))
        }
        MapValue::Hist(buckets) | MapValue::Lhist { buckets, .. } => {
            i128::from(buckets.iter().fold(0u64, |a, b| a.wrapping_add(*b)))
        }
        MapValue::Str(_) | MapValue::Stack(_) | MapValue::Sym(_) => 0,
    }
}

/// `total / count` truncated toward zero, 0 when empty (bpftrace's avg).
pub fn average(count: u64, total: i64) -> i64 {
    if count == 0 {
        0
    } else {
        total.wrapping_div(count as i64)
    }
}

fn variant(key: &Key) -> u8 {
    match key {
        Key::Int(_) => 0,
        Key::Str(_) => 1,
        Key::Stack(_) => 2,
        Key::Sym(_) => 3,
        Key::Probe(_) => 4,
    }
}

/// Order of the keys' stored bytes.
fn by_key_bytes(a: &[Key], b: &[Key]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x, y) {
            (Key::Int(x), Key::Int(y)) => x.to_le_bytes().cmp(&y.to_le_bytes()),
            (Key::Str(x), Key::Str(y))
            | (Key::Sym(x), Key::Sym(y))
            | (Key::Probe(x), Key::Probe(y)) => x.as_bytes().cmp(y.as_bytes()),
            (Key::Stack(x), Key::Stack(y)) => x.cmp(y),
            (x, y) => variant(x).cmp(&variant(y)),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// bpftrace's `sort_by_key`: integers as unsigned, strings bytewise; other
/// key types are not ordered.
fn by_key_value(a: &[Key], b: &[Key]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x, y) {
            (Key::Int(x), Key::Int(y)) => (*x as u64).cmp(&(*y as u64)),
            (Key::Str(x), Key::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
            _ => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(entries: &[(Vec<Key>, MapValue)]) -> Vec<Vec<Key>> {
        entries.iter().map(|e| e.0.clone()).collect()
    }

    #[test]
    fn counts_ascend_by_value() {
        let mut e = vec![
            (vec![Key::Str("b".into())], MapValue::Count(3)),
            (vec![Key::Str("a".into())], MapValue::Count(1)),
            (vec![Key::Str("c".into())], MapValue::Count(2)),
        ];
        sort_entries(&mut e);
        assert_eq!(
            keys(&e),
            vec![
                vec![Key::Str("a".into())],
                vec![Key::Str("c".into())],
                vec![Key::Str("b".into())]
            ]
        );
    }

    #[test]
    fn sums_are_signed() {
        let mut e = vec![
            (vec![Key::Int(2)], MapValue::Sum(5)),
            (vec![Key::Int(3)], MapValue::Sum(-20)),
            (vec![Key::Int(1)], MapValue::Sum(-10)),
        ];
        sort_entries(&mut e);
        assert_eq!(
            keys(&e),
            vec![vec![Key::Int(3)], vec![Key::Int(1)], vec![Key::Int(2)]]
        );
    }

    #[test]
    fn hist_ties_follow_little_endian_key_bytes() {
        let h = || MapValue::Hist(vec![0, 1]);
        let mut e = vec![
            (vec![Key::Int(-1)], h()),
            (vec![Key::Int(2)], h()),
            (vec![Key::Int(1)], h()),
            (vec![Key::Int(256)], h()),
        ];
        sort_entries(&mut e);
        assert_eq!(
            keys(&e),
            vec![
                vec![Key::Int(256)],
                vec![Key::Int(1)],
                vec![Key::Int(2)],
                vec![Key::Int(-1)]
            ]
        );
    }

    #[test]
    fn strings_values_sort_by_unsigned_key() {
        let mut e = vec![
            (vec![Key::Int(2)], MapValue::Str("b".into())),
            (vec![Key::Int(-1)], MapValue::Str("a".into())),
            (vec![Key::Int(256)], MapValue::Str("c".into())),
            (vec![Key::Int(1)], MapValue::Str("d".into())),
        ];
        sort_entries(&mut e);
        assert_eq!(
            keys(&e),
            vec![
                vec![Key::Int(1)],
                vec![Key::Int(2)],
                vec![Key::Int(256)],
                vec![Key::Int(-1)]
            ]
        );
    }

    #[test]
    fn average_truncates_toward_zero() {
        assert_eq!(average(2, -5), -2);
        assert_eq!(average(0, 7), 0);
        assert_eq!(average(3, 10), 3);
    }
}
