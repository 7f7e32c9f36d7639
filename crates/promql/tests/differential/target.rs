//! What the suite queries: anything that loads samples and answers instant
//! and range queries. Two kinds: the in-process `promql::Engine` over a
//! `MemorySeriesStore`, and any Prometheus-compatible HTTP server (Prometheus
//! itself as the reference; `whyslow serve` via `WHYSLOW_DIFF_SERVE_URL`),
//! fed by remote_write and asked through /api/v1/query and /api/v1/query_range.

use crate::answer::{from_engine, from_json, Outcome};
use crate::http::Http;
use crate::prometheus::remote_write;
use model::metrics::TimeSeries;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;
use store::series::{MemorySeriesStore, SeriesBatch, SeriesStore};

/// A PromQL implementation under comparison.
pub trait Target {
    /// Shown in reports.
    fn name(&self) -> &str;
    /// Takes one batch (global time order across calls).
    fn load(&mut self, batch: &[TimeSeries]) -> Result<(), String>;
    /// `/api/v1/query?query=..&time=..`
    fn instant(&self, query: &str, time_ms: i64) -> Outcome;
    /// `/api/v1/query_range?query=..&start=..&end=..&step=..`
    fn range(&self, query: &str, start_ms: i64, end_ms: i64, step_ms: i64) -> Outcome;
}

/// Unix ms as the API's float seconds, exactly.
fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// A server speaking the Prometheus HTTP API and remote_write 1.0.
pub struct HttpTarget {
    name: String,
    http: Rc<Http>,
    url: String,
}

impl HttpTarget {
    pub fn new(name: &str, http: Rc<Http>, url: &str) -> Self {
        Self {
            name: name.into(),
            http,
            url: url.trim_end_matches('/').into(),
        }
    }

    fn get(&self, path: &str, params: &[(&str, String)]) -> Outcome {
        let reply = self
            .http
            .get(&self.url, path, params)
            .map_err(|e| format!("HTTP request to {}{path} failed: {e}", self.url))?;
        from_json(reply.status, &reply.body)
    }
}

impl Target for HttpTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn load(&mut self, batch: &[TimeSeries]) -> Result<(), String> {
        remote_write(&self.http, &self.url, batch)
    }

    fn instant(&self, query: &str, time_ms: i64) -> Outcome {
        self.get(
            "/api/v1/query",
            &[("query", query.into()), ("time", seconds(time_ms))],
        )
    }

    fn range(&self, query: &str, start_ms: i64, end_ms: i64, step_ms: i64) -> Outcome {
        self.get(
            "/api/v1/query_range",
            &[
                ("query", query.into()),
                ("start", seconds(start_ms)),
                ("end", seconds(end_ms)),
                ("step", seconds(step_ms)),
            ],
        )
    }
}

/// whyslow's evaluator in this process, over the in-memory reference store.
pub struct EngineTarget {
    engine: promql::Engine,
    store: MemorySeriesStore,
}

impl EngineTarget {
    pub fn new() -> Self {
        Self {
            engine: promql::Engine::new(promql::EngineOptions {
                timeout: Duration::from_secs(10),
                ..promql::EngineOptions::default()
            }),
            store: MemorySeriesStore::new(),
        }
    }

    /// Runs one evaluation; a panic becomes a failed outcome.
    fn guarded(
        &self,
        eval: impl FnOnce() -> Result<promql::Value, promql::PromqlError>,
    ) -> Outcome {
        match catch_unwind(AssertUnwindSafe(eval)) {
            Ok(Ok(value)) => Ok(from_engine(value)),
            Ok(Err(e)) => Err(format!("{}: {e}", e.error_type())),
            Err(panic) => Err(format!(
                "PANIC: {}",
                panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("?")
            )),
        }
    }
}

impl Target for EngineTarget {
    fn name(&self) -> &str {
        "engine"
    }

    fn load(&mut self, batch: &[TimeSeries]) -> Result<(), String> {
        let appended = self
            .store
            .append(SeriesBatch {
                series: batch.to_vec(),
                metadata: Vec::new(),
            })
            .map_err(|e| format!("MemorySeriesStore append: {e}"))?;
        if appended.rejected.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "MemorySeriesStore refused samples: {:?}",
                appended.rejected.messages
            ))
        }
    }

    fn instant(&self, query: &str, time_ms: i64) -> Outcome {
        self.guarded(|| self.engine.instant_query(&self.store, query, time_ms))
    }

    fn range(&self, query: &str, start_ms: i64, end_ms: i64, step_ms: i64) -> Outcome {
        self.guarded(|| {
            self.engine
                .range_query(&self.store, query, start_ms, end_ms, step_ms)
        })
    }
}
