//! Who may use the listeners of `serve` and `agent`: `--auth-file` loaded
//! into a [`gate::Gate`], the warning for a listener beyond loopback that
//! takes anyone, and the agent's `--token-file`.

use anyhow::{Context, Result};
use auth::{AuthFile, Authenticator};
use gate::{Gate, GateOptions};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// The gate over the tokens of `path`. A bad file stops the command with
/// the file, line and what is wrong.
pub fn load_gate(path: &Path, options: GateOptions) -> Result<Arc<Gate>> {
    let file = AuthFile::load(path).context("--auth-file")?;
    let authenticator = Authenticator::new(file).context("setting up --auth-file")?;
    Ok(Gate::new(Arc::new(authenticator), options))
}

/// Whether a listener on `address` takes anyone from beyond this machine:
/// not loopback, and no `--auth-file`.
pub fn open_beyond_loopback(address: IpAddr, has_auth_file: bool) -> bool {
    !has_auth_file && !address.is_loopback()
}

/// Says on standard error that `what` on `address` takes anyone.
pub fn warn_open(who: &str, what: &str, address: IpAddr) {
    eprintln!(
        "{who}: WARNING: {what} on {address} without --auth-file: anyone who can reach it may \
         use it. Give --auth-file (tokens from `whyslow auth token`, lines from `whyslow auth \
         hash`), or --insecure-allow-anonymous to run it open on purpose."
    );
}

/// Warns on stderr when anyone on the machine may read the secret in `path`
/// (a token file, a TLS private key), as ssh does for private keys, without
/// refusing it (keys mounted from secret stores are often 0644).
pub fn warn_if_anyone_may_read(flag: &str, path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o004 != 0 {
        eprintln!(
            "whyslow: WARNING: {flag} {} may be read by anyone on this machine (mode {mode:04o}); \
             run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
}

/// The token in `path` (one line, as `whyslow auth token > FILE` writes it).
pub fn read_token_file(path: &Path) -> Result<String> {
    warn_if_anyone_may_read("--token-file", path);
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--token-file {}: cannot read it", path.display()))?;
    let token = auth::token_from_line(&text).with_context(|| {
        format!(
            "--token-file {}: one token on one line expected",
            path.display()
        )
    })?;
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn only_listeners_beyond_loopback_without_tokens_are_open() {
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        assert!(open_beyond_loopback(any, false));
        assert!(open_beyond_loopback(
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            false
        ));
        assert!(!open_beyond_loopback(any, true));
        assert!(!open_beyond_loopback(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            false
        ));
        assert!(!open_beyond_loopback(
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            false
        ));
    }

    #[test]
    fn a_token_file_holds_one_token_and_errors_never_show_it() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        std::fs::write(&good, "a-token-of-forty-three-characters-0123456789\n").unwrap();
        assert_eq!(
            read_token_file(&good).unwrap(),
            "a-token-of-forty-three-characters-0123456789"
        );
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "two words-secret-0123456789\n").unwrap();
        let error = format!("{:#}", read_token_file(&bad).unwrap_err());
        assert!(error.contains("--token-file"), "{error}");
        assert!(!error.contains("secret"), "{error}");
        assert!(read_token_file(&dir.path().join("missing")).is_err());
    }
}
