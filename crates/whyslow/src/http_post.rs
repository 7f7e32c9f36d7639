//! One HTTP/1.1 connection to `whyslow serve`, kept open and reopened when
//! it breaks, for the agent's pushes (remote_write metrics and Pyroscope
//! profiles): POST a body, get the status, `Retry-After` and the first
//! 4 KiB of the answer. hyper's client connection, without a pool: the agent
//! talks to one server, one request at a time. With `--token-file` every
//! request carries `Authorization: Bearer TOKEN`.

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;

/// A server's `host:port` and the open connection to it.
pub struct Poster {
    /// `host:port`.
    pub authority: String,
    /// The `Authorization` header value of every request, if any.
    authorization: Option<String>,
    connection: Option<SendRequest<Full<Bytes>>>,
}

/// What the server answered.
pub struct Answer {
    /// The status.
    pub status: hyper::StatusCode,
    /// `Retry-After` in seconds, when given.
    pub retry_after: Option<Duration>,
    /// The start of the body, trimmed.
    pub text: String,
}

impl Poster {
    /// A poster to `authority` (`host:port`); connects on first use.
    pub fn new(authority: &str) -> Self {
        Self {
            authority: authority.to_string(),
            authorization: None,
            connection: None,
        }
    }

    /// Sends `authorization` (an `Authorization` header value) with every request.
    pub fn with_authorization(mut self, authorization: Option<String>) -> Self {
        self.authorization = authorization;
        self
    }

    /// POSTs `body` to `path` with `headers`; `Err` when no answer came.
    pub async fn post(
        &mut self,
        path: &str,
        headers: &[(header::HeaderName, &str)],
        body: Bytes,
    ) -> Result<Answer, String> {
        let reused = match self.connection.take() {
            Some(mut sender) => sender.ready().await.is_ok().then_some(sender),
            None => None,
        };
        let mut sender = match reused {
            Some(sender) => sender,
            None => self.connect().await.map_err(|e| format!("{e:#}"))?,
        };
        let mut request = hyper::Request::post(path)
            .header(header::HOST, self.authority.as_str())
            .header(
                header::USER_AGENT,
                concat!("whyslow-agent/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization.as_str());
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| format!("building the request: {e}"))?;
        let response = tokio::time::timeout(Duration::from_secs(30), sender.send_request(request))
            .await
            .map_err(|_| format!("{} did not answer within 30 s", self.authority))?
            .map_err(|e| format!("sending to {}: {e}", self.authority))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = Limited::new(response.into_body(), 4096)
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).trim().to_string())
            .unwrap_or_default();
        self.connection = Some(sender);
        Ok(Answer {
            status,
            retry_after,
            text,
        })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>> {
        let stream =
            tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&self.authority))
                .await
                .with_context(|| format!("connecting to {} timed out", self.authority))?
                .with_context(|| {
                    format!(
                        "connecting to {} (is `whyslow serve` running?)",
                        self.authority
                    )
                })?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("HTTP handshake with {}", self.authority))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}
