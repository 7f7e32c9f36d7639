//! Mutual TLS: a client must present a certificate issued by one of the CAs
//! in `--tls-client-ca`, or the handshake fails (rustls's
//! [`WebPkiClientVerifier`]; clients without a certificate are refused too).
//! The CA file is read once, at start.

use crate::certified::provider;
use crate::error::TlsError;
use crate::pem::read_certificates;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use std::path::Path;
use std::sync::Arc;

/// A verifier that takes only clients with a certificate from the CAs in `path`.
pub fn client_verifier(path: &Path) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let roots = trust_anchors(path)?;
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| TlsError::BadCa {
            path: path.to_path_buf(),
            why: e.to_string(),
        })
}

/// The certificates in `path` as trust anchors (servers' and clients' CAs alike).
pub fn trust_anchors(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in read_certificates(path, "CA certificate")? {
        roots.add(cert).map_err(|e| TlsError::BadCa {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
    }
    Ok(roots)
}
