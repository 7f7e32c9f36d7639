//! One HTTP connection of the load generator, over TCP or TLS: HTTP/1.1
//! keep-alive (our own `http1.rs`) or HTTP/2 (hyper's low-level
//! `client::conn`), and the mapping of hyper's failures to [`ErrorKind`]. It
//! sends one request at a time and reads each response body to the end
//! without keeping it.

use crate::config::RequestTemplate;
use crate::http1::{EncodedRequest, Http1Connection};
use crate::recorder::ErrorKind;
use crate::target::Target;
use crate::tls::TlsClient;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2;
use hyper::Response;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// The request body type every request uses.
pub type RequestBody = Full<Bytes>;

/// An open connection, ready for the next request when [`Connection::ready`] says so.
pub enum Connection {
    /// HTTP/1.1 with keep-alive.
    Http1(Http1Connection),
    /// HTTP/2 (h2c with prior knowledge, or ALPN h2 over TLS).
    Http2(http2::SendRequest<RequestBody>),
}

/// How a request on an open connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The connection ended (EOF, reset, broken pipe; for HTTP/2 also a GOAWAY or
    /// REFUSED_STREAM that says the server did not process the request) before any
    /// byte of the response arrived. On a reused connection that is the server
    /// having closed it while idle, and the request may be sent again on a new one;
    /// otherwise it counts as [`ErrorKind::Reset`].
    Closed,
    /// Any other failure, counted as this kind.
    Failed(ErrorKind),
}

impl SendError {
    /// The kind the failure counts as when it is not retried.
    pub fn kind(self) -> ErrorKind {
        match self {
            SendError::Closed => ErrorKind::Reset,
            SendError::Failed(kind) => kind,
        }
    }
}

impl From<ErrorKind> for SendError {
    fn from(kind: ErrorKind) -> Self {
        SendError::Failed(kind)
    }
}

/// A completed response: status and body size.
#[derive(Debug, Clone, Copy)]
pub struct Completed {
    /// HTTP status code.
    pub status: u16,
    /// Bytes of body read.
    pub body_bytes: u64,
}

impl Connection {
    /// Opens a TCP connection to `address` and does the HTTP handshake; the
    /// connection's I/O runs as a task on the current runtime.
    pub async fn open(
        address: SocketAddr,
        http2: bool,
        tls: Option<&TlsClient>,
    ) -> Result<Connection, ErrorKind> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|_| ErrorKind::Connect)?;
        let _ = stream.set_nodelay(true);
        match tls {
            None => Self::handshake(stream, http2).await,
            Some(tls) => {
                let stream = tls
                    .connector
                    .connect(tls.server_name.clone(), stream)
                    .await
                    .map_err(|_| ErrorKind::Tls)?;
                Self::handshake(stream, http2).await
            }
        }
    }

    async fn handshake<S>(stream: S, http2: bool) -> Result<Connection, ErrorKind>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        if !http2 {
            return Ok(Connection::Http1(Http1Connection::new(Box::new(stream))));
        }
        let io = TokioIo::new(stream);
        let (sender, connection) = http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| classify(&e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Connection::Http2(sender))
    }

    /// Another handle on the same HTTP/2 connection (a new stream per request);
    /// `None` for HTTP/1.1, which carries one request at a time.
    pub fn share(&self) -> Option<Connection> {
        match self {
            Connection::Http1(_) => None,
            Connection::Http2(sender) => Some(Connection::Http2(sender.clone())),
        }
    }

    /// Waits until the connection can take a request; false when it has closed
    /// (after `Connection: close`, an HTTP/1.0 response, an HTTP/2 GOAWAY, or the
    /// server closing it), so the caller opens a new one.
    pub async fn ready(&mut self) -> bool {
        match self {
            Connection::Http1(connection) => connection.is_reusable(),
            Connection::Http2(sender) => sender.ready().await.is_ok(),
        }
    }

    /// Sends one request (HTTP/1.1: the pre-serialized `encoded`; HTTP/2: built
    /// from `template`) with an optional `traceparent`, and reads the whole response.
    pub async fn send(
        &mut self,
        template: &RequestTemplate,
        encoded: &EncodedRequest,
        target: &Target,
        traceparent: Option<&str>,
    ) -> Result<Completed, SendError> {
        match self {
            Connection::Http1(connection) => connection.send(encoded, traceparent).await,
            Connection::Http2(sender) => {
                let request = template
                    .build(target, true, traceparent)
                    .map_err(|_| ErrorKind::Other)?;
                let response = sender.send_request(request).await.map_err(|e| {
                    match classify(&e) {
                        ErrorKind::Reset => SendError::Closed, // no response head arrived
                        _ if not_processed(&e) => SendError::Closed,
                        kind => SendError::Failed(kind),
                    }
                })?;
                Ok(drain(response).await?)
            }
        }
    }
}

/// Whether an HTTP/2 request failed without the server having processed it
/// (RFC 9113 §8.7): its stream was above the last one a GOAWAY accepted, the
/// connection was already going away, or it was refused with REFUSED_STREAM.
fn not_processed(error: &hyper::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(h2) = cause.downcast_ref::<h2::Error>() {
            return (h2.is_go_away() && h2.is_remote())
                || h2.reason() == Some(h2::Reason::REFUSED_STREAM);
        }
        source = cause.source();
    }
    false
}

async fn drain(response: Response<hyper::body::Incoming>) -> Result<Completed, ErrorKind> {
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut body_bytes = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| classify(&e))?;
        if let Some(data) = frame.data_ref() {
            body_bytes += data.len() as u64;
        }
    }
    Ok(Completed { status, body_bytes })
}

/// Maps a hyper error to the kind the summary counts.
pub fn classify(error: &hyper::Error) -> ErrorKind {
    if error.is_timeout() {
        return ErrorKind::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as Io;
            return match io.kind() {
                Io::ConnectionReset
                | Io::ConnectionAborted
                | Io::BrokenPipe
                | Io::UnexpectedEof => ErrorKind::Reset,
                Io::TimedOut => ErrorKind::Timeout,
                Io::ConnectionRefused => ErrorKind::Connect,
                _ => ErrorKind::Other,
            };
        }
        source = cause.source();
    }
    if error.is_incomplete_message() || error.is_closed() || error.is_canceled() {
        ErrorKind::Reset
    } else {
        ErrorKind::Other
    }
}
