//! Helpers for the TLS tests: a throwaway PKI made at test time with rcgen
//! (a CA, server certificates for 127.0.0.1 and localhost, client
//! certificates), an axum server on a free loopback port, the real `curl`,
//! and an in-process rustls client that reports the certificate it was shown.
#![allow(dead_code, clippy::unwrap_used)]

pub mod running;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// A CA and the files it signs, in a temp dir removed on drop.
pub struct Pki {
    pub dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    /// A fresh CA named `name`, written to `ca.pem`.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Self { dir, ca }
    }

    /// `ca.pem`.
    pub fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A server certificate for 127.0.0.1, ::1 and localhost with `serial`,
    /// written to `NAME.pem` and `NAME.key`; returns the two paths and the DER.
    pub fn server(&self, name: &str, serial: u64) -> (PathBuf, PathBuf, CertificateDer<'static>) {
        let (cert, key, der) = self.leaf(name, serial, ExtendedKeyUsagePurpose::ServerAuth);
        (cert, key, der)
    }

    /// A client certificate (CN = `name`) written to `NAME.pem` and `NAME.key`.
    pub fn client(&self, name: &str) -> (PathBuf, PathBuf) {
        let (cert, key, _) = self.leaf(name, 7, ExtendedKeyUsagePurpose::ClientAuth);
        (cert, key)
    }

    /// Writes a server certificate and key to the given paths (for reloads).
    pub fn write_server(&self, cert: &Path, key: &Path, serial: u64) -> CertificateDer<'static> {
        let (der, cert_pem, key_pem) = self.make(serial, ExtendedKeyUsagePurpose::ServerAuth);
        std::fs::write(cert, cert_pem).unwrap();
        std::fs::write(key, key_pem).unwrap();
        der
    }

    fn leaf(
        &self,
        name: &str,
        serial: u64,
        usage: ExtendedKeyUsagePurpose,
    ) -> (PathBuf, PathBuf, CertificateDer<'static>) {
        let (der, cert_pem, key_pem) = self.make(serial, usage);
        let (cert, key) = (
            self.path(&format!("{name}.pem")),
            self.path(&format!("{name}.key")),
        );
        std::fs::write(&cert, cert_pem).unwrap();
        std::fs::write(&key, key_pem).unwrap();
        (cert, key, der)
    }

    fn make(
        &self,
        serial: u64,
        usage: ExtendedKeyUsagePurpose,
    ) -> (CertificateDer<'static>, String, String) {
        let mut params = CertificateParams::new(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ])
        .unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("whyslow test {serial}"));
        params.serial_number = Some(SerialNumber::from(serial));
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        (cert.der().clone(), cert.pem(), key.serialize_pem())
    }
}

/// A loopback listener on a free port.
pub async fn loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// Serves "hello over TLS" at `/` on `listener` until the task is aborted.
pub fn serve_hello(listener: tls::Listener) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let addr = listener.local_addr().unwrap();
    let router =
        axum::Router::new().route("/", axum::routing::get(|| async { "hello over TLS\n" }));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (addr, task)
}

/// Runs the real `curl` with a 10 s bound, off the async threads.
pub async fn curl(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "10"])
            .args(&args)
            .output()
            .expect("curl runs (Debian's curl package)")
    })
    .await
    .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An in-process client: TLS to `addr` trusting `ca`, then HTTP/1.1 on the
/// same connection; keeps the connection for more requests.
pub struct RustlsClient {
    pub peer_certificate: CertificateDer<'static>,
    pub alpn: Option<Vec<u8>>,
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
}

impl RustlsClient {
    pub async fn connect(addr: SocketAddr, ca: &Path) -> Result<Self, String> {
        let files = tls::ClientFiles {
            ca: Some(ca.to_path_buf()),
            identity: None,
        };
        let config = tls::client_config(&files).map_err(|e| e.to_string())?;
        Self::connect_with(addr, config).await
    }

    pub async fn connect_with(
        addr: SocketAddr,
        config: Arc<rustls::ClientConfig>,
    ) -> Result<Self, String> {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let stream = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_rustls::TlsConnector::from(config).connect(name, tcp),
        )
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| e.to_string())?;
        let (_, session) = stream.get_ref();
        let peer_certificate = session.peer_certificates().unwrap()[0].clone().into_owned();
        let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(Self {
            peer_certificate,
            alpn,
            sender,
        })
    }

    /// GET `/` on the open connection; the body.
    pub async fn get(&mut self) -> Result<String, String> {
        let request = hyper::Request::get("/")
            .header("host", "127.0.0.1")
            .body(Empty::new())
            .unwrap();
        let response =
            tokio::time::timeout(Duration::from_secs(10), self.sender.send_request(request))
                .await
                .map_err(|_| "request timed out".to_string())?
                .map_err(|e| e.to_string())?;
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok(text(&body.to_bytes()))
    }
}
