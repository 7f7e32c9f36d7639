//! End-to-end: `whyslow serve --store clickhouse://…` over two real Debian
//! `clickhouse-server` processes forming a two-shard cluster, with two
//! `serve` instances over it. The official OpenTelemetry Python SDK sends
//! to one instance and every field is read back from the other; traces
//! spread over both shards; `kill -9` of an instance while senders post
//! (raw OTLP/JSON, and the Python SDK's exporter) loses nothing
//! acknowledged; a shard killed while spans arrive makes writes fail with
//! 503 (nothing is acknowledged that not every shard has)
//! and queries fail naming it (never a silently partial answer), and after
//! its restart every acknowledged trace is there and writes succeed again.
//! RED metrics counted by two instances add up when read from a third.
//! Profiles pushed to one instance (Pyroscope's `/ingest`) are rendered by
//! the other, their series spread over both shards.
#![allow(clippy::unwrap_used)]

mod common;

use common::clickhouse::{available, Cluster, CLUSTER};
use common::serve::{python_sdk_round_trip, Serve};
use common::TempDir;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `whyslow serve --store STORE` with its own data directory (for the
/// metrics and profiles that stay local), removed after it stops.
struct Instance {
    serve: Serve,
    _data: TempDir,
}

impl std::ops::Deref for Instance {
    type Target = Serve;
    fn deref(&self) -> &Serve {
        &self.serve
    }
}

impl Instance {
    fn start(name: &str, store: &str) -> Self {
        Self::start_with(name, store, &["--clickhouse-cluster", CLUSTER])
    }

    fn start_with(name: &str, store: &str, extra: &[&str]) -> Self {
        let data = TempDir::new(name);
        let mut args = vec!["--store", store, "--self-scrape-interval", "0"];
        args.extend_from_slice(extra);
        Self {
            serve: Serve::start_with(&data.0, &args),
            _data: data,
        }
    }
}

/// One HTTP/1.1 request; `None` when the connection fails or drops.
fn request(addr: &str, method: &str, path: &str, body: &[u8]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.get(9..12)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

fn get_json(addr: &str, path: &str) -> (u16, serde_json::Value) {
    let (status, body) = request(addr, "GET", path, b"").unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// An OTLP/JSON request with one trace: a `web` server span calling a `db` client span and its child.
fn trace_json(trace: &str, now: u64) -> String {
    let span = |service_span: &str, id: u64, parent: Option<u64>, name: &str, kind: u8| {
        let parent = parent.map_or(String::new(), |p| format!(r#""parentSpanId":"{p:016x}","#));
        let _ = service_span;
        format!(
            r#"{{"traceId":"{trace}","spanId":"{id:016x}",{parent}"name":"{name}","kind":{kind},"startTimeUnixNano":"{s}","endTimeUnixNano":"{e}","attributes":[{{"key":"n","value":{{"stringValue":"{trace}"}}}}]}}"#,
            s = now + id * 1000,
            e = now + 2_000_000
        )
    };
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"web"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}},{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"db"}}}}]}},"scopeSpans":[{{"spans":[{},{}]}}]}}]}}"#,
        span("web", 1, None, "GET /cart", 2),
        span("db", 2, Some(1), "SELECT", 3),
        span("db", 3, Some(2), "fetch", 1),
    )
}

fn trace_spans(ui: &str, trace: &str) -> Option<usize> {
    let (status, json) = get_json(ui, &format!("/api/traces/{trace}"));
    (status == 200).then(|| json["data"][0]["spans"].as_array().map_or(0, Vec::len))
}

#[test]
fn python_sdk_traces_sent_to_one_instance_are_read_from_another() {
    if !available("python_sdk_traces_sent_to_one_instance_are_read_from_another") {
        return;
    }
    let cluster = Cluster::start("sdk", 2);
    let a = Instance::start("sdk-a", &cluster.url("sdk", 0));
    let b = Instance::start("sdk-b", &cluster.url("sdk", 1));
    python_sdk_round_trip(
        "python_sdk_traces_sent_to_one_instance_are_read_from_another",
        &a,
        &b,
    );
}

#[test]
fn traces_spread_over_shards_and_both_instances_answer_every_query() {
    if !available("traces_spread_over_shards_and_both_instances_answer_every_query") {
        return;
    }
    let cluster = Cluster::start("spread", 2);
    let a = Instance::start("spread-a", &cluster.url("spread", 0));
    let b = Instance::start("spread-b", &cluster.url("spread", 1));
    let now = now_ns();
    let traces: Vec<String> = (1..=120u64)
        .map(|n| format!("{:016x}{n:016x}", 0xabc))
        .collect();
    // Eight senders at once: each write waits for its batch's insert.
    let chunks: Vec<Vec<String>> = traces.chunks(15).map(<[String]>::to_vec).collect();
    let senders: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let addr = a.otlp_http.clone();
            std::thread::spawn(move || {
                for trace in chunk {
                    let (status, body) = request(
                        &addr,
                        "POST",
                        "/v1/traces",
                        trace_json(&trace, now).as_bytes(),
                    )
                    .unwrap();
                    assert_eq!(status, 200, "{body}");
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    // Every trace, whole, from the other instance.
    for trace in &traces {
        assert_eq!(
            trace_spans(&b.ui, trace),
            Some(3),
            "trace {trace} from instance B"
        );
    }
    // Both shards hold some.
    for (i, server) in cluster.servers.iter().enumerate() {
        let rows: u64 = server
            .query("SELECT count() FROM spread.spans_local")
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            rows > 0 && rows < 360,
            "shard {} holds {rows} of 360 spans",
            i + 1
        );
    }
    for ui in [&a.ui, &b.ui] {
        let (_, services) = get_json(ui, "/api/services");
        assert_eq!(services["data"], serde_json::json!(["db", "web"]));
        let (_, ops) = get_json(ui, "/api/services/db/operations");
        assert_eq!(ops["data"], serde_json::json!(["SELECT", "fetch"]));
        let (_, found) = get_json(
            ui,
            "/api/traces?service=db&operation=SELECT&limit=1000&lookback=1h",
        );
        assert_eq!(found["data"].as_array().map(Vec::len), Some(120));
        // A tag on one span finds that trace only.
        let tags = format!("%7B%22n%22%3A%22{}%22%7D", traces[7]);
        let (_, tagged) = get_json(
            ui,
            &format!("/api/traces?service=db&tags={tags}&lookback=1h"),
        );
        assert_eq!(tagged["data"][0]["traceID"], serde_json::json!(traces[7]));
        assert_eq!(tagged["data"].as_array().map(Vec::len), Some(1));
        let end_ms = now / 1_000_000 + 60_000;
        let (_, deps) = get_json(
            ui,
            &format!("/api/dependencies?endTs={end_ms}&lookback=3600000"),
        );
        assert_eq!(
            deps["data"],
            serde_json::json!([{"parent": "web", "child": "db", "callCount": 120}])
        );
    }
}

/// The value of an instant PromQL query with one result, from `ui`.
fn promql_value(ui: &str, query: &str) -> Option<f64> {
    let path = format!(
        "/api/v1/query?query={}",
        query
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    let (_, json) = get_json(ui, &path);
    json["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

#[test]
fn red_metrics_of_two_instances_add_up_on_a_third() {
    if !available("red_metrics_of_two_instances_add_up_on_a_third") {
        return;
    }
    let cluster = Cluster::start("red", 2);
    let a = Instance::start("red-a", &cluster.url("red", 0));
    let b = Instance::start("red-b", &cluster.url("red", 1));
    let now = now_ns();
    for (n, to) in [(5u64, &a), (3, &b)] {
        for i in 0..n {
            let trace = format!("{:016x}{:016x}", n, i + 1);
            let (status, body) = request(
                &to.otlp_http,
                "POST",
                "/v1/traces",
                trace_json(&trace, now).as_bytes(),
            )
            .unwrap();
            assert_eq!(status, 200, "{body}");
        }
    }
    // Stopping flushes each instance's RED counters into ClickHouse.
    let (
        Instance { serve, _data },
        Instance {
            serve: other,
            _data: other_data,
        },
    ) = (a, b);
    serve.stop();
    other.stop();
    drop((_data, other_data));
    let c = Instance::start("red-c", &cluster.url("red", 0));
    let calls = r#"traces_span_metrics_calls_total{service_name="web"}"#;
    assert_eq!(promql_value(&c.ui, &format!("sum({calls})")), Some(8.0));
    // One series per instance that counted: they never overwrite each other.
    assert_eq!(promql_value(&c.ui, &format!("count({calls})")), Some(2.0));
    assert_eq!(
        promql_value(&c.ui, &format!("count(count by (instance) ({calls}))")),
        Some(2.0)
    );
    let (_, names) = get_json(&c.ui, "/api/v1/label/__name__/values");
    let names = names["data"].as_array().cloned().unwrap_or_default();
    assert!(
        names.contains(&serde_json::json!(
            "traces_span_metrics_duration_milliseconds_bucket"
        )),
        "{names:?}"
    );
    // Both shards hold samples.
    for (i, server) in cluster.servers.iter().enumerate() {
        let rows: u64 = server
            .query("SELECT count() FROM red.metric_samples_local")
            .unwrap()
            .parse()
            .unwrap();
        assert!(rows > 0, "shard {} holds no samples", i + 1);
    }
}

#[test]
fn kill_9_of_an_instance_and_a_shard_restart_lose_nothing_acknowledged() {
    if !available("kill_9_of_an_instance_and_a_shard_restart_lose_nothing_acknowledged") {
        return;
    }
    let mut cluster = Cluster::start("faults", 2);
    let mut a = Instance::start("faults-a", &cluster.url("faults", 0));
    let b = Instance::start("faults-b", &cluster.url("faults", 1));
    let now = now_ns();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let send_all =
        |addr: String, prefix: u64, acked: Arc<Mutex<Vec<String>>>, stop: Arc<AtomicBool>| {
            (0..8u64)
                .map(|t| {
                    let (addr, acked, stop) = (addr.clone(), Arc::clone(&acked), Arc::clone(&stop));
                    std::thread::spawn(move || {
                        let deadline = Instant::now() + Duration::from_secs(30);
                        for n in 0..10_000u64 {
                            if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
                                break;
                            }
                            let trace = format!("{prefix:016x}{:016x}", t << 32 | n);
                            match request(
                                &addr,
                                "POST",
                                "/v1/traces",
                                trace_json(&trace, now).as_bytes(),
                            ) {
                                Some((200, _)) => acked.lock().unwrap().push(trace),
                                Some((status, body)) => panic!("unexpected {status}: {body}"),
                                None => break, // the instance was killed
                            }
                        }
                    })
                })
                .collect::<Vec<_>>()
        };

    // 1. Instance A is killed -9 while eight senders post to it.
    let senders = send_all(
        a.otlp_http.clone(),
        1,
        Arc::clone(&acked),
        Arc::clone(&stop),
    );
    std::thread::sleep(Duration::from_millis(2500));
    a.serve.kill_9();
    for s in senders {
        s.join().unwrap();
    }
    let before_shard_loss = acked.lock().unwrap().clone();
    assert!(
        !before_shard_loss.is_empty(),
        "nothing was acknowledged before the kill"
    );
    for trace in &before_shard_loss {
        assert_eq!(
            trace_spans(&b.ui, trace),
            Some(3),
            "acknowledged trace {trace} lost with instance A"
        );
    }

    // 2. Shard 2 dies while spans keep arriving at B: what is acknowledged
    // is on every shard it belongs to; reads fail naming the dead shard.
    cluster.servers[1].kill();
    let senders = send_all(
        b.otlp_http.clone(),
        2,
        Arc::clone(&acked),
        Arc::clone(&stop),
    );
    std::thread::sleep(Duration::from_millis(2500));
    let (status, body) = request(
        &b.ui,
        "GET",
        &format!("/api/traces/{}", before_shard_loss[0]),
        b"",
    )
    .unwrap();
    let shard = format!("127.0.0.1:{}", cluster.servers[1].tcp_port);
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains(&format!("shard {shard} cannot be reached")),
        "{body}"
    );

    // 3. Back up: the senders' writes are acknowledged again, and every
    // acknowledged trace is there.
    cluster.servers[1].start();
    let during = acked.lock().unwrap().len();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        s.join().unwrap();
    }
    let all = acked.lock().unwrap().clone();
    assert!(
        all.len() > during,
        "no write was acknowledged after the shard came back"
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    for trace in &all {
        loop {
            if trace_spans(&b.ui, trace) == Some(3) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "acknowledged trace {trace} missing after the shard came back"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

#[test]
fn one_server_without_a_cluster_and_retention_by_day() {
    if !available("one_server_without_a_cluster_and_retention_by_day") {
        return;
    }
    let cluster = Cluster::start("single", 1);
    let url = format!("clickhouse://{}/single", cluster.servers[0].http);
    // The bulk search below asks for more traces than --query-max-traces allows.
    let serve = Instance::start_with(
        "single",
        &url,
        &["--retention", "7d", "--query-max-traces", "0"],
    );
    let now = now_ns();
    let day = 86_400_000_000_000u64;
    let old = format!("{:032x}", 0x01d);
    let new = format!("{:032x}", 0x2ee);
    for (trace, at) in [(&old, now - 10 * day), (&new, now)] {
        let (status, body) = request(
            &serve.otlp_http,
            "POST",
            "/v1/traces",
            trace_json(trace, at).as_bytes(),
        )
        .unwrap();
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(trace_spans(&serve.ui, &old), Some(3));
    assert_eq!(trace_spans(&serve.ui, &new), Some(3));
    // A search returning more traces than one statement can list.
    let spans: Vec<String> = (0..2100u64)
        .map(|n| {
            format!(
                r#"{{"traceId":"{:016x}{n:016x}","spanId":"{:016x}","name":"bulk","kind":2,"startTimeUnixNano":"{s}","endTimeUnixNano":"{s}"}}"#,
                0xb0,
                n + 1,
                s = now + n
            )
        })
        .collect();
    let bulk = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"bulk"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    );
    let (status, body) = request(&serve.otlp_http, "POST", "/v1/traces", bulk.as_bytes()).unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, found) = get_json(&serve.ui, "/api/traces?service=bulk&limit=5000&lookback=1h");
    assert_eq!(status, 200);
    assert_eq!(found["data"].as_array().map(Vec::len), Some(2100));
    drop(serve);
    // Retention runs at start (then hourly): the day 10 days ago is dropped.
    let serve = Instance::start_with("single2", &url, &["--retention", "7d"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while trace_spans(&serve.ui, &old).is_some() {
        assert!(
            Instant::now() < deadline,
            "the 10-day-old trace was not dropped"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(trace_spans(&serve.ui, &new), Some(3));
    // A newer schema in the database: this whyslow refuses it, saying why.
    cluster.servers[0]
        .query("INSERT INTO single.whyslow_schema VALUES (999, now())")
        .unwrap();
    drop(serve);
    let data = TempDir::new("newer");
    let output = common::serve::command(&data.0, &["--store", &url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("schema version 999, newer than this whyslow"),
        "{stderr}"
    );
}

#[test]
fn kill_9_while_the_python_sdk_exports_loses_nothing_it_was_told_succeeded() {
    if !available("kill_9_while_the_python_sdk_exports_loses_nothing_it_was_told_succeeded") {
        return;
    }
    let Some(python) = common::serve::otlp_python() else {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_OTLP_VENV").is_none(),
            "target/otlp-venv is missing but WHYSLOW_REQUIRE_OTLP_VENV is set"
        );
        eprintln!("SKIPPED: no target/otlp-venv (dev/test installs it)");
        return;
    };
    let cluster = Cluster::start("sdkkill", 2);
    let mut a = Instance::start("sdkkill-a", &cluster.url("sdkkill", 0));
    let b = Instance::start("sdkkill-b", &cluster.url("sdkkill", 1));
    let sender = std::process::Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/otlp/send_until_killed.py"))
        .arg("--http")
        .arg(format!("http://{}", a.otlp_http))
        .args(["--seconds", "20", "--threads", "8"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(3500));
    a.serve.kill_9();
    let output = sender.wait_with_output().unwrap();
    let acknowledged: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        !acknowledged.is_empty(),
        "the SDK was told nothing succeeded before the kill"
    );
    eprintln!(
        "{} traces acknowledged to the SDK before kill -9",
        acknowledged.len()
    );
    for trace in &acknowledged {
        assert_eq!(
            trace_spans(&b.ui, trace),
            Some(3),
            "trace {trace} the SDK was told succeeded is not whole on instance B"
        );
    }
}

/// Pyroscope's `/ingest` with folded stacks, to `http`: status and body.
fn ingest_folded(http: &str, app: &str, from_s: u64, stacks: &str) -> (u16, String) {
    let path = format!(
        "/ingest?name={app}.cpu&from={from_s}&until={}&sampleRate=100",
        from_s + 10
    );
    request(http, "POST", &path, stacks.as_bytes()).unwrap()
}

/// `(total ticks, ticks per frame name)` of `/pyroscope/render`'s flame graph.
fn rendered(ui: &str, selector: &str) -> (i64, std::collections::BTreeMap<String, i64>) {
    let query: String = format!("process_cpu:cpu:nanoseconds:cpu:nanoseconds{selector}")
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let (status, json) = get_json(
        ui,
        &format!("/pyroscope/render?query={query}&from=now-1h&until=now&format=json"),
    );
    assert_eq!(status, 200, "{json}");
    let (by_name, ticks) = common::flamebearer::totals(&json["flamebearer"]);
    (ticks, by_name)
}

#[test]
fn profiles_pushed_to_one_instance_are_read_from_another_over_both_shards() {
    if !available("profiles_pushed_to_one_instance_are_read_from_another_over_both_shards") {
        return;
    }
    let cluster = Cluster::start("prof", 2);
    let a = Instance::start("prof-a", &cluster.url("prof", 0));
    let b = Instance::start("prof-b", &cluster.url("prof", 1));
    let from_s = now_ns() / 1_000_000_000 - 60;
    // Twelve services (series sharded by fingerprint), `app{n}` spending
    // n samples in `work` and one in `idle` (10 ms each at 100 Hz).
    for n in 1..=12u64 {
        let stacks = format!("main;work {n}\nmain;idle 1\n");
        let (status, body) = ingest_folded(&a.ui, &format!("app{n}"), from_s, &stacks);
        assert_eq!(status, 200, "{body}");
    }
    // app3's profile sent again (a sender's retry): it counts once.
    let (status, body) = ingest_folded(&a.ui, "app3", from_s, "main;work 3\nmain;idle 1\n");
    assert_eq!(status, 200, "{body}");

    for ui in [&b.ui, &a.ui] {
        let (ticks, by_name) = rendered(ui, "{service_name=\"app3\"}");
        assert_eq!(ticks, 40_000_000, "app3 from {ui}: {by_name:?}");
        assert_eq!(by_name["work"], 30_000_000);
        let (ticks, by_name) = rendered(ui, "{service_name=~\"app1.*\"}");
        // app1, app10, app11, app12.
        assert_eq!(ticks, (1 + 10 + 11 + 12 + 4) * 10_000_000, "{by_name:?}");
        assert_eq!(by_name["idle"], 4 * 10_000_000);
        let (_, values) = get_json(
            ui,
            "/pyroscope/label-values?label=service_name&from=now-1h&until=now",
        );
        assert_eq!(values.as_array().map(Vec::len), Some(12), "{values}");
    }
    // Both shards hold samples.
    for (i, server) in cluster.servers.iter().enumerate() {
        let rows: u64 = server
            .query("SELECT count() FROM prof.profile_samples_local")
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            rows > 0 && rows < 26,
            "shard {} holds {rows} of the samples",
            i + 1
        );
    }
}
