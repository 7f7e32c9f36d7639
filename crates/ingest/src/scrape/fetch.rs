//! One scrape's HTTP request: `GET` with Prometheus's `Accept` header (
//! OpenMetrics first, then the text format), `Accept-Encoding: gzip` and
//! `X-Prometheus-Scrape-Timeout-Seconds`, over an HTTP/1.1 connection kept
//! open between scrapes, or to the target's in-process router (`serve`'s
//! own `/metrics`, [`super::config::InProcess`]), with the target's
//! `Authorization` header, over TLS for `scheme: https`. The body is read up to the target's
//! `body_size_limit` ([`MAX_BODY_BYTES`] by default), before and after gzip,
//! so a runaway target costs a failed scrape, not memory.
//! The caller bounds the whole exchange with the scrape timeout.

use super::config::Target;
use super::credentials::Authorization;
use crate::exposition::ACCEPT_HEADER;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header;
use hyper_util::rt::TokioIo;
use std::io::Read;
use tokio::net::TcpStream;
use tower::Service;

/// Largest scrape body taken, compressed or not, unless `body_size_limit` says otherwise.
pub const MAX_BODY_BYTES: usize = 64 << 20;

/// A scrape response's body and Content-Type.
#[derive(Debug)]
pub(super) struct Fetched {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
}

/// Scrapes one target over a reused connection.
pub(super) struct Fetcher {
    connect_to: String,
    authority: String,
    path: String,
    timeout_seconds: String,
    user_agent: String,
    limit: usize,
    authorization: Option<Authorization>,
    tls: Option<tls::Client>,
    connection: Option<SendRequest<Empty<Bytes>>>,
    in_process: Option<axum::Router>,
}

impl Fetcher {
    pub(super) fn new(target: &Target) -> Self {
        let has_port = target
            .address
            .rsplit_once(':')
            .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
        let connect_to = match (has_port, &target.tls) {
            (true, _) => target.address.clone(),
            (false, None) => format!("{}:80", target.address),
            (false, Some(_)) => format!("{}:443", target.address),
        };
        Self {
            connect_to,
            authority: target.address.clone(),
            path: target.path.clone(),
            timeout_seconds: format!("{}", target.timeout.as_secs_f64()),
            user_agent: format!("whyslow/{}", env!("CARGO_PKG_VERSION")),
            limit: target.body_size_limit,
            authorization: target.authorization.clone(),
            tls: target.tls.clone(),
            connection: None,
            in_process: target.in_process.as_ref().map(|local| local.0.clone()),
        }
    }

    /// Fetches the metrics once. Errors are short phrases for the log line
    /// ("connection refused", "HTTP status 500 Internal Server Error").
    pub(super) async fn fetch(&mut self) -> Result<Fetched, String> {
        let builder = self.request();
        if let Some(router) = &mut self.in_process {
            let request = builder
                .body(axum::body::Body::empty())
                .map_err(|e| format!("building the request: {e}"))?;
            // A Router is always ready; its error type is Infallible.
            let response = match router.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            return read_response(response, self.limit).await;
        }
        let reused = match self.connection.take() {
            Some(mut sender) => sender.ready().await.is_ok().then_some(sender),
            None => None,
        };
        let mut sender = match reused {
            Some(sender) => sender,
            None => self.connect().await?,
        };
        let request = builder
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("building the request: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let fetched = read_response(response, self.limit).await?;
        // Keep the connection for the next scrape.
        self.connection = Some(sender);
        Ok(fetched)
    }

    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, String> {
        let stream = TcpStream::connect(self.connect_to.as_str())
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.connect_to))?;
        let _ = stream.set_nodelay(true);
        match &self.tls {
            None => self.handshake(stream).await,
            Some(client) => {
                let stream = client
                    .connect(stream)
                    .await
                    .map_err(|e| format!("TLS handshake with {}: {e}", self.connect_to))?;
                self.handshake(stream).await
            }
        }
    }

    /// HTTP/1.1 over an open (plain or TLS) stream.
    async fn handshake<S>(&self, stream: S) -> Result<SendRequest<Empty<Bytes>>, String>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {}: {e}", self.connect_to))?;
        // Runs until the sender is dropped or the peer closes.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// The GET a scrape sends, headers as Prometheus sets them.
    fn request(&self) -> hyper::http::request::Builder {
        let builder = hyper::Request::get(&self.path)
            .header(header::HOST, &self.authority)
            .header(header::ACCEPT, ACCEPT_HEADER)
            .header(header::ACCEPT_ENCODING, "gzip")
            .header(header::USER_AGENT, &self.user_agent)
            .header("X-Prometheus-Scrape-Timeout-Seconds", &self.timeout_seconds);
        match &self.authorization {
            Some(Authorization(value)) => builder.header(header::AUTHORIZATION, value),
            None => builder,
        }
    }
}

/// The body (read up to `limit`, gunzipped when so encoded) and
/// Content-Type of a successful answer; an error for any other status.
async fn read_response<B>(response: hyper::Response<B>, limit: usize) -> Result<Fetched, String>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let status = response.status();
    let headers = response.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    let body = Limited::new(response.into_body(), limit)
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e} (body_size_limit is {limit} bytes)"))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!("server returned HTTP status {status}"));
    }
    let body = if gzip {
        gunzip(&body, limit)?
    } else {
        body.to_vec()
    };
    Ok(Fetched { body, content_type })
}

fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("decompressing the gzip body: {e}"))?;
    if out.len() > limit {
        return Err(format!(
            "body is larger than body_size_limit ({limit} bytes) once decompressed"
        ));
    }
    Ok(out)
}
