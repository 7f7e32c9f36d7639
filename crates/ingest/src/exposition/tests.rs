//! Unit tests of the exposition parsers, on inputs written here.

use super::{parse, Format, ScrapedSample};
use model::metrics::{Labels, MetricType};

fn text(body: &str) -> super::Exposition {
    parse(body.as_bytes(), Format::PrometheusText).expect("valid text format")
}

fn om(body: &str) -> super::Exposition {
    parse(body.as_bytes(), Format::OpenMetrics).expect("valid OpenMetrics")
}

fn err(body: &str, format: Format) -> super::ExpositionError {
    parse(body.as_bytes(), format).expect_err("invalid input")
}

fn find<'a>(samples: &'a [ScrapedSample], series: &str) -> &'a ScrapedSample {
    samples
        .iter()
        .find(|s| s.labels.to_string() == series)
        .unwrap_or_else(|| panic!("no sample {series}"))
}

#[test]
fn text_format_samples_labels_timestamps_and_metadata() {
    let parsed = text(concat!(
        "# HELP http_requests_total Requests \\\\ served.\\nSecond line.\n",
        "# TYPE http_requests_total counter\n",
        "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n",
        "http_requests_total{ method = \"get\" , code=\"400\", } 3\t1395066363000\n",
        "\n",
        "# a free comment\n",
        "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n",
        "metric_without_timestamp_and_labels 12.47\r\n",
        "something_weird{problem=\"division by zero\"} +Inf -3982045\n",
        "neg -Inf\n",
        "nan NaN\n",
        "empty{a=\"\"} 1",
    ));
    assert_eq!(parsed.samples.len(), 8);
    let post = find(
        &parsed.samples,
        r#"http_requests_total{code="200", method="post"}"#,
    );
    assert_eq!(
        (post.value, post.timestamp_ms),
        (1027.0, Some(1395066363000))
    );
    let get = find(
        &parsed.samples,
        r#"http_requests_total{code="400", method="get"}"#,
    );
    assert_eq!(get.value, 3.0);
    let file = &parsed.samples[2];
    assert_eq!(file.labels.get("path"), Some(r"C:\DIR\FILE.TXT"));
    assert_eq!(
        file.labels.get("error"),
        Some("Cannot find file:\n\"FILE.TXT\"")
    );
    assert_eq!(parsed.samples[3].value, 12.47);
    assert_eq!(parsed.samples[3].timestamp_ms, None);
    assert_eq!(parsed.samples[4].value, f64::INFINITY);
    assert_eq!(parsed.samples[4].timestamp_ms, Some(-3982045));
    assert_eq!(parsed.samples[5].value, f64::NEG_INFINITY);
    assert!(parsed.samples[6].value.is_nan());
    assert!(!model::metrics::is_stale_nan(parsed.samples[6].value));
    // An empty label value is the same as no label.
    assert_eq!(
        parsed.samples[7].labels,
        Labels::from_pairs([("__name__", "empty")])
    );
    assert_eq!(parsed.metadata.len(), 1);
    let meta = &parsed.metadata[0];
    assert_eq!(meta.metric_family_name, "http_requests_total");
    assert_eq!(meta.metric_type, MetricType::Counter);
    assert_eq!(meta.help, "Requests \\ served.\nSecond line.");
}

#[test]
fn histogram_and_summary_families_keep_their_base_name() {
    let parsed = text(concat!(
        "# HELP rpc_seconds RPC latency.\n",
        "# TYPE rpc_seconds histogram\n",
        "rpc_seconds_bucket{le=\"0.1\"} 3\n",
        "rpc_seconds_bucket{le=\"+Inf\"} 5\n",
        "rpc_seconds_sum 1.5\n",
        "rpc_seconds_count 5\n",
        "# TYPE gc_seconds summary\n",
        "gc_seconds{quantile=\"0.5\"} 0.01\n",
        "gc_seconds_sum 2\n",
        "gc_seconds_count 40\n",
        "# TYPE legacy untyped\n",
        "legacy 1\n",
    ));
    let families: Vec<(&str, MetricType)> = parsed
        .metadata
        .iter()
        .map(|m| (m.metric_family_name.as_str(), m.metric_type))
        .collect();
    assert_eq!(
        families,
        [
            ("rpc_seconds", MetricType::Histogram),
            ("gc_seconds", MetricType::Summary),
            ("legacy", MetricType::Unknown)
        ]
    );
    assert_eq!(parsed.metadata[0].help, "RPC latency.");
    assert_eq!(parsed.samples.len(), 8);
    assert_eq!(
        find(&parsed.samples, r#"rpc_seconds_bucket{le="+Inf"}"#).value,
        5.0
    );
}

#[test]
fn openmetrics_units_exemplars_created_and_seconds_timestamps() {
    let parsed = om(concat!(
        "# TYPE foo_seconds counter\n",
        "# UNIT foo_seconds seconds\n",
        "# HELP foo_seconds Time \\\"spent\\\".\n",
        "foo_seconds_total{a=\"b\"} 17.5 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67 1520879602.5\n",
        "foo_seconds_created{a=\"b\"} 1520430000.123\n",
        "# TYPE req_seconds histogram\n",
        "req_seconds_bucket{le=\"0.5\"} 4 # {trace_id=\"abc\",span_id=\"def\"} 0.3\n",
        "req_seconds_bucket{le=\"+Inf\"} 5\n",
        "req_seconds_count 5\n",
        "req_seconds_sum 2.5e0\n",
        "# TYPE state stateset\n",
        "state{state=\"a\"} 1\n",
        "# EOF\n",
    ));
    let meta = &parsed.metadata[0];
    assert_eq!(meta.metric_family_name, "foo_seconds");
    assert_eq!(meta.metric_type, MetricType::Counter);
    assert_eq!(meta.unit, "seconds");
    assert_eq!(meta.help, "Time \"spent\".");
    assert_eq!(parsed.metadata[2].metric_type, MetricType::Stateset);
    let total = &parsed.samples[0];
    assert_eq!(total.labels.metric_name(), Some("foo_seconds_total"));
    assert_eq!(total.timestamp_ms, Some(1520879607789));
    let exemplar = total.exemplar.as_ref().expect("exemplar");
    assert_eq!(exemplar.labels.get("trace_id"), Some("KOO5S4vxi0o"));
    assert_eq!(
        (exemplar.value, exemplar.timestamp_ms),
        (0.67, Some(1520879602500))
    );
    assert_eq!(parsed.samples[1].value, 1520430000.123);
    let bucket = &parsed.samples[2]
        .exemplar
        .as_ref()
        .expect("bucket exemplar");
    assert_eq!(bucket.labels.get("span_id"), Some("def"));
    assert_eq!(bucket.timestamp_ms, None);
    // Exemplars take the sample's time when they have none.
    let series = parsed.into_series(42);
    assert_eq!(series[2].samples[0].timestamp_ms, 42);
    assert_eq!(series[2].exemplars[0].timestamp_ms, 42);
    assert_eq!(series[0].exemplars[0].timestamp_ms, 1520879602500);
}

#[test]
fn openmetrics_needs_eof_and_nothing_after_it() {
    let e = err("a 1\n", Format::OpenMetrics);
    assert!(e.message.contains("missing \"# EOF\""), "{e}");
    let e = err("a 1\n# EOF\nb 2\n", Format::OpenMetrics);
    assert_eq!(e.line, 3);
    assert!(e.message.contains("after \"# EOF\""), "{e}");
    assert_eq!(om("# EOF").samples.len(), 0);
    assert_eq!(om("a 1\n# EOF\n").samples.len(), 1);
}

#[test]
fn openmetrics_is_strict_about_spacing_and_comments() {
    for (body, line, what) in [
        ("a  1\n# EOF\n", 1, "expected a sample value, found ' '"),
        ("a{b=\"c\",} 1\n# EOF\n", 1, "trailing ','"),
        ("a 1\n\n# EOF\n", 2, "empty line"),
        ("# just a comment\n# EOF\n", 1, "unexpected comment"),
        ("# TYPE a untyped\n# EOF\n", 1, "invalid metric type"),
        ("# UNIT a_bytes seconds\n# EOF\n", 1, "not a suffix"),
        ("a 1 1e400\n# EOF\n", 1, "invalid timestamp"),
        ("a 1 # {x=\"y\"}\n# EOF\n", 1, "exemplar's value"),
    ] {
        let e = err(body, Format::OpenMetrics);
        assert_eq!(e.line, line, "{body:?}: {e}");
        assert!(e.message.contains(what), "{body:?}: {e}");
    }
    let long = "x".repeat(130);
    let e = err(
        &format!("a 1 # {{trace_id=\"{long}\"}} 1\n# EOF\n"),
        Format::OpenMetrics,
    );
    assert!(e.message.contains("at most 128"), "{e}");
}

#[test]
fn text_format_errors_name_the_line_and_the_problem() {
    for (body, line, what) in [
        ("ok 1\n2bad 1\n", 2, "expected a metric name"),
        ("a{b=\"c\" 1\n", 1, "expected '}'"),
        ("a{b=\"c} 1\n", 1, "not closed"),
        ("a{b=\"1\",b=\"2\"} 1\n", 1, "duplicate label name"),
        ("a{__name__=\"x\"} 1\n", 1, "__name__"),
        ("a{1b=\"x\"} 1\n", 1, "expected a label name"),
        ("a\n", 1, "expected a space and the value"),
        ("a one\n", 1, "invalid sample value \"one\""),
        ("a 1 1.5\n", 1, "integer Unix milliseconds"),
        ("a 1 2 3\n", 1, "unexpected \"3\""),
        ("a 1 # {x=\"y\"} 1\n", 1, "only in OpenMetrics"),
        ("# TYPE a stateset\n", 1, "invalid metric type"),
        ("# TYPE\n", 1, "expected a metric name"),
    ] {
        let e = parse(body.as_bytes(), Format::PrometheusText)
            .err()
            .unwrap_or_else(|| panic!("{body:?} parsed"));
        assert_eq!(e.line, line, "{body:?}: {e}");
        assert!(e.message.contains(what), "{body:?}: {e}");
        assert!(e
            .to_string()
            .starts_with(&format!("text format line {line}: ")));
    }
    let e = err_bytes(b"a 1\nb 1\n\xff 1\n");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("not valid UTF-8"), "{e}");
}

fn err_bytes(body: &[u8]) -> super::ExpositionError {
    parse(body, Format::PrometheusText).expect_err("invalid input")
}

#[test]
fn content_types_pick_the_format() {
    assert_eq!(
        Format::from_content_type(Some(
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        )),
        Format::OpenMetrics
    );
    assert_eq!(
        Format::from_content_type(Some("text/plain; version=0.0.4")),
        Format::PrometheusText
    );
    assert_eq!(Format::from_content_type(None), Format::PrometheusText);
}
