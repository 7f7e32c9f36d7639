//! Reading PEM files: certificate chains and private keys (PKCS#8, PKCS#1
//! RSA, SEC1 EC), with errors that tell a missing file from an empty one,
//! a key from an encrypted key. Parsing is rustls-pki-types'; nothing here
//! checks what the certificates say.

use crate::error::TlsError;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

/// Every certificate in `path`, in file order; at least one.
pub fn read_certificates(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| TlsError::Pem {
            what,
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The first private key in `path`.
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let what = "private key";
    let bytes = read(path, what)?;
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) if contains(&bytes, b"ENCRYPTED PRIVATE KEY") => {
            Err(TlsError::EncryptedKey {
                path: path.to_path_buf(),
            })
        }
        Err(pem::Error::NoItemsFound) => Err(TlsError::NoPrivateKey {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(TlsError::Pem {
            what,
            path: path.to_path_buf(),
            why: e.to_string(),
        }),
    }
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f.pem");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn a_missing_file_is_named() {
        let error = read_certificates(Path::new("/nonexistent/cert.pem"), "certificate")
            .expect_err("missing");
        let text = error.to_string();
        assert!(
            text.contains("cannot read certificate file /nonexistent/cert.pem"),
            "{text}"
        );
    }

    #[test]
    fn a_file_without_certificates_says_what_it_expected() {
        let (_dir, path) = file("hello\n");
        let text = read_certificates(&path, "certificate")
            .expect_err("empty")
            .to_string();
        assert!(text.contains("holds no certificate"), "{text}");
        assert!(text.contains("BEGIN CERTIFICATE"), "{text}");
    }

    #[test]
    fn a_file_without_a_key_says_which_kinds_are_read() {
        let (_dir, path) = file("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        let text = read_private_key(&path).expect_err("no key").to_string();
        assert!(text.contains("holds no private key"), "{text}");
        assert!(text.contains("RSA PRIVATE KEY"), "{text}");
    }

    #[test]
    fn an_encrypted_key_is_told_apart() {
        let (_dir, path) = file(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        let text = read_private_key(&path).expect_err("encrypted").to_string();
        assert!(text.contains("encrypted private key"), "{text}");
        assert!(text.contains("openssl pkey"), "{text}");
    }

    #[test]
    fn broken_base64_is_a_pem_error() {
        let (_dir, path) = file("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
        let text = read_certificates(&path, "certificate")
            .expect_err("bad")
            .to_string();
        assert!(text.contains("is not valid PEM"), "{text}");
    }
}
