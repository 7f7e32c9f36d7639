//! Looking up node_exporter-named samples in two snapshots: current values,
//! counter deltas and rates, and the grading helpers every resource uses.

use super::{Cell, Status, UseSample};
use crate::Family;

/// Finds the value of `name` whose labels include all of `labels`.
pub(crate) fn find(families: &[Family], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    families
        .iter()
        .filter(|f| f.name == name)
        .flat_map(|f| &f.samples)
        .find(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
        })
        .map(|s| s.value)
}

/// The distinct values of `label` in family `name`, in first-seen order.
pub(crate) fn label_values(families: &[Family], name: &str, label: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sample in families
        .iter()
        .filter(|f| f.name == name)
        .flat_map(|f| &f.samples)
    {
        for (k, v) in &sample.labels {
            if *k == label && !out.contains(v) {
                out.push(v.clone());
            }
        }
    }
    out
}

/// Two snapshots and the seconds between them.
pub(crate) struct Pair<'a> {
    pub before: &'a UseSample,
    pub after: &'a UseSample,
    pub secs: f64,
}

impl<'a> Pair<'a> {
    pub(crate) fn new(before: &'a UseSample, after: &'a UseSample) -> Self {
        let secs = after
            .at
            .saturating_duration_since(before.at)
            .as_secs_f64()
            .max(1e-3);
        Self {
            before,
            after,
            secs,
        }
    }

    /// The value in the later snapshot.
    pub(crate) fn now(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        find(&self.after.families, name, labels)
    }

    /// How much a counter grew (`None` when missing in either snapshot or reset).
    pub(crate) fn delta(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let after = find(&self.after.families, name, labels)?;
        let before = find(&self.before.families, name, labels)?;
        (after >= before).then_some(after - before)
    }

    /// A counter's growth per second.
    pub(crate) fn rate(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        Some(self.delta(name, labels)? / self.secs)
    }

    /// Why a source is missing: the collector's error, else `fallback`.
    pub(crate) fn why_missing(&self, collector: &str, fallback: &str) -> String {
        self.after
            .missing(collector)
            .or_else(|| self.before.missing(collector))
            .map_or_else(|| fallback.to_string(), str::to_string)
    }
}

/// The grade of `value` against a warn and a saturation threshold (`None`: no saturation level).
pub(crate) fn grade(value: f64, warn: f64, saturated: Option<f64>) -> Status {
    match saturated {
        Some(s) if value > s => Status::Saturated,
        _ if value > warn => Status::Warn,
        _ => Status::Ok,
    }
}

/// Builds a cell from several checks: the worst one gives the status, its
/// reason the `why` and its command the `next`.
pub(crate) struct Verdict {
    status: Status,
    why: Option<String>,
    next: Option<&'static str>,
}

impl Verdict {
    pub(crate) fn new() -> Self {
        Self {
            status: Status::Ok,
            why: None,
            next: None,
        }
    }

    /// Records one check; a worse status replaces the reason.
    pub(crate) fn check(
        &mut self,
        status: Status,
        why: impl FnOnce() -> String,
        next: &'static str,
    ) {
        if status > self.status && status > Status::Ok {
            self.status = status;
            self.why = Some(why());
            self.next = Some(next);
        }
    }

    pub(crate) fn cell(self, value: String) -> Cell {
        Cell {
            value,
            status: self.status,
            why: self.why,
            next: self.next.map(str::to_string),
        }
    }
}

/// `42 %`.
pub(crate) fn pct(ratio: f64) -> String {
    if ratio < 0.1 && ratio > 0.0 {
        format!("{:.1} %", ratio * 100.0)
    } else {
        format!("{:.0} %", ratio * 100.0)
    }
}

/// `1.2 MB/s`, `530 kB/s` (decimal units, as iostat and sar print).
pub(crate) fn bytes(value: f64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = value;
    let mut unit = 0;
    while v >= 1000.0 && unit < units.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 || v >= 100.0 {
        format!("{v:.0} {}", units[unit])
    } else {
        format!("{v:.1} {}", units[unit])
    }
}
