//! An SLO burn-rate alert fires on a planted error rate from a real service:
//! `serve --slo` with a 99.9 % availability objective for "checkout", and a
//! checkout instrumented with the official OpenTelemetry Python SDK failing
//! every fifth request. serve derives the span metrics, evaluates the
//! generated rules, and the page alert (14.4× over 1 h and 5 m) fires with
//! the SLO's labels; the error ratio it recorded is the planted 20 %.
//!
//! Needs target/otlp-venv (dev/test installs it); skips without it unless
//! `WHYSLOW_REQUIRE_OTLP_VENV` is set.

#[path = "serve_metrics/support.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{instant_query, now_ms, try_http, workspace_root, Serve, TempDir};

#[test]
fn a_planted_error_rate_from_an_otel_sdk_service_fires_the_slo_page_alert() {
    let python = workspace_root().join("target/otlp-venv/bin/python");
    if !python.exists() {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_OTLP_VENV").is_none(),
            "target/otlp-venv is missing but WHYSLOW_REQUIRE_OTLP_VENV is set"
        );
        eprintln!(
            "SKIPPED: no target/otlp-venv (dev/test installs it from tests/otlp/requirements.txt)"
        );
        return;
    }
    let dir = TempDir::new("serve-slo");
    let slo = dir.0.join("slo.yml");
    std::fs::write(
        &slo,
        "slos:\n  - name: checkout-availability\n    service: checkout\n    objective: 99.9\n",
    )
    .expect("write SLO file");
    let data = dir.0.join("data");
    let slo_arg = slo.display().to_string();
    let serve = Serve::start_with(
        &data,
        0,
        &[
            "--slo",
            &slo_arg,
            "--rule-evaluation-interval",
            "1s",
            "--no-default-rules",
        ],
    );
    let mut service = Command::new(&python)
        .arg(workspace_root().join("tests/otlp/send_checkout_errors.py"))
        .arg("--http")
        .arg(format!("http://{}", serve.otlp_http))
        .args(["--rate", "20", "--duration", "75"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start the instrumented service");

    // Span metrics are flushed every 15 s: the rates need two flushes.
    let deadline = Instant::now() + Duration::from_secs(75);
    let mut alerts = String::new();
    let fired = loop {
        if let Some((200, body)) = try_http(&serve.http, "GET", "/api/v1/alerts", &[], b"") {
            let json: serde_json::Value = serde_json::from_str(&body).expect("alerts JSON");
            let page = json["data"]["alerts"].as_array().and_then(|a| {
                a.iter()
                    .find(|a| {
                        a["labels"]["alertname"] == "ErrorBudgetBurn"
                            && a["labels"]["severity"] == "page"
                            && a["state"] == "firing"
                    })
                    .cloned()
            });
            alerts = body;
            if page.is_some() {
                break page;
            }
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let _ = service.kill();
    let _ = service.wait();
    let page = fired.unwrap_or_else(|| panic!("no firing page alert after 75 s: {alerts}"));
    assert_eq!(page["labels"]["slo"], "checkout-availability");
    assert_eq!(page["labels"]["service"], "checkout");
    assert!(
        page["annotations"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("checkout-availability (99.9% over 30d)")),
        "{page}"
    );
    let ratio = instant_query(
        &serve.http,
        "slo:sli_error:ratio_rate5m{slo=\"checkout-availability\"}",
        now_ms(),
    );
    let value: f64 = ratio[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a recorded error ratio");
    assert!((value - 0.2).abs() < 0.03, "error ratio {value}");
    serve.stop();
}
