//! End-to-end: `whyslow serve --rules` against the real peers. The same
//! rule file and the same samples go to serve and to Debian's Prometheus
//! 2.42; their `/api/v1/rules`, `/api/v1/alerts`, recording-rule series and
//! `ALERTS` / `ALERTS_FOR_STATE` series must agree (prometheus.rs). An
//! alert fires after `for`, reaches Debian's Alertmanager and a webhook
//! receiver (Alertmanager's version-4 payload, after a retried 503), then
//! resolves in both (alertmanager.rs). A rule file with an error stops
//! serve at start with its line.
#![allow(clippy::unwrap_used)]

#[path = "serve_rules/alertmanager.rs"]
mod alertmanager;
#[path = "serve_rules/common.rs"]
mod common;
#[path = "serve_rules/prometheus.rs"]
mod prometheus;
#[path = "common/prometheus.rs"]
mod prometheus_bin;
#[path = "serve_metrics/support.rs"]
mod support;

#[test]
fn rules_evaluate_as_prometheus_2_42_does() {
    prometheus::differential();
}

#[test]
fn an_alert_reaches_alertmanager_and_the_webhook_then_resolves() {
    alertmanager::delivery();
}

#[test]
fn a_rule_file_with_an_error_is_refused_at_start_with_its_line() {
    let dir = support::TempDir::new("rules-bad");
    let file = dir.0.join("bad.yml");
    std::fs::write(
        &file,
        "groups:\n  - name: x\n    rules:\n      - record: a\n        expr: up\n      - alert: B\n        expr: sum(up\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_whyslow"))
        .args([
            "serve",
            "--http-port",
            "0",
            "--otlp-grpc-port",
            "0",
            "--otlp-http-port",
            "0",
        ])
        .arg("--data-dir")
        .arg(dir.0.join("data"))
        .arg("--rules")
        .arg(&file)
        .output()
        .expect("whyslow runs");
    assert!(
        !output.status.success(),
        "serve started with a bad rule file"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let want = format!(
        "{}:7: group \"x\", rule 2 (\"B\"): could not parse expression",
        file.display()
    );
    assert!(stderr.contains(&want), "stderr: {stderr}\nwant: {want}");
    for (text, why) in [
        ("groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up\n        annotations:\n          s: '{{ query \"up\" }}'\n", ":7: group \"x\", rule 1 (\"A\"): annotation \"s\": template: function \"query\" is not supported"),
        ("groups:\n  - name: x\n    rules:\n      - record: a\n        expr: up\n        for: 1m\n", ":6: group \"x\", rule 1 (\"a\"): invalid field 'for' in recording rule"),
    ] {
        std::fs::write(&file, text).unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_whyslow"))
            .args(["serve", "--http-port", "0", "--otlp-grpc-port", "0", "--otlp-http-port", "0"])
            .arg("--data-dir")
            .arg(dir.0.join("data"))
            .arg("--rules")
            .arg(&file)
            .output()
            .expect("whyslow runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.contains(why), "{stderr}");
    }
}
