//! Helpers for the metrics end-to-end tests (serve_metrics.rs): the real
//! `whyslow serve` on free ports that can be SIGKILLed and restarted on the
//! same port and data directory, plain HTTP/1.1 requests, a remote_write
//! encoder, and instant queries through `/api/v1/query`.
#![allow(dead_code)]

// Tests that also have `mod common` load this file twice: it has no state.
#[allow(clippy::duplicate_mod)]
#[path = "../common/test_store.rs"]
mod test_store;
pub use test_store::clickhouse_store;

use ingest::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
use prost::Message;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `whyslow serve`; SIGKILLed on drop (tests that stop it cleanly call [`Serve::stop`]).
pub struct Serve {
    pub child: Child,
    /// Kept open so later output from the server never meets a closed pipe.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
    /// OTLP/gRPC `host:port`.
    pub grpc: String,
    /// OTLP/HTTP `host:port`.
    pub otlp_http: String,
    /// UI, Prometheus query API and remote_write `host:port`.
    pub http: String,
}

impl Serve {
    /// Starts serve on `data_dir`; `http_port` 0 picks a free one.
    pub fn start(data_dir: &Path, http_port: u16) -> Self {
        Self::start_with(data_dir, http_port, &[])
    }

    /// [`Self::start`] with more `serve` arguments (e.g. `--rules FILE`).
    ///
    /// With `WHYSLOW_TEST_CLICKHOUSE=HOST:PORT[,HOST:PORT]` (dev/test's
    /// second run of these suites) serve keeps every signal in ClickHouse, in
    /// a database named after `data_dir`, so a restart on the same
    /// directory finds its data again.
    pub fn start_with(data_dir: &Path, http_port: u16, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_whyslow"))
            .args(["serve", "--data-dir"])
            .arg(data_dir)
            .args(["--otlp-grpc-port", "0", "--otlp-http-port", "0"])
            .args(["--http-port", &http_port.to_string()])
            .args(clickhouse_store(data_dir))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("whyslow serve starts");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let mut next = || {
            lines
                .next()
                .expect("serve prints its listeners")
                .expect("stdout is text")
        };
        let (grpc_line, http_line, ui_line) = (next(), next(), next());
        // "OTLP/gRPC   listening on 127.0.0.1:PORT"
        let grpc = grpc_line
            .rsplit(' ')
            .next()
            .expect("an address")
            .to_string();
        Self {
            child,
            _stdout: lines,
            grpc,
            otlp_http: address_in(&http_line),
            http: address_in(&ui_line),
        }
    }

    /// SIGKILL and reap.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM; the exit must be a success within 20 s.
    pub fn stop(mut self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid fits pid_t");
        // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(status.success(), "serve exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "serve did not stop within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `host:port` out of a line containing `http://host:port/…`.
fn address_in(line: &str) -> String {
    let rest = line.split("http://").nth(1).expect("an http:// address");
    rest.split('/').next().expect("host:port").to_string()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding 127.0.0.1:0")
        .port()
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("whyslow-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One HTTP/1.1 request with `Connection: close`: status and body, or
/// `None` when the connection fails or is dropped (the server was killed).
pub fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.get(9..12)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Unix ms as the API's seconds, exactly.
pub fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// `GET /api/v1/query?query=..&time=..` on `addr`; the `data.result` array.
pub fn instant_query(addr: &str, query: &str, time_ms: i64) -> Vec<serde_json::Value> {
    let path = format!(
        "/api/v1/query?query={}&time={}",
        encode(query),
        seconds(time_ms)
    );
    let (status, body) =
        try_http(addr, "GET", &path, &[], b"").unwrap_or_else(|| panic!("{addr}{path}: no answer"));
    assert_eq!(status, 200, "{addr}{path}: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("query answer is JSON");
    assert_eq!(json["status"], "success", "{body}");
    json["data"]["result"]
        .as_array()
        .unwrap_or_else(|| panic!("no data.result in {body}"))
        .clone()
}

/// The `[timestamp ms, value]` pairs of a matrix element's `values`.
pub fn points(series: &serde_json::Value) -> Vec<(i64, f64)> {
    series["values"]
        .as_array()
        .unwrap_or_else(|| panic!("not a matrix element: {series}"))
        .iter()
        .map(|p| {
            let t = p[0].as_f64().expect("a timestamp");
            let v = p[1].as_str().expect("a value string");
            let v = match v {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                other => other.parse().expect("a float"),
            };
            ((t * 1000.0).round() as i64, v)
        })
        .collect()
}

/// One series to send: label pairs (`__name__` among them) and `(ms, value)` samples.
pub type SeriesToSend<'a> = (Vec<(&'a str, String)>, Vec<(i64, f64)>);

/// A snappy-compressed `WriteRequest` of `series`.
pub fn write_request(series: &[SeriesToSend]) -> Vec<u8> {
    let request = WriteRequest {
        timeseries: series
            .iter()
            .map(|(labels, samples)| {
                let mut labels: Vec<Label> = labels
                    .iter()
                    .map(|(name, value)| Label {
                        name: (*name).to_string(),
                        value: value.clone(),
                    })
                    .collect();
                labels.sort_by(|a, b| a.name.cmp(&b.name));
                TimeSeries {
                    labels,
                    samples: samples
                        .iter()
                        .map(|&(timestamp, value)| Sample { value, timestamp })
                        .collect(),
                    exemplars: Vec::new(),
                }
            })
            .collect(),
        metadata: Vec::new(),
    };
    snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .expect("snappy compresses")
}

/// The headers Prometheus sends with remote_write 1.0.
pub const REMOTE_WRITE_HEADERS: &[(&str, &str)] = &[
    ("Content-Type", "application/x-protobuf"),
    ("Content-Encoding", "snappy"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

/// Wall-clock Unix ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
