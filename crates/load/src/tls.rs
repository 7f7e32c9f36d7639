//! TLS for `https://` targets: rustls (ring provider) with the Mozilla roots of
//! `webpki-roots`, plus a CA file (`--cacert`, for self-signed loopback servers)
//! or no verification at all (`--insecure`). ALPN offers `h2` with `--http2`,
//! else `http/1.1`.

use crate::error::LoadError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_rustls::TlsConnector;

/// How to trust the server's certificate.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Extra trusted CA certificates (PEM), added to the Mozilla roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate (like `curl -k`): for self-signed test servers only.
    pub insecure: bool,
}

/// What each connection needs to open a TLS session.
#[derive(Clone)]
pub struct TlsClient {
    /// The rustls connector.
    pub connector: TlsConnector,
    /// The name checked against the certificate (and sent as SNI).
    pub server_name: ServerName<'static>,
}

fn tls_error(why: String) -> LoadError {
    LoadError::Config(format!("TLS setup failed: {why}"))
}

impl TlsClient {
    /// Builds the client for `host`.
    pub fn new(options: &TlsOptions, host: &str, http2: bool) -> Result<Self, LoadError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(e.to_string()))?;
        let mut config = if options.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            if let Some(path) = &options.ca_file {
                let certificates = CertificateDer::pem_file_iter(path)
                    .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| {
                        tls_error(format!("cannot read --cacert {}: {e}", path.display()))
                    })?;
                if certificates.is_empty() {
                    return Err(tls_error(format!(
                        "no certificates in --cacert {}",
                        path.display()
                    )));
                }
                for certificate in certificates {
                    roots.add(certificate).map_err(|e| {
                        tls_error(format!(
                            "bad certificate in --cacert {}: {e}",
                            path.display()
                        ))
                    })?;
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        let server_name = ServerName::try_from(host.to_string())
            .map_err(|e| tls_error(format!("'{host}' is not a valid TLS server name: {e}")))?;
        Ok(TlsClient {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }
}

/// `--insecure`: accepts every certificate but still checks handshake signatures.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_build_with_and_without_verification() {
        assert!(TlsClient::new(&TlsOptions::default(), "localhost", false).is_ok());
        let insecure = TlsOptions {
            insecure: true,
            ..TlsOptions::default()
        };
        assert!(TlsClient::new(&insecure, "127.0.0.1", true).is_ok());
        let missing = TlsOptions {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsOptions::default()
        };
        let error = TlsClient::new(&missing, "localhost", false)
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("--cacert")));
    }
}
