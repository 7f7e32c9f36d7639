//! One target's scrapes: fetch, parse, add target labels, append to the
//! series store with staleness markers, and write the synthetic series
//! Prometheus writes per scrape (`up`, `scrape_duration_seconds`,
//! `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`,
//! `scrape_series_added`).
//!
//! Samples carry the scrape's start time unless they have their own (and
//! `honor_timestamps` keeps it). A series scraped last time and missing now
//! gets a staleness marker at this scrape's time; when a scrape fails, every
//! series of the last good scrape does. Series with their own timestamps get
//! none, as in Prometheus.

use super::config::Target;
use super::fetch::Fetcher;
use super::labels::apply_target_labels;
use super::ScrapeStats;
use crate::exposition::{self, sample_series, Format};
use model::metrics::{stale_nan, Labels, MetricMetadata, Sample, TimeSeries, METRIC_NAME};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use store::series::{SeriesBatch, SeriesStore};

/// What one scrape did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeOutcome {
    /// The scrape's timestamp (Unix ms).
    pub timestamp_ms: i64,
    /// Why it failed (`up` = 0), or `None`.
    pub error: Option<String>,
    /// Sample lines scraped.
    pub samples_scraped: u64,
    /// Series not seen in the previous scrape.
    pub series_added: u64,
    /// Staleness markers written.
    pub stale_markers: u64,
}

/// Scrapes one target into a series store.
pub struct TargetScraper {
    target: Target,
    store: Arc<dyn SeriesStore>,
    stats: Arc<ScrapeStats>,
    fetcher: Fetcher,
    /// Series of the last successful scrape -> whether they carried their own timestamp.
    last_series: HashMap<Labels, bool>,
    last_metadata: Vec<MetricMetadata>,
    up: bool,
    last_error: Option<String>,
}

impl TargetScraper {
    /// A scraper for `target`; nothing happens until [`Self::scrape_once`].
    pub fn new(target: Target, store: Arc<dyn SeriesStore>, stats: Arc<ScrapeStats>) -> Self {
        stats.target_added();
        Self {
            fetcher: Fetcher::new(&target),
            target,
            store,
            stats,
            last_series: HashMap::new(),
            last_metadata: Vec::new(),
            up: false,
            last_error: None,
        }
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Scrapes now, stamped with the current time.
    pub async fn scrape_once(&mut self) -> ScrapeOutcome {
        let timestamp_ms = now_ms();
        let started = Instant::now();
        let fetched = match tokio::time::timeout(self.target.timeout, self.fetcher.fetch()).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "scrape timed out after {} (scrape_timeout)",
                format_duration(self.target.timeout)
            )),
        };
        let parsed = fetched.and_then(|f| {
            let format = Format::from_content_type(f.content_type.as_deref());
            exposition::parse(&f.body, format).map_err(|e| e.to_string())
        });
        let duration = started.elapsed();
        let mut outcome = ScrapeOutcome {
            timestamp_ms,
            error: None,
            samples_scraped: 0,
            series_added: 0,
            stale_markers: 0,
        };
        match parsed {
            Ok(exposition) => {
                outcome.samples_scraped = exposition.samples.len() as u64;
                let limit = self.target.sample_limit;
                if limit > 0 && outcome.samples_scraped > limit {
                    outcome.error = Some(format!(
                        "sample_limit exceeded: {} samples, the limit is {limit}",
                        outcome.samples_scraped
                    ));
                } else if let Err(why) = self.append_scraped(exposition, &mut outcome) {
                    outcome.error = Some(why);
                }
            }
            Err(why) => outcome.error = Some(why),
        }
        if outcome.error.is_some() {
            // Everything the target exposed is gone from now on.
            let gone: Vec<Labels> = std::mem::take(&mut self.last_series)
                .into_iter()
                .filter(|(_, own_time)| !own_time)
                .map(|(labels, _)| labels)
                .collect();
            outcome.stale_markers = gone.len() as u64;
            outcome.samples_scraped = 0;
            outcome.series_added = 0;
            let batch = SeriesBatch {
                series: stale_series(gone, timestamp_ms),
                metadata: Vec::new(),
            };
            self.append(batch);
        }
        self.append(self.report(&outcome, duration));
        self.note(&outcome, duration);
        outcome
    }

    /// Appends one good scrape's samples and markers for vanished series.
    fn append_scraped(
        &mut self,
        exposition: exposition::Exposition,
        outcome: &mut ScrapeOutcome,
    ) -> Result<(), String> {
        let mut current: HashMap<Labels, bool> = HashMap::with_capacity(exposition.samples.len());
        let mut series = Vec::with_capacity(exposition.samples.len());
        for mut sample in exposition.samples {
            if !self.target.honor_timestamps {
                sample.timestamp_ms = None;
            }
            sample.labels =
                apply_target_labels(sample.labels, &self.target.labels, self.target.honor_labels);
            if !self.last_series.contains_key(&sample.labels) {
                outcome.series_added += 1;
            }
            current.insert(sample.labels.clone(), sample.timestamp_ms.is_some());
            series.push(sample_series(sample, outcome.timestamp_ms));
        }
        let gone: Vec<Labels> = self
            .last_series
            .iter()
            .filter(|(labels, own_time)| !**own_time && !current.contains_key(*labels))
            .map(|(labels, _)| labels.clone())
            .collect();
        outcome.stale_markers = gone.len() as u64;
        series.extend(stale_series(gone, outcome.timestamp_ms));
        let metadata = if exposition.metadata == self.last_metadata {
            Vec::new()
        } else {
            self.last_metadata = exposition.metadata.clone();
            exposition.metadata
        };
        let appended = self
            .store
            .append(SeriesBatch { series, metadata })
            .map_err(|e| format!("appending to the series store: {e}"))?;
        self.stats
            .samples_appended(appended.accepted_samples, appended.rejected.total());
        self.last_series = current;
        Ok(())
    }

    /// The synthetic series of one scrape.
    fn report(&self, outcome: &ScrapeOutcome, duration: Duration) -> SeriesBatch {
        let up = if outcome.error.is_none() { 1.0 } else { 0.0 };
        let values = [
            ("up", up),
            ("scrape_duration_seconds", duration.as_secs_f64()),
            ("scrape_samples_scraped", outcome.samples_scraped as f64),
            (
                "scrape_samples_post_metric_relabeling",
                outcome.samples_scraped as f64,
            ),
            ("scrape_series_added", outcome.series_added as f64),
        ];
        let series = values
            .into_iter()
            .map(|(name, value)| {
                let mut labels = self.target.labels.clone();
                labels.set(METRIC_NAME, name);
                TimeSeries {
                    labels,
                    samples: vec![Sample {
                        timestamp_ms: outcome.timestamp_ms,
                        value,
                    }],
                    exemplars: Vec::new(),
                }
            })
            .collect();
        SeriesBatch {
            series,
            metadata: Vec::new(),
        }
    }

    fn append(&self, batch: SeriesBatch) {
        match self.store.append(batch) {
            Ok(appended) => self
                .stats
                .samples_appended(appended.accepted_samples, appended.rejected.total()),
            Err(e) => eprintln!(
                "whyslow: scrape {} ({}): appending to the series store: {e}",
                self.target.job, self.target.url
            ),
        }
    }

    /// Counts the scrape and logs when the target goes up or down or its error changes.
    fn note(&mut self, outcome: &ScrapeOutcome, duration: Duration) {
        let up = outcome.error.is_none();
        self.stats
            .scraped(up, self.up, outcome.samples_scraped, duration);
        if outcome.error != self.last_error {
            match &outcome.error {
                Some(why) => eprintln!(
                    "whyslow: scrape {} ({}) failed: {why}",
                    self.target.job, self.target.url
                ),
                None if self.last_error.is_some() => eprintln!(
                    "whyslow: scrape {} ({}) is up again",
                    self.target.job, self.target.url
                ),
                None => {}
            }
        }
        self.up = up;
        self.last_error = outcome.error.clone();
    }
}

impl Drop for TargetScraper {
    fn drop(&mut self) {
        self.stats.target_removed(self.up);
    }
}

fn stale_series(labels: Vec<Labels>, timestamp_ms: i64) -> Vec<TimeSeries> {
    labels
        .into_iter()
        .map(|labels| TimeSeries {
            labels,
            samples: vec![Sample {
                timestamp_ms,
                value: stale_nan(),
            }],
            exemplars: Vec::new(),
        })
        .collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn format_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
