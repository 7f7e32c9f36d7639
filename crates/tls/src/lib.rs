//! TLS for whyslow's listeners and the agent's client, on rustls with the
//! ring provider (tokio-rustls underneath; no aws-lc, no OpenSSL).
//!
//! 1. [`ServerTls::load`] reads `--tls-cert`/`--tls-key` (PEM; PKCS#8, RSA
//!    or SEC1 keys) and `--tls-client-ca` (mutual TLS) and fails with the
//!    file and the reason: missing, no certificate, no key, encrypted key,
//!    key not matching the certificate ([`TlsError`]).
//! 2. [`ServerTls::config`] gives each listener its rustls config with
//!    its ALPN ([`Alpn`]: `h2` for gRPC, `http/1.1` for axum's ports); all
//!    share one [`ReloadingResolver`], so [`reload::watch`] (SIGHUP, or the
//!    files changed) swaps the certificate for every listener at once.
//!    Open connections keep theirs; a bad new file keeps the old one.
//! 3. [`Listener`] accepts TCP and runs each handshake in its own task with
//!    a timeout, handing finished connections ([`Connection`], plain or TLS)
//!    to `axum::serve` (it is an `axum::serve::Listener`) or to tonic's
//!    `serve_with_incoming_shutdown` ([`Listener::into_incoming`]). axum
//!    servers on it take the client's address as `ConnectInfo<`[`Peer`]`>`.
//! 4. [`Client`] is the agent's side: trust `--tls-ca` or the public roots,
//!    present `--tls-client-cert`/`--tls-client-key` when given.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use tls::{Alpn, Listener, ServerFiles, ServerTls};
//! let files = ServerFiles { cert: "cert.pem".into(), key: "key.pem".into(), client_ca: None };
//! let server = ServerTls::load(&files)?;
//! let tcp = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
//! let listener = Listener::new(tcp, Some(server.config(Alpn::Http1)?), "UI");
//! axum::serve(listener, axum::Router::new()).await?;
//! # Ok(()) }
//! ```
//!
//! Why hand-written: `axum-server` (0.7/0.8) reloads a rustls config but
//! runs its own accept loop and server instead of `axum::serve`, and feeds
//! nothing to tonic. `tls-listener` 0.11 (its MSRV and dependencies would
//! fit) does concurrent handshakes, but plain and TLS listeners would then
//! be different types through `serve`, tonic's `Connected` for rustls
//! streams sits behind tonic's own TLS feature, and it answers plain HTTP
//! on a TLS port with a dropped connection. Neither watches files. What is
//! left (a resolver behind a lock, a `JoinSet` of handshakes with a
//! timeout, an enum over two stream types) is small; rustls, tokio-rustls
//! and webpki-roots were in the build already.

mod certified;
mod client;
mod client_ca;
mod connection;
mod error;
mod failures;
mod handshake;
mod listener;
mod peer;
mod pem;
pub mod reload;
mod resolver;
mod server;

pub use certified::{fingerprint, load_certified_key};
pub use client::{client_config, Client, ClientFiles};
pub use client_ca::client_verifier;
pub use connection::Connection;
pub use error::TlsError;
pub use handshake::{HandshakeError, HANDSHAKE_TIMEOUT};
pub use listener::Listener;
pub use peer::Peer;
pub use resolver::{Loaded, ReloadingResolver};
/// rustls's client configuration, as [`client_config`] returns it.
pub use rustls::ClientConfig;
pub use server::{Alpn, ServerFiles, ServerTls};
