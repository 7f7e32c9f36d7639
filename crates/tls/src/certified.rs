//! A certificate chain and its private key, loaded and checked together:
//! the key must parse with the ring provider and match the first
//! certificate. Also the SHA-256 fingerprint operators compare with
//! `openssl x509 -noout -fingerprint -sha256`.

use crate::error::TlsError;
use crate::pem::{read_certificates, read_private_key};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;
use std::path::Path;
use std::sync::Arc;

/// The crypto provider every config here is built with.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Loads `cert` (the server's certificate first, then intermediates) and
/// `key`, and checks that they belong together.
pub fn load_certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let chain = read_certificates(cert, "certificate")?;
    let private_key = read_private_key(key)?;
    let signing_key = provider()
        .key_provider
        .load_private_key(private_key)
        .map_err(|e| TlsError::UnusableKey {
            path: key.to_path_buf(),
            why: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(certified)
        }
        Err(rustls::Error::InconsistentKeys(_)) => Err(TlsError::KeyMismatch {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        }),
        Err(e) => Err(TlsError::BadCertificate {
            path: cert.to_path_buf(),
            why: e.to_string(),
        }),
    }
}

/// `AB:CD:…`, the SHA-256 of the certificate's DER bytes, as openssl prints it.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_colon_separated_upper_hex() {
        let text = fingerprint(&CertificateDer::from(b"abc".to_vec()));
        assert_eq!(text.len(), 32 * 3 - 1);
        assert!(text.starts_with("BA:78:16:BF:"), "{text}");
    }
}
