//! The ClickHouse store's modern-tier DDL and every read query, run on a
//! current ClickHouse engine (chdb from PyPI, in-process; dev/test installs
//! it into target/chdb-venv): the tables are created as a 20+ server gets
//! them (codecs, LowCardinality), spans are stored as the store writes
//! them, and each query's RowBinary answer is read back as the store reads
//! it. The base tier runs against Debian's 18.16 in
//! crates/whyslow/tests/serve_clickhouse.rs.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use chstore::rowbinary::RowReader;
use chstore::schema::{create_statements, Tier};
use chstore::span_sql;
use model::{KeyValue, Resource, Scope, Span, SpanId, SpanKind, Status, StatusCode, TraceId};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use store::embedded::codec::{decode_spans, encode_spans};
use store::TraceQuery;

fn chdb_python() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("WHYSLOW_CHDB_PYTHON") {
        return Some(PathBuf::from(path));
    }
    let python =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/chdb-venv/bin/python");
    python.exists().then_some(python)
}

/// Runs the statements in one chdb session; each answer or the error text.
fn run(python: &PathBuf, statements: &[(String, &str)]) -> Vec<Result<Vec<u8>, String>> {
    let input = serde_json::Value::Array(
        statements
            .iter()
            .map(|(sql, format)| serde_json::json!({"sql": sql, "format": format}))
            .collect(),
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/chdb/run_sql.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "run_sql.py failed");
    let answers: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    answers
        .into_iter()
        .map(|a| match a.get("ok").and_then(|v| v.as_str()) {
            Some(b64) => Ok(base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap()),
            None => Err(a["error"].as_str().unwrap_or("?").to_string()),
        })
        .collect()
}

fn span(
    trace: u8,
    id: u8,
    parent: Option<u8>,
    service: &str,
    name: &str,
    start: u64,
    error: bool,
) -> Span {
    Span {
        trace_id: TraceId([trace; 16]),
        span_id: SpanId([id; 8]),
        parent_span_id: parent.map(|p| SpanId([p; 8])),
        trace_state: String::new(),
        flags: 1,
        name: name.to_string(),
        kind: SpanKind::Server,
        start_unix_nano: start,
        end_unix_nano: start + 5_000_000,
        attributes: vec![KeyValue::str("http.route", "/cart")],
        dropped_attributes_count: 0,
        events: Vec::new(),
        dropped_events_count: 0,
        links: Vec::new(),
        dropped_links_count: 0,
        status: Status {
            code: if error {
                StatusCode::Error
            } else {
                StatusCode::Unset
            },
            message: String::new(),
        },
        resource: Arc::new(Resource {
            service_name: service.to_string(),
            attributes: vec![KeyValue::str("service.name", service)],
            dropped_attributes_count: 0,
        }),
        scope: Arc::new(Scope::default()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `INSERT … SELECT` of the rows the store writes for `span` (its RowBinary
/// columns as SQL expressions).
fn inserts(span: &Span, tags: &[&str]) -> Vec<String> {
    let day = format!("toDate({})", span.start_unix_nano / 1_000_000_000);
    let fixed = |b: &[u8]| format!("toFixedString(unhex('{}'), {})", hex(b), b.len());
    let data = encode_spans(std::slice::from_ref(span)).unwrap();
    let tags = tags
        .iter()
        .map(|t| format!("'{}'", t.replace('\0', "\\0")))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        format!(
            "INSERT INTO spans SELECT {day}, {}, {}, {}, unhex('{}')",
            fixed(&span.trace_id.0),
            fixed(&span.span_id.0),
            span.start_unix_nano,
            hex(&data)
        ),
        format!(
            "INSERT INTO span_index SELECT {day}, '{}', '{}', 2, {}, {}, {}, {}, {}, [{tags}]",
            span.service(),
            span.name,
            span.start_unix_nano,
            span.duration_nanos(),
            fixed(&span.trace_id.0),
            fixed(&span.span_id.0),
            fixed(&span.parent_span_id.map_or([0; 8], |p| p.0)),
        ),
        format!(
            "INSERT INTO span_ops SELECT {day}, '{}', '{}', 2",
            span.service(),
            span.name
        ),
    ]
}

#[test]
fn modern_schema_and_every_query_run_on_a_current_clickhouse() {
    let Some(python) = chdb_python() else {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_CHDB").is_none(),
            "target/chdb-venv is missing but WHYSLOW_REQUIRE_CHDB is set"
        );
        eprintln!("SKIPPED: no target/chdb-venv (dev/test installs chdb from tests/chdb/requirements.txt)");
        return;
    };
    let version = run(&python, &[("SELECT version()".into(), "TSV")]);
    let version = String::from_utf8(version[0].clone().unwrap()).unwrap();
    let tier = Tier::of(version.trim());
    assert!(tier.modern, "chdb's engine {version} should be modern");

    let now = 1_796_400_000_000_000_000u64;
    let web = span(7, 1, None, "web", "GET /cart", now, false);
    let db = span(7, 2, Some(1), "db", "SELECT", now + 1_000, true);
    let other = span(9, 3, None, "web", "GET /", now + 2_000, false);
    let mut statements: Vec<(String, &str)> = create_statements("default", &tier, None)
        .into_iter()
        .map(|s| (s, "TSV"))
        .collect();
    let ddl = statements.len();
    for (s, tags) in [
        (&web, vec!["http.route\0/cart", "span.kind\0server"]),
        (&db, vec!["error\0true", "http.route\0/cart"]),
        (&other, vec!["http.route\0/cart"]),
    ] {
        statements.extend(inserts(s, &tags).into_iter().map(|i| (i, "TSV")));
    }
    let search = TraceQuery {
        service: Some("db".into()),
        tags: vec![("error".into(), "true".into())],
        start_min: Some(now - 1),
        start_max: Some(now + 10_000),
        ..TraceQuery::default()
    };
    let queries = [
        span_sql::services(),
        span_sql::operations("web", Some(2)),
        span_sql::search(&search),
        span_sql::spans_of(&[[7; 16]]),
        span_sql::dependencies(now + 1_000_000, 3_600_000_000_000),
        // Retention: every partition (all are before 2149).
        chstore::retention::old_partitions("default", &["spans".to_string()], u16::MAX),
    ];
    let first_query = statements.len();
    statements.extend(queries.iter().map(|q| (q.clone(), "RowBinary")));
    let answers = run(&python, &statements);
    for (i, answer) in answers.iter().enumerate().take(first_query) {
        assert!(answer.is_ok(), "{}: {:?}", statements[i].0, answer);
    }
    assert!(ddl >= 3);
    let answer = |i: usize| {
        answers[first_query + i]
            .clone()
            .unwrap_or_else(|e| panic!("{}: {e}", queries[i]))
    };

    let services = answer(0);
    let mut r = RowReader::new(&services);
    assert_eq!(
        (r.string().unwrap(), r.string().unwrap()),
        ("db".into(), "web".into())
    );
    assert!(r.is_done());

    let operations = answer(1);
    let mut r = RowReader::new(&operations);
    assert_eq!(r.string().unwrap(), "GET /");
    assert_eq!(r.u8().unwrap(), 2);
    assert_eq!(r.string().unwrap(), "GET /cart");

    let found = answer(2);
    let mut r = RowReader::new(&found);
    assert_eq!(r.fixed::<16>().unwrap(), [7; 16]);
    assert_eq!(r.u64().unwrap(), now + 1_000);
    assert!(r.is_done(), "only the trace with an error span of db");

    let trace = answer(3);
    let mut r = RowReader::new(&trace);
    let mut names = Vec::new();
    while !r.is_done() {
        assert_eq!(r.fixed::<16>().unwrap(), [7; 16]);
        names.extend(
            decode_spans(r.bytes().unwrap())
                .unwrap()
                .into_iter()
                .map(|s| s.name),
        );
    }
    names.sort();
    assert_eq!(names, ["GET /cart", "SELECT"]);

    let deps = answer(4);
    let mut r = RowReader::new(&deps);
    assert_eq!(
        (r.string().unwrap(), r.string().unwrap(), r.u64().unwrap()),
        ("web".into(), "db".into(), 1)
    );
    assert!(r.is_done());

    let partitions = answer(5);
    let mut r = RowReader::new(&partitions);
    assert_eq!(r.string().unwrap(), "spans");
    let partition = r.string().unwrap();
    assert!(partition.contains("2026-12-04"), "{partition}");
    assert!(r.is_done(), "one daily partition");
}
