//! The server certificate every handshake gets, swappable while serving:
//! a rustls [`ResolvesServerCert`] holding the current [`CertifiedKey`]
//! behind a lock. [`ReloadingResolver::reload`] reads the files again and
//! swaps only when the new pair loads and matches; otherwise the old one
//! stays and the error says why. Open connections never notice: they keep
//! the session they negotiated.
//!
//! What triggers a reload (SIGHUP, a changed file) is `reload.rs`'s job.

use crate::certified::{fingerprint, load_certified_key};
use crate::error::TlsError;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

/// The current certificate and key, and the files they come from.
#[derive(Debug)]
pub struct ReloadingResolver {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// What the files looked like when last read (successfully or not).
    seen: Mutex<[FileStamp; 2]>,
}

/// What a successful load put in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// SHA-256 fingerprint of the server's certificate.
    pub fingerprint: String,
    /// Certificates in the chain (the server's and its intermediates).
    pub chain_len: usize,
}

/// Modification time, length and inode: enough to notice a rewrite, a
/// rename over the file, or a symlink switched to another target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Self {
        match std::fs::metadata(path) {
            Ok(meta) => Self {
                modified: meta.modified().ok(),
                len: meta.len(),
                inode: inode(&meta),
            },
            Err(_) => Self::default(),
        }
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}

impl ReloadingResolver {
    /// Loads `cert` and `key`; fails when they cannot serve.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let seen = [FileStamp::of(cert), FileStamp::of(key)];
        let certified = load_certified_key(cert, key)?;
        Ok(Self {
            cert_path: cert.to_path_buf(),
            key_path: key.to_path_buf(),
            current: RwLock::new(Arc::new(certified)),
            seen: Mutex::new(seen),
        })
    }

    /// The certificate file.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// The key file.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// The pair handshakes get now.
    pub fn current(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// What the current pair is.
    pub fn describe(&self) -> Loaded {
        describe(&self.current())
    }

    /// Reads both files again and swaps them in when they load and match;
    /// on error the current pair stays.
    pub fn reload(&self) -> Result<Loaded, TlsError> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = self.stamps();
        let certified = Arc::new(load_certified_key(&self.cert_path, &self.key_path)?);
        let loaded = describe(&certified);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = certified;
        Ok(loaded)
    }

    /// [`Self::reload`] when either file changed since the last read, else `None`.
    pub fn reload_if_changed(&self) -> Option<Result<Loaded, TlsError>> {
        let now = self.stamps();
        let changed = *self.seen.lock().unwrap_or_else(PoisonError::into_inner) != now;
        changed.then(|| self.reload())
    }

    fn stamps(&self) -> [FileStamp; 2] {
        [
            FileStamp::of(&self.cert_path),
            FileStamp::of(&self.key_path),
        ]
    }
}

fn describe(certified: &CertifiedKey) -> Loaded {
    Loaded {
        fingerprint: certified.cert.first().map(fingerprint).unwrap_or_default(),
        chain_len: certified.cert.len(),
    }
}

impl ResolvesServerCert for ReloadingResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}
