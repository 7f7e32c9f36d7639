//! One connection's way from accepted TCP to finished TLS, run in its own
//! task and bounded by a timeout, so a client that connects and sends
//! nothing holds only itself up. A client that speaks plain HTTP to the TLS
//! port gets a plain `400` saying to use https://, as Go's net/http answers,
//! instead of a handshake alert curl would print as gibberish.

use crate::connection::Connection;
use std::fmt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// How long a client has to finish its handshake unless the listener says otherwise.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection did not become a TLS connection.
#[derive(Debug)]
pub enum HandshakeError {
    /// The client closed before sending a byte (a port probe, a health check).
    Closed,
    /// Nothing or not enough came within the timeout.
    TimedOut(Duration),
    /// The client sent plain HTTP; it got a 400 naming https://.
    PlainHttp,
    /// The TLS handshake failed (no or untrusted client certificate, no
    /// shared protocol version or cipher, a client alert, a reset).
    Tls(std::io::Error),
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Closed => write!(f, "the client closed the connection"),
            HandshakeError::TimedOut(after) => {
                write!(f, "no handshake within {} s", after.as_secs_f64())
            }
            HandshakeError::PlainHttp => write!(
                f,
                "the client sent plain HTTP to this TLS port (answered 400: use https://)"
            ),
            HandshakeError::Tls(e) => write!(f, "{e}"),
        }
    }
}

/// Completes the server side of a TLS handshake on `tcp` within `timeout`.
pub async fn handshake(
    tcp: TcpStream,
    acceptor: TlsAcceptor,
    timeout: Duration,
) -> Result<Connection, HandshakeError> {
    tokio::time::timeout(timeout, accept(tcp, acceptor))
        .await
        .unwrap_or(Err(HandshakeError::TimedOut(timeout)))
}

async fn accept(tcp: TcpStream, acceptor: TlsAcceptor) -> Result<Connection, HandshakeError> {
    let mut first = [0u8; 1];
    let n = tcp.peek(&mut first).await.map_err(HandshakeError::Tls)?;
    if n == 0 {
        return Err(HandshakeError::Closed);
    }
    // A TLS record starts with its type (22, handshake); an HTTP request
    // (and HTTP/2's preface, "PRI * HTTP/2.0") with an upper-case method.
    if first[0].is_ascii_uppercase() {
        refuse_plain_http(tcp).await;
        return Err(HandshakeError::PlainHttp);
    }
    acceptor
        .accept(tcp)
        .await
        .map(|tls| Connection::Tls(Box::new(tls)))
        .map_err(HandshakeError::Tls)
}

/// Reads what the client sent (so closing does not reset the connection
/// before the answer is read), answers 400 and closes.
async fn refuse_plain_http(mut tcp: TcpStream) {
    let mut request = vec![0u8; 16 * 1024];
    let _ = tcp.read(&mut request).await;
    let body =
        "This port speaks HTTPS (TLS) only: the client sent plain HTTP. Use an https:// URL.\n";
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.write_all(answer.as_bytes()).await;
    let _ = tcp.shutdown().await;
}
