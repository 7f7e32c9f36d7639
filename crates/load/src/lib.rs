//! The load generator behind `whyslow load`: an open-model (constant or ramping
//! arrival rate) and closed-model HTTP/1.1 and HTTP/2 (cleartext or TLS) load tester whose latency
//! is coordinated-omission-correct, like wrk2's.
//!
//! A run is [`LoadConfig`] → [`start`] → [`Running`] (live [`Progress`]) →
//! [`LoadResult`], which the views turn into a terminal [`summary`], a JSON
//! document ([`to_json`]) and a self-contained HTML page ([`report_html`]).
//! Latency lives in HDR histograms, per-interval numbers in a bounded time series
//! and the slowest requests in a bounded heap, so memory stays flat however long
//! the run. Only loopback targets are loaded unless remote ones are allowed.
//! Keep-alive connections the server closes are reopened, and a request that a
//! stale one drops before its response is sent again once: both are counted
//! (reconnects, retried), neither is an error.

mod client;
mod config;
mod error;
mod http1;
mod json;
mod recorder;
mod report_html;
mod result;
mod runner;
mod scenario;
mod schedule;
mod series;
mod slo;
mod slot;
mod slowest;
mod summary;
mod target;
mod tls;
mod traceparent;
mod units;
mod worker;

pub use config::{parse_header, LoadConfig, Model, RequestTemplate};
pub use error::LoadError;
pub use json::{encode_histogram, to_json, FORMAT_VERSION};
pub use recorder::{ErrorCounts, ErrorKind, Recorder};
pub use report_html::report_html;
pub use result::{LatencySummary, LoadResult};
pub use runner::{start, Progress, Running};
pub use scenario::load_scenario;
pub use schedule::{parse_stages, ArrivalSchedule, Stage};
pub use slo::{parse_slo, Metric, Threshold, Verdict};
pub use slowest::SlowRequest;
pub use summary::{summary, trace_link};
pub use target::{is_loopback, Target};
pub use tls::TlsOptions;
pub use units::{format_latency_us, parse_duration};

#[doc(hidden)]
pub use http1::fuzz_response as fuzz_http1_response;
