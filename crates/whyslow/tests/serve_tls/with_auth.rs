//! TLS and `--auth-file` together: over https every listener still asks for
//! a token (curl gets 401 without one, 200 with it; 11 bad tokens get 429),
//! the login cookie is `Secure`, serve's in-process self-scrape is `up`,
//! the agent pushes over https with `--tls-ca` and `--token-file` and guards
//! its https `--listen` with `--auth-file`, and the OpenTelemetry Python SDK
//! exports over TLS (`OTEL_EXPORTER_OTLP_CERTIFICATE`) only with
//! `OTEL_EXPORTER_OTLP_HEADERS` (skipped without the test venv).

use crate::auth_support::{bearer, workspace_root, AuthDir, INGEST, READ};
use crate::certs::Certs;
use crate::common::serve::{otlp_python, Serve};
use crate::prometheus_bin;
use crate::{agent, curl, otlp_json, path, text, wait_for_series_with};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// curl over https trusting `ca`: the status code (0 when no answer came).
fn status(ca: &str, authorization: Option<&str>, extra: &[&str], url: &str) -> u16 {
    let mut args = vec!["--output", "/dev/null", "--write-out", "%{http_code}"];
    args.extend(["--cacert", ca]);
    let header = authorization.map(|a| format!("Authorization: {a}"));
    if let Some(header) = &header {
        args.extend(["--header", header.as_str()]);
    }
    args.extend_from_slice(extra);
    args.push(url);
    text(&curl(&args).stdout).trim().parse().unwrap_or(0)
}

#[test]
fn tls_and_auth_file_together_ask_every_https_client_for_its_token() {
    let auth = AuthDir::new("serve-tls-auth");
    let certs = Certs::make(&auth.dir.join("pki"));
    let auth_file = auth.auth_file_str();
    let serve = Serve::start_with(
        &auth.dir.join("data"),
        &certs.server_args(&["--auth-file", &auth_file, "--self-scrape-interval", "1s"]),
    );
    let ca = path(&certs.ca);
    let (read, ingest) = (bearer(READ), bearer(INGEST));

    // The UI port: reads need the read token.
    let services = format!("https://{}/api/services", serve.ui);
    assert_eq!(status(ca, None, &[], &services), 401);
    assert_eq!(status(ca, Some(&read), &[], &services), 200);
    assert_eq!(status(ca, Some(&ingest), &[], &services), 403);

    // OTLP/HTTP over https: exports need the ingest token.
    let traces = format!("https://{}/v1/traces", serve.otlp_http);
    let export = otlp_json("5b8efff798038103d269b633813fc60c", "tls-auth-curl");
    let post = [
        "--header",
        "Content-Type: application/json",
        "--data",
        &export,
    ];
    assert_eq!(status(ca, None, &post, &traces), 401);
    assert_eq!(status(ca, Some(&ingest), &post, &traces), 200);

    // A browser logging in over https gets a cookie it only sends over https.
    let login = curl(&[
        "--cacert",
        ca,
        "--dump-header",
        "-",
        "--output",
        "/dev/null",
        "--header",
        &format!("Origin: https://{}", serve.ui),
        "--data",
        &format!("token={READ}&next=%2F"),
        &format!("https://{}/login", serve.ui),
    ]);
    let headers = text(&login.stdout);
    let set_cookie = headers
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {headers}"));
    assert!(
        set_cookie.split(';').any(|a| a.trim() == "Secure"),
        "{set_cookie}"
    );

    // serve's own scrape goes past TLS and the gate.
    let up = wait_for_series_with(
        &serve.ui,
        &certs.ca,
        Some(&read),
        "up%7Bjob%3D%22whyslow%22%7D",
        Duration::from_secs(15),
    );
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");

    the_agent_pushes_over_https_with_its_token_and_guards_its_listener(&serve, &auth, &certs);
    the_python_sdk_exports_over_tls_only_with_its_token(&serve, &certs);
    prometheus_remote_writes_over_tls_with_its_token(&serve, &auth, &certs);

    // Eleven bad tokens from one address over TLS: the limiter counts it.
    let wrong = bearer("a-wrong-token-of-the-tls-e2e-test-01");
    for attempt in 1..=10 {
        assert_eq!(
            status(ca, Some(&wrong), &[], &services),
            401,
            "attempt {attempt}"
        );
    }
    assert_eq!(status(ca, Some(&wrong), &[], &services), 429);
    assert_eq!(status(ca, Some(&read), &[], &services), 429);
    serve.stop();
}

/// `whyslow agent --listen` on a free port with TLS and `--auth-file`
/// (and `extra` flags), once it listens; its address and process.
fn guarded_agent(auth: &AuthDir, certs: &Certs, extra: &[&str]) -> (String, agent::Running) {
    let listen = format!("127.0.0.1:{}", agent::free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_whyslow"))
        .args([
            "agent",
            "--listen",
            &listen,
            "--interval",
            "1s",
            "--no-profile",
        ])
        .args(extra)
        .args(certs.server_args(&[]))
        .arg("--auth-file")
        .arg(&auth.auth_file)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut running = agent::Running(child);
    agent::wait_listening(&listen, "whyslow agent", &mut running);
    (listen, running)
}

fn the_agent_pushes_over_https_with_its_token_and_guards_its_listener(
    serve: &Serve,
    auth: &AuthDir,
    certs: &Certs,
) {
    let server = format!("https://{}", serve.ui);
    let token_file = auth.token_file("ingest");
    let (listen, running) = guarded_agent(
        auth,
        certs,
        &[
            "--instance",
            "tls-auth-agent:1",
            "--server",
            &server,
            "--tls-ca",
            path(&certs.ca),
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    );
    let read = bearer(READ);
    let up = wait_for_series_with(
        &serve.ui,
        &certs.ca,
        Some(&read),
        "up%7Binstance%3D%22tls-auth-agent%3A1%22%7D",
        Duration::from_secs(30),
    );
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");

    let ca = path(&certs.ca);
    let metrics = format!("https://{listen}/metrics");
    assert_eq!(status(ca, None, &[], &metrics), 401);
    let output = curl(&[
        "--fail",
        "--cacert",
        ca,
        "--header",
        &format!("Authorization: {read}"),
        &metrics,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("node_cpu_seconds_total"));
    drop(running);
}

/// `serve --scrape-config` scrapes an agent whose `--listen` asks for TLS and
/// a read token, as Prometheus would: `scheme: https`, `tls_config.ca_file`
/// and `authorization.credentials_file` (relative to the config file) get
/// `up` 1; a job without the token or without the CA gets `up` 0.
#[test]
fn serve_scrapes_an_https_target_with_its_token_and_ca() {
    let auth = AuthDir::new("serve-scrape-https");
    let certs = Certs::make(&auth.dir.join("pki"));
    let (listen, running) = guarded_agent(&auth, &certs, &[]);
    let job = |name: &str, lines: &str| {
        format!(
            "  - job_name: {name}\n    scrape_interval: 1s\n    scheme: https\n{lines}    \
             static_configs: [{{targets: ['{listen}']}}]\n"
        )
    };
    let ca = "    tls_config: {ca_file: pki/server-ca.pem}\n";
    let token = "    authorization: {credentials_file: read.token}\n";
    let config = format!(
        "scrape_configs:\n{}{}{}",
        job("secured", &format!("{ca}{token}")),
        job("no_token", ca),
        job("public_roots", token),
    );
    let config_file = auth.dir.join("scrape.yml");
    std::fs::write(&config_file, config).unwrap();
    let serve = Serve::start_with(
        &auth.dir.join("data"),
        &["--scrape-config", config_file.to_str().unwrap()],
    );
    let up_of = |job: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = format!(
                "http://{}/api/v1/query?query=up%7Bjob%3D%22{job}%22%7D",
                serve.ui
            );
            let body = text(&curl(&["--silent", &url]).stdout);
            let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            if let Some(value) = json["data"]["result"][0]["value"][1].as_str() {
                return value.to_string();
            }
            assert!(Instant::now() < deadline, "up of {job} never came: {body}");
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    assert_eq!(up_of("secured"), "1");
    assert_eq!(up_of("no_token"), "0");
    assert_eq!(up_of("public_roots"), "0");
    let cpu = format!(
        "http://{}/api/v1/query?query=count(node_cpu_seconds_total%7Bjob%3D%22secured%22%7D)",
        serve.ui
    );
    assert!(text(&curl(&["--silent", &cpu]).stdout).contains(r#""value""#));
    serve.stop();
    drop(running);
}

/// Debian's Prometheus remote_writes to the https port with
/// `tls_config.ca_file` and `authorization.credentials_file`, as the README
/// tells a team to configure it.
fn prometheus_remote_writes_over_tls_with_its_token(serve: &Serve, auth: &AuthDir, certs: &Certs) {
    if !prometheus_bin::available("prometheus_remote_writes_over_tls_with_its_token") {
        return;
    }
    let dir = auth.dir.join("prometheus");
    std::fs::create_dir_all(&dir).unwrap();
    let config = |addr: &str| {
        format!(
            "global: {{scrape_interval: 1s, scrape_timeout: 1s}}
scrape_configs:
  - job_name: prom_tls
    static_configs: [{{targets: ['{addr}']}}]
remote_write:
  - url: https://{ui}/api/v1/write
    authorization: {{credentials_file: {token}}}
    tls_config: {{ca_file: {ca}}}
    queue_config: {{batch_send_deadline: 100ms, min_backoff: 30ms, max_backoff: 300ms}}
",
            ui = serve.ui,
            token = auth.token_file("ingest").display(),
            ca = certs.ca.display(),
        )
    };
    let _prometheus = prometheus_bin::Prometheus::start(&dir, config, &[]);
    let up = wait_for_series_with(
        &serve.ui,
        &certs.ca,
        Some(&bearer(READ)),
        "up%7Bjob%3D%22prom_tls%22%7D",
        Duration::from_secs(30),
    );
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");
}

fn the_python_sdk_exports_over_tls_only_with_its_token(serve: &Serve, certs: &Certs) {
    let Some(python) = otlp_python() else {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_OTLP_VENV").is_none(),
            "target/otlp-venv is missing but WHYSLOW_REQUIRE_OTLP_VENV is set"
        );
        eprintln!("SKIPPED the Python SDK over TLS with a token: no target/otlp-venv");
        return;
    };
    let send = |service: &str, headers: Option<String>| {
        let mut command = Command::new(&python);
        command
            .arg(workspace_root().join("tests/otlp/send_with_token.py"))
            .args(["--grpc", &format!("https://{}", serve.grpc)])
            .args(["--http", &format!("https://{}", serve.otlp_http)])
            .args(["--service", service])
            .env("OTEL_EXPORTER_OTLP_CERTIFICATE", &certs.ca)
            // requests prefers these to the exporter's CA file when set.
            .env_remove("REQUESTS_CA_BUNDLE")
            .env_remove("CURL_CA_BUNDLE")
            .env_remove("OTEL_EXPORTER_OTLP_HEADERS");
        if let Some(headers) = headers {
            command.env("OTEL_EXPORTER_OTLP_HEADERS", headers);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "send_with_token.py: {}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        );
        text(&output.stdout)
    };
    let with_token = send(
        "sdk-tls-with-token",
        Some(format!("authorization=Bearer%20{INGEST}")),
    );
    assert_eq!(with_token, "grpc SUCCESS\nhttp SUCCESS\n");
    let without = send("sdk-tls-without-token", None);
    assert_eq!(without, "grpc FAILURE\nhttp FAILURE\n");

    let read = bearer(READ);
    let deadline = Instant::now() + Duration::from_secs(15);
    let url = format!("https://{}/api/traces?service=sdk-tls-with-token", serve.ui);
    loop {
        let output = curl(&[
            "--cacert",
            path(&certs.ca),
            "--header",
            &format!("Authorization: {read}"),
            &url,
        ]);
        let body = text(&output.stdout);
        if body.contains("over grpc") && body.contains("over http") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the SDK's spans never came: {body}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}
