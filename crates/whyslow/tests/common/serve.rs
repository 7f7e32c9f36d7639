//! A running `whyslow serve` for the end-to-end tests: the real binary on
//! ephemeral ports (it prints its three listening addresses first),
//! SIGTERMed on drop.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `whyslow serve` on ephemeral ports; SIGTERMed on drop.
pub struct Serve {
    pub child: Child,
    /// Kept open so later output from the server never meets a closed pipe.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
    pub grpc: String,
    pub otlp_http: String,
    pub ui: String,
}

impl Serve {
    pub fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[])
    }

    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(data_dir, extra, &[])
    }

    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = command(data_dir, extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next = || lines.next().unwrap().unwrap();
        let (grpc_line, http_line, ui_line) = (next(), next(), next());
        // "OTLP/gRPC   listening on 127.0.0.1:PORT" (https://127.0.0.1:PORT with TLS)
        let grpc = grpc_line.rsplit(' ').next().unwrap();
        let grpc = grpc.trim_start_matches("https://").to_string();
        // "OTLP/HTTP   listening on http(s)://127.0.0.1:PORT/v1/traces (…)"
        let otlp_http = address_in(&http_line);
        // "UI and API  listening on http(s)://127.0.0.1:PORT/"
        let ui = address_in(&ui_line);
        Self {
            child,
            _stdout: lines,
            grpc,
            otlp_http,
            ui,
        }
    }

    /// SIGTERM, then the exit status must be success (graceful shutdown).
    pub fn stop(mut self) {
        terminate(&self.child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "serve exited with {status}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop within 20 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::mem::forget(self);
    }
}

impl Serve {
    /// SIGKILL, as a crash would.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        terminate(&self.child);
        let _ = self.child.wait();
    }
}

pub fn terminate(child: &Child) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
}

/// `host:port` out of a line containing `http://host:port/…` (or https://).
pub fn address_in(line: &str) -> String {
    let rest = line.split("://").nth(1).unwrap();
    rest.split('/').next().unwrap().to_string()
}

/// `whyslow serve --data-dir DATA_DIR EXTRA…` on ephemeral ports, not started.
pub fn command(data_dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_whyslow"));
    command
        .args(["serve", "--data-dir"])
        .arg(data_dir)
        .args(super::test_store::clickhouse_store(data_dir))
        .args(extra)
        .args([
            "--otlp-grpc-port",
            "0",
            "--otlp-http-port",
            "0",
            "--http-port",
            "0",
        ]);
    command
}

/// The venv dev/test installs from tests/otlp/requirements.txt.
pub fn otlp_python() -> Option<std::path::PathBuf> {
    if let Ok(path) = std::env::var("WHYSLOW_OTLP_PYTHON") {
        return Some(std::path::PathBuf::from(path));
    }
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/otlp-venv/bin/python");
    python.exists().then_some(python)
}

/// tests/otlp/send_and_verify.py: the official OpenTelemetry Python SDK
/// sends over OTLP/gRPC and OTLP/HTTP to `to`, and every field is read back
/// from `query`'s API (the same server or another over the same store).
/// False when the venv is missing and WHYSLOW_REQUIRE_OTLP_VENV is not set
/// (the caller skips).
pub fn python_sdk_round_trip(test: &str, to: &Serve, query: &Serve) -> bool {
    python_sdk_round_trip_with(test, to, query, None)
}

/// [`python_sdk_round_trip`]; with `ca`, over TLS trusting that CA file.
pub fn python_sdk_round_trip_with(
    test: &str,
    to: &Serve,
    query: &Serve,
    ca: Option<&Path>,
) -> bool {
    let Some(python) = otlp_python() else {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_OTLP_VENV").is_none(),
            "target/otlp-venv is missing but WHYSLOW_REQUIRE_OTLP_VENV is set"
        );
        eprintln!(
            "SKIPPED {test}: no target/otlp-venv; dev/test installs it from tests/otlp/requirements.txt"
        );
        return false;
    };
    let scheme = if ca.is_some() { "https" } else { "http" };
    let mut command = Command::new(python);
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/otlp/send_and_verify.py"))
        .args(["--grpc", &to.grpc])
        .arg("--http")
        .arg(format!("{scheme}://{}", to.otlp_http))
        .arg("--query")
        .arg(format!("{scheme}://{}", query.ui));
    if let Some(ca) = ca {
        command.arg("--ca").arg(ca);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "send_and_verify.py failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("read back 10 spans: every field matches"),
        "{stdout}"
    );
    true
}
