//! End-to-end: `whyslow serve --auth-file` with tokens made by `whyslow auth
//! hash`. Every listener (the UI port's reads and writes, OTLP/HTTP, OTLP/gRPC)
//! refuses requests without credentials (401 / UNAUTHENTICATED), a token
//! without the role (403 / PERMISSION_DENIED), and takes Bearer and Basic
//! credentials of the right role; 11 bad tokens from one address get 429 with
//! Retry-After (gRPC: RESOURCE_EXHAUSTED with RetryInfo); browsers log in with
//! a form and an HttpOnly, SameSite=Strict session cookie; every answer has
//! the security headers and static assets cannot be escaped; the agent pushes
//! with `--token-file` and guards its `--listen` with `--auth-file`; real
//! clients (the OpenTelemetry Python SDK with `OTEL_EXPORTER_OTLP_HEADERS`,
//! pyroscope-io with its auth token, Debian's Prometheus remote_write with
//! `authorization`) get in with a token and not without (skipped when
//! missing, as the other suites do).
#![allow(clippy::unwrap_used)]

#[path = "agent/mod.rs"]
mod agent;
mod common;
#[path = "serve_auth/login.rs"]
mod login;
#[path = "common/prometheus.rs"]
mod prometheus_bin;
#[path = "serve_auth/real_clients.rs"]
mod real_clients;
#[path = "serve_auth/support.rs"]
mod support;

use common::serve::Serve;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{
    basic, bearer, get, grpc_export, otlp_json_span, post, AuthDir, ADMIN, INGEST, METRICS_EXPORT,
    READ, TRACE_EXPORT,
};

/// A remote_write 1.0 body: one sample of `auth_e2e_samples{via}` now.
fn remote_write_body(via: &str, value: f64) -> Vec<u8> {
    use ingest::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
    use prost::Message;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let request = WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![
                Label {
                    name: "__name__".into(),
                    value: "auth_e2e_samples".into(),
                },
                Label {
                    name: "via".into(),
                    value: via.into(),
                },
            ],
            samples: vec![Sample {
                value,
                timestamp: now_ms,
            }],
            exemplars: Vec::new(),
        }],
        metadata: Vec::new(),
    };
    snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .unwrap()
}

/// POSTs a remote_write body with the headers Prometheus sends.
fn remote_write(ui: &str, authorization: Option<&str>, body: &[u8]) -> u16 {
    let mut headers = vec![
        ("Content-Type", "application/x-protobuf"),
        ("Content-Encoding", "snappy"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ];
    headers.extend(authorization.map(|a| ("Authorization", a)));
    support::request(ui, "POST", "/api/v1/write", &headers, body).status
}

/// `serve --auth-file` on free ports.
fn serve_with_auth(auth: &AuthDir, extra: &[&str]) -> Serve {
    let mut args = vec!["--auth-file", auth.auth_file.to_str().unwrap()];
    args.extend_from_slice(extra);
    Serve::start_with(&auth.dir.join("data"), &args)
}

#[test]
fn every_listener_refuses_without_credentials_and_each_role_gets_what_it_may() {
    let auth = AuthDir::new("auth-listeners");
    let serve = serve_with_auth(&auth, &["--self-scrape-interval", "1s"]);
    let ui = serve.ui.as_str();
    let read_bearer = bearer(READ);
    let ingest_bearer = bearer(INGEST);

    // Reads on the UI port: the APIs, serve's own /metrics, the UI and its assets.
    for target in [
        "/api/services",
        "/api/traces?service=x",
        "/api/v1/query?query=up",
        "/api/v1/labels",
        "/api/v1/status/buildinfo",
        "/pyroscope/label-values?label=service_name",
        "/metrics",
        "/",
        "/search",
        "/static/app.js",
        "/no-such-page",
    ] {
        let anonymous = get(ui, target, None);
        assert_eq!(anonymous.status, 401, "{target}: {anonymous:?}");
        assert_eq!(
            anonymous.header("www-authenticate"),
            Some("Bearer realm=\"whyslow\""),
            "{target}"
        );
        assert!(
            anonymous.body.contains("authentication required"),
            "{target}"
        );
        let ingest = get(ui, target, Some(&ingest_bearer));
        assert_eq!(ingest.status, 403, "{target}: {ingest:?}");
        assert!(ingest.body.contains("agents") && ingest.body.contains("may not read"));
        for credentials in [read_bearer.clone(), basic("grafana", READ), bearer(ADMIN)] {
            let answer = get(ui, target, Some(&credentials));
            let expected = if target == "/no-such-page" { 404 } else { 200 };
            assert_eq!(
                answer.status, expected,
                "{target} with {credentials:.10}…: {answer:?}"
            );
        }
    }
    // Basic auth: a line with a NAME takes only that user name; wrong tokens are 401.
    assert_eq!(
        get(ui, "/api/services", Some(&basic("someone", READ))).status,
        401
    );
    assert_eq!(
        get(
            ui,
            "/api/services",
            Some(&bearer("not-the-read-token-0000000"))
        )
        .status,
        401
    );
    assert_eq!(get(ui, "/api/services", Some("Token abc")).status, 401);

    // Writes on the UI port: remote_write and Pyroscope ingest.
    assert_eq!(remote_write(ui, None, &remote_write_body("none", 1.0)), 401);
    assert_eq!(
        remote_write(ui, Some(&read_bearer), &remote_write_body("read", 2.0)),
        403
    );
    assert_eq!(
        remote_write(
            ui,
            Some(&basic("agents", INGEST)),
            &remote_write_body("basic", 42.0)
        ),
        204
    );
    assert_eq!(
        remote_write(ui, Some(&bearer(ADMIN)), &remote_write_body("admin", 43.0)),
        204
    );
    let folded = b"main;handle;work 50\nmain;idle 10\n";
    let ingest_target = "/ingest?name=auth-e2e.cpu&spyName=test&sampleRate=100";
    assert_eq!(
        post(ui, ingest_target, "text/plain", None, folded).status,
        401
    );
    assert_eq!(
        post(ui, ingest_target, "text/plain", Some(&read_bearer), folded).status,
        403
    );
    let pushed = post(
        ui,
        ingest_target,
        "text/plain",
        Some(&ingest_bearer),
        folded,
    );
    assert_eq!(pushed.status, 200, "{pushed:?}");

    // OTLP/HTTP and Zipkin on their port.
    let http = serve.otlp_http.as_str();
    let trace = "a17e000000000000000000000000e2e1";
    let span = otlp_json_span(trace, "auth-e2e", "checkout");
    assert_eq!(
        post(
            http,
            "/v1/traces",
            "application/json",
            None,
            span.as_bytes()
        )
        .status,
        401
    );
    assert_eq!(
        post(
            http,
            "/v1/traces",
            "application/json",
            Some(&read_bearer),
            span.as_bytes()
        )
        .status,
        403
    );
    assert_eq!(
        post(http, "/api/v2/spans", "application/json", None, b"[]").status,
        401
    );
    assert_eq!(
        post(http, "/v1/metrics", "application/json", None, b"{}").status,
        401
    );
    let sent = post(
        http,
        "/v1/traces",
        "application/json",
        Some(&ingest_bearer),
        span.as_bytes(),
    );
    assert_eq!(sent.status, 200, "{sent:?}");

    // OTLP/gRPC: the status codes OTLP exporters act on.
    let grpc = serve.grpc.as_str();
    let anonymous = grpc_export(grpc, TRACE_EXPORT, None);
    assert_eq!(anonymous.code, 16, "UNAUTHENTICATED: {anonymous:?}");
    assert_eq!(grpc_export(grpc, TRACE_EXPORT, Some("Token abc")).code, 16);
    let forbidden = grpc_export(grpc, METRICS_EXPORT, Some(&read_bearer));
    assert_eq!(forbidden.code, 7, "PERMISSION_DENIED: {forbidden:?}");
    assert!(forbidden.message.contains("grafana"), "{forbidden:?}");
    let accepted = grpc_export(grpc, TRACE_EXPORT, Some(&ingest_bearer));
    assert_eq!(accepted.code, 0, "{accepted:?}");
    assert_eq!(
        grpc_export(grpc, METRICS_EXPORT, Some(&basic("x", ADMIN))).code,
        0
    );

    // What got in reads back with a read token.
    let got = get(ui, &format!("/api/traces/{trace}"), Some(&read_bearer));
    assert_eq!(got.status, 200, "{got:?}");
    assert!(got.body.contains("checkout"), "{}", got.body);
    let samples = get(
        ui,
        "/api/v1/query?query=auth_e2e_samples",
        Some(&read_bearer),
    );
    for via in ["\"basic\"", "\"admin\""] {
        assert!(samples.body.contains(via), "{}", samples.body);
    }
    assert!(!samples.body.contains("\"read\"") && !samples.body.contains("\"none\""));
    let apps = get(
        ui,
        "/pyroscope/label-values?label=service_name",
        Some(&read_bearer),
    );
    assert!(apps.body.contains("auth-e2e"), "{}", apps.body);

    // serve scrapes its own /metrics with a token of its own.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up = get(
            ui,
            "/api/v1/query?query=up%7Bjob%3D%22whyslow%22%7D",
            Some(&read_bearer),
        );
        if up.body.contains("\"1\"]") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the self-scrape never succeeded: {}",
            up.body
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    serve.stop();
}

#[test]
fn eleven_bad_tokens_from_one_address_get_429_with_retry_after() {
    let auth = AuthDir::new("auth-limit");
    let serve = serve_with_auth(&auth, &["--self-scrape-interval", "0"]);
    let ui = serve.ui.as_str();
    // No credentials is no guess: it never counts.
    for _ in 0..20 {
        assert_eq!(get(ui, "/api/services", None).status, 401);
    }
    let wrong = bearer("a-wrong-token-of-the-e2e-tests-0001");
    for attempt in 1..=10 {
        let answer = get(ui, "/api/services", Some(&wrong));
        assert_eq!(answer.status, 401, "attempt {attempt}: {answer:?}");
    }
    let limited = get(ui, "/api/services", Some(&wrong));
    assert_eq!(limited.status, 429, "{limited:?}");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=300).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert!(limited
        .body
        .contains("too many failed authentication attempts"));
    // The address is refused before its credentials are looked at, on every listener.
    assert_eq!(get(ui, "/api/services", Some(&bearer(READ))).status, 429);
    let http = post(
        &serve.otlp_http,
        "/v1/traces",
        "application/json",
        Some(&bearer(INGEST)),
        b"{}",
    );
    assert_eq!(http.status, 429, "{http:?}");
    let grpc = grpc_export(&serve.grpc, TRACE_EXPORT, Some(&bearer(INGEST)));
    assert_eq!(grpc.code, 8, "RESOURCE_EXHAUSTED: {grpc:?}");
    assert!(
        grpc.retry_info,
        "RetryInfo tells OTLP exporters when to retry: {grpc:?}"
    );
    serve.stop();
}

#[test]
fn answers_carry_security_headers_and_assets_cannot_be_escaped() {
    let dir = AuthDir::new("auth-headers");
    let serve = Serve::start(&dir.dir.join("data"));
    let ui = serve.ui.as_str();
    for target in [
        "/",
        "/search",
        "/api/services",
        "/static/app.js",
        "/metrics",
        "/no-such-page",
    ] {
        let answer = get(ui, target, None);
        assert_eq!(
            answer.header("x-content-type-options"),
            Some("nosniff"),
            "{target}"
        );
        assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{target}");
        assert_eq!(
            answer.header("referrer-policy"),
            Some("same-origin"),
            "{target}"
        );
        let csp = answer.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{target}: {csp}");
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"));
        assert_eq!(script_src, Some("script-src 'self'"), "{target}: {csp}");
    }
    // Without --auth-file on loopback: no banner, no logout, no login page.
    let page = get(ui, "/", None);
    assert!(!page.body.contains("anonymous-notice") && !page.body.contains("/logout"));
    assert_eq!(get(ui, "/login", None).status, 404);
    // Only the embedded files, by exact name: no traversal, no listing.
    let app = get(ui, "/static/app.js", None);
    assert_eq!(app.status, 200);
    for target in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/%2e%2e%2fCargo.toml",
        "/static/..%2f..%2fCargo.toml",
        "/static/%2E%2E%2F%2E%2E%2FCargo.toml",
        "/static/..%5c..%5cCargo.toml",
        "/static/....//Cargo.toml",
        "/static/%252e%252e%252fCargo.toml",
        "/static/.%2fapp.js",
        "/static/app.js%00.css",
        "/static/app.js/",
        "/static/",
        "/static",
        "/static/.",
        "/static/%2e",
    ] {
        let answer = get(ui, target, None);
        assert!(matches!(answer.status, 400 | 404), "{target}: {answer:?}");
        // Nothing of a file, nor a listing (404s may echo the path asked for).
        for leaked in [
            "[package]",
            "[workspace]",
            "style.css",
            "import {",
            "export ",
        ] {
            assert!(
                !answer.body.contains(leaked),
                "{target} shows {leaked}: {}",
                answer.body
            );
        }
    }
    serve.stop();
}

/// `--query-max-range`, `--query-max-traces` and `--query-max-per-reader`
/// reach the query routes: a reader within them is answered, one past them
/// gets 400 naming the flag.
#[test]
fn query_limits_come_from_the_command_line() {
    let auth = AuthDir::new("auth-query-limits");
    let serve = serve_with_auth(
        &auth,
        &[
            "--query-max-range",
            "1h",
            "--query-max-traces",
            "20",
            "--query-max-per-reader",
            "2",
        ],
    );
    let ui = serve.ui.as_str();
    let reader = bearer(READ);
    for (target, status) in [
        ("/api/traces?service=x&lookback=1h&limit=20", 200),
        ("/api/traces?service=x&lookback=2h", 400),
        ("/api/traces?service=x&lookback=1h&limit=21", 400),
        ("/api/dependencies?lookback=7200000", 400),
        ("/api/v1/query_range?query=up&start=0&end=7200&step=60", 400),
        ("/api/v1/query_range?query=up&start=0&end=3600&step=60", 200),
    ] {
        let answer = get(ui, target, Some(&reader));
        assert_eq!(answer.status, status, "{target}: {answer:?}");
        if status == 400 {
            assert!(answer.body.contains("--query-max-"), "{target}: {answer:?}");
        }
    }
    // Many readers' requests at once, two at a time per reader: all answered.
    std::thread::scope(|scope| {
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let token = bearer(if i % 2 == 0 { READ } else { ADMIN });
                scope.spawn(move || get(ui, "/api/v1/query?query=up", Some(&token)).status)
            })
            .collect();
        for task in tasks {
            assert_eq!(task.join().unwrap(), 200);
        }
    });
    serve.stop();
}

#[test]
fn open_listeners_are_announced_and_a_bad_auth_file_stops_serve() {
    let dir = AuthDir::new("auth-warn");
    // A missing --scrape-config stops serve after the access check and before
    // any listener is bound, so nothing listens beyond loopback here.
    let missing = dir.dir.join("missing-scrape.yml");
    let start = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_whyslow"))
            .args(["serve", "--data-dir"])
            .arg(dir.dir.join("data"))
            .arg("--scrape-config")
            .arg(&missing)
            .args(extra)
            .output()
            .unwrap()
    };
    let open = start(&["--bind", "0.0.0.0"]);
    let stderr = String::from_utf8_lossy(&open.stderr);
    assert!(!open.status.success());
    assert!(
        stderr.contains("WARNING") && stderr.contains("without --auth-file"),
        "{stderr}"
    );
    let quiet = start(&["--bind", "0.0.0.0", "--insecure-allow-anonymous"]);
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("WARNING"));
    let loopback = start(&[]);
    assert!(!String::from_utf8_lossy(&loopback.stderr).contains("WARNING"));
    let guarded = start(&["--bind", "0.0.0.0", "--auth-file", &dir.auth_file_str()]);
    assert!(!String::from_utf8_lossy(&guarded.stderr).contains("WARNING"));

    // A bad auth file: the file, the line and what is wrong, without the line's text.
    let bad = dir.dir.join("bad-auth.txt");
    std::fs::write(&bad, "read a-token-pasted-by-mistake-000000\n").unwrap();
    let refused = start(&["--auth-file", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("bad-auth.txt:1"), "{stderr}");
    assert!(!stderr.contains("a-token-pasted-by-mistake"), "{stderr}");
    // An auth file others may write: refused, saying what to run.
    let loose = dir.dir.join("loose-auth.txt");
    std::fs::copy(&dir.auth_file, &loose).unwrap();
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let refused = start(&["--auth-file", loose.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("chmod go-w"), "{stderr}");
    let conflict = start(&[
        "--auth-file",
        &dir.auth_file_str(),
        "--insecure-allow-anonymous",
    ]);
    assert!(!conflict.status.success());
    assert!(String::from_utf8_lossy(&conflict.stderr).contains("cannot be used with"));
}

#[test]
fn the_agent_pushes_with_its_token_and_guards_its_own_listener() {
    let auth = AuthDir::new("auth-agent");
    let serve = serve_with_auth(&auth, &["--self-scrape-interval", "0"]);
    let agent_addr = format!("127.0.0.1:{}", agent::free_port());
    let agent = |token_role: Option<&str>, listen: &str, log: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_whyslow"));
        command
            .args([
                "agent",
                "--interval",
                "1s",
                "--no-profile",
                "--listen",
                listen,
            ])
            .args(["--server", &format!("http://{}", serve.ui)])
            .args([
                "--instance",
                &format!("auth-agent-{}", token_role.unwrap_or("none")),
            ])
            .arg("--auth-file")
            .arg(&auth.auth_file)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(auth.dir.join(log)).unwrap());
        if let Some(role) = token_role {
            command.arg("--token-file").arg(auth.token_file(role));
        }
        agent::Running(command.spawn().unwrap())
    };
    let pushing = agent(Some("ingest"), &agent_addr, "ingest.log");
    let wrong_role = agent(Some("read"), "off", "read.log");
    let no_token = agent(None, "off", "none.log");

    // The ingest token's pushes arrive.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let up = get(
            &serve.ui,
            "/api/v1/query?query=up%7Bjob%3D%22node%22%7D",
            Some(&bearer(READ)),
        );
        if up.body.contains("auth-agent-ingest") {
            assert!(!up.body.contains("auth-agent-read") && !up.body.contains("auth-agent-none"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent's pushes never arrived: {}",
            up.body
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Its own /metrics wants a read token.
    let listener_up = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&agent_addr).is_err() {
        assert!(Instant::now() < listener_up, "the agent did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get(&agent_addr, "/metrics", None).status, 401);
    assert_eq!(
        get(&agent_addr, "/metrics", Some(&bearer(INGEST))).status,
        403
    );
    let metrics = get(&agent_addr, "/metrics", Some(&bearer(READ)));
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains("node_cpu_seconds_total"));
    assert_eq!(
        metrics.header("x-content-type-options"),
        Some("nosniff"),
        "{metrics:?}"
    );
    drop((pushing, wrong_role, no_token));
    let log = |name: &str| std::fs::read_to_string(auth.dir.join(name)).unwrap();
    assert!(
        log("read.log").contains("refused the batch with 403"),
        "{}",
        log("read.log")
    );
    assert!(
        log("none.log").contains("refused the batch with 401"),
        "{}",
        log("none.log")
    );
    for name in ["ingest.log", "read.log", "none.log"] {
        for token in [INGEST, READ, ADMIN] {
            assert!(!log(name).contains(token), "{name} shows a token");
        }
    }
    serve.stop();
}
