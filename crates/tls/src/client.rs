//! The client side, for `agent --server https://…`: which servers to trust
//! (`--tls-ca`, else the public web roots of webpki-roots, so no system
//! store is read), an optional client certificate for mutual TLS
//! (`--tls-client-cert`/`--tls-client-key`), and the handshake over an
//! open TCP stream. ALPN offers http/1.1 only: the agent's client speaks
//! nothing else.

use crate::certified::{load_certified_key, provider};
use crate::client_ca::trust_anchors;
use crate::error::TlsError;
use crate::pem::{read_certificates, read_private_key};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The files a TLS client is configured with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFiles {
    /// PEM CA certificates to trust instead of the public roots.
    pub ca: Option<PathBuf>,
    /// PEM certificate chain and private key to present (mutual TLS).
    pub identity: Option<(PathBuf, PathBuf)>,
}

/// A TLS client for one server.
#[derive(Debug, Clone)]
pub struct Client {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl Client {
    /// A client for `host` (a DNS name or an IP address, IPv6 with or
    /// without brackets) with the trust and identity `files` name.
    pub fn new(files: &ClientFiles, host: &str) -> Result<Self, TlsError> {
        Self::with_config(client_config(files)?, host)
    }

    /// A client for `host` with a configuration already loaded (by
    /// [`client_config`]), for clients that dial many hosts.
    pub fn with_config(config: Arc<ClientConfig>, host: &str) -> Result<Self, TlsError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let server_name = ServerName::try_from(host.to_string()).map_err(|e| {
            TlsError::Config(format!("{host:?} is not a host name TLS can verify: {e}"))
        })?;
        Ok(Self {
            config,
            server_name,
        })
    }

    /// Runs the handshake on `tcp`; the error says why the server was not
    /// trusted or refused us.
    pub async fn connect(&self, tcp: TcpStream) -> std::io::Result<TlsStream<TcpStream>> {
        TlsConnector::from(Arc::clone(&self.config))
            .connect(self.server_name.clone(), tcp)
            .await
    }
}

/// The rustls client configuration `files` describe.
pub fn client_config(files: &ClientFiles) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = match &files.ca {
        Some(path) => trust_anchors(path)?,
        None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots);
    let mut config = match &files.identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            // Checked first for the precise error (mismatch, unusable key).
            load_certified_key(cert, key)?;
            builder
                .with_client_auth_cert(
                    read_certificates(cert, "certificate")?,
                    read_private_key(key)?,
                )
                .map_err(|e| TlsError::UnusableKey {
                    path: key.clone(),
                    why: e.to_string(),
                })?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
