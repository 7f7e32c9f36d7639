//! End-to-end: the real `whyslow load` binary against HTTP servers planted in
//! this file on 127.0.0.1 (axum for HTTP/1.1, hyper for h2c), with known latency
//! shapes: a planted distribution, a 1 s stall, a rate to hit, SLO exit codes,
//! the JSON document with its HDR histograms, traceparent headers, scenarios,
//! and the loopback-only rule. Load runs take a lock so their timings do not
//! disturb each other.
#![allow(clippy::unwrap_used)]

mod common;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{any, get};
use axum::Router;
use base64::Engine;
use common::{text, whyslow, TempDir};
use serde_json::Value;
use std::net::SocketAddr;
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One load run at a time: they measure time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the planted server saw.
#[derive(Default)]
struct Seen {
    requests: AtomicU64,
    connections: AtomicU64,
    stall_until: Mutex<Option<Instant>>,
    traceparents: Mutex<Vec<String>>,
    paths: Mutex<Vec<String>>,
    open_connections: AtomicU64,
    most_open_connections: AtomicU64,
}

/// A test server on an ephemeral loopback port, alive while this value is.
struct Server {
    address: SocketAddr,
    seen: Arc<Seen>,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The routes every test uses.
    fn start() -> Server {
        let seen = Arc::new(Seen::default());
        let router = Router::new()
            .route("/fast", get(|| async { "ok" }))
            .route("/planted", get(planted))
            .route("/stall", get(stall))
            .route("/echo", any(echo))
            .route("/{*path}", any(echo))
            .with_state(seen.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, router).await });
        Server {
            address,
            seen,
            _runtime: runtime,
        }
    }

    /// An h2c (HTTP/2 prior knowledge) server answering "ok".
    fn start_h2c() -> Server {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        let seen = Arc::new(Seen::default());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        let counter = seen.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let counter = counter.clone();
                counter.connections.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |request: hyper::Request<hyper::body::Incoming>| {
                            counter.requests.fetch_add(1, Ordering::Relaxed);
                            let version = format!("{:?}", request.version());
                            async move {
                                Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                    http_body_util::Full::new(bytes_of(version)),
                                ))
                            }
                        },
                    );
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server {
            address,
            seen,
            _runtime: runtime,
        }
    }
}

/// A self-signed certificate for `localhost`/127.0.0.1 written to `dir/ca.pem`,
/// and the TLS acceptor that serves it with ALPN h2 and http/1.1.
fn self_signed(dir: &TempDir) -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls;
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    std::fs::write(dir.path("ca.pem"), certified.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

impl Server {
    /// An https server (HTTP/1.1 or HTTP/2 by ALPN) answering its protocol version.
    fn start_tls(dir: &TempDir) -> Server {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        let acceptor = self_signed(dir);
        let seen = Arc::new(Seen::default());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        let counter = seen.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (counter, acceptor) = (counter.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    let service = hyper::service::service_fn(
                        move |request: hyper::Request<hyper::body::Incoming>| {
                            counter.requests.fetch_add(1, Ordering::Relaxed);
                            let version = format!("{:?}", request.version());
                            async move {
                                Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                    http_body_util::Full::new(bytes_of(version)),
                                ))
                            }
                        },
                    );
                    let io = TokioIo::new(stream);
                    if h2 {
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, service)
                            .await;
                    } else {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    }
                });
            }
        });
        Server {
            address,
            seen,
            _runtime: runtime,
        }
    }
}

impl Server {
    /// An h2c server that shuts each connection down gracefully (GOAWAY) once it
    /// has served `limit` requests, as nginx does after `keepalive_requests`.
    fn start_h2c_goaway_after(limit: u64) -> Server {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        let seen = Arc::new(Seen::default());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        let counter = seen.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let counter = counter.clone();
                counter.connections.fetch_add(1, Ordering::Relaxed);
                let open = counter.open_connections.fetch_add(1, Ordering::SeqCst) + 1;
                counter
                    .most_open_connections
                    .fetch_max(open, Ordering::SeqCst);
                tokio::spawn(async move {
                    let served = Arc::new(AtomicU64::new(0));
                    let limit_reached = Arc::new(tokio::sync::Notify::new());
                    let (requests, reached) = (counter.clone(), limit_reached.clone());
                    let service = hyper::service::service_fn(
                        move |_: hyper::Request<hyper::body::Incoming>| {
                            requests.requests.fetch_add(1, Ordering::Relaxed);
                            if served.fetch_add(1, Ordering::SeqCst) + 1 == limit {
                                reached.notify_one();
                            }
                            async {
                                Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                    http_body_util::Full::new(bytes_of("ok".into())),
                                ))
                            }
                        },
                    );
                    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        () = limit_reached.notified() => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    }
                    counter.open_connections.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Server {
            address,
            seen,
            _runtime: runtime,
        }
    }

    /// An HTTP/1.1 server that closes each connection after `limit` requests:
    /// silently (as an idle or keep-alive limit does), or saying `Connection: close`.
    fn start_closing_after(limit: u64, say_so: bool) -> Server {
        let seen = Arc::new(Seen::default());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        let counter = seen.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let Ok(stream) = stream.into_std() else {
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                counter.connections.fetch_add(1, Ordering::SeqCst);
                let counter = counter.clone();
                // A plain thread: it ends when the client or the limit closes the connection.
                std::thread::spawn(move || serve_closing(stream, limit, say_so, &counter));
            }
        });
        Server {
            address,
            seen,
            _runtime: runtime,
        }
    }
}

/// Answers `limit` requests on `stream` with "ok", the last one with
/// `Connection: close` when `say_so`, then closes it.
fn serve_closing(mut stream: std::net::TcpStream, limit: u64, say_so: bool, seen: &Seen) {
    use std::io::{Read, Write};
    for served in 1..=limit {
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
            }
        }
        seen.requests.fetch_add(1, Ordering::SeqCst);
        let close = if say_so && served == limit {
            "connection: close\r\n"
        } else {
            ""
        };
        let response = format!("HTTP/1.1 200 OK\r\n{close}content-length: 2\r\n\r\nok");
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn bytes_of(text: String) -> hyper::body::Bytes {
    hyper::body::Bytes::from(text)
}

/// 5 ms, except every 100th request: 100 ms.
async fn planted(State(seen): State<Arc<Seen>>) -> &'static str {
    let n = seen.requests.fetch_add(1, Ordering::Relaxed);
    let delay = if n % 100 == 99 { 100 } else { 5 };
    tokio::time::sleep(Duration::from_millis(delay)).await;
    "planted"
}

/// Fast, except that the 300th request starts a 1 s stall every request waits out.
async fn stall(State(seen): State<Arc<Seen>>) -> &'static str {
    let n = seen.requests.fetch_add(1, Ordering::Relaxed);
    let until = {
        let mut stall = seen.stall_until.lock().unwrap();
        if n == 300 {
            *stall = Some(Instant::now() + Duration::from_secs(1));
        }
        *stall
    };
    if let Some(until) = until {
        if Instant::now() < until {
            tokio::time::sleep_until(until.into()).await;
        }
    }
    "stall"
}

/// Records the path and traceparent; answers with the method and body length.
async fn echo(
    State(seen): State<Arc<Seen>>,
    uri: axum::http::Uri,
    method: axum::http::Method,
    headers: HeaderMap,
    body: String,
) -> String {
    seen.requests.fetch_add(1, Ordering::Relaxed);
    seen.paths.lock().unwrap().push(uri.path().to_string());
    if let Some(value) = headers.get("traceparent").and_then(|v| v.to_str().ok()) {
        seen.traceparents.lock().unwrap().push(value.to_string());
    }
    format!("{method} {}", body.len())
}

/// Runs `whyslow load ARGS --json -` and returns the process output and the parsed JSON.
fn load_json(args: &[&str]) -> (Output, Value) {
    let output = whyslow()
        .arg("load")
        .args(args)
        .args(["--json", "-", "--quiet"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    (output, json)
}

fn us(json: &Value, which: &str, key: &str) -> f64 {
    json["latency_us"][which][key].as_f64().unwrap()
}

fn decode(json: &Value, which: &str) -> hdrhistogram::Histogram<u64> {
    let encoded = json["histograms"][which].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .unwrap()
}

#[test]
fn planted_latency_distribution_is_reported() {
    let _serial = serial();
    let server = Server::start();
    let (output, json) = load_json(&[
        &server.url("/planted"),
        "--rate",
        "400",
        "--duration",
        "3s",
        "-c",
        "64",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(json["requests"]["responses"], 1200);
    let p50 = us(&json, "uncorrected", "p50");
    assert!(
        (4_900.0..8_000.0).contains(&p50),
        "uncorrected p50 {p50} µs, planted 5 ms"
    );
    let p50c = us(&json, "corrected", "p50");
    assert!(
        (4_900.0..8_500.0).contains(&p50c),
        "corrected p50 {p50c} µs, planted 5 ms"
    );
    // Exactly 1 % planted at 100 ms: the 99th percentile sits on the edge, so check
    // both sides of it and the share above 50 ms in the full histogram.
    let histogram = decode(&json, "uncorrected");
    let p98 = histogram.value_at_quantile(0.98) as f64;
    let p995 = histogram.value_at_quantile(0.995) as f64;
    assert!(p98 < 10_000.0, "p98 {p98} µs should be the 5 ms mode");
    assert!(
        (99_000.0..125_000.0).contains(&p995),
        "p99.5 {p995} µs should be the 100 ms mode"
    );
    let slow = histogram.count_between(50_000, 10_000_000) as f64 / histogram.len() as f64;
    assert!(
        (0.009..=0.011).contains(&slow),
        "{:.3} % above 50 ms, planted 1 %",
        slow * 100.0
    );
}

#[test]
fn a_stall_shows_in_corrected_latency_only() {
    let _serial = serial();
    let server = Server::start();
    let (output, json) = load_json(&[
        &server.url("/stall"),
        "--rate",
        "200",
        "--duration",
        "4s",
        "-c",
        "4",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    let corrected = us(&json, "corrected", "p99");
    let uncorrected = us(&json, "uncorrected", "p99");
    // About 200 arrivals fall into the 1 s stall; their wait is counted from the
    // intended send time. Only the 4 requests in flight saw it from their actual send.
    assert!(
        corrected > 800_000.0,
        "corrected p99 {corrected} µs misses the 1 s stall"
    );
    assert!(
        uncorrected < 100_000.0,
        "uncorrected p99 {uncorrected} µs should not see the stall"
    );
    let max = us(&json, "uncorrected", "max");
    assert!(
        max > 900_000.0,
        "the stalled requests themselves took {max} µs"
    );
    assert!(us(&json, "corrected", "p50") < 50_000.0);
}

#[test]
fn open_model_hits_2000_rps_within_one_percent() {
    let _serial = serial();
    let server = Server::start();
    let (output, json) = load_json(&[
        &server.url("/fast"),
        "--rate",
        "2000",
        "--duration",
        "10s",
        "-c",
        "32",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    let responses = json["requests"]["responses"].as_f64().unwrap();
    assert!(
        (19_800.0..=20_000.0).contains(&responses),
        "{responses} responses of 20000 scheduled"
    );
    let rps = json["rps"].as_f64().unwrap();
    assert!(
        (rps - 2000.0).abs() / 2000.0 < 0.01,
        "achieved {rps} rps, target 2000"
    );
    assert_eq!(json["target_rps"], 2000.0);
    // Each whole second got its share, not a burst at the end.
    let intervals = json["series"]["intervals"].as_array().unwrap();
    for (second, interval) in intervals.iter().enumerate().take(9).skip(1) {
        let n = interval["responses"].as_f64().unwrap();
        assert!((n - 2000.0).abs() < 100.0, "second {second}: {n} responses");
    }
}

#[test]
fn closed_model_sends_exactly_n_requests() {
    let _serial = serial();
    let server = Server::start();
    let (output, json) = load_json(&[&server.url("/fast"), "-c", "8", "-n", "3000"]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(json["model"], "closed");
    assert_eq!(json["requests"]["responses"], 3000);
    assert_eq!(json["status_codes"]["200"], 3000);
    assert_eq!(
        server.seen.requests.load(Ordering::Relaxed),
        0,
        "/fast does not count"
    );
}

#[test]
fn json_has_the_summary_and_decodable_histograms() {
    let _serial = serial();
    let server = Server::start();
    let (output, json) = load_json(&[
        &server.url("/echo"),
        "--rate",
        "300",
        "--duration",
        "1s",
        "-c",
        "4",
        "-m",
        "POST",
        "-d",
        "hello",
        "-H",
        "X-Test: 1",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    for key in [
        "url",
        "model",
        "target_rps",
        "rps",
        "requests",
        "latency_us",
        "status_codes",
        "errors",
        "histograms",
        "series",
        "slowest",
        "percentile_spectrum",
        "latency_bars",
    ] {
        assert!(json.get(key).is_some(), "missing key {key}");
    }
    for kind in ["connect", "timeout", "reset", "other"] {
        assert_eq!(json["errors"][kind], 0, "{kind}");
    }
    assert_eq!(json["histograms"]["unit"], "us");
    let responses = json["requests"]["responses"].as_u64().unwrap();
    assert_eq!(responses, 300);
    for which in ["corrected", "uncorrected"] {
        let histogram = decode(&json, which);
        assert_eq!(histogram.len(), responses, "{which}");
        let p99 = json["latency_us"][which]["p99"].as_u64().unwrap();
        assert_eq!(histogram.value_at_quantile(0.99), p99, "{which}");
    }
    // Every response body was "POST 5": method and body arrived.
    assert_eq!(json["body_bytes"], 300 * 6);
}

#[test]
fn slo_exit_codes_and_messages() {
    let _serial = serial();
    let server = Server::start();
    let url = server.url("/fast");
    let pass = whyslow()
        .args([
            "load",
            &url,
            "--rate",
            "200",
            "--duration",
            "1s",
            "-c",
            "4",
            "--slo",
            "p99<1s,errors<1%,rps>150",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&pass);
    assert_eq!(pass.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("SLO pass  p99 < 1.000s: measured"),
        "{stdout}"
    );

    let fail = whyslow()
        .args([
            "load",
            &url,
            "--rate",
            "200",
            "--duration",
            "1s",
            "-c",
            "4",
            "--slo",
            "p99<1us,rps>100000,errors<1%",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&fail);
    assert_eq!(fail.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stderr.contains("SLO failed: p99 < 1µs: measured"),
        "{stderr}"
    );
    assert!(
        stderr.contains("SLO failed: rps > 100000.0: measured"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("SLO failed: errors"),
        "errors held: {stderr}"
    );

    let bad = whyslow()
        .args(["load", &url, "--slo", "p99=1s"])
        .output()
        .unwrap();
    let (_, stderr) = text(&bad);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad --slo 'p99=1s'"), "{stderr}");
}

#[test]
fn non_loopback_targets_are_refused() {
    for url in ["http://192.0.2.1/", "http://[2001:db8::1]:8080/"] {
        let output = whyslow().args(["load", url, "-n", "1"]).output().unwrap();
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("not a loopback address"), "{stderr}");
        assert!(stderr.contains("--allow-remote"), "{stderr}");
    }
}

#[test]
fn traceparent_headers_and_slowest_trace_links() {
    let _serial = serial();
    let server = Server::start();
    let (output, json) = load_json(&[
        &server.url("/echo"),
        "--rate",
        "500",
        "--duration",
        "1s",
        "-c",
        "4",
        "--traceparent",
        "--server",
        "http://127.0.0.1:16686",
        "--slowest",
        "5",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    let seen = server.seen.traceparents.lock().unwrap().clone();
    assert_eq!(seen.len(), 500, "every request carries traceparent");
    let slowest = json["slowest"].as_array().unwrap();
    assert_eq!(slowest.len(), 5);
    for slow in slowest {
        let id = slow["trace_id"].as_str().unwrap();
        assert!(
            seen.iter()
                .any(|t| t.starts_with(&format!("00-{id}-")) && t.ends_with("-01")),
            "{id} was not sent"
        );
    }
    let (_, stderr) = text(&output);
    let first = slowest[0]["trace_id"].as_str().unwrap();
    assert!(
        stderr.contains(&format!("http://127.0.0.1:16686/trace/{first}")),
        "{stderr}"
    );

    let sampled = Server::start();
    let (_, _) = load_json(&[
        &sampled.url("/echo"),
        "--rate",
        "1000",
        "--duration",
        "1s",
        "-c",
        "4",
        "--traceparent-sample",
        "0.1",
    ]);
    let n = sampled.seen.traceparents.lock().unwrap().len();
    assert!(
        (50..=160).contains(&n),
        "{n} of 1000 requests traced at 10 %"
    );
}

#[test]
fn scenario_mixes_weighted_requests() {
    let _serial = serial();
    let server = Server::start();
    let dir = TempDir::new("load-scenario");
    std::fs::write(
        dir.path("scenario.toml"),
        "[[request]]\npath = \"/a\"\nweight = 3\n\n[[request]]\nmethod = \"POST\"\npath = \"/b\"\nbody = \"xyz\"\nweight = 1\n",
    )
    .unwrap();
    let (output, json) = load_json(&[
        &server.url("/"),
        "--scenario",
        &dir.str("scenario.toml"),
        "-c",
        "4",
        "-n",
        "2000",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(json["requests"]["responses"], 2000);
    let paths = server.seen.paths.lock().unwrap().clone();
    let a = paths.iter().filter(|p| *p == "/a").count() as f64;
    assert!(
        (0.70..0.80).contains(&(a / 2000.0)),
        "{a} of 2000 went to /a (weight 3 of 4)"
    );
}

#[test]
fn yaml_scenario_mixes_weighted_requests() {
    let _serial = serial();
    let server = Server::start();
    let dir = TempDir::new("load-scenario-yaml");
    std::fs::write(dir.path("item.json"), r#"{"name":"x"}"#).unwrap();
    std::fs::write(
        dir.path("scenario.yaml"),
        "# three reads for each write\n\
         request:\n  \
           - path: /a\n    \
             weight: 3\n  \
           - method: POST\n    \
             path: /b\n    \
             body_file: item.json\n    \
             headers:\n      \
               Content-Type: application/json\n",
    )
    .unwrap();
    let (output, json) = load_json(&[
        &server.url("/"),
        "--scenario",
        &dir.str("scenario.yaml"),
        "-c",
        "4",
        "-n",
        "2000",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(json["requests"]["responses"], 2000);
    let paths = server.seen.paths.lock().unwrap().clone();
    let a = paths.iter().filter(|p| *p == "/a").count() as u64;
    let b = paths.iter().filter(|p| *p == "/b").count() as u64;
    assert_eq!(a + b, 2000, "only /a and /b were asked for");
    assert!(
        (0.70..0.80).contains(&(a as f64 / 2000.0)),
        "{a} of 2000 went to /a (weight 3 of 4)"
    );
    // The echo answers "GET 0" to /a and "POST 12" to /b: the body file was sent.
    assert_eq!(json["body_bytes"], a * 5 + b * 7);

    // A typo is reported with the file, line and column, before any request is sent.
    std::fs::write(
        dir.path("typo.yml"),
        "request:\n  - path: /a\n    wieght: 3\n",
    )
    .unwrap();
    let typo = dir.str("typo.yml");
    let output = whyslow()
        .args(["load", &server.url("/"), "--scenario", &typo, "-n", "1"])
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "bad scenario {typo}: line 3 column 5: unknown field `wieght`"
        )),
        "{stderr}"
    );
}

#[test]
fn http2_prior_knowledge() {
    let _serial = serial();
    let server = Server::start_h2c();
    let (output, json) = load_json(&[&server.url("/"), "--http2", "-c", "2", "-n", "500"]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(json["requests"]["responses"], 500);
    assert_eq!(json["http2"], true);
    assert_eq!(server.seen.requests.load(Ordering::Relaxed), 500);
    // The server answered its protocol version: "HTTP/2.0" is 8 bytes.
    assert_eq!(json["body_bytes"], 500 * 8);
    assert_eq!(server.seen.connections.load(Ordering::Relaxed), 2);

    // Four streams on each of two connections: still two connections.
    let server = Server::start_h2c();
    let (output, json) = load_json(&[
        &server.url("/"),
        "--http2",
        "-c",
        "2",
        "--streams",
        "4",
        "-n",
        "800",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(json["requests"]["responses"], 800);
    assert_eq!(json["streams"], 4);
    assert_eq!(server.seen.connections.load(Ordering::Relaxed), 2);
    let refused = whyslow()
        .args(["load", &server.url("/"), "--streams", "4", "-n", "1"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused).1.contains("only with --http2"));
}

#[test]
fn servers_closing_keep_alive_connections_cost_reconnects_not_errors() {
    let _serial = serial();
    for say_so in [false, true] {
        let server = Server::start_closing_after(10, say_so);
        let output = whyslow()
            .args(["load", &server.url("/"), "-c", "2", "-n", "500"])
            .args(["--json", "-", "--quiet"])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        let json: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(json["requests"]["responses"], 500, "{stderr}");
        assert_eq!(json["requests"]["errors"], 0, "{}", json["errors"]);
        let reconnects = json["reconnects"].as_u64().unwrap();
        let retried = json["requests"]["retried"].as_u64().unwrap();
        // Each connection carries 10 requests: 50 connections in all, 2 of them
        // opened before the start (one more when the two did not share evenly).
        assert!((48..=49).contains(&reconnects), "{reconnects} reconnects");
        if say_so {
            assert_eq!(retried, 0, "Connection: close is no reason to retry");
        } else {
            assert_eq!(retried, reconnects, "each silent close cost one retry");
        }
        assert_eq!(server.seen.requests.load(Ordering::SeqCst), 500);
        assert!(
            stderr.contains(&format!(
                "reconnect {reconnects} connections reopened, {retried} requests retried"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn http2_goaway_reconnects_without_errors() {
    let _serial = serial();
    let server = Server::start_h2c_goaway_after(50);
    let (output, json) = load_json(&[
        &server.url("/"),
        "--http2",
        "-c",
        "2",
        "--streams",
        "4",
        "-n",
        "1000",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(json["requests"]["responses"], 1000);
    assert_eq!(json["requests"]["errors"], 0, "{}", json["errors"]);
    let reconnects = json["reconnects"].as_u64().unwrap();
    assert!(
        reconnects >= 10,
        "{reconnects} reconnects for 1000 requests, 50 a connection"
    );
    assert_eq!(
        server.seen.connections.load(Ordering::SeqCst),
        2 + reconnects
    );
    // A GOAWAY'd request was never processed: it was sent again, and answered once.
    assert_eq!(server.seen.requests.load(Ordering::SeqCst), 1000);
    // The four streams of a connection move to its replacement together: never
    // more than two connections open per -c connection (the old one draining).
    let most = server.seen.most_open_connections.load(Ordering::SeqCst);
    assert!(most <= 4, "{most} connections open at once for -c 2");
}

#[test]
fn connection_errors_are_counted_by_kind() {
    let _serial = serial();
    // A port nobody listens on: every request is a connect error, and the run still ends.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (output, json) = load_json(&[
        &format!("http://127.0.0.1:{port}/"),
        "--rate",
        "100",
        "--duration",
        "1s",
        "-c",
        "2",
        "--slo",
        "errors<1%",
    ]);
    assert_eq!(output.status.code(), Some(3), "{:?}", text(&output));
    assert_eq!(json["errors"]["connect"], 100);
    assert_eq!(json["requests"]["responses"], 0);
    assert_eq!(json["error_ratio"], 1.0);
}

#[test]
fn html_report_is_written() {
    let _serial = serial();
    let server = Server::start();
    let dir = TempDir::new("load-report");
    let report = dir.str("report.html");
    let output = whyslow()
        .args([
            "load",
            &server.url("/planted"),
            "--rate",
            "200",
            "--duration",
            "2s",
            "-c",
            "16",
            "--traceparent",
            "--server",
            "http://127.0.0.1:16686",
            "--report",
            &report,
            "--slo",
            "p99<2s",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(&output));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<svg id=\"spectrum\""));
    assert!(html.contains("\"trace_server\":\"http://127.0.0.1:16686\""));
    assert!(
        !html.contains("http://") || !html.contains("<script src="),
        "no external scripts"
    );
    // Keep a sample for the browser test and for people to look at.
    let artifacts = common::artifacts_dir();
    std::fs::copy(&report, artifacts.join("load-report.html")).unwrap();
}

#[test]
fn https_with_a_trusted_ca_file_or_insecure() {
    let _serial = serial();
    let dir = TempDir::new("load-tls");
    let server = Server::start_tls(&dir);
    let url = format!("https://localhost:{}/", server.address.port());
    let ca = dir.str("ca.pem");
    let (output, json) = load_json(&[&url, "--cacert", &ca, "-c", "2", "-n", "300"]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(json["requests"]["responses"], 300);
    assert_eq!(json["body_bytes"], 300 * 8, "HTTP/1.1 answered");

    let (output, json) = load_json(&[&url, "--insecure", "--http2", "-c", "2", "-n", "300"]);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(json["requests"]["responses"], 300);
    assert_eq!(json["body_bytes"], 300 * 8, "HTTP/2.0 answered");

    // Without trusting the self-signed certificate every handshake fails, and says so.
    let (_, json) = load_json(&[&url, "-c", "1", "-n", "5"]);
    assert_eq!(json["errors"]["tls"], 5);
    assert_eq!(json["requests"]["responses"], 0);
}
