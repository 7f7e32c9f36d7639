//! A TLS server whose certificate files live in a temp dir, for the reload
//! tests: started with serial 1, and a wait for the certificate a new
//! handshake is shown.
#![allow(dead_code, clippy::unwrap_used)]

use super::{loopback, serve_hello, Pki, RustlsClient};
use std::time::{Duration, Instant};
use tls::{Alpn, Listener, ServerFiles, ServerTls};

pub struct Running {
    pub pki: Pki,
    pub server: ServerTls,
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
    pub addr: std::net::SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

pub async fn start(name: &str) -> (Running, rustls::pki_types::CertificateDer<'static>) {
    let pki = Pki::new(name);
    let (cert, key) = (pki.path("live.pem"), pki.path("live.key"));
    let first = pki.write_server(&cert, &key, 1);
    let server = ServerTls::load(&ServerFiles {
        cert: cert.clone(),
        key: key.clone(),
        client_ca: None,
    })
    .unwrap();
    let listener = Listener::new(
        loopback().await,
        Some(server.config(Alpn::Http1).unwrap()),
        "test",
    );
    let (addr, task) = serve_hello(listener);
    let running = Running {
        pki,
        server,
        cert,
        key,
        addr,
        task,
    };
    (running, first)
}

/// Connects until the server shows `expected` (bounded by 10 s).
pub async fn wait_for_certificate(
    running: &Running,
    expected: &rustls::pki_types::CertificateDer<'static>,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let client = RustlsClient::connect(running.addr, &running.pki.ca())
            .await
            .unwrap();
        if &client.peer_certificate == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was not served within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
