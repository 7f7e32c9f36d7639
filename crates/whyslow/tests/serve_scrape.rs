//! End-to-end: the real `whyslow serve` binary scraping Debian's
//! `/usr/bin/prometheus` from `--scrape-config` (and itself), its own
//! `GET /metrics` read back with the exposition parser, and a bad scrape
//! config refused at start with the line named.
#![allow(clippy::unwrap_used)]

#[path = "common/prometheus.rs"]
mod prometheus_bin;
#[path = "common/test_store.rs"]
mod test_store;

use ingest::exposition::{parse, Exposition, Format};
use prometheus_bin::Prometheus;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process SIGTERMed (then reaped) on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let pid = libc::pid_t::try_from(self.0.id()).unwrap();
        // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.0.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.0.kill();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("whyslow-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn get_metrics(addr: &str) -> Exposition {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    parse(body.as_bytes(), Format::PrometheusText).unwrap_or_else(|e| panic!("{e}\n{body}"))
}

fn value(e: &Exposition, name: &str) -> f64 {
    e.samples
        .iter()
        .find(|s| s.labels.metric_name() == Some(name))
        .unwrap_or_else(|| panic!("no {name}"))
        .value
}

#[test]
fn serve_scrapes_its_config_and_itself_and_exposes_its_metrics() {
    let dir = TempDir::new("serve-scrape");
    let prometheus = Prometheus::start(dir.path(), |_| "scrape_configs: []\n".into(), &[]);
    let prom_addr = prometheus.addr.clone();
    let config = dir.path().join("scrape.yml");
    std::fs::write(
        &config,
        format!("scrape_configs:\n  - job_name: prometheus\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['{prom_addr}']\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_whyslow"))
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(test_store::clickhouse_store(&dir.path().join("data")))
        .arg("--scrape-config")
        .arg(&config)
        .args([
            "--otlp-grpc-port",
            "0",
            "--otlp-http-port",
            "0",
            "--http-port",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _serve = Running(child);
    let mut next = || lines.next().unwrap().unwrap();
    let (_, _, ui_line, scrape_line) = (next(), next(), next(), next());
    let ui = ui_line
        .split("http://")
        .nth(1)
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    assert_eq!(scrape_line, "Scraping    2 targets every 1s to 15s");

    let deadline = Instant::now() + Duration::from_secs(20);
    let metrics = loop {
        let metrics = get_metrics(&ui);
        if value(&metrics, "whyslow_scrapes_total") >= 2.0 {
            break metrics;
        }
        assert!(Instant::now() < deadline, "no two scrapes within 20 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(value(&metrics, "whyslow_scrape_targets"), 2.0);
    assert_eq!(value(&metrics, "whyslow_scrape_failures_total"), 0.0);
    assert!(value(&metrics, "whyslow_scrape_samples_scraped_total") > 200.0);
    assert!(value(&metrics, "whyslow_series_active") > 200.0);
    assert!(value(&metrics, "whyslow_series_samples_appended_total") > 200.0);
    assert!(value(&metrics, "process_resident_memory_bytes") > 1e6);
    drop(lines);
}

#[test]
fn a_bad_scrape_config_is_refused_at_start_with_its_line() {
    let dir = TempDir::new("serve-bad-scrape-config");
    let config = dir.path().join("scrape.yml");
    std::fs::write(
        &config,
        "scrape_configs:\n  - job_name: a\n    scrape_intervl: 5s\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_whyslow"))
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--scrape-config")
        .arg(&config)
        .args([
            "--otlp-grpc-port",
            "0",
            "--otlp-http-port",
            "0",
            "--http-port",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("scrape.yml"), "{stderr}");
    assert!(stderr.contains("line 3 column 5"), "{stderr}");
    assert!(
        stderr.contains("unknown field `scrape_intervl`"),
        "{stderr}"
    );
    // Nothing was opened: the data directory was not created.
    assert!(!dir.path().join("data").exists());
}
