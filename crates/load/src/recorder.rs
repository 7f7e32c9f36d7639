//! What a run measures, per worker thread and merged at the end: corrected and
//! uncorrected latency HDR histograms, status codes, errors by kind, the time
//! series and the slowest requests. Every part is fixed-size or bounded, so
//! memory does not grow with the number of requests.

use crate::series::TimeSeries;
use crate::slowest::{SlowRequest, Slowest};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

/// Largest latency the histograms resolve, µs (one hour); larger values saturate.
pub const HISTOGRAM_MAX_US: u64 = 3_600_000_000;
/// Significant decimal digits the histograms keep.
pub const HISTOGRAM_SIGNIFICANT_DIGITS: u8 = 3;

/// Why a request produced no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The TCP connection could not be made (refused, unreachable).
    Connect,
    /// The TLS handshake failed (certificate not trusted, protocol mismatch).
    Tls,
    /// No complete response within `--timeout`.
    Timeout,
    /// The connection was reset or closed mid-request.
    Reset,
    /// Anything else (malformed response, protocol error).
    Other,
}

/// Failed requests by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    /// TCP connect failures.
    pub connect: u64,
    /// TLS handshake failures.
    pub tls: u64,
    /// Timeouts.
    pub timeout: u64,
    /// Resets and early closes.
    pub reset: u64,
    /// Everything else.
    pub other: u64,
}

impl ErrorCounts {
    /// All failed requests.
    pub fn total(&self) -> u64 {
        self.connect + self.tls + self.timeout + self.reset + self.other
    }

    fn count(&mut self, kind: ErrorKind) {
        match kind {
            ErrorKind::Connect => self.connect += 1,
            ErrorKind::Tls => self.tls += 1,
            ErrorKind::Timeout => self.timeout += 1,
            ErrorKind::Reset => self.reset += 1,
            ErrorKind::Other => self.other += 1,
        }
    }
}

/// A new latency histogram in µs, its memory already resident.
///
/// The counts array (~190 KiB) comes zeroed from the allocator, so its pages
/// would be faulted in one by one as new latency values first appear, during the
/// run, making RSS creep up and adding page faults to the measuring threads.
/// Writing it once up front keeps memory flat from the first request on.
pub fn new_histogram() -> Histogram<u64> {
    let mut histogram =
        Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, HISTOGRAM_SIGNIFICANT_DIGITS)
            .expect("constant histogram bounds are valid");
    histogram.reset();
    histogram
}

/// One thread's (or, merged, the whole run's) measurements.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Latency from the intended send time, µs (coordinated-omission-correct).
    pub corrected: Histogram<u64>,
    /// Latency from the actual send, µs.
    pub uncorrected: Histogram<u64>,
    /// Responses by HTTP status code.
    pub status_codes: BTreeMap<u16, u64>,
    /// Failures by kind.
    pub errors: ErrorCounts,
    /// Bytes of response bodies read.
    pub body_bytes: u64,
    /// When the last request finished (response or error), µs after the start.
    pub last_done_us: u64,
    /// Requests an idle connection sent more than 1 ms after their intended time:
    /// the generator itself was late (its CPU was busy), not the target.
    pub late_wakeups: u64,
    /// The largest such lateness, µs.
    pub max_late_wakeup_us: u64,
    /// Connections opened during the run in place of one that closed: the server
    /// closed it (`Connection: close`, HTTP/1.0, idle timeout, HTTP/2 GOAWAY) or a
    /// request on it failed. Not errors.
    pub reconnects: u64,
    /// Requests sent a second time, on a new connection, because the reused
    /// connection they were written on ended before any byte of the response.
    pub retried: u64,
    /// Per-interval aggregates.
    pub series: TimeSeries,
    /// The slowest requests.
    pub slowest: Slowest,
}

/// What one finished request measured.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// µs from the intended send time to completion.
    pub corrected_us: u64,
    /// µs from the actual send to completion.
    pub uncorrected_us: u64,
    /// ms after the start when it was sent.
    pub sent_at_ms: u64,
    /// µs after the start when it completed.
    pub done_at_us: u64,
}

impl Recorder {
    /// An empty recorder keeping the `slowest` slowest requests.
    pub fn new(slowest: usize) -> Self {
        Recorder {
            corrected: new_histogram(),
            uncorrected: new_histogram(),
            status_codes: BTreeMap::new(),
            errors: ErrorCounts::default(),
            body_bytes: 0,
            last_done_us: 0,
            late_wakeups: 0,
            max_late_wakeup_us: 0,
            reconnects: 0,
            retried: 0,
            series: TimeSeries::default(),
            slowest: Slowest::new(slowest),
        }
    }

    /// Records a response with `status`; `trace_id` when the request carried one.
    pub fn record_response(
        &mut self,
        outcome: Outcome,
        status: u16,
        body_bytes: u64,
        trace_id: Option<&str>,
        rank_untraced: bool,
    ) {
        self.corrected
            .saturating_record(outcome.corrected_us.max(1));
        self.uncorrected
            .saturating_record(outcome.uncorrected_us.max(1));
        *self.status_codes.entry(status).or_insert(0) += 1;
        self.body_bytes += body_bytes;
        self.last_done_us = self.last_done_us.max(outcome.done_at_us);
        self.series
            .record_response(outcome.done_at_us / 1000, outcome.corrected_us);
        if (trace_id.is_some() || rank_untraced) && self.slowest.would_keep(outcome.uncorrected_us)
        {
            self.slowest.offer(SlowRequest {
                latency_us: outcome.uncorrected_us,
                corrected_latency_us: outcome.corrected_us,
                sent_at_ms: outcome.sent_at_ms,
                status,
                trace_id: trace_id.map(str::to_string),
            });
        }
    }

    /// Records that an idle connection woke `late_us` after an arrival's intended time.
    pub fn record_late_wakeup(&mut self, late_us: u64) {
        self.late_wakeups += 1;
        self.max_late_wakeup_us = self.max_late_wakeup_us.max(late_us);
    }

    /// Records a failed request.
    pub fn record_error(&mut self, kind: ErrorKind, done_at_us: u64) {
        self.errors.count(kind);
        self.last_done_us = self.last_done_us.max(done_at_us);
        self.series.record_error(done_at_us / 1000);
    }

    /// Responses recorded (any status).
    pub fn responses(&self) -> u64 {
        self.corrected.len()
    }

    /// Adds another recorder into this one.
    pub fn merge(&mut self, other: Recorder) {
        // Both histograms have the same fixed bounds, so adding cannot fail.
        let _ = self.corrected.add(&other.corrected);
        let _ = self.uncorrected.add(&other.uncorrected);
        for (status, count) in other.status_codes {
            *self.status_codes.entry(status).or_insert(0) += count;
        }
        self.errors.connect += other.errors.connect;
        self.errors.tls += other.errors.tls;
        self.errors.timeout += other.errors.timeout;
        self.errors.reset += other.errors.reset;
        self.errors.other += other.errors.other;
        self.body_bytes += other.body_bytes;
        self.last_done_us = self.last_done_us.max(other.last_done_us);
        self.late_wakeups += other.late_wakeups;
        self.max_late_wakeup_us = self.max_late_wakeup_us.max(other.max_late_wakeup_us);
        self.reconnects += other.reconnects;
        self.retried += other.retried;
        self.series.merge(&other.series);
        self.slowest.merge(other.slowest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_recorders_add_up() {
        let outcome = Outcome {
            corrected_us: 2000,
            uncorrected_us: 1000,
            sent_at_ms: 0,
            done_at_us: 1000,
        };
        let mut a = Recorder::new(2);
        a.record_response(outcome, 200, 10, None, true);
        let mut b = Recorder::new(2);
        b.record_response(outcome, 503, 10, Some("ab"), true);
        b.record_error(ErrorKind::Timeout, 5000);
        b.reconnects = 3;
        b.retried = 1;
        a.reconnects = 1;
        a.merge(b);
        assert_eq!((a.reconnects, a.retried), (4, 1));
        assert_eq!(a.responses(), 2);
        assert_eq!(a.status_codes.get(&503), Some(&1));
        assert_eq!(a.errors.total(), 1);
        assert_eq!(a.body_bytes, 20);
        assert_eq!(a.uncorrected.max(), a.uncorrected.highest_equivalent(1000));
        assert_eq!(a.slowest.into_sorted().len(), 2);
    }
}
