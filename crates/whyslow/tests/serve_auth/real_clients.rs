//! Real clients against `serve --auth-file`, each with the option it offers
//! for credentials: the OpenTelemetry Python SDK's exporters (gRPC and HTTP)
//! with `OTEL_EXPORTER_OTLP_HEADERS`, pyroscope-io with its basic-auth option,
//! Debian's Prometheus with remote_write `authorization`. Each gets in with
//! its token and is refused without. Skipped when the client is missing,
//! unless dev/test's WHYSLOW_REQUIRE_* says it must be there.

use crate::common::serve::{otlp_python, Serve};
use crate::prometheus_bin::{self, Prometheus};
use crate::support::{bearer, get, workspace_root, AuthDir, INGEST, READ};
use std::process::Command;
use std::time::{Duration, Instant};

/// The venv's python, or `None` (the test says it skips).
fn python_or_skip(test: &str) -> Option<std::path::PathBuf> {
    let python = otlp_python();
    if python.is_none() {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_OTLP_VENV").is_none(),
            "target/otlp-venv is missing but WHYSLOW_REQUIRE_OTLP_VENV is set"
        );
        eprintln!("SKIPPED {test}: no target/otlp-venv; dev/test installs it from tests/otlp/requirements.txt");
    }
    python
}

fn serve_with_auth(auth: &AuthDir) -> Serve {
    Serve::start_with(
        &auth.dir.join("data"),
        &[
            "--auth-file",
            &auth.auth_file_str(),
            "--self-scrape-interval",
            "0",
        ],
    )
}

/// Polls `target` with the read token until its body contains `wanted` (20 s).
fn wait_for(ui: &str, target: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = get(ui, target, Some(&bearer(READ)));
        if answer.body.contains(wanted) {
            return answer.body;
        }
        assert!(
            Instant::now() < deadline,
            "{wanted} never showed in {target}: {}",
            answer.body
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn the_python_sdk_exports_with_otel_exporter_otlp_headers_and_not_without() {
    let Some(python) = python_or_skip("the_python_sdk_exports_with_otel_exporter_otlp_headers")
    else {
        return;
    };
    let auth = AuthDir::new("auth-python-sdk");
    let serve = serve_with_auth(&auth);
    let send = |service: &str, headers: Option<String>| {
        let mut command = Command::new(&python);
        command
            .arg(workspace_root().join("tests/otlp/send_with_token.py"))
            .args(["--grpc", &serve.grpc])
            .args(["--http", &format!("http://{}", serve.otlp_http)])
            .args(["--service", service])
            .env_remove("OTEL_EXPORTER_OTLP_HEADERS");
        if let Some(headers) = headers {
            command.env("OTEL_EXPORTER_OTLP_HEADERS", headers);
        }
        let output = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "send_with_token.py: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let with_token = send(
        "sdk-with-token",
        Some(format!("authorization=Bearer%20{INGEST}")),
    );
    assert_eq!(with_token, "grpc SUCCESS\nhttp SUCCESS\n");
    let without = send("sdk-without-token", None);
    assert_eq!(without, "grpc FAILURE\nhttp FAILURE\n");
    let read_token = send(
        "sdk-with-read-token",
        Some(format!("authorization=Bearer%20{READ}")),
    );
    assert_eq!(read_token, "grpc FAILURE\nhttp FAILURE\n");

    let services = wait_for(&serve.ui, "/api/services", "sdk-with-token");
    assert!(!services.contains("sdk-without-token") && !services.contains("sdk-with-read-token"));
    let traces = get(
        &serve.ui,
        "/api/traces?service=sdk-with-token",
        Some(&bearer(READ)),
    );
    assert!(
        traces.body.contains("over grpc") && traces.body.contains("over http"),
        "{}",
        traces.body
    );
    serve.stop();
}

#[test]
fn pyroscope_io_pushes_with_its_basic_auth_option_and_not_without() {
    let Some(python) = python_or_skip("pyroscope_io_pushes_with_its_basic_auth_option") else {
        return;
    };
    let auth = AuthDir::new("auth-pyroscope-io");
    let serve = serve_with_auth(&auth);
    let push = |app: &str, basic_auth: &str| {
        let output = Command::new(&python)
            .arg(workspace_root().join("tests/pyroscope/push_cpu.py"))
            .args(["--server", &format!("http://{}", serve.ui)])
            .args(["--otlp", &format!("http://{}", serve.otlp_http)])
            .args(["--seconds", "2", "--app", app, "--basic-auth", basic_auth])
            .env(
                "OTEL_EXPORTER_OTLP_HEADERS",
                format!("authorization=Bearer%20{INGEST}"),
            )
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "push_cpu.py: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    push("pyro-without-token", ":");
    push("pyro-with-token", &format!("agents:{INGEST}"));
    let apps = wait_for(
        &serve.ui,
        "/pyroscope/label-values?label=service_name",
        "pyro-with-token",
    );
    assert!(!apps.contains("pyro-without-token"), "{apps}");
    serve.stop();
}

#[test]
fn prometheus_remote_writes_with_authorization_and_not_without() {
    if !prometheus_bin::available("prometheus_remote_writes_with_authorization") {
        return;
    }
    let auth = AuthDir::new("auth-prometheus");
    let serve = serve_with_auth(&auth);
    // One queue with the ingest token from a file, one with none; each marks
    // what it sends with `via`.
    let token_file = auth.token_file("ingest");
    let config = |prom_addr: &str| {
        format!(
            "global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: prom
    static_configs:
      - targets: ['{prom_addr}']
remote_write:
  - url: http://{ui}/api/v1/write
    authorization:
      credentials_file: {token_file}
    write_relabel_configs:
      - target_label: via
        replacement: token
    queue_config: {{batch_send_deadline: 100ms, min_backoff: 30ms, max_backoff: 300ms}}
  - url: http://{ui}/api/v1/write
    write_relabel_configs:
      - target_label: via
        replacement: anonymous
    queue_config: {{batch_send_deadline: 100ms, min_backoff: 30ms, max_backoff: 300ms}}
",
            ui = serve.ui,
            token_file = token_file.display(),
        )
    };
    let _prometheus = Prometheus::start(&auth.dir, config, &[]);
    let body = wait_for(
        &serve.ui,
        "/api/v1/query?query=up%7Bjob%3D%22prom%22%7D",
        "\"via\":\"token\"",
    );
    // Give the anonymous queue the same seconds to fail.
    std::thread::sleep(Duration::from_secs(2));
    let again = get(
        &serve.ui,
        "/api/v1/query?query=count%20by%20(via)%20(%7Bjob%3D%22prom%22%7D)",
        Some(&bearer(READ)),
    );
    assert!(!again.body.contains("anonymous"), "{body}\n{}", again.body);
    serve.stop();
}
