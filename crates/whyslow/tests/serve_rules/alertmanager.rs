//! Delivery: serve evaluates an alert rule over samples written by
//! remote_write; after `for` the alert reaches Debian's Alertmanager
//! (`prometheus-alertmanager`, checked through its `/api/v2/alerts`) and a
//! webhook receiver run by this test (the receiving end, answering the first
//! POST with 503 so serve must retry); when the samples drop, the alert
//! resolves in Alertmanager and the webhook hears `resolved`.

use crate::common::{eventually, get_data, remote_write, schedule};
use crate::support::{free_port, now_ms, try_http, Serve, TempDir};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ALERTMANAGER_BIN: &str = "/usr/bin/prometheus-alertmanager";

struct Alertmanager(Child);

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_alertmanager(dir: &Path) -> (Alertmanager, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: quiet\n  group_wait: 1s\nreceivers:\n  - name: quiet\n",
    )
    .unwrap();
    let child = Command::new(ALERTMANAGER_BIN)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-alertmanager starts");
    let running = Alertmanager(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while try_http(&addr, "GET", "/-/ready", &[], b"").map(|r| r.0) != Some(200) {
        assert!(
            Instant::now() < deadline,
            "alertmanager did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (running, addr)
}

/// A webhook receiver: records every POST body; answers the first with 503.
struct Receiver {
    addr: String,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    posts: Arc<Mutex<u32>>,
}

fn start_receiver() -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let posts = Arc::new(Mutex::new(0u32));
    let (b, p) = (Arc::clone(&bodies), Arc::clone(&posts));
    // Ends with the test process; serves at most 100 requests.
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100).flatten() {
            let _ = handle(stream, &b, &p);
        }
    });
    Receiver {
        addr,
        bodies,
        posts,
    }
}

fn handle(
    mut stream: TcpStream,
    bodies: &Mutex<Vec<serde_json::Value>>,
    posts: &Mutex<u32>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let n = {
        let mut posts = posts.lock().unwrap();
        *posts += 1;
        *posts
    };
    let status = if n == 1 {
        "503 Service Unavailable"
    } else {
        bodies
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null));
        "200 OK"
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

pub fn delivery() {
    if !Path::new(ALERTMANAGER_BIN).exists() {
        assert!(
            std::env::var("WHYSLOW_REQUIRE_ALERTMANAGER").map_or(true, |v| v != "1"),
            "{ALERTMANAGER_BIN} is missing and WHYSLOW_REQUIRE_ALERTMANAGER=1: apt-get install prometheus-alertmanager"
        );
        eprintln!(
            "SKIPPED an_alert_reaches_alertmanager_and_the_webhook_then_resolves: no {ALERTMANAGER_BIN} \
             (apt-get install prometheus-alertmanager; dev/test does)"
        );
        return;
    }
    let dir = TempDir::new("rules-alertmanager");
    let (alertmanager, am) = start_alertmanager(&dir.0);
    let receiver = start_receiver();
    let rules = dir.0.join("rules.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: delivery\n    interval: 1s\n    rules:\n      - alert: DemoFlag\n        expr: demo_flag > 0\n        for: 2s\n        labels: {severity: ticket}\n        annotations:\n          summary: 'flag up on {{ $labels.instance }}'\n",
    )
    .unwrap();
    let (rules_arg, am_arg, hook_arg) = (
        rules.display().to_string(),
        format!("http://{am}"),
        format!("http://{}/hook", receiver.addr),
    );
    let serve = Serve::start_with(
        &dir.0.join("serve"),
        0,
        &[
            "--rules",
            &rules_arg,
            "--alertmanager",
            &am_arg,
            "--alert-webhook",
            &hook_arg,
            "--self-scrape-interval",
            "0",
        ],
    );
    let start = now_ms();
    // Up for 8 s, then down.
    remote_write(
        &serve.http,
        &[schedule(
            "demo_flag",
            "x",
            start - 2_000,
            start + 60_000,
            |t| {
                if t < start + 8_000 {
                    1.0
                } else {
                    0.0
                }
            },
        )],
    );

    // Pending first, firing after `for`: then in Alertmanager.
    let am_alert = eventually(Duration::from_secs(20), "the alert in Alertmanager", || {
        let (status, body) = try_http(&am, "GET", "/api/v2/alerts", &[], b"")?;
        let alerts: serde_json::Value = serde_json::from_str(&body).ok()?;
        (status == 200)
            .then(|| {
                alerts
                    .as_array()?
                    .iter()
                    .find(|a| a["labels"]["alertname"] == "DemoFlag")
                    .cloned()
            })
            .flatten()
    });
    assert_eq!(am_alert["labels"]["severity"], "ticket", "{am_alert}");
    assert_eq!(am_alert["labels"]["instance"], "x", "{am_alert}");
    assert_eq!(
        am_alert["annotations"]["summary"], "flag up on x",
        "{am_alert}"
    );
    assert_eq!(am_alert["status"]["state"], "active", "{am_alert}");
    let generator = am_alert["generatorURL"].as_str().unwrap_or("");
    assert!(
        generator.starts_with(&format!(
            "http://{}/graph?g0.expr=demo_flag+%3E+0",
            serve.http
        )),
        "{generator}"
    );
    let rules_api = get_data(&serve.http, "/api/v1/alerts");
    assert_eq!(rules_api["alerts"][0]["state"], "firing", "{rules_api}");

    // The webhook: a retried 503, then version 4 with the firing alert.
    let firing = eventually(Duration::from_secs(20), "a firing webhook payload", || {
        receiver
            .bodies
            .lock()
            .unwrap()
            .iter()
            .find(|b| b["status"] == "firing")
            .cloned()
    });
    assert!(
        *receiver.posts.lock().unwrap() >= 2,
        "the 503 was not retried"
    );
    assert_eq!(firing["version"], "4", "{firing}");
    assert_eq!(firing["receiver"], "whyslow", "{firing}");
    assert_eq!(
        firing["groupKey"], "{}:{alertname=\"DemoFlag\"}",
        "{firing}"
    );
    assert_eq!(firing["groupLabels"]["alertname"], "DemoFlag", "{firing}");
    assert_eq!(firing["commonLabels"]["severity"], "ticket", "{firing}");
    assert_eq!(firing["truncatedAlerts"], 0, "{firing}");
    let alert = &firing["alerts"][0];
    assert_eq!(alert["status"], "firing", "{firing}");
    assert_eq!(alert["endsAt"], "0001-01-01T00:00:00Z", "{firing}");
    assert_eq!(alert["annotations"]["summary"], "flag up on x", "{firing}");
    // Alertmanager's fingerprint of the same label set.
    assert_eq!(
        alert["fingerprint"], am_alert["fingerprint"],
        "{firing} vs {am_alert}"
    );

    // The flag drops: resolved in Alertmanager and at the webhook.
    let resolved = eventually(
        Duration::from_secs(30),
        "a resolved webhook payload",
        || {
            receiver
                .bodies
                .lock()
                .unwrap()
                .iter()
                .find(|b| b["status"] == "resolved")
                .cloned()
        },
    );
    let alert = &resolved["alerts"][0];
    assert_eq!(alert["status"], "resolved", "{resolved}");
    assert_ne!(alert["endsAt"], "0001-01-01T00:00:00Z", "{resolved}");
    eventually(
        Duration::from_secs(20),
        "the alert resolved in Alertmanager",
        || {
            let (_, body) = try_http(&am, "GET", "/api/v2/alerts", &[], b"")?;
            let alerts: serde_json::Value = serde_json::from_str(&body).ok()?;
            let still = alerts
                .as_array()?
                .iter()
                .any(|a| a["labels"]["alertname"] == "DemoFlag");
            (!still).then_some(())
        },
    );
    let rules_api = get_data(&serve.http, "/api/v1/alerts");
    assert_eq!(rules_api["alerts"], serde_json::json!([]), "{rules_api}");
    eprintln!(
        "alert delivery: fired after `for`, in Alertmanager and the webhook (after a retried 503), \
         resolved in both ({} webhook POSTs)",
        receiver.posts.lock().unwrap()
    );
    drop(alertmanager);
    serve.stop();
}
