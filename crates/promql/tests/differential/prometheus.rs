//! The reference: Debian's real `prometheus` binary, started on a free
//! loopback port with its remote_write receiver, an empty scrape config and a
//! temporary TSDB, stopped (killed) when dropped. Also the remote_write 1.0
//! sender both Prometheus and `whyslow serve` are fed with.

use crate::http::Http;
use model::metrics::TimeSeries;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs Prometheus.
pub const PROMETHEUS_BIN: &str = "/usr/bin/prometheus";

/// A running Prometheus; killed on drop.
pub struct Prometheus {
    child: Child,
    pub url: String,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts `bin` and waits (bounded) until `/-/ready` answers 200.
    /// Retries on another port when the first one was taken meanwhile.
    pub fn start(bin: &Path, http: &Http) -> Result<Self, String> {
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::start_once(bin, http) {
                Ok(prometheus) => return Ok(prometheus),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    fn start_once(bin: &Path, http: &Http) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config, // The evaluation interval is also the default subquery step
            // (`x[10m:]`): keep Prometheus's default, 1m.
            "global:\n  evaluation_interval: 1m\nscrape_configs: []\n",
        )
        .map_err(|e| format!("write {}: {e}", config.display()))?;
        let port = free_port()?;
        let log_path = dir.path().join("prometheus.log");
        let log = std::fs::File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let child = Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut prometheus = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log_path,
            _dir: dir,
        };
        prometheus.wait_ready(http)?;
        Ok(prometheus)
    }

    fn wait_ready(&mut self, http: &Http) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "prometheus exited with {status} before it was ready; log:\n{}",
                    self.log_tail()
                ));
            }
            if let Ok(reply) = http.get(&self.url, "/-/ready", &[]) {
                if reply.status == 200 {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "prometheus not ready at {} within 30 s; log:\n{}",
            self.url,
            self.log_tail()
        ))
    }

    /// The last lines of Prometheus's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind :0: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}

/// Remote write 1.0 messages (prometheus/prompb remote.proto, types.proto).
mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WriteRequest {
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<TimeSeries>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(double, tag = "1")]
        pub value: f64,
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }
}

/// Sends one batch (each series' samples ascending) to `base`/api/v1/write;
/// Err unless the answer is 2xx.
pub fn remote_write(http: &Http, base: &str, batch: &[TimeSeries]) -> Result<(), String> {
    use prost::Message;
    let request = pb::WriteRequest {
        timeseries: batch
            .iter()
            .map(|ts| pb::TimeSeries {
                labels: ts
                    .labels
                    .iter()
                    .map(|(name, value)| pb::Label {
                        name: name.to_string(),
                        value: value.to_string(),
                    })
                    .collect(),
                samples: ts
                    .samples
                    .iter()
                    .map(|s| pb::Sample {
                        value: s.value,
                        timestamp: s.timestamp_ms,
                    })
                    .collect(),
            })
            .collect(),
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .map_err(|e| format!("snappy: {e}"))?;
    let url = format!("{}/api/v1/write", base.trim_end_matches('/'));
    let reply = http.post(
        &url,
        &[
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
            ("User-Agent", "whyslow-promql-differential"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ],
        body,
    )?;
    if (200..300).contains(&reply.status) {
        Ok(())
    } else {
        Err(format!(
            "remote_write to {url} answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body).trim()
        ))
    }
}
