//! Runs Debian's real `prometheus` for comparison tests: on a free loopback
//! port, in a temp dir, killed when the handle drops; plus a plain HTTP/1.0
//! client (no chunked bodies to decode) and a one-file fixture exporter
//! Prometheus can scrape.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const PROMETHEUS: &str = "/usr/bin/prometheus";
pub const PROMTOOL: &str = "/usr/bin/promtool";

/// Whether the binaries are installed (tests skip with a note otherwise).
pub fn installed() -> bool {
    let ok = Path::new(PROMETHEUS).exists() && Path::new(PROMTOOL).exists();
    if !ok {
        eprintln!("skipped: {PROMETHEUS} or {PROMTOOL} is not installed");
    }
    ok
}

/// A running Prometheus, killed when dropped.
pub struct Running {
    child: Child,
    /// Its HTTP port on 127.0.0.1.
    pub port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts Prometheus with `config` (YAML) over `dir/data` plus `extra`
/// flags, and waits (at most 60 s) until it is ready.
pub fn start(dir: &Path, config: &str, extra: &[&str]) -> Running {
    std::fs::write(dir.join("prometheus.yml"), config).expect("write config");
    let port = free_port();
    let log = std::fs::File::create(dir.join("prometheus.log")).expect("log file");
    let child = Command::new(PROMETHEUS)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--storage.tsdb.retention.time=100y")
        .args(extra)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start prometheus");
    let running = Running { child, port };
    let ready = wait_for(Duration::from_secs(60), || {
        http_get(port, "/-/ready").is_some_and(|(status, _)| status == 200)
    });
    assert!(
        ready,
        "prometheus not ready after 60 s; log: {}",
        std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
    );
    running
}

/// Polls `done` every 250 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

/// Backfills OpenMetrics `text` into `dir/data` with promtool.
pub fn backfill(dir: &Path, text: &str) {
    std::fs::write(dir.join("data.om"), text).expect("write data.om");
    let status = Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(dir.join("data.om"))
        .arg(dir.join("data"))
        .stdout(Stdio::null())
        .status()
        .expect("run promtool");
    assert!(status.success(), "promtool backfill failed");
}

/// One HTTP/1.0 exchange; `None` when nothing answers.
fn http_request(port: u16, request: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http_request(
        port,
        &format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"),
    )
}

pub fn http_post(port: u16, path: &str, form: &str) -> Option<(u16, String)> {
    http_request(
        port,
        &format!(
            "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
}

/// Serves `body` as OpenMetrics on every request until dropped (or 120 s).
pub struct Exporter {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Exporter {
    pub fn start(body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind exporter");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut buf = [0u8; 4096];
                        let _ = stream.read(&mut buf);
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = stream.write_all(reply.as_bytes());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
