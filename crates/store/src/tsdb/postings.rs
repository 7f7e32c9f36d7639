//! Matcher resolution over a postings index, shared by the head and the
//! blocks: `name="value"` reads one postings list, regular expressions and
//! `!=` scan the values of that label, and the lists are intersected.
//! A matcher that matches "" also matches series without the label, so it
//! is applied as "all series minus those whose value it rejects".

use crate::series::{MatchOp, Matcher};

/// A label index: sorted series ids per label pair.
pub trait Postings {
    /// Every series id, sorted.
    fn all(&self) -> Vec<u32>;
    /// Ids of series with `name="value"`, sorted.
    fn equal(&self, name: &str, value: &str) -> Vec<u32>;
    /// Ids of series whose value of `name` satisfies `pred`, sorted.
    fn matching(&self, name: &str, pred: &dyn Fn(&str) -> bool) -> Vec<u32>;
}

/// Sorted ids of the series matching every matcher.
pub fn resolve(index: &dyn Postings, matchers: &[Matcher]) -> Vec<u32> {
    let mut acc: Option<Vec<u32>> = None;
    for m in matchers.iter().filter(|m| !m.matches_empty()) {
        let ids = match m.op {
            MatchOp::Equal => index.equal(&m.name, &m.value),
            _ => index.matching(&m.name, &|v| m.matches(v)),
        };
        acc = Some(match acc {
            None => ids,
            Some(prev) => intersect(&prev, &ids),
        });
        if acc.as_ref().is_some_and(Vec::is_empty) {
            return Vec::new();
        }
    }
    for m in matchers.iter().filter(|m| m.matches_empty()) {
        let rejected = index.matching(&m.name, &|v| !m.matches(v));
        let base = acc.take().unwrap_or_else(|| index.all());
        acc = Some(subtract(&base, &rejected));
    }
    acc.unwrap_or_else(|| index.all())
}

/// Sorted ids matching any of the matcher sets (every series when there are none).
pub fn resolve_any(index: &dyn Postings, sets: &[Vec<Matcher>]) -> Vec<u32> {
    if sets.is_empty() {
        return index.all();
    }
    let mut out: Vec<u32> = sets.iter().flat_map(|set| resolve(index, set)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Sorted union of several sorted lists.
pub fn union(lists: Vec<&[u32]>) -> Vec<u32> {
    match lists.len() {
        0 => Vec::new(),
        1 => lists[0].to_vec(),
        _ => {
            let mut out: Vec<u32> = lists.concat();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn subtract(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|&x| {
            while j < b.len() && b[j] < x {
                j += 1;
            }
            !(j < b.len() && b[j] == x)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        assert_eq!(intersect(&[1, 3, 5, 7], &[3, 4, 7]), [3, 7]);
        assert_eq!(subtract(&[1, 3, 5, 7], &[3, 4, 7]), [1, 5]);
        assert_eq!(union(vec![&[1, 4], &[2, 4, 9]]), [1, 2, 4, 9]);
    }
}
