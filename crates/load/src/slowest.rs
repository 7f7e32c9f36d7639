//! The slowest N requests of a run with their trace ids: a bounded min-heap, so
//! keeping them costs O(log N) per request and N entries of memory.

use serde::Serialize;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// One slow request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlowRequest {
    /// Latency from the actual send, µs (what the server's trace shows).
    pub latency_us: u64,
    /// Latency from the intended send time, µs.
    pub corrected_latency_us: u64,
    /// When it was sent, ms after the start of the run.
    pub sent_at_ms: u64,
    /// HTTP status, 0 when the request failed.
    pub status: u16,
    /// W3C trace id (32 hex digits) when the request carried a `traceparent`.
    pub trace_id: Option<String>,
}

impl Ord for SlowRequest {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.latency_us, self.corrected_latency_us, self.sent_at_ms).cmp(&(
            other.latency_us,
            other.corrected_latency_us,
            other.sent_at_ms,
        ))
    }
}

impl PartialOrd for SlowRequest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the `capacity` slowest requests offered to it.
#[derive(Debug, Clone)]
pub struct Slowest {
    capacity: usize,
    heap: BinaryHeap<Reverse<SlowRequest>>,
}

impl Slowest {
    /// Keeps at most `capacity` requests.
    pub fn new(capacity: usize) -> Self {
        Slowest {
            capacity,
            heap: BinaryHeap::with_capacity(capacity + 1),
        }
    }

    /// Whether a request of `latency_us` would be kept (cheap pre-check before building one).
    pub fn would_keep(&self, latency_us: u64) -> bool {
        self.capacity > 0
            && (self.heap.len() < self.capacity
                || self
                    .heap
                    .peek()
                    .is_some_and(|Reverse(min)| latency_us > min.latency_us))
    }

    /// Offers a request.
    pub fn offer(&mut self, request: SlowRequest) {
        if self.capacity == 0 {
            return;
        }
        self.heap.push(Reverse(request));
        if self.heap.len() > self.capacity {
            self.heap.pop();
        }
    }

    /// Adds another keeper's requests.
    pub fn merge(&mut self, other: Slowest) {
        for Reverse(request) in other.heap {
            self.offer(request);
        }
    }

    /// The kept requests, slowest first.
    pub fn into_sorted(self) -> Vec<SlowRequest> {
        let mut requests: Vec<SlowRequest> = self.heap.into_iter().map(|Reverse(r)| r).collect();
        requests.sort_by(|a, b| b.cmp(a));
        requests
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(latency_us: u64) -> SlowRequest {
        SlowRequest {
            latency_us,
            corrected_latency_us: latency_us,
            sent_at_ms: 0,
            status: 200,
            trace_id: None,
        }
    }

    #[test]
    fn keeps_the_slowest_n() {
        let mut slowest = Slowest::new(3);
        for latency in [5, 1, 9, 7, 3, 8] {
            if slowest.would_keep(latency) {
                slowest.offer(request(latency));
            }
        }
        let mut other = Slowest::new(3);
        other.offer(request(100));
        slowest.merge(other);
        let kept: Vec<u64> = slowest.into_sorted().iter().map(|r| r.latency_us).collect();
        assert_eq!(kept, vec![100, 9, 8]);
    }
}
