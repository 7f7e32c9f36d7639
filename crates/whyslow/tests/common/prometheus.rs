//! Debian's Prometheus for the differential and real-client tests: whether
//! it is installed (a test skips saying why, or fails when
//! `WHYSLOW_REQUIRE_PROMETHEUS=1`), started on a free loopback port with a
//! configuration that may name that port, ready before the test goes on,
//! and SIGKILLed on drop. Standalone (std only), so any test binary can
//! include it with `#[path]`.

#![allow(dead_code)] // each includer uses part of it

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's `prometheus` package puts the server.
pub const PROMETHEUS_BIN: &str = "/usr/bin/prometheus";

/// Whether Prometheus is installed; says on stderr that `test` skips when
/// it is not (and fails instead under `WHYSLOW_REQUIRE_PROMETHEUS=1`).
pub fn available(test: &str) -> bool {
    if Path::new(PROMETHEUS_BIN).exists() {
        return true;
    }
    assert!(
        std::env::var("WHYSLOW_REQUIRE_PROMETHEUS").map_or(true, |v| v != "1"),
        "{PROMETHEUS_BIN} is missing and WHYSLOW_REQUIRE_PROMETHEUS=1: apt-get install prometheus"
    );
    eprintln!("SKIPPED {test}: no {PROMETHEUS_BIN} (apt-get install prometheus; dev/test does)");
    false
}

/// A running Prometheus, SIGKILLed on drop (its data directory is the caller's).
pub struct Prometheus {
    child: Child,
    /// `127.0.0.1:PORT` of its web API.
    pub addr: String,
}

impl Prometheus {
    /// Starts Prometheus with `config(addr)` as `dir/prometheus.yml`, its
    /// data in `dir/prom-data` and `extra` flags; returns once `/-/ready`
    /// answers 200 (within 30 s).
    pub fn start(dir: &Path, config: impl FnOnce(&str) -> String, extra: &[&str]) -> Prometheus {
        let addr = format!("127.0.0.1:{}", free_port());
        let file = dir.join("prometheus.yml");
        std::fs::write(&file, config(&addr)).expect("write prometheus.yml");
        let child = Command::new(PROMETHEUS_BIN)
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("prom-data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/bin/prometheus starts");
        let running = Prometheus { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !running.ready() {
            assert!(Instant::now() < deadline, "prometheus did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        running
    }

    /// Whether `GET /-/ready` answers 200.
    fn ready(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = TcpStream::connect(&self.addr) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!(
            "GET /-/ready HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        let mut answer = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.1 200")
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
