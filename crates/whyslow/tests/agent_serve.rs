//! End-to-end: `whyslow agent --server` pushes host metrics by remote_write to
//! a real `whyslow serve`, and `node_cpu_seconds_total` comes back through
//! serve's Prometheus query API with `job="node"` and the agent's `instance`,
//! one series per CPU and mode. The agent starts before serve listens, so its
//! first pushes fail and it must keep trying; when it stops, its series are
//! marked stale and leave instant queries.

mod agent;
#[path = "common/test_store.rs"]
mod test_store;

use agent::{free_port, get, wait_listening, Running};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn agent_pushes_to_serve() {
    let dir = std::env::temp_dir().join(format!("whyslow-agent-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let serve_addr = format!("127.0.0.1:{}", free_port());
    let port = serve_addr
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let agent = Running(
        Command::new(env!("CARGO_BIN_EXE_whyslow"))
            .args([
                "agent",
                "--listen",
                "off",
                "--interval",
                "1s",
                "--instance",
                "testhost:9469",
            ])
            .args(["--server", &format!("http://{serve_addr}")])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting whyslow agent"),
    );

    // The agent starts first: its pushes fail (connection refused) and are
    // retried until serve is up.
    std::thread::sleep(Duration::from_millis(1500));
    let mut serve = Running(
        Command::new(env!("CARGO_BIN_EXE_whyslow"))
            .args(["serve", "--data-dir"])
            .arg(dir.join("data"))
            .args(test_store::clickhouse_store(&dir.join("data")))
            .args([
                "--otlp-grpc-port",
                "0",
                "--otlp-http-port",
                "0",
                "--http-port",
                &port,
            ])
            .args(["--self-scrape-interval", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting whyslow serve"),
    );
    wait_listening(&serve_addr, "whyslow serve", &mut serve);
    let cpus = std::fs::read_to_string("/proc/stat")
        .expect("/proc/stat")
        .lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .count();
    let deadline = Instant::now() + Duration::from_secs(30);
    let result = loop {
        let (status, body) = get(&serve_addr, "/api/v1/query?query=node_cpu_seconds_total");
        assert!(status.contains(" 200 "), "{status}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("query JSON");
        let result = json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if result.len() >= cpus * 8 {
            break result;
        }
        assert!(
            Instant::now() < deadline,
            "node_cpu_seconds_total did not reach serve within 30 s: {body}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(
        result.len(),
        cpus * 8,
        "one series per CPU and mode: {result:#?}"
    );
    for series in &result {
        let metric = &series["metric"];
        assert_eq!(metric["job"], "node", "{series}");
        assert_eq!(metric["instance"], "testhost:9469", "{series}");
        assert!(
            metric["cpu"].is_string() && metric["mode"].is_string(),
            "{series}"
        );
        let value: f64 = series["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("value");
        assert!(value >= 0.0, "{series}");
    }
    // The agent also sent metadata: serve's /api/v1/metadata names the family as a counter.
    let (_, body) = get(
        &serve_addr,
        "/api/v1/metadata?metric=node_cpu_seconds_total",
    );
    assert!(body.contains("counter"), "metadata: {body}");
    // `up` as a Prometheus scrape adds it; stopping the agent marks its series
    // stale, so they leave instant queries at once rather than after 5 minutes.
    let (_, body) = get(&serve_addr, "/api/v1/query?query=up");
    assert!(
        body.contains(r#""instance":"testhost:9469""#) && body.contains(r#""job":"node""#),
        "up: {body}"
    );
    drop(agent);
    let (_, body) = get(&serve_addr, "/api/v1/query?query=node_load1");
    let json: serde_json::Value = serde_json::from_str(&body).expect("query JSON");
    assert_eq!(
        json["data"]["result"],
        serde_json::json!([]),
        "node_load1 after the agent stopped: {body}"
    );
    drop(serve);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Settings the agent cannot act on are refused at start with the way out.
#[test]
fn agent_refuses_unusable_settings() {
    for (args, expected) in [
        (vec!["--listen", "off"], "nothing to do"),
        (vec!["--listen", "localhost"], "expected ADDR:PORT"),
        (
            vec!["--listen", "off", "--server", "ftp://h:1"],
            "give an http:// or https:// URL",
        ),
        (
            vec![
                "--listen",
                "off",
                "--server",
                "http://h:1",
                "--tls-ca",
                "ca.pem",
            ],
            "apply to an https:// server",
        ),
        (
            vec![
                "--listen",
                "off",
                "--server",
                "https://h:1",
                "--tls-cert",
                "c.pem",
                "--tls-key",
                "k.pem",
            ],
            "--tls-cert and --tls-key are for --listen",
        ),
        (
            vec![
                "--listen",
                "off",
                "--server",
                "https://h:1",
                "--tls-ca",
                "/nonexistent/ca.pem",
            ],
            "cannot read CA certificate file /nonexistent/ca.pem",
        ),
        (
            vec!["--interval", "0s", "--server", "http://127.0.0.1:1"],
            "positive",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_whyslow"))
            .arg("agent")
            .args(&args)
            .output()
            .expect("running whyslow agent");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
