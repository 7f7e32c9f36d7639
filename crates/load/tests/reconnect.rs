//! Keep-alive connections that the server closes: with `Connection: close`, with
//! HTTP/1.0, silently after a number of requests, or after an idle timeout. Every
//! request must still get its response, counted as reconnects and retries, not as
//! errors; a connection cut off mid-response, or closed before it answers at all,
//! stays an error. The servers are planted here, on 127.0.0.1, as plain threads.
#![allow(clippy::unwrap_used)]

use load::{ArrivalSchedule, LoadConfig, LoadResult, Model, RequestTemplate, Target, TlsOptions};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How the planted server treats each connection.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// Answers `n` requests with plain keep-alive responses, then closes the
    /// connection without having said so (as a server's keep-alive limit does).
    CloseSilentlyAfter(u64),
    /// Answers the `n`-th request with `Connection: close`, then closes.
    CloseAfterSaying(u64),
    /// Answers with HTTP/1.0 and no keep-alive, then closes.
    Http10,
    /// Closes a connection idle for this long.
    IdleTimeout(Duration),
    /// Cuts the second response off mid-body.
    TruncateSecond,
    /// Closes every connection without answering.
    NeverAnswer,
}

/// A planted HTTP/1.1 server, alive while this value is.
struct Server {
    address: SocketAddr,
    requests: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, accepted, stopped) = (requests.clone(), connections.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                accepted.fetch_add(1, Ordering::SeqCst);
                let counter = counter.clone();
                std::thread::spawn(move || serve(stream, behaviour, &counter));
            }
        });
        Server {
            address,
            requests,
            connections,
            stop,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address); // wakes the accept loop
    }
}

/// Reads one request head; false when the client closed (or the idle timeout hit).
fn read_request(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) => return false,
            Ok(n) => head.extend_from_slice(&byte[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

fn serve(mut stream: TcpStream, behaviour: Behaviour, requests: &AtomicU64) {
    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    if let Behaviour::IdleTimeout(idle) = behaviour {
        stream.set_read_timeout(Some(idle)).unwrap();
    }
    let mut answered = 0u64;
    loop {
        if matches!(behaviour, Behaviour::NeverAnswer) || !read_request(&mut stream) {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        answered += 1;
        let (response, close): (&[u8], bool) = match behaviour {
            Behaviour::CloseSilentlyAfter(n) => (OK, answered == n),
            Behaviour::CloseAfterSaying(n) if answered == n => (
                b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
                true,
            ),
            Behaviour::Http10 => (b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", true),
            Behaviour::TruncateSecond if answered == 2 => {
                (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort", true)
            }
            _ => (OK, false),
        };
        if stream.write_all(response).is_err() || close {
            return; // dropping the stream closes the connection
        }
    }
}

fn config(server: &Server, model: Model, max_requests: Option<u64>) -> LoadConfig {
    let target = Target::resolve(&server.url(), false).unwrap();
    LoadConfig {
        requests: vec![RequestTemplate::new("GET", "/", &[], Default::default(), 1).unwrap()],
        target,
        model,
        duration: Some(Duration::from_secs(10)),
        max_requests,
        threads: 1,
        connections: 2,
        http2: false,
        streams: 1,
        timeout: Duration::from_secs(5),
        traceparent_fraction: None,
        slowest: 0,
        tls: TlsOptions::default(),
    }
}

/// `requests` requests as fast as `connections` connections go.
fn closed_run(server: &Server, connections: usize, requests: u64) -> LoadResult {
    let mut config = config(server, Model::Closed, Some(requests));
    config.connections = connections;
    load::start(config).unwrap().wait()
}

fn assert_all_answered(result: &LoadResult, requests: u64) {
    let recorder = &result.recorder;
    assert_eq!(recorder.errors.total(), 0, "{:?}", recorder.errors);
    assert_eq!(recorder.responses(), requests);
    assert_eq!(recorder.status_codes.get(&200), Some(&requests));
    assert_eq!(result.attempted, requests);
}

#[test]
fn a_server_closing_silently_after_each_few_requests_costs_no_errors() {
    let server = Server::start(Behaviour::CloseSilentlyAfter(5));
    let result = closed_run(&server, 1, 400);
    assert_all_answered(&result, 400);
    let recorder = &result.recorder;
    // Each connection carries 5 requests, then the 6th finds it closed and goes again.
    assert_eq!((recorder.retried, recorder.reconnects), (79, 79));
    assert_eq!(
        server.requests.load(Ordering::SeqCst),
        400,
        "the server answered each request once"
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 80);

    let server = Server::start(Behaviour::CloseSilentlyAfter(5));
    let result = closed_run(&server, 4, 400);
    assert_all_answered(&result, 400);
    assert!(result.recorder.retried >= 76, "{}", result.recorder.retried);
}

#[test]
fn connection_close_and_http10_responses_reconnect_without_retrying() {
    for behaviour in [Behaviour::CloseAfterSaying(4), Behaviour::Http10] {
        let server = Server::start(behaviour);
        let result = closed_run(&server, 1, 200);
        assert_all_answered(&result, 200);
        let recorder = &result.recorder;
        let expected = match behaviour {
            Behaviour::Http10 => 199, // for each request after the first
            _ => 49,                  // after every 4th
        };
        assert_eq!(recorder.reconnects, expected, "{behaviour:?}");
        assert_eq!(
            recorder.retried, 0,
            "{behaviour:?}: the client knew to close"
        );
    }
}

#[test]
fn an_idle_timeout_in_the_open_model_costs_no_errors() {
    // 40 arrivals 25 ms apart on one connection that the server drops after 5 ms idle.
    let server = Server::start(Behaviour::IdleTimeout(Duration::from_millis(5)));
    let schedule = ArrivalSchedule::constant(40.0, Duration::from_secs(1)).unwrap();
    let mut config = config(&server, Model::Open(schedule), None);
    config.connections = 1;
    let result = load::start(config).unwrap().wait();
    assert_all_answered(&result, 40);
    let recorder = &result.recorder;
    assert!(recorder.retried >= 30, "{} retried", recorder.retried);
    assert!(
        recorder.reconnects >= 30,
        "{} reconnects",
        recorder.reconnects
    );
}

#[test]
fn a_response_cut_off_mid_body_stays_a_reset() {
    let server = Server::start(Behaviour::TruncateSecond);
    let result = closed_run(&server, 2, 10);
    let recorder = &result.recorder;
    // Each connection's second response is truncated: one reset per connection in use,
    // never retried, since the server had begun to answer.
    assert!(recorder.errors.reset >= 1, "{:?}", recorder.errors);
    assert_eq!(recorder.errors.reset + recorder.responses(), 10);
    assert_eq!(recorder.errors.total(), recorder.errors.reset);
    assert_eq!(recorder.retried, 0);
    assert_eq!(server.requests.load(Ordering::SeqCst), 10);
}

#[test]
fn a_server_that_never_answers_is_an_error_retried_at_most_once() {
    let server = Server::start(Behaviour::NeverAnswer);
    let result = closed_run(&server, 2, 10);
    let recorder = &result.recorder;
    assert_eq!(recorder.responses(), 0);
    assert_eq!(recorder.errors.reset, 10, "{:?}", recorder.errors);
    // Only the connections opened before the start were reused ones; a fresh
    // connection's failure is not retried.
    assert!(recorder.retried <= 2, "{} retried", recorder.retried);
}
