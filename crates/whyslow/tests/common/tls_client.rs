//! In-process TLS clients for the end-to-end tests, on rustls through the
//! `tls` crate's client config: one OTLP/gRPC `TraceService/Export` call
//! over HTTP/2 (ALPN h2), and an HTTP/1.1 connection kept open across
//! requests that reports the certificate the server showed.
#![allow(dead_code, clippy::unwrap_used)]

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::TlsConnector;

/// The OTLP/gRPC trace export path.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

fn config(ca: &Path, alpn: &[u8]) -> Arc<ClientConfig> {
    let files = tls::ClientFiles {
        ca: Some(ca.to_path_buf()),
        identity: None,
    };
    let mut config = (*tls::client_config(&files).unwrap()).clone();
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

async fn connect(
    addr: &str,
    config: Arc<ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    tokio::time::timeout(
        Duration::from_secs(10),
        TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .map_err(|_| "TLS handshake timed out".to_string())?
    .map_err(|e| e.to_string())
}

/// Sends one protobuf `message` as a unary gRPC call to `path` over TLS;
/// returns `grpc-status` (from the trailers, or the headers of a
/// trailers-only answer).
pub async fn grpc_unary(
    addr: &str,
    ca: &Path,
    path: &str,
    message: &[u8],
) -> Result<String, String> {
    let stream = connect(addr, config(ca, b"h2")).await?;
    let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    if alpn.as_deref() != Some(&b"h2"[..]) {
        return Err(format!("ALPN settled on {alpn:?}, not h2"));
    }
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let mut frame = vec![0u8];
    frame.extend(u32::try_from(message.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(message);
    let request = hyper::Request::post(format!("https://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from(frame)))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
        .await
        .map_err(|_| "gRPC call timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let in_headers = response.headers().get("grpc-status").cloned();
    let collected = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let status = in_headers
        .or_else(|| {
            collected
                .trailers()
                .and_then(|t| t.get("grpc-status").cloned())
        })
        .ok_or("no grpc-status in the answer")?;
    Ok(status.to_str().unwrap_or_default().to_string())
}

/// An HTTP/1.1 connection over TLS, kept open.
pub struct KeptOpen {
    /// The server's certificate, as shown in the handshake.
    pub peer_certificate: CertificateDer<'static>,
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
}

impl KeptOpen {
    pub async fn connect(addr: &str, ca: &Path) -> Result<Self, String> {
        let stream = connect(addr, config(ca, b"http/1.1")).await?;
        let peer_certificate = stream.get_ref().1.peer_certificates().unwrap()[0]
            .clone()
            .into_owned();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(Self {
            peer_certificate,
            sender,
        })
    }

    /// GET `path`: status and body.
    pub async fn get(&mut self, path: &str) -> Result<(u16, String), String> {
        let request = hyper::Request::get(path)
            .header("host", "127.0.0.1")
            .body(Empty::new())
            .unwrap();
        let response =
            tokio::time::timeout(Duration::from_secs(10), self.sender.send_request(request))
                .await
                .map_err(|_| "request timed out".to_string())?
                .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// The DER of the first certificate in a PEM file.
pub fn certificate_in(pem: &Path) -> CertificateDer<'static> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_file(pem).unwrap()
}
