//! `whyslow agent --server`: pushes collected families with Prometheus
//! remote_write 1.0 (a snappy block-compressed `prometheus.WriteRequest`,
//! reusing `ingest`'s prost messages) to `whyslow serve`'s /api/v1/write or
//! any remote_write receiver, over one HTTP/1.1 connection kept open.
//!
//! Series carry `job="node"` and `instance` as a Prometheus scraping the agent
//! would add them; metadata (HELP, TYPE) rides along the first accepted push and every sixth after it, as
//! Prometheus sends it periodically rather than with each batch. A 429 or 5xx
//! answer (or a broken connection) is retried with doubling backoff from
//! 500 ms, honouring `Retry-After`, for at most one interval; other 4xx
//! answers drop the batch (retrying cannot fix it) and say why.

use crate::http_post::{Answer, Endpoint, Poster};
use bytes::Bytes;
use hyper::header;
use ingest::remote_write::proto::{Label, MetricMetadata, Sample, TimeSeries, WriteRequest};
use prost::Message as _;
use std::time::{Duration, Instant};

/// Where to push and with which target labels.
pub struct Pusher {
    poster: Poster,
    path: String,
    job: String,
    instance: String,
    /// Batches accepted so far.
    pushes: u64,
}

/// The outcome of one batch, for the log line.
pub enum Pushed {
    /// Accepted (2xx).
    Accepted,
    /// Given up on, with why.
    Dropped(String),
}

impl Pusher {
    /// Pushes to `path` (default /api/v1/write) at `endpoint`.
    pub fn new(endpoint: &Endpoint, path: Option<&str>, instance: String) -> Self {
        Self {
            poster: Poster::new(endpoint),
            path: path.unwrap_or("/api/v1/write").to_string(),
            job: "node".to_string(),
            instance,
            pushes: 0,
        }
    }

    /// Encodes and sends one collection, retrying as the module doc says
    /// until `budget` has passed.
    pub async fn push(
        &mut self,
        families: &[host::Family],
        timestamp_ms: i64,
        budget: Duration,
    ) -> Pushed {
        // Metadata with the first batch accepted and every sixth after it.
        let with_metadata = self.pushes.is_multiple_of(6);
        let body = Bytes::from(self.encode(families, timestamp_ms, with_metadata));
        let deadline = Instant::now() + budget;
        let mut backoff = Duration::from_millis(500);
        loop {
            let (retry_after, why) = match self.send(body.clone()).await {
                Ok(answer) if answer.status.is_success() => {
                    self.pushes += 1;
                    return Pushed::Accepted;
                }
                Ok(answer) if answer.status.as_u16() == 429 || answer.status.is_server_error() => (
                    answer.retry_after,
                    format!("{}: {}", answer.status, answer.text),
                ),
                Ok(answer) => {
                    return Pushed::Dropped(format!(
                        "{} refused the batch with {}: {}",
                        self.poster.authority, answer.status, answer.text
                    ))
                }
                Err(error) => (None, error),
            };
            let wait = retry_after.unwrap_or(backoff).min(Duration::from_secs(30));
            if Instant::now() + wait >= deadline {
                return Pushed::Dropped(format!(
                    "{} did not take the batch within one interval ({why})",
                    self.poster.authority
                ));
            }
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    fn encode(&self, families: &[host::Family], timestamp_ms: i64, with_metadata: bool) -> Vec<u8> {
        let mut request = WriteRequest::default();
        for family in families.iter().filter(|f| !f.samples.is_empty()) {
            for sample in &family.samples {
                let mut labels: Vec<Label> = Vec::with_capacity(sample.labels.len() + 3);
                labels.push(label("__name__", &family.name));
                labels.extend(sample.labels.iter().map(|(n, v)| label(n, v)));
                labels.push(label("instance", &self.instance));
                labels.push(label("job", &self.job));
                labels.sort_by(|a, b| a.name.cmp(&b.name));
                request.timeseries.push(TimeSeries {
                    labels,
                    samples: vec![Sample {
                        value: sample.value,
                        timestamp: timestamp_ms,
                    }],
                    exemplars: Vec::new(),
                });
            }
            if with_metadata {
                request.metadata.push(MetricMetadata {
                    r#type: match family.kind {
                        host::Kind::Counter => 1,
                        host::Kind::Gauge => 2,
                        host::Kind::Untyped => 0,
                    },
                    metric_family_name: family.name.to_string(),
                    help: family.help.to_string(),
                    unit: String::new(),
                });
            }
        }
        let raw = request.encode_to_vec();
        // The block format, not the framed stream (remote_write 1.0).
        snap::raw::Encoder::new()
            .compress_vec(&raw)
            .unwrap_or_default()
    }

    async fn send(&mut self, body: Bytes) -> Result<Answer, String> {
        self.poster
            .post(
                &self.path,
                &[
                    (header::CONTENT_TYPE, "application/x-protobuf"),
                    (header::CONTENT_ENCODING, "snappy"),
                    (
                        header::HeaderName::from_static("x-prometheus-remote-write-version"),
                        "0.1.0",
                    ),
                ],
                body,
            )
            .await
    }
}

fn label(name: &str, value: &str) -> Label {
    Label {
        name: name.to_string(),
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_sorted_labels_with_job_and_instance() {
        let (endpoint, path) =
            Endpoint::from_url("http://127.0.0.1:1", &tls::ClientFiles::default()).expect("url");
        let p = Pusher::new(&endpoint, path, "vm:9469".into());
        let mut f = host::Family::new("node_cpu_seconds_total", "Seconds.", host::Kind::Counter);
        f.push(vec![("cpu", "0".into()), ("mode", "idle".into())], 1.5);
        let body = p.encode(&[f], 1000, true);
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&body)
            .expect("snappy");
        let request = WriteRequest::decode(raw.as_slice()).expect("proto");
        let names: Vec<(&str, &str)> = request.timeseries[0]
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("__name__", "node_cpu_seconds_total"),
                ("cpu", "0"),
                ("instance", "vm:9469"),
                ("job", "node"),
                ("mode", "idle")
            ]
        );
        assert_eq!(request.metadata[0].r#type, 1);
    }
}
