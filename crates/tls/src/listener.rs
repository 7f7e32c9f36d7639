//! A TCP listener that hands out finished connections, plain or TLS, to
//! axum (`axum::serve::Listener`) and tonic (`serve_with_incoming*` through
//! [`Listener::into_incoming`]). Each TLS handshake runs in its own task
//! with a timeout ([`HANDSHAKE_TIMEOUT`]); `accept` returns whichever
//! finishes first, so one silent or slow client never holds up the others.
//! Dropping the listener (a server's graceful shutdown does) closes the
//! port and abandons handshakes still in progress; connections already
//! handed out are the server's and live on.

use crate::connection::Connection;
use crate::failures::FailureLog;
use crate::handshake::{handshake, HandshakeError, HANDSHAKE_TIMEOUT};
use futures_util::stream::Stream;
use rustls::ServerConfig;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

type Handshake = (SocketAddr, Result<Connection, HandshakeError>);

/// A listener whose connections are plain TCP or TLS.
#[derive(Debug)]
pub struct Listener {
    tcp: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    handshake_timeout: Duration,
    handshakes: JoinSet<Handshake>,
    failures: FailureLog,
}

impl Listener {
    /// Serves `tcp` with TLS when `tls` is given, plain otherwise; `name`
    /// ("OTLP/gRPC") appears in logged handshake failures.
    pub fn new(tcp: TcpListener, tls: Option<Arc<ServerConfig>>, name: &str) -> Self {
        Self {
            tcp,
            tls,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            handshakes: JoinSet::new(),
            failures: FailureLog::new(name),
        }
    }

    /// Gives clients `timeout` to finish their handshake instead of [`HANDSHAKE_TIMEOUT`].
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// `https` or `http`, for the addresses a server prints.
    pub fn scheme(&self) -> &'static str {
        if self.is_tls() {
            "https"
        } else {
            "http"
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The next connection ready to serve: accepted, and past its handshake
    /// when the listener is TLS. Accept errors (out of file descriptors) are
    /// retried after a pause, as axum's own listener does.
    pub async fn accept(&mut self) -> (Connection, SocketAddr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        if let Some(ready) = self.start(tcp, peer) {
                            return ready;
                        }
                    }
                    Err(e) => pause_after(e).await,
                },
                Some(finished) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    // A handshake task that panicked is a dropped connection.
                    match finished {
                        Ok((peer, Ok(connection))) => return (connection, peer),
                        Ok((peer, Err(error))) => self.failures.note(peer, &error),
                        Err(_) => {}
                    }
                }
            }
        }
    }

    /// A plain connection is ready at once; a TLS one starts its handshake.
    fn start(&mut self, tcp: TcpStream, peer: SocketAddr) -> Option<(Connection, SocketAddr)> {
        let _ = tcp.set_nodelay(true);
        let Some(config) = &self.tls else {
            return Some((Connection::Plain(tcp), peer));
        };
        let acceptor = TlsAcceptor::from(Arc::clone(config));
        let timeout = self.handshake_timeout;
        self.handshakes
            .spawn(async move { (peer, handshake(tcp, acceptor, timeout).await) });
        None
    }

    /// The connections as the stream tonic's `serve_with_incoming_shutdown` takes.
    pub fn into_incoming(self) -> impl Stream<Item = Result<Connection, Infallible>> + Send {
        futures_util::stream::unfold(self, |mut listener| async move {
            let (connection, _peer) = listener.accept().await;
            Some((Ok(connection), listener))
        })
    }
}

impl From<TcpListener> for Listener {
    /// A plain listener.
    fn from(tcp: TcpListener) -> Self {
        Self::new(tcp, None, "listener")
    }
}

impl axum::serve::Listener for Listener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        Listener::accept(self).await
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Listener::local_addr(self)
    }
}

/// Errors of one connection (reset before accept) are retried at once;
/// others (EMFILE, ENFILE, ENOBUFS) after a second, to let resources free up.
async fn pause_after(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    eprintln!("whyslow: accepting a connection failed: {error} (retrying in 1 s)");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
