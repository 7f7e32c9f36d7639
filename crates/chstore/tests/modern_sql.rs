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
use chstore::{series_sql, span_sql};
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

/// chdb's python, or `None` (the test skips) when dev/test has not
/// installed it; with `WHYSLOW_REQUIRE_CHDB` set a missing chdb fails.
fn chdb() -> Option<PathBuf> {
    let python = chdb_python();
    if python.is_none() {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_CHDB").is_none(),
            "target/chdb-venv is missing but WHYSLOW_REQUIRE_CHDB is set"
        );
        eprintln!("SKIPPED: no target/chdb-venv (dev/test installs chdb from tests/chdb/requirements.txt)");
    }
    python
}

/// Runs the `setup` statements (each must succeed), then `queries`; the
/// RowBinary answer of each query.
fn answers_of(
    python: &PathBuf,
    mut setup: Vec<(String, &str)>,
    queries: &[String],
) -> Vec<Vec<u8>> {
    let first_query = setup.len();
    setup.extend(queries.iter().map(|q| (q.clone(), "RowBinary")));
    let answers = run(python, &setup);
    for (i, answer) in answers.iter().enumerate().take(first_query) {
        assert!(answer.is_ok(), "{}: {:?}", setup[i].0, answer);
    }
    answers
        .into_iter()
        .skip(first_query)
        .zip(queries)
        .map(|(answer, query)| answer.unwrap_or_else(|e| panic!("{query}: {e}")))
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
    let Some(python) = chdb() else {
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
    let answers = answers_of(&python, statements, &queries);
    assert!(ddl >= 3);
    let answer = |i: usize| answers[i].clone();

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

/// `INSERT … SELECT` of RowBinary rows as the profile store sends them.
fn insert_rows(table: &str, structure: &str, body: &[u8]) -> String {
    format!(
        "INSERT INTO {table} ({}) SELECT * FROM format(RowBinary, '{structure}', unhex('{}'))",
        chstore::schema::columns_of(table),
        hex(body)
    )
}

#[test]
fn profile_tables_and_queries_run_on_a_current_clickhouse() {
    use chstore::batch::Rows as _;
    use chstore::profile_rows::{fingerprint, stack_hash, Rows};
    use chstore::profile_sql::{self, Selection, SeriesFilter};
    use model::metrics::Labels;
    use store::profiles::{ObjectFile, ProfileWrite, StackSample, Tick};

    let Some(python) = chdb() else {
        return;
    };
    let tier = Tier::of("26.9");
    let ddl: Vec<(String, &str)> = create_statements("default", &tier, None)
        .into_iter()
        .map(|s| (s, "TSV"))
        .collect();
    // The column types the engine made, for `format(RowBinary, …)`.
    let tables = [
        "profile_stacks",
        "profile_series",
        "profile_objects",
        "profiles",
        "profile_samples",
        "profile_ticks",
    ];
    let mut describe = ddl.clone();
    describe.extend(tables.iter().map(|t| {
        (
            format!("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '{t}' ORDER BY position"),
            "TSV",
        )
    }));
    let answers = run(&python, &describe);
    let structures: Vec<String> = answers[ddl.len()..]
        .iter()
        .map(|a| {
            let text = String::from_utf8(a.clone().unwrap()).unwrap();
            text.lines()
                .map(|l| l.replace('\t', " "))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();

    let t0 = 1_796_400_000_000_000_000i64;
    let cpu = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
    let labels = Labels::from_pairs([("__profile_type__", cpu), ("service_name", "web")]);
    let sample = |frames: &[&str], value: i64, span: Option<u64>| StackSample {
        frames: frames.iter().map(|f| f.to_string()).collect(),
        value,
        span_id: span,
        trace_id: span.map(|s| u128::from(s) << 64),
    };
    let write = ProfileWrite {
        labels: labels.clone(),
        time_ns: t0,
        duration_ns: 10_000_000_000,
        samples: vec![
            sample(&["main", "work"], 30, Some(5)),
            sample(&["main", "idle"], 10, None),
        ],
        ticks: vec![
            Tick {
                sample: 0,
                thread_id: 7,
                time_ns: t0 + 1_000,
                value: 30,
            },
            Tick {
                sample: 1,
                thread_id: 8,
                time_ns: t0 + 2_000,
                value: 10,
            },
        ],
        objects: vec![ObjectFile {
            path: "/usr/bin/web".into(),
            build_id: "ab".into(),
            offset: 0,
            size: 4096,
        }],
    };
    let mut rows = Rows::default();
    rows.add(write.clone());
    // The same profile again (a retried insert): counted once.
    rows.add(write);
    let mut statements = ddl;
    for ((table, body), structure) in rows.into_inserts().into_iter().zip(&structures) {
        assert_eq!(
            table,
            tables[statements.len() - describe.len() + tables.len()]
        );
        statements.push((insert_rows(table, structure, &body), "TSV"));
    }
    let fp = fingerprint(&labels);
    let fps = [fp];
    let sel = Selection {
        profile_type: cpu,
        fingerprints: &fps,
        start_ns: t0 - 1,
        end_ns: t0 + 3_600_000_000_000,
        span_ids: &[],
        trace_ids: &[],
    };
    let spans = [5u64];
    let only_span = Selection {
        span_ids: &spans,
        ..sel
    };
    let queries = [
        profile_sql::series(&SeriesFilter {
            profile_type: Some(cpu),
            service: Some("web"),
            start_ns: sel.start_ns,
            end_ns: sel.end_ns,
            overlapping: true,
        }),
        profile_sql::profile_types(sel.start_ns, sel.end_ns),
        profile_sql::merge(&sel),
        profile_sql::totals(&sel, 60_000_000_000),
        profile_sql::span_hits(&only_span, Some("work"), Some(10)),
        profile_sql::tick_threads(&sel),
        profile_sql::tick_merge(&sel, &[7]),
        profile_sql::stacks(&[stack_hash(&["main", "work"])], sel.start_ns, sel.end_ns),
        profile_sql::objects(cpu, &fps, sel.start_ns, sel.end_ns),
        profile_sql::time_bounds(),
    ];
    let answers = answers_of(&python, statements, &queries);
    let answer = |i: usize| answers[i].clone();
    let strings = |r: &mut RowReader| -> Vec<String> {
        (0..r.len_prefix().unwrap())
            .map(|_| r.string().unwrap())
            .collect()
    };

    let series = answer(0);
    let mut r = RowReader::new(&series);
    assert_eq!(r.u64().unwrap(), fp);
    assert_eq!(strings(&mut r), ["__profile_type__", "service_name"]);
    assert_eq!(strings(&mut r), [cpu, "web"]);
    assert!(r.is_done());

    let types = answer(1);
    let mut r = RowReader::new(&types);
    assert_eq!(r.string().unwrap(), cpu);
    assert!(r.is_done());

    let merged = answer(2);
    let mut r = RowReader::new(&merged);
    let mut stacks = Vec::new();
    while !r.is_done() {
        stacks.push((r.u64().unwrap(), r.i64().unwrap()));
    }
    stacks.sort_unstable();
    let mut want = vec![
        (stack_hash(&["main", "work"]), 30),
        (stack_hash(&["main", "idle"]), 10),
    ];
    want.sort_unstable();
    assert_eq!(stacks, want, "the duplicate profile counts once");

    let totals = answer(3);
    let mut r = RowReader::new(&totals);
    assert_eq!(
        (r.u64().unwrap(), r.i64().unwrap(), r.i64().unwrap()),
        (fp, 0, 40)
    );
    assert!(r.is_done());

    let hits = answer(4);
    let mut r = RowReader::new(&hits);
    assert_eq!(r.u8().unwrap(), 3, "span and trace id");
    assert_eq!(r.u64().unwrap(), 5);
    assert_eq!(u128::from_be_bytes(r.fixed::<16>().unwrap()), 5u128 << 64);
    assert_eq!(
        (r.i64().unwrap(), r.u64().unwrap(), r.i64().unwrap()),
        (30, 1, t0)
    );
    assert!(r.is_done());

    let threads = answer(5);
    let mut r = RowReader::new(&threads);
    assert_eq!((r.u64().unwrap(), r.u64().unwrap()), (7, 1));
    assert_eq!((r.u64().unwrap(), r.u64().unwrap()), (8, 1));
    assert!(r.is_done());

    let ticks = answer(6);
    let mut r = RowReader::new(&ticks);
    assert_eq!(
        (r.u64().unwrap(), r.i64().unwrap()),
        (stack_hash(&["main", "work"]), 30)
    );
    assert!(r.is_done());

    let frames = answer(7);
    let mut r = RowReader::new(&frames);
    assert_eq!(r.u64().unwrap(), stack_hash(&["main", "work"]));
    assert_eq!(strings(&mut r), ["main", "work"]);
    assert!(r.is_done());

    let objects = answer(8);
    let mut r = RowReader::new(&objects);
    assert_eq!(r.string().unwrap(), "/usr/bin/web");
    assert_eq!(r.string().unwrap(), "ab");
    assert_eq!((r.u64().unwrap(), r.u64().unwrap()), (0, 4096));
    assert!(r.is_done());

    let bounds = answer(9);
    let mut r = RowReader::new(&bounds);
    assert_eq!(
        (r.i64().unwrap(), r.i64().unwrap()),
        (t0, t0 + 10_000_000_000)
    );
    // Current servers may collapse the copy on insert (optimize_on_insert).
    assert!(r.u64().unwrap() >= 1);
}

#[test]
fn metric_tables_and_queries_run_on_a_current_clickhouse() {
    use store::series::{MatchOp, Matcher};
    let Some(python) = chdb() else {
        return;
    };
    let t = 1_796_400_000_000i64; // 2026-12-04, ms
    let mut statements: Vec<(String, &str)> = create_statements("default", &Tier::of("26.9"), None)
        .into_iter()
        .map(|s| (s, "TSV"))
        .collect();
    statements.extend(
        [
            "INSERT INTO metric_series VALUES ('2026-12-04', 'up', 11, ['__name__','job'], ['up','api']), \
             ('2026-12-04', 'up', 12, ['__name__'], ['up'])"
                .to_string(),
            format!("INSERT INTO metric_samples VALUES ('2026-12-04', 11, {t}, 1.5), ('2026-12-04', 11, {}, 2.5), ('2026-12-04', 12, {t}, 9)", t + 1000),
            format!("INSERT INTO metric_metadata VALUES ('2026-12-04', 'up', 'gauge', 'Up?', '', {t})"),
            format!("INSERT INTO metric_exemplars VALUES ('2026-12-04', 11, {t}, 0.5, ['trace_id'], ['abc'])"),
        ]
        .into_iter()
        .map(|s| (s, "TSV")),
    );
    let matchers = [
        Matcher::equal("__name__", "up"),
        Matcher::new(MatchOp::NotEqual, "job", "").unwrap(),
    ];
    let queries = [
        series_sql::series(&matchers, t - 1, t + 5000),
        series_sql::samples(&[11], t, t + 1000, 0),
        series_sql::label_names(t - 1, t + 1),
        series_sql::label_values("job", i64::MIN, i64::MAX),
        series_sql::metadata(),
        series_sql::exemplars(&[11], t - 1, t + 1),
    ];
    let answers = answers_of(&python, statements, &queries);
    let answer = |i: usize| answers[i].clone();
    let series = answer(0);
    let mut r = RowReader::new(&series);
    assert_eq!(r.u64().unwrap(), 11);
    assert_eq!(r.strings().unwrap(), ["__name__", "job"]);
    assert_eq!(r.strings().unwrap(), ["up", "api"]);
    assert!(r.is_done(), "series 12 has no job");

    let samples = answer(1);
    let mut r = RowReader::new(&samples);
    for (time, value) in [(t, 1.5), (t + 1000, 2.5)] {
        assert_eq!(
            (r.u64().unwrap(), r.i64().unwrap(), r.f64().unwrap()),
            (11, time, value)
        );
    }
    assert!(r.is_done());

    let names = answer(2);
    let mut r = RowReader::new(&names);
    assert_eq!(
        (r.string().unwrap(), r.string().unwrap()),
        ("__name__".into(), "job".into())
    );
    assert!(r.is_done());

    let values = answer(3);
    let mut r = RowReader::new(&values);
    assert_eq!(r.string().unwrap(), "api");
    assert!(r.is_done());

    let metadata = answer(4);
    let mut r = RowReader::new(&metadata);
    let row: Vec<String> = (0..4).map(|_| r.string().unwrap()).collect();
    assert_eq!(row, ["up", "gauge", "Up?", ""]);

    let exemplars = answer(5);
    let mut r = RowReader::new(&exemplars);
    assert_eq!(
        (r.u64().unwrap(), r.i64().unwrap(), r.f64().unwrap()),
        (11, t, 0.5)
    );
    assert_eq!(r.strings().unwrap(), ["trace_id"]);
    assert_eq!(r.strings().unwrap(), ["abc"]);
    assert!(r.is_done());
}
