//! The top functions of a profile: self and total value per function name,
//! the data behind `whyslow report`'s table.
//!
//! Self is the value of samples whose leaf frame is the function; total counts
//! each sample once even when the function recurses. Not a formatter (see
//! `render::top_table`).

use crate::stacks::{FrameNames, FrameRef, NameId};
use crate::view::ValueView;
use model::Profile;
use std::collections::HashMap;

/// One function in the top table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopRow {
    /// Function name (or hex address when unsymbolized).
    pub name: String,
    /// Source file of the function's most-sampled line, empty when unknown.
    pub filename: String,
    /// The function's most-sampled line, 0 when unknown.
    pub line: u32,
    /// Value of samples whose leaf frame is this function, in the view's unit.
    pub self_value: i64,
    /// Value of samples with this function anywhere on the stack (once per sample).
    pub total_value: i64,
}

/// Per-function sums while walking the samples.
#[derive(Default, Clone, Copy)]
struct Sums {
    self_value: i64,
    total_value: i64,
    /// Index + 1 of the last sample counted in `total_value` (0 = none).
    last_sample: usize,
}

/// Every function of `profile` with its self and total value under `view`,
/// sorted by self value (descending), then total, then name.
pub fn top_functions(profile: &Profile, view: ValueView) -> Vec<TopRow> {
    let names = FrameNames::new(profile);
    let extractor = view.extractor(profile);
    let mut sums = vec![Sums::default(); names.len()];
    // Per line key: (self, total), to find each function's hottest line.
    let mut lines: Vec<(i64, i64)> = vec![(0, 0); names.line_count()];
    let mut stack: Vec<FrameRef> = Vec::new();
    for (i, sample) in profile.samples.iter().enumerate() {
        let value = extractor.value(sample);
        if value == 0 {
            continue;
        }
        names.stack_into(sample, &mut stack);
        let Some(leaf) = stack.last() else {
            continue;
        };
        sums[leaf.name as usize].self_value += value;
        lines[leaf.line_key as usize].0 += value;
        for frame in &stack {
            let s = &mut sums[frame.name as usize];
            if s.last_sample == i + 1 {
                continue;
            }
            s.last_sample = i + 1;
            s.total_value += value;
            lines[frame.line_key as usize].1 += value;
        }
    }
    // The hottest line per function: most self value, then most total, then lowest line.
    let mut best: HashMap<NameId, (NameId, u32, i64, i64)> = HashMap::new();
    for (key, &(self_value, total_value)) in lines.iter().enumerate() {
        let Some((name, filename, line)) = names.line(key as u32) else {
            continue;
        };
        if self_value == 0 && total_value == 0 {
            continue;
        }
        let candidate = (filename, line, self_value, total_value);
        best.entry(name)
            .and_modify(|b| {
                let better = (self_value, total_value, std::cmp::Reverse(line))
                    > (b.2, b.3, std::cmp::Reverse(b.1));
                if better {
                    *b = candidate;
                }
            })
            .or_insert(candidate);
    }
    let mut rows: Vec<TopRow> = sums
        .iter()
        .enumerate()
        .filter(|(_, s)| s.total_value != 0 || s.self_value != 0)
        .map(|(id, s)| {
            let id = id as NameId;
            let (filename, line) = best.get(&id).map_or((0, 0), |b| (b.0, b.1));
            TopRow {
                name: names.name(id).to_string(),
                filename: names.name(filename).to_string(),
                line,
                self_value: s.self_value,
                total_value: s.total_value,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.self_value
            .cmp(&a.self_value)
            .then(b.total_value.cmp(&a.total_value))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::profile_of;
    use model::{FrameKind, ProfileBuilder, Sample, SampleLabels, ValueType};

    fn row<'a>(rows: &'a [TopRow], name: &str) -> &'a TopRow {
        rows.iter().find(|r| r.name == name).unwrap()
    }

    #[test]
    fn sorted_by_self_with_totals() {
        let p = profile_of(&[
            (&["main", "a", "leaf"], 20),
            (&["main", "a"], 50),
            (&["main", "b"], 30),
        ]);
        let rows = top_functions(&p, ValueView::Cpu);
        let order: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(order, ["a", "b", "leaf", "main"]);
        assert_eq!(row(&rows, "a").self_value, 50);
        assert_eq!(row(&rows, "a").total_value, 70);
        assert_eq!(row(&rows, "main").self_value, 0);
        assert_eq!(row(&rows, "main").total_value, 100);
    }

    #[test]
    fn recursion_counts_total_once_per_sample() {
        let p = profile_of(&[(&["main", "f", "f", "f"], 7), (&["main", "g"], 3)]);
        let rows = top_functions(&p, ValueView::Cpu);
        assert_eq!(row(&rows, "f").total_value, 7);
        assert_eq!(row(&rows, "f").self_value, 7);
        assert_eq!(row(&rows, "main").total_value, 10);
    }

    #[test]
    fn reports_most_sampled_line() {
        let mut b = ProfileBuilder::new(vec![ValueType::new("samples", "count")]);
        let main = b.named_location("main", "main.rs", 1, FrameKind::User);
        let hot_10 = b.named_location("hot", "hot.rs", 10, FrameKind::User);
        let hot_12 = b.named_location("hot", "hot.rs", 12, FrameKind::User);
        for (loc, n) in [(hot_10, 2), (hot_12, 5)] {
            b.add_sample(Sample {
                locations: vec![loc, main],
                values: vec![n],
                labels: SampleLabels::default(),
            });
        }
        let p = b.finish();
        let rows = top_functions(&p, ValueView::Samples);
        let hot = row(&rows, "hot");
        assert_eq!((hot.filename.as_str(), hot.line), ("hot.rs", 12));
        assert_eq!((hot.self_value, hot.total_value), (7, 7));
        assert_eq!(row(&rows, "main").line, 1);
    }
}
