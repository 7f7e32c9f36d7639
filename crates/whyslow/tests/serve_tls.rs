//! End-to-end: `whyslow serve --tls-cert --tls-key` with certificates made
//! by openssl. Every listener speaks TLS: the API to curl (plain http gets a
//! 400 naming https), OTLP/HTTP to curl posting an export, OTLP/gRPC to an
//! HTTP/2 client over TLS and to the OpenTelemetry Python SDK (when the test
//! venv exists); serve's self-scrape keeps working. A renewed certificate is
//! served to new connections while an open one keeps working. With
//! `--tls-client-ca` clients without a certificate are refused, and
//! `whyslow agent` pushes over mutual TLS (`--tls-ca`, `--tls-client-cert`)
//! while serving its own /metrics over https. With `--auth-file` as well,
//! every https client shows its token, Debian's Prometheus remote_write
//! with `tls_config` too (`serve_tls/with_auth.rs`).
#![allow(clippy::unwrap_used)]

mod agent;
#[path = "serve_auth/support.rs"]
mod auth_support;
#[path = "common/certs.rs"]
mod certs;
mod common;
#[path = "common/prometheus.rs"]
mod prometheus_bin;
#[path = "common/tls_client.rs"]
mod tls_client;
#[path = "serve_tls/with_auth.rs"]
mod with_auth;

use certs::Certs;
use common::serve::{python_sdk_round_trip_with, Serve};
use common::TempDir;
use prost::Message as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The real curl, bounded to 10 s.
fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs (Debian's curl package)")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// GET over https trusting `ca`, curl's stdout (must succeed).
fn https_get(ca: &Path, url: &str) -> String {
    let output = curl(&["--fail", "--cacert", path(ca), url]);
    assert!(output.status.success(), "{url}: {}", text(&output.stderr));
    text(&output.stdout)
}

/// An OTLP/JSON export of one trace (`trace`, 3 spans, service `service`).
fn otlp_json(trace: &str, service: &str) -> String {
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let spans: Vec<String> = (1..=3u64)
        .map(|i| {
            format!(
                r#"{{"traceId":"{trace}","spanId":"{i:016x}","name":"op-{i}","kind":2,"startTimeUnixNano":"{}","endTimeUnixNano":"{}"}}"#,
                now_ns + i,
                now_ns + 1_000_000
            )
        })
        .collect();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

/// Spans of `trace` the API returns over https (0 while not found).
fn spans_of(serve: &Serve, ca: &Path, trace: &str) -> usize {
    let output = curl(&[
        "--cacert",
        path(ca),
        &format!("https://{}/api/traces/{trace}", serve.ui),
    ]);
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    body["data"][0]["spans"].as_array().map_or(0, Vec::len)
}

/// Polls `query` over https until it has a result (bounded by `within`).
fn wait_for_series(ui: &str, ca: &Path, query: &str, within: Duration) -> serde_json::Value {
    wait_for_series_with(ui, ca, None, query, within)
}

/// [`wait_for_series`] sending `authorization` as the `Authorization` header.
fn wait_for_series_with(
    ui: &str,
    ca: &Path,
    authorization: Option<&str>,
    query: &str,
    within: Duration,
) -> serde_json::Value {
    let deadline = Instant::now() + within;
    let header = authorization.map(|a| format!("Authorization: {a}"));
    loop {
        let url = format!("https://{ui}/api/v1/query?query={query}");
        let mut args = vec!["--fail", "--cacert", path(ca)];
        if let Some(header) = &header {
            args.extend(["--header", header.as_str()]);
        }
        args.push(&url);
        let output = curl(&args);
        assert!(output.status.success(), "{url}: {}", text(&output.stderr));
        let body = text(&output.stdout);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        if json["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            return json;
        }
        assert!(Instant::now() < deadline, "{query} never came: {body}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Waits for `child` to exit, killing it after `limit` (then the test fails).
fn exits_within(mut child: std::process::Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}: {}", text(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn every_listener_of_serve_speaks_tls() {
    let dir = TempDir::new("serve-tls");
    let certs = Certs::make(&dir.path("pki"));
    let serve = Serve::start_with(
        &dir.path("data"),
        &certs.server_args(&["--self-scrape-interval", "1s"]),
    );
    let ca = &certs.ca;

    // The API over https; plain http is told to use https.
    let services = https_get(ca, &format!("https://{}/api/services", serve.ui));
    assert!(services.starts_with("{\"data\":"), "{services}");
    let output = curl(&[
        "--write-out",
        "\n%{http_code}",
        &format!("http://{}/api/services", serve.ui),
    ]);
    let answer = text(&output.stdout);
    assert!(answer.ends_with("\n400"), "{answer}");
    assert!(answer.contains("speaks HTTPS"), "{answer}");

    // OTLP/HTTP over TLS with curl posting an OTLP/JSON export.
    let trace_http = "6b8efff798038103d269b633813fc601";
    let output = curl(&[
        "--fail",
        "--cacert",
        path(ca),
        "-H",
        "content-type: application/json",
        "--data-binary",
        &otlp_json(trace_http, "tls-http"),
        &format!("https://{}/v1/traces", serve.otlp_http),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "{}");
    assert_eq!(spans_of(&serve, ca, trace_http), 3);

    // OTLP/gRPC over TLS (ALPN h2), the same export as protobuf.
    let trace_grpc = "6b8efff798038103d269b633813fc602";
    let request = ingest::otlp_json::decode_request(otlp_json(trace_grpc, "tls-grpc").as_bytes())
        .unwrap()
        .encode_to_vec();
    let status = runtime()
        .block_on(tls_client::grpc_unary(
            &serve.grpc,
            ca,
            tls_client::EXPORT_PATH,
            &request,
        ))
        .unwrap();
    assert_eq!(status, "0", "grpc-status");
    assert_eq!(spans_of(&serve, ca, trace_grpc), 3);
    // A plaintext gRPC client (HTTP/2 prior knowledge) is refused.
    let output = curl(&[
        "--http2-prior-knowledge",
        "-H",
        "content-type: application/grpc",
        "--data-binary",
        "x",
        &format!("http://{}{}", serve.grpc, tls_client::EXPORT_PATH),
    ]);
    assert!(!output.status.success(), "{}", text(&output.stdout));

    // serve's own scrape is in process, so TLS on the port does not stop it.
    let up = wait_for_series(
        &serve.ui,
        ca,
        "up%7Bjob%3D%22whyslow%22%7D",
        Duration::from_secs(15),
    );
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");
    serve.stop();
}

#[test]
fn python_sdk_traces_round_trip_over_tls() {
    let dir = TempDir::new("serve-tls-python");
    let certs = Certs::make(&dir.path("pki"));
    let serve = Serve::start_with(&dir.path("data"), &certs.server_args(&[]));
    python_sdk_round_trip_with(
        "python_sdk_traces_round_trip_over_tls",
        &serve,
        &serve,
        Some(&certs.ca),
    );
    serve.stop();
}

#[test]
fn a_renewed_certificate_reaches_new_connections_and_open_ones_keep_working() {
    let dir = TempDir::new("serve-tls-renew");
    let certs = Certs::make(&dir.path("pki"));
    let (cert, key) = (dir.path("live.pem"), dir.path("live.key"));
    std::fs::copy(&certs.server_cert, &cert).unwrap();
    std::fs::copy(&certs.server_key, &key).unwrap();
    let serve = Serve::start_with(
        &dir.path("data"),
        &["--tls-cert", path(&cert), "--tls-key", path(&key)],
    );
    let renewed = Certs::make(&dir.path("renewed"));
    let rt = runtime();
    let mut open = rt
        .block_on(tls_client::KeptOpen::connect(&serve.ui, &certs.ca))
        .unwrap();
    assert_eq!(open.peer_certificate, tls_client::certificate_in(&cert));
    assert_eq!(rt.block_on(open.get("/api/services")).unwrap().0, 200);

    // The renewal comes from another CA: clients must trust it for new connections.
    std::fs::copy(&renewed.server_key, &key).unwrap();
    std::fs::copy(&renewed.server_cert, &cert).unwrap();
    let expected = tls_client::certificate_in(&renewed.server_cert);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let shown = rt
            .block_on(tls_client::KeptOpen::connect(&serve.ui, &renewed.ca))
            .map(|c| c.peer_certificate);
        if shown.as_ref() == Ok(&expected) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not served within 15 s: {shown:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(rt.block_on(open.get("/api/services")).unwrap().0, 200);
    serve.stop();
}

#[test]
fn mutual_tls_refuses_clients_without_a_certificate_and_the_agent_pushes_with_one() {
    let dir = TempDir::new("serve-mtls");
    let certs = Certs::make(&dir.path("pki"));
    let serve = Serve::start_with(
        &dir.path("data"),
        &certs.server_args(&[
            "--tls-client-ca",
            path(&certs.client_ca),
            "--self-scrape-interval",
            "0",
        ]),
    );
    let url = format!("https://{}/api/services", serve.ui);
    let output = curl(&["--cacert", path(&certs.ca), &url]);
    assert!(
        !output.status.success(),
        "accepted without a client certificate"
    );
    assert!(output.stdout.is_empty());
    let with_cert = [
        "--cacert",
        path(&certs.ca),
        "--cert",
        path(&certs.client_cert),
        "--key",
        path(&certs.client_key),
    ];
    let output = curl(&[&with_cert[..], &[url.as_str()]].concat());
    assert!(output.status.success(), "{}", text(&output.stderr));

    // The agent: pushes over mutual TLS, serves /metrics over https.
    let agent_port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let agent_listen = format!("127.0.0.1:{agent_port}");
    let agent = Command::new(env!("CARGO_BIN_EXE_whyslow"))
        .args(["agent", "--listen", &agent_listen, "--interval", "1s"])
        .args(["--no-profile", "--instance", "tls-agent:1"])
        .args(["--server", &format!("https://{}", serve.ui)])
        .args(["--tls-ca", path(&certs.ca)])
        .args(["--tls-client-cert", path(&certs.client_cert)])
        .args(["--tls-client-key", path(&certs.client_key)])
        .args(certs.server_args(&[]))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let agent = agent::Running(agent);
    let up = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let output = curl(
                &[
                    &with_cert[..],
                    &[format!(
                        "https://{}/api/v1/query?query=up%7Bjob%3D%22node%22%7D",
                        serve.ui
                    )
                    .as_str()],
                ]
                .concat(),
            );
            let body = text(&output.stdout);
            if body.contains("tls-agent:1") {
                break body;
            }
            assert!(
                Instant::now() < deadline,
                "the agent's up never came: {body}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    assert!(up.contains(r#""job":"node""#), "{up}");
    let metrics = https_get(&certs.ca, &format!("https://{agent_listen}/metrics"));
    assert!(
        metrics.contains("node_cpu_seconds_total"),
        "agent /metrics over https"
    );
    drop(agent);
    serve.stop();
}

#[test]
fn bad_tls_flags_are_refused_at_start_with_the_reason() {
    let dir = TempDir::new("serve-tls-flags");
    let certs = Certs::make(&dir.path("pki"));
    let run = |extra: &[&str]| {
        let child = common::serve::command(&dir.path("data"), extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = exits_within(child, Duration::from_secs(20));
        assert!(!output.status.success(), "{extra:?} was accepted");
        text(&output.stderr)
    };
    let error = run(&["--tls-key", path(&certs.server_key)]);
    assert!(error.contains("--tls-cert"), "{error}");
    let error = run(&["--tls-cert", path(&certs.server_cert)]);
    assert!(error.contains("--tls-key"), "{error}");
    let missing = dir.path("missing.pem");
    let error = run(&[
        "--tls-cert",
        path(&missing),
        "--tls-key",
        path(&certs.server_key),
    ]);
    assert!(error.contains("cannot read certificate file"), "{error}");
    assert!(error.contains("missing.pem"), "{error}");
    let error = run(&[
        "--tls-cert",
        path(&certs.server_cert),
        "--tls-key",
        path(&certs.client_key),
    ]);
    assert!(error.contains("does not match the certificate"), "{error}");
    let error = run(&[
        "--tls-cert",
        path(&certs.server_key),
        "--tls-key",
        path(&certs.server_key),
    ]);
    assert!(error.contains("holds no certificate"), "{error}");

    let agent = Command::new(env!("CARGO_BIN_EXE_whyslow"))
        .args(["agent", "--listen", "off", "--server", "http://127.0.0.1:1"])
        .args(["--tls-ca", path(&certs.ca)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let agent = exits_within(agent, Duration::from_secs(20));
    let error = text(&agent.stderr);
    assert!(!agent.status.success());
    assert!(error.contains("apply to an https:// server"), "{error}");
}

/// What a receiver heard: `Authorization` header and body of each POST.
type Posts = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// An https webhook receiver on `tls::Listener` with the test server
/// certificate: records each POST's `Authorization` header and body.
fn start_https_receiver(rt: &tokio::runtime::Runtime, certs: &Certs) -> (String, Posts) {
    use axum::http::HeaderMap;
    use std::sync::Arc;
    let posts: Posts = Arc::default();
    let server = tls::ServerTls::load(&tls::ServerFiles {
        cert: certs.server_cert.clone(),
        key: certs.server_key.clone(),
        client_ca: None,
    })
    .unwrap();
    let config = server.config(tls::Alpn::Http1).unwrap();
    let seen = Arc::clone(&posts);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = Arc::clone(&seen);
            async move {
                let authorization = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                seen.lock().unwrap().push((authorization, body));
                "ok"
            }
        }),
    );
    let addr = rt.block_on(async {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let listener = tls::Listener::new(tcp, Some(config), "receiver");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    });
    (addr.to_string(), posts)
}

/// `--alert-webhook https://user:pass@…` with `--alert-tls-ca`: the firing
/// alert arrives over TLS with Basic auth from the URL; a receiver whose CA
/// serve does not trust (the same server, as `localhost` under the public
/// roots) gets nothing.
#[test]
fn alerts_reach_an_https_webhook_that_alert_tls_ca_trusts() {
    let dir = TempDir::new("serve-https-webhook");
    let certs = Certs::make(&dir.path("pki"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (trusted, posts) = start_https_receiver(&rt, &certs);
    let rules = dir.path("rules.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: tls\n    interval: 1s\n    rules:\n      - alert: AlwaysOn\n        expr: vector(1)\n",
    )
    .unwrap();
    let untrusted_dir = TempDir::new("serve-https-webhook-public-roots");
    let hook = format!("https://pager:s3cret@{trusted}/hook");
    let trusting = Serve::start_with(
        &dir.path("data"),
        &[
            "--rules",
            path(&rules),
            "--no-default-rules",
            "--alert-webhook",
            &hook,
            "--alert-tls-ca",
            path(&certs.ca),
        ],
    );
    let not_trusting = Serve::start_with(
        &untrusted_dir.path("data"),
        &[
            "--rules",
            path(&rules),
            "--no-default-rules",
            "--alert-webhook",
            &hook,
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let (authorization, body) = loop {
        if let Some(first) = posts.lock().unwrap().first().cloned() {
            break first;
        }
        assert!(
            Instant::now() < deadline,
            "no alert reached the https webhook"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // base64("pager:s3cret")
    assert_eq!(authorization, "Basic cGFnZXI6czNjcmV0");
    let payload: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["version"], "4", "{payload}");
    assert_eq!(payload["alerts"][0]["labels"]["alertname"], "AlwaysOn");
    // Both serves ran the rule a few times: only the trusting one got through.
    std::thread::sleep(Duration::from_secs(2));
    let senders: Vec<String> = posts
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            let payload: serde_json::Value = serde_json::from_str(body).unwrap();
            payload["externalURL"].as_str().unwrap_or("").to_string()
        })
        .collect();
    assert!(
        senders.iter().all(|url| url.contains(&trusting.ui)),
        "{senders:?} (trusting {}, not trusting {})",
        trusting.ui,
        not_trusting.ui
    );
    trusting.stop();
    not_trusting.stop();
    drop(rt);
}
