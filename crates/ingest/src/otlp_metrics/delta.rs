//! Delta temporality, accumulated into cumulative series.
//!
//! Prometheus stores cumulative counters and histograms only (it drops OTLP
//! deltas unless its `otlp-deltatocumulative` feature is on). We keep, per
//! series, the running total of every delta point seen (the sum, or the
//! histogram's per-bucket counts, count and sum) and write the total at each
//! point's time, so `rate()` and `histogram_quantile()` work on delta senders
//! unchanged. A point not newer than the last one of its series is refused
//! (a retry would otherwise be counted twice), and totals are only committed
//! once the store has acknowledged the batch, so a request refused with 429
//! and retried is not counted twice either.
//!
//! State lives in memory, per receiver (gRPC and HTTP each keep their own):
//! after a restart totals start again from zero, which queries see as a
//! counter reset. At most [`MAX_SERIES`] delta series are tracked; when full,
//! series untouched for [`IDLE`] are forgotten, and new ones refused if that
//! frees nothing.

use model::metrics::Labels;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Delta series tracked at most.
pub const MAX_SERIES: usize = 200_000;
/// A delta series not updated for this long may be forgotten when the table is full.
pub const IDLE: Duration = Duration::from_secs(3600);

/// An `f64` ordered by `total_cmp`, for bucket bounds.
#[derive(Debug, Clone, Copy)]
pub struct Bound(pub f64);

impl PartialEq for Bound {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0) == Ordering::Equal
    }
}
impl Eq for Bound {}
impl PartialOrd for Bound {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Bound {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A histogram as totals: per finite upper bound the (non-cumulative) count
/// of its bucket, the total count (which includes the `+Inf` bucket) and sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramTotals {
    /// Non-cumulative bucket counts by finite upper bound.
    pub buckets: BTreeMap<Bound, f64>,
    /// Observations in total.
    pub count: f64,
    /// Sum of observations, when every point had one.
    pub sum: Option<f64>,
}

#[derive(Debug, Clone)]
enum Value {
    Sum(f64),
    Histogram(HistogramTotals),
}

#[derive(Debug, Clone)]
struct Entry {
    value: Value,
    last_time_ns: u64,
    touched: Instant,
}

/// Totals computed for one request, committed once the store has them.
#[derive(Debug, Default)]
pub struct DeltaUpdates(HashMap<Labels, Entry>);

impl DeltaUpdates {
    /// Whether nothing was accumulated.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The running totals of one receiver's delta series.
#[derive(Debug)]
pub struct DeltaState {
    inner: Mutex<HashMap<Labels, Entry>>,
    max_series: usize,
}

impl Default for DeltaState {
    fn default() -> Self {
        Self::new(MAX_SERIES)
    }
}

impl DeltaState {
    /// A state tracking at most `max_series` series.
    pub fn new(max_series: usize) -> Self {
        Self {
            inner: Mutex::new(HashMap::new()),
            max_series,
        }
    }

    /// Series tracked.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no series is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The previous entry of `key`: this request's, else the committed one.
    fn previous(
        &self,
        pending: &DeltaUpdates,
        key: &Labels,
        time_ns: u64,
    ) -> Result<Option<Entry>, String> {
        let previous = match pending.0.get(key) {
            Some(entry) => Some(entry.clone()),
            None => {
                let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
                let found = inner.get(key).cloned();
                if found.is_none() && inner.len() >= self.max_series {
                    let now = Instant::now();
                    inner.retain(|_, e| now.duration_since(e.touched) < IDLE);
                    if inner.len() >= self.max_series {
                        return Err(format!(
                            "{} delta series are being accumulated already (the limit); series {key} was not counted",
                            self.max_series
                        ));
                    }
                }
                found
            }
        };
        if let Some(entry) = &previous {
            if time_ns <= entry.last_time_ns {
                return Err(format!(
                    "delta point of series {key} at {} ns is not after the previous one at {} ns (already counted)",
                    time_ns, entry.last_time_ns
                ));
            }
        }
        Ok(previous)
    }

    /// Adds a delta sum point; returns the running total.
    pub fn add_sum(
        &self,
        pending: &mut DeltaUpdates,
        key: &Labels,
        time_ns: u64,
        delta: f64,
    ) -> Result<f64, String> {
        let total = match self.previous(pending, key, time_ns)? {
            Some(Entry {
                value: Value::Sum(total),
                ..
            }) => total + delta,
            _ => delta,
        };
        pending.0.insert(
            key.clone(),
            Entry {
                value: Value::Sum(total),
                last_time_ns: time_ns,
                touched: Instant::now(),
            },
        );
        Ok(total)
    }

    /// Adds a delta histogram point; returns the running totals.
    pub fn add_histogram(
        &self,
        pending: &mut DeltaUpdates,
        key: &Labels,
        time_ns: u64,
        delta: &HistogramTotals,
    ) -> Result<HistogramTotals, String> {
        let mut totals = match self.previous(pending, key, time_ns)? {
            Some(Entry {
                value: Value::Histogram(totals),
                ..
            }) => totals,
            _ => HistogramTotals {
                sum: Some(0.0),
                ..HistogramTotals::default()
            },
        };
        for (bound, count) in &delta.buckets {
            *totals.buckets.entry(*bound).or_insert(0.0) += count;
        }
        totals.count += delta.count;
        totals.sum = match (totals.sum, delta.sum) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        pending.0.insert(
            key.clone(),
            Entry {
                value: Value::Histogram(totals.clone()),
                last_time_ns: time_ns,
                touched: Instant::now(),
            },
        );
        Ok(totals)
    }

    /// The bucket bounds known for a delta histogram series (for staleness markers).
    pub fn histogram_bounds(&self, pending: &DeltaUpdates, key: &Labels) -> Vec<f64> {
        let from = |entry: &Entry| match &entry.value {
            Value::Histogram(t) => t.buckets.keys().map(|b| b.0).collect(),
            Value::Sum(_) => Vec::new(),
        };
        match pending.0.get(key) {
            Some(entry) => from(entry),
            None => self
                .inner
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(key)
                .map(from)
                .unwrap_or_default(),
        }
    }

    /// Makes a request's totals the new state (after the store took the batch).
    pub fn commit(&self, updates: DeltaUpdates) {
        if updates.0.is_empty() {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, entry) in updates.0 {
            match inner.get(&key) {
                // A concurrent request got further: keep the newer total.
                Some(current) if current.last_time_ns >= entry.last_time_ns => {}
                _ => {
                    inner.insert(key, entry);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Labels {
        Labels::from_pairs([("__name__", name)])
    }

    #[test]
    fn sums_accumulate_only_once_committed() {
        let state = DeltaState::default();
        let mut pending = DeltaUpdates::default();
        assert_eq!(state.add_sum(&mut pending, &key("a"), 10, 2.0), Ok(2.0));
        assert_eq!(state.add_sum(&mut pending, &key("a"), 20, 3.0), Ok(5.0));
        // Not committed: a retry of the same request starts from zero again.
        let mut retry = DeltaUpdates::default();
        assert_eq!(state.add_sum(&mut retry, &key("a"), 10, 2.0), Ok(2.0));
        state.commit(pending);
        let mut next = DeltaUpdates::default();
        assert_eq!(state.add_sum(&mut next, &key("a"), 30, 1.0), Ok(6.0));
        let err = state.add_sum(&mut next, &key("a"), 30, 1.0).unwrap_err();
        assert!(err.contains("not after the previous one"), "{err}");
    }

    #[test]
    fn histograms_accumulate_per_bucket() {
        let state = DeltaState::default();
        let mut pending = DeltaUpdates::default();
        let point = |counts: &[(f64, f64)], count, sum| HistogramTotals {
            buckets: counts.iter().map(|&(b, c)| (Bound(b), c)).collect(),
            count,
            sum: Some(sum),
        };
        state
            .add_histogram(&mut pending, &key("h"), 1, &point(&[(1.0, 1.0)], 2.0, 5.0))
            .unwrap();
        let totals = state
            .add_histogram(
                &mut pending,
                &key("h"),
                2,
                &point(&[(1.0, 2.0), (2.0, 1.0)], 3.0, 1.5),
            )
            .unwrap();
        assert_eq!(totals, point(&[(1.0, 3.0), (2.0, 1.0)], 5.0, 6.5));
        state.commit(pending);
        assert_eq!(
            state.histogram_bounds(&DeltaUpdates::default(), &key("h")),
            [1.0, 2.0]
        );
    }

    #[test]
    fn the_table_is_bounded() {
        let state = DeltaState::new(1);
        let mut pending = DeltaUpdates::default();
        state.add_sum(&mut pending, &key("a"), 1, 1.0).unwrap();
        state.commit(pending);
        let mut pending = DeltaUpdates::default();
        let err = state.add_sum(&mut pending, &key("b"), 1, 1.0).unwrap_err();
        assert!(err.contains("the limit"), "{err}");
        assert_eq!(state.len(), 1);
    }
}
