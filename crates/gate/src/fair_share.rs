//! A fair share of the query APIs between readers, so one dashboard or one
//! script in a loop cannot take every query slot while others wait.
//!
//! A reader is the token's identity the gate admitted (its NAME, else its
//! auth-file line; every client of one token shares its share) or, without
//! an auth file, the client's address. Each reader runs at most
//! [`FairShareOptions::per_reader`] query requests at once; its further
//! requests wait in line for a slot, at most `max_waiting` of them and each
//! for at most `max_wait`. Past either, 429 with `Retry-After`.
//!
//! Only query routes count (paths under `/api/`, `/pyroscope/` and the
//! Connect querier): pages and static files are cheap and always answered.
//! A reader's entry lives while it has requests running or waiting, so the
//! table is as large as the number of readers active at one moment.

use crate::peer::peer_ip;
use auth::Identity;
use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Paths whose requests take a reader's slot.
const QUERY_PREFIXES: [&str; 3] = ["/api/", "/pyroscope/", "/querier.v1."];

/// Seconds a refused reader is told to wait.
const RETRY_AFTER_S: u64 = 1;

/// How much of the query APIs one reader may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FairShareOptions {
    /// Query requests one reader runs at once.
    pub per_reader: usize,
    /// Requests one reader may have waiting for a slot.
    pub max_waiting: usize,
    /// Longest a request waits for a slot.
    pub max_wait: Duration,
}

impl Default for FairShareOptions {
    /// 4 at once, 64 waiting, for up to 2 minutes (the PromQL timeout).
    fn default() -> Self {
        FairShareOptions {
            per_reader: 4,
            max_waiting: 64,
            max_wait: Duration::from_secs(120),
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Reader {
    Token(String),
    Address(IpAddr),
}

/// One reader's slots and line.
#[derive(Debug)]
struct Share {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// Every reader's share.
#[derive(Debug)]
struct Shares {
    options: FairShareOptions,
    readers: Mutex<HashMap<Reader, Arc<Share>>>,
}

/// Wraps `router` so each reader gets its share of the query routes.
/// Put it inside the gate's guard ([`crate::Gate::protect`]), which tells it
/// the reader's identity.
pub fn fair_share(router: Router, options: FairShareOptions) -> Router {
    let shares = Arc::new(Shares {
        options,
        readers: Mutex::default(),
    });
    router.layer(middleware::from_fn_with_state(shares, take_turn))
}

async fn take_turn(
    State(shares): State<Arc<Shares>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if !QUERY_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return next.run(request).await;
    }
    let reader = match request.extensions().get::<Identity>() {
        Some(identity) => Reader::Token(identity.to_string()),
        None => Reader::Address(peer_ip(request.extensions_mut())),
    };
    let share = shares.enter(&reader);
    let response = match shares.wait_for_slot(&share).await {
        Ok(permit) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        Err(message) => busy(message),
    };
    shares.leave(&reader, share);
    response
}

impl Shares {
    /// The reader's share, created on its first request.
    fn enter(&self, reader: &Reader) -> Arc<Share> {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(readers.entry(reader.clone()).or_insert_with(|| {
            Arc::new(Share {
                slots: Arc::new(Semaphore::new(self.options.per_reader)),
                waiting: AtomicUsize::new(0),
            })
        }))
    }

    /// Forgets the reader once nothing of it runs or waits.
    fn leave(&self, reader: &Reader, share: Arc<Share>) {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        // Clones are made under this lock only: the table's and ours left.
        if Arc::strong_count(&share) == 2 {
            readers.remove(reader);
        }
    }

    /// A slot of the reader's share, or why not.
    async fn wait_for_slot(
        &self,
        share: &Share,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, String> {
        if let Ok(permit) = Arc::clone(&share.slots).try_acquire_owned() {
            return Ok(permit);
        }
        let options = self.options;
        if share.waiting.fetch_add(1, Ordering::AcqRel) >= options.max_waiting {
            share.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(format!(
                "you have {} queries running and {} waiting, the most one reader may; \
                 retry when some have finished",
                options.per_reader, options.max_waiting
            ));
        }
        let waited =
            tokio::time::timeout(options.max_wait, Arc::clone(&share.slots).acquire_owned()).await;
        share.waiting.fetch_sub(1, Ordering::AcqRel);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err("the server is shutting down".to_string()),
            Err(_elapsed) => Err(format!(
                "this query waited {} s behind your {} running queries; retry later",
                options.max_wait.as_secs(),
                options.per_reader
            )),
        }
    }
}

/// 429 with `Retry-After`, in plain text as the gate's other refusals.
fn busy(message: String) -> Response {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
    crate::refusal::plain_text(StatusCode::TOO_MANY_REQUESTS, headers, &message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use std::net::SocketAddr;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    /// A router whose `/api/slow` waits for `release`, and `/page` which does not.
    fn app(options: FairShareOptions, release: Arc<Notify>) -> Router {
        let router = Router::new()
            .route(
                "/api/slow",
                get(move || {
                    let release = Arc::clone(&release);
                    async move {
                        release.notified().await;
                        "done"
                    }
                }),
            )
            .route("/page", get(|| async { "page" }));
        fair_share(router, options)
    }

    fn request(path: &str, from: [u8; 4]) -> Request {
        let mut request = Request::get(path).body(Body::empty()).expect("request");
        let address = SocketAddr::from((from, 40_000));
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(address));
        request
    }

    #[tokio::test]
    async fn one_reader_waits_in_line_and_others_do_not() {
        let options = FairShareOptions {
            per_reader: 1,
            max_waiting: 1,
            max_wait: Duration::from_secs(30),
        };
        let release = Arc::new(Notify::new());
        let app = app(options, Arc::clone(&release));
        let first = tokio::spawn(app.clone().oneshot(request("/api/slow", [10, 0, 0, 1])));
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Waits behind the first: in line.
        let second = tokio::spawn(app.clone().oneshot(request("/api/slow", [10, 0, 0, 1])));
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The line is full.
        let third = app
            .clone()
            .oneshot(request("/api/slow", [10, 0, 0, 1]))
            .await
            .expect("answer");
        assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(third.headers()[RETRY_AFTER], "1");
        // Pages are not queries; another address has its own share.
        let page = app
            .clone()
            .oneshot(request("/page", [10, 0, 0, 1]))
            .await
            .expect("answer");
        assert_eq!(page.status(), StatusCode::OK);
        let other = tokio::spawn(app.clone().oneshot(request("/api/slow", [10, 0, 0, 2])));
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Three requests hold or wait for slots; releasing one at a time lets each finish.
        for _ in 0..3 {
            release.notify_one();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for task in [first, second, other] {
            let response = task.await.expect("task").expect("answer");
            assert_eq!(response.status(), StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn a_request_waiting_too_long_is_told_to_retry() {
        let options = FairShareOptions {
            per_reader: 1,
            max_waiting: 4,
            max_wait: Duration::from_millis(50),
        };
        let release = Arc::new(Notify::new());
        let app = app(options, Arc::clone(&release));
        let first = tokio::spawn(app.clone().oneshot(request("/api/slow", [10, 0, 0, 1])));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let late = app
            .clone()
            .oneshot(request("/api/slow", [10, 0, 0, 1]))
            .await
            .expect("answer");
        assert_eq!(late.status(), StatusCode::TOO_MANY_REQUESTS);
        release.notify_one();
        assert_eq!(
            first.await.expect("task").expect("answer").status(),
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn readers_are_forgotten_when_idle() {
        let shares = Shares {
            options: FairShareOptions::default(),
            readers: Mutex::default(),
        };
        let reader = Reader::Token("grafana".into());
        let share = shares.enter(&reader);
        let again = shares.enter(&reader);
        shares.leave(&reader, again);
        assert_eq!(shares.readers.lock().expect("lock").len(), 1);
        shares.leave(&reader, share);
        assert!(shares.readers.lock().expect("lock").is_empty());
    }
}
