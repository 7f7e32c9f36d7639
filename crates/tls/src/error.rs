//! Why TLS material could not be loaded: each variant names the file and,
//! where there is one, the way out. Handshake failures of single connections
//! are not errors here; the listener logs them (`failures.rs`).

use std::path::PathBuf;
use thiserror::Error;

/// A certificate, key or CA file that cannot be used.
#[derive(Debug, Error)]
pub enum TlsError {
    /// The file could not be read at all.
    #[error("cannot read {what} file {}: {source}", path.display())]
    Read {
        /// "certificate", "private key", "CA certificate".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not well-formed PEM.
    #[error("{what} file {} is not valid PEM: {why}", path.display())]
    Pem {
        /// What the file should hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The PEM parser's words.
        why: String,
    },
    /// The file has no `-----BEGIN CERTIFICATE-----` section.
    #[error(
        "{} holds no certificate: expected a PEM file with -----BEGIN CERTIFICATE----- \
         (the server's certificate first, then its intermediates)",
        path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The file has no private key section the server can use.
    #[error(
        "{} holds no private key: expected -----BEGIN PRIVATE KEY----- (PKCS#8), \
         -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----",
        path.display()
    )]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is encrypted with a passphrase.
    #[error(
        "{} holds an encrypted private key, which cannot be read without its passphrase: \
         decrypt it once with `openssl pkey -in {} -out key.pem`",
        path.display(),
        path.display()
    )]
    EncryptedKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is of a kind the crypto provider does not take (or is damaged).
    #[error("the private key in {} cannot be used: {why}", path.display())]
    UnusableKey {
        /// The file.
        path: PathBuf,
        /// rustls's words.
        why: String,
    },
    /// The key does not belong to the first certificate.
    #[error(
        "the private key in {} does not match the certificate in {} \
         (the first certificate in the file must be the one the key was made for)",
        key.display(),
        cert.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// The first certificate cannot be parsed.
    #[error("the certificate in {} cannot be used: {why}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// rustls's words.
        why: String,
    },
    /// The certificates of a CA file cannot be trust anchors.
    #[error("the CA certificates in {} cannot be used: {why}", path.display())]
    BadCa {
        /// The file.
        path: PathBuf,
        /// rustls's words.
        why: String,
    },
    /// rustls refused the configuration (protocol versions, verifier).
    #[error("TLS configuration: {0}")]
    Config(String),
}
