//! Counters of all scrapers together, for `serve`'s own `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Scrape counters shared by every target's task.
#[derive(Debug, Default)]
pub struct ScrapeStats {
    targets: AtomicU64,
    targets_up: AtomicU64,
    scrapes: AtomicU64,
    failures: AtomicU64,
    samples_scraped: AtomicU64,
    samples_appended: AtomicU64,
    samples_rejected: AtomicU64,
    duration_micros: AtomicU64,
}

/// A copy of [`ScrapeStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrapeStatsSnapshot {
    /// Targets being scraped.
    pub targets: u64,
    /// Targets whose last scrape succeeded.
    pub targets_up: u64,
    /// Scrapes since start.
    pub scrapes: u64,
    /// Failed scrapes since start.
    pub failures: u64,
    /// Sample lines scraped since start.
    pub samples_scraped: u64,
    /// Samples (scraped, synthetic, staleness markers) the store took.
    pub samples_appended: u64,
    /// Samples the store refused.
    pub samples_rejected: u64,
    /// Time spent scraping, summed (µs).
    pub duration_micros: u64,
}

impl ScrapeStats {
    pub(super) fn target_added(&self) {
        self.targets.fetch_add(1, Relaxed);
    }

    pub(super) fn target_removed(&self, was_up: bool) {
        self.targets.fetch_sub(1, Relaxed);
        if was_up {
            self.targets_up.fetch_sub(1, Relaxed);
        }
    }

    pub(super) fn scraped(&self, up: bool, was_up: bool, samples: u64, duration: Duration) {
        self.scrapes.fetch_add(1, Relaxed);
        if !up {
            self.failures.fetch_add(1, Relaxed);
        }
        match (was_up, up) {
            (false, true) => {
                self.targets_up.fetch_add(1, Relaxed);
            }
            (true, false) => {
                self.targets_up.fetch_sub(1, Relaxed);
            }
            _ => {}
        }
        self.samples_scraped.fetch_add(samples, Relaxed);
        self.duration_micros.fetch_add(
            u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
            Relaxed,
        );
    }

    pub(super) fn samples_appended(&self, accepted: u64, rejected: u64) {
        crate::counters::samples(crate::counters::SampleSource::Scrape, accepted, rejected);
        self.samples_appended.fetch_add(accepted, Relaxed);
        self.samples_rejected.fetch_add(rejected, Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> ScrapeStatsSnapshot {
        ScrapeStatsSnapshot {
            targets: self.targets.load(Relaxed),
            targets_up: self.targets_up.load(Relaxed),
            scrapes: self.scrapes.load(Relaxed),
            failures: self.failures.load(Relaxed),
            samples_scraped: self.samples_scraped.load(Relaxed),
            samples_appended: self.samples_appended.load(Relaxed),
            samples_rejected: self.samples_rejected.load(Relaxed),
            duration_micros: self.duration_micros.load(Relaxed),
        }
    }
}
