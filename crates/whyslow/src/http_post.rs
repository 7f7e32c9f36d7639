//! One HTTP/1.1 connection to `whyslow serve`, kept open and reopened when
//! it breaks, for the agent's pushes (remote_write metrics and Pyroscope
//! profiles): POST a body, get the status, `Retry-After` and the first
//! 4 KiB of the answer. hyper's client connection, without a pool: the agent
//! talks to one server, one request at a time. An https:// `--server` gets
//! TLS under it ([`tls::Client`]: `--tls-ca`, `--tls-client-cert`); with
//! `--token-file` every request carries `Authorization: Bearer TOKEN`.

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Where `--server` points: `host:port`, TLS for an https:// URL, and
/// the credentials every request shows.
#[derive(Clone)]
pub struct Endpoint {
    /// `host:port`.
    pub authority: String,
    /// TLS to the server (https://), or `None` (http://).
    pub tls: Option<tls::Client>,
    /// The `Authorization` header value of every request, if any.
    authorization: Option<String>,
}

impl std::fmt::Debug for Endpoint {
    /// Without the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("authority", &self.authority)
            .field("tls", &self.tls)
            .field("authorization", &self.authorization.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Endpoint {
    /// Parses `http(s)://host:port[/path]`; returns the endpoint and the
    /// path when the URL names one. `files` say whom an https:// server
    /// may be and what to present to it; they are refused with http://.
    pub fn from_url<'a>(url: &'a str, files: &tls::ClientFiles) -> Result<(Self, Option<&'a str>)> {
        let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => bail!(
                "--server {url}: give an http:// or https:// URL (e.g. http://127.0.0.1:16686)"
            ),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) if rest[i..].trim_end_matches('/').is_empty() => (&rest[..i], None),
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        let host = authority
            .rsplit_once(':')
            .filter(|(_, port)| port.parse::<u16>().is_ok())
            .map(|(host, _)| host);
        let Some(host) = host.filter(|h| !h.is_empty()) else {
            bail!("--server {url}: give host and port, e.g. http://127.0.0.1:16686");
        };
        let tls = if https {
            Some(tls::Client::new(files, host).with_context(|| {
                format!("--server {url}: --tls-ca, --tls-client-cert, --tls-client-key")
            })?)
        } else {
            if files.ca.is_some() || files.identity.is_some() {
                bail!(
                    "--server {url}: --tls-ca and --tls-client-cert apply to an https:// server; \
                     use https:// or leave them out"
                );
            }
            None
        };
        let endpoint = Self {
            authority: authority.to_string(),
            tls,
            authorization: None,
        };
        Ok((endpoint, path))
    }

    /// Sends `authorization` (an `Authorization` header value) with every request.
    pub fn with_authorization(mut self, authorization: Option<String>) -> Self {
        self.authorization = authorization;
        self
    }

    /// `http://host:port` or `https://host:port`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }
}

/// A server's `host:port` and the open connection to it.
pub struct Poster {
    /// `host:port`.
    pub authority: String,
    tls: Option<tls::Client>,
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
    /// A poster to `endpoint`; connects on first use.
    pub fn new(endpoint: &Endpoint) -> Self {
        Self {
            authority: endpoint.authority.clone(),
            tls: endpoint.tls.clone(),
            authorization: endpoint.authorization.clone(),
            connection: None,
        }
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
        let Some(client) = &self.tls else {
            return self.http1(stream).await;
        };
        let stream = tokio::time::timeout(Duration::from_secs(10), client.connect(stream))
            .await
            .with_context(|| format!("TLS handshake with {} timed out", self.authority))?
            .with_context(|| {
                format!(
                    "TLS handshake with {} (does it serve https? is its CA given with --tls-ca? \
                     does it want a client certificate, --tls-client-cert?)",
                    self.authority
                )
            })?;
        self.http1(stream).await
    }

    async fn http1<S>(&self, stream: S) -> Result<SendRequest<Full<Bytes>>>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("HTTP handshake with {}", self.authority))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<(String, Option<String>, bool)> {
        let (endpoint, path) = Endpoint::from_url(url, &tls::ClientFiles::default())?;
        Ok((
            endpoint.authority,
            path.map(str::to_string),
            endpoint.tls.is_some(),
        ))
    }

    #[test]
    fn server_urls() {
        assert_eq!(
            parse("http://127.0.0.1:16686").expect("url"),
            ("127.0.0.1:16686".into(), None, false)
        );
        assert_eq!(
            parse("http://h:9090/api/v1/write").expect("url"),
            ("h:9090".into(), Some("/api/v1/write".into()), false)
        );
        assert_eq!(
            parse("https://[::1]:16686/").expect("url"),
            ("[::1]:16686".into(), None, true)
        );
        assert!(parse("ftp://h:1").is_err());
        assert!(parse("http://h").is_err());
        assert!(parse("https://:1").is_err());
    }

    #[test]
    fn tls_files_with_plain_http_are_refused() {
        let files = tls::ClientFiles {
            ca: Some("ca.pem".into()),
            identity: None,
        };
        let error = Endpoint::from_url("http://127.0.0.1:1", &files).expect_err("refused");
        assert!(
            error.to_string().contains("apply to an https:// server"),
            "{error}"
        );
    }
}
