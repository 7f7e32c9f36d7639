//! How a scrape proves who it is and whom it trusts, in the words of
//! Prometheus's scrape config: `authorization` (`type`, `credentials` or
//! `credentials_file`), `basic_auth` (`username`, `password` or
//! `password_file`) and, with `scheme: https`, `tls_config` (`ca_file`,
//! `cert_file`, `key_file`, `server_name`). Relative file names are read
//! from the config file's directory, once, when the config loads (restart
//! `serve` after changing one; Prometheus re-reads them every scrape).
//!
//! `insecure_skip_verify: true` is refused: give the target's CA in
//! `ca_file` instead. Without `ca_file` the public web roots are trusted.
//! Secrets never reach `Debug` output or error messages.

use base64::Engine;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};
use std::fmt;
use std::path::{Path, PathBuf};

/// `authorization:` of a job.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuthorizationConfig {
    #[serde(rename = "type")]
    kind: Option<String>,
    credentials: Option<String>,
    credentials_file: Option<String>,
}

/// `basic_auth:` of a job.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BasicAuthConfig {
    username: Option<String>,
    username_file: Option<String>,
    password: Option<String>,
    password_file: Option<String>,
}

/// `tls_config:` of a job.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TlsConfig {
    ca_file: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    server_name: Option<String>,
    #[serde(default)]
    insecure_skip_verify: bool,
}

/// The `Authorization` header value a target's scrapes send.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization(pub(super) String);

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Authorization(<redacted>)")
    }
}

/// What went wrong, and where in the file.
pub(super) type Wrong = (Location, String);

/// The header a job's `authorization` or `basic_auth` asks for (not both).
pub(super) fn authorization(
    authorization: Option<&Spanned<AuthorizationConfig>>,
    basic_auth: Option<&Spanned<BasicAuthConfig>>,
    base: &Path,
) -> Result<Option<Authorization>, Wrong> {
    match (authorization, basic_auth) {
        (Some(a), Some(_)) => Err((
            a.referenced,
            "give authorization or basic_auth, not both".into(),
        )),
        (Some(a), None) => {
            let at = |why: String| (a.referenced, format!("authorization: {why}"));
            let kind = a.value.kind.as_deref().unwrap_or("Bearer");
            if kind.eq_ignore_ascii_case("basic") {
                return Err(at("type Basic is set with basic_auth instead".into()));
            }
            if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(at(format!("type {kind:?} is not an HTTP auth scheme")));
            }
            let credentials = secret(
                a.value.credentials.as_deref(),
                a.value.credentials_file.as_deref(),
                ("credentials", "credentials_file"),
                base,
            )
            .map_err(at)?;
            header(format!("{kind} {credentials}"))
                .map(Some)
                .map_err(at)
        }
        (None, Some(b)) => {
            let at = |why: String| (b.referenced, format!("basic_auth: {why}"));
            let username = secret(
                b.value.username.as_deref(),
                b.value.username_file.as_deref(),
                ("username", "username_file"),
                base,
            )
            .map_err(at)?;
            if username.contains(':') {
                return Err(at("the username cannot hold ':'".into()));
            }
            let password = match (&b.value.password, &b.value.password_file) {
                (None, None) => String::new(),
                (password, file) => secret(
                    password.as_deref(),
                    file.as_deref(),
                    ("password", "password_file"),
                    base,
                )
                .map_err(at)?,
            };
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            header(format!("Basic {encoded}")).map(Some).map_err(at)
        }
        (None, None) => Ok(None),
    }
}

/// The TLS client a job's `tls_config` describes, for one target `host`.
pub(super) fn tls_client(
    config: Option<&Spanned<TlsConfig>>,
    host: &str,
    base: &Path,
) -> Result<tls::Client, Wrong> {
    let mut files = tls::ClientFiles::default();
    let mut server_name = host.to_string();
    if let Some(config) = config {
        let at = |why: String| (config.referenced, format!("tls_config: {why}"));
        let c = &config.value;
        if c.insecure_skip_verify {
            return Err(at(
                "insecure_skip_verify is not supported: give the target's CA certificate in \
                 ca_file instead"
                    .into(),
            ));
        }
        files.ca = c.ca_file.as_deref().map(|f| resolve(base, f));
        files.identity = match (&c.cert_file, &c.key_file) {
            (Some(cert), Some(key)) => Some((resolve(base, cert), resolve(base, key))),
            (None, None) => None,
            _ => return Err(at("cert_file and key_file come together".into())),
        };
        if let Some(name) = &c.server_name {
            server_name.clone_from(name);
        }
    }
    tls::Client::new(&files, &server_name).map_err(|e| {
        (
            config.map_or(Location::UNKNOWN, |c| c.referenced),
            format!("tls_config: {e}"),
        )
    })
}

/// The host of a `host:port` target (IPv6 in brackets kept whole).
pub(super) fn host_of(address: &str) -> &str {
    match address.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        _ => address,
    }
}

/// `value`, or the trimmed first line of `file`; exactly one of them.
fn secret(
    value: Option<&str>,
    file: Option<&str>,
    (value_name, file_name): (&str, &str),
    base: &Path,
) -> Result<String, String> {
    let text = match (value, file) {
        (Some(_), Some(_)) => return Err(format!("give {value_name} or {file_name}, not both")),
        (None, None) => return Err(format!("{value_name} or {file_name} is required")),
        (Some(value), None) => value.to_string(),
        (None, Some(file)) => {
            let path = resolve(base, file);
            std::fs::read_to_string(&path)
                .map_err(|e| format!("{file_name} {}: {e}", path.display()))?
        }
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{value_name} is empty"));
    }
    Ok(text.to_string())
}

/// A header value, never echoed when it is not one.
fn header(value: String) -> Result<Authorization, String> {
    if value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        Ok(Authorization(value))
    } else {
        Err("the credentials hold characters an HTTP header cannot carry".into())
    }
}

fn resolve(base: &Path, file: &str) -> PathBuf {
    let path = Path::new(file);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spanned<T>(value: T) -> Spanned<T> {
        Spanned::new(value, Location::UNKNOWN, Location::UNKNOWN)
    }

    fn bearer(credentials: Option<&str>, file: Option<&str>) -> Spanned<AuthorizationConfig> {
        spanned(AuthorizationConfig {
            kind: None,
            credentials: credentials.map(str::to_string),
            credentials_file: file.map(str::to_string),
        })
    }

    #[test]
    fn authorization_defaults_to_bearer_and_reads_files() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("token"), "s3cret-token\n").expect("write");
        let from_file = authorization(Some(&bearer(None, Some("token"))), None, dir.path());
        assert_eq!(
            from_file.expect("ok"),
            Some(Authorization("Bearer s3cret-token".into()))
        );
        let inline = authorization(Some(&bearer(Some("abc"), None)), None, dir.path());
        assert_eq!(
            inline.expect("ok"),
            Some(Authorization("Bearer abc".into()))
        );
        let both = authorization(Some(&bearer(Some("a"), Some("token"))), None, dir.path());
        assert!(both.expect_err("both").1.contains("not both"));
        let missing = authorization(Some(&bearer(None, Some("nope"))), None, dir.path());
        assert!(missing.expect_err("missing").1.contains("credentials_file"));
    }

    #[test]
    fn basic_auth_encodes_user_and_password() {
        let basic = spanned(BasicAuthConfig {
            username: Some("prometheus".into()),
            username_file: None,
            password: Some("pa:ss".into()),
            password_file: None,
        });
        let header = authorization(None, Some(&basic), Path::new(".")).expect("ok");
        // base64("prometheus:pa:ss")
        assert_eq!(
            header,
            Some(Authorization("Basic cHJvbWV0aGV1czpwYTpzcw==".into()))
        );
        assert_eq!(
            format!("{:?}", header.expect("some")),
            "Authorization(<redacted>)"
        );
    }

    #[test]
    fn skipping_verification_is_refused() {
        let config = spanned(TlsConfig {
            ca_file: None,
            cert_file: None,
            key_file: None,
            server_name: None,
            insecure_skip_verify: true,
        });
        let err = tls_client(Some(&config), "h", Path::new(".")).expect_err("refused");
        assert!(err.1.contains("ca_file"), "{}", err.1);
        assert_eq!(host_of("[::1]:9100"), "[::1]");
        assert_eq!(host_of("node:9100"), "node");
    }
}
