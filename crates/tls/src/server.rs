//! A server's TLS: `--tls-cert`/`--tls-key` behind a [`ReloadingResolver`]
//! and an optional `--tls-client-ca`, turned into one rustls
//! [`ServerConfig`] per listener (they differ only in ALPN: gRPC needs h2,
//! axum's HTTP/1.1 ports offer http/1.1). All configs share the resolver,
//! so one reload serves every listener.

use crate::certified::provider;
use crate::client_ca::client_verifier;
use crate::error::TlsError;
use crate::resolver::ReloadingResolver;
use rustls::server::danger::ClientCertVerifier;
use rustls::ServerConfig;
use std::path::PathBuf;
use std::sync::Arc;

/// The files a TLS listener is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFiles {
    /// PEM certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key: PathBuf,
    /// PEM CA certificates client certificates must chain to (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

/// The application protocols a listener offers in ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alpn {
    /// `h2` only (gRPC).
    H2,
    /// `http/1.1` only (a server that does not speak HTTP/2).
    Http1,
    /// `h2` then `http/1.1`.
    H2AndHttp1,
}

impl Alpn {
    fn protocols(self) -> Vec<Vec<u8>> {
        match self {
            Alpn::H2 => vec![b"h2".to_vec()],
            Alpn::Http1 => vec![b"http/1.1".to_vec()],
            Alpn::H2AndHttp1 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        }
    }
}

/// Loaded server TLS, shared by every listener of a process.
#[derive(Debug, Clone)]
pub struct ServerTls {
    resolver: Arc<ReloadingResolver>,
    client_verifier: Option<Arc<dyn ClientCertVerifier>>,
}

impl ServerTls {
    /// Loads the certificate, key and client CA; fails with the file and
    /// the reason when one cannot serve.
    pub fn load(files: &ServerFiles) -> Result<Self, TlsError> {
        let resolver = Arc::new(ReloadingResolver::load(&files.cert, &files.key)?);
        let client_verifier = match &files.client_ca {
            Some(path) => Some(client_verifier(path)?),
            None => None,
        };
        Ok(Self {
            resolver,
            client_verifier,
        })
    }

    /// The resolver, to reload (see `reload::watch`).
    pub fn resolver(&self) -> &Arc<ReloadingResolver> {
        &self.resolver
    }

    /// Whether clients must present a certificate.
    pub fn mutual(&self) -> bool {
        self.client_verifier.is_some()
    }

    /// A rustls config offering `alpn`.
    pub fn config(&self, alpn: Alpn) -> Result<Arc<ServerConfig>, TlsError> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = match &self.client_verifier {
            Some(verifier) => builder.with_client_cert_verifier(Arc::clone(verifier)),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(Arc::clone(&self.resolver) as _);
        config.alpn_protocols = alpn.protocols();
        Ok(Arc::new(config))
    }
}
