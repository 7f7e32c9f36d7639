//! Prometheus-style scraping for `whyslow serve`: `--scrape-config FILE`
//! ([`config`], Prometheus's `scrape_configs` shape) names targets; each gets
//! a task ([`run_target`]) that scrapes it every `scrape_interval` with a
//! [`TargetScraper`] and appends to the [`SeriesStore`], until the stop
//! channel turns true. `serve` adds its own `/metrics` as job `whyslow`,
//! answered in process ([`Target::self_scrape`]).
//!
//! The HTTP client is hyper's HTTP/1.1 connection API (already in the build
//! through axum) rather than a full client crate, over the `tls` crate's
//! client for `scheme: https`; credentials and TLS files as Prometheus
//! names them ([`credentials`]). [`ScrapeStats`] counts scrapes for `serve`'s own
//! `/metrics` (the trace receivers keep no counters of their own yet).

pub mod config;
mod credentials;
pub mod duration;
mod fetch;
pub mod labels;
mod scraper;
mod stats;
mod validate;

pub use config::{load, parse, yaml_error, InProcess, Target, SELF_JOB};
pub use credentials::Authorization;
pub use fetch::MAX_BODY_BYTES;
pub use scraper::{ScrapeOutcome, TargetScraper};
pub use stats::{ScrapeStats, ScrapeStatsSnapshot};

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use store::series::SeriesStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A scrape configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// The file is unreadable, not YAML of the expected shape, or has invalid values.
    #[error("scrape config {path}: {why}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong and where.
        why: String,
    },
}

/// Scrapes `target` every interval until `stop` turns true (or its sender
/// is dropped). The first scrape comes after an offset within the interval
/// derived from the target's URL, so targets spread out as in Prometheus.
pub async fn run_target(
    target: Target,
    store: Arc<dyn SeriesStore>,
    stats: Arc<ScrapeStats>,
    mut stop: watch::Receiver<bool>,
) {
    let interval = target.interval.max(Duration::from_millis(100));
    let offset = start_offset(&target.url, interval);
    let mut scraper = TargetScraper::new(target, store, stats);
    tokio::select! {
        _ = tokio::time::sleep(offset) => {}
        _ = stop.wait_for(|s| *s) => return,
    }
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        tokio::select! {
            _ = scraper.scrape_once() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Starts one [`run_target`] task per target.
pub fn spawn_scrapers(
    targets: Vec<Target>,
    store: &Arc<dyn SeriesStore>,
    stats: &Arc<ScrapeStats>,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    targets
        .into_iter()
        .map(|target| {
            tokio::spawn(run_target(
                target,
                Arc::clone(store),
                Arc::clone(stats),
                stop.clone(),
            ))
        })
        .collect()
}

fn start_offset(url: &str, interval: Duration) -> Duration {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    url.hash(&mut hasher);
    let millis = u64::try_from(interval.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    Duration::from_millis(hasher.finish() % millis)
}
