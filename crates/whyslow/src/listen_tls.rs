//! TLS on the listeners of `serve` and `agent --listen`: `--tls-cert`,
//! `--tls-key` and `--tls-client-ca` loaded once at start (errors name the
//! flag and the file), a [`tls::Listener`] per port with its ALPN, and the
//! task that reloads the certificate on SIGHUP or file change and says so
//! on stderr. Without the flags every listener is plain TCP, as before.

use crate::cli::ListenTlsArgs;
use anyhow::{Context, Result};
use std::future::Future;
use tls::reload::{Reload, Trigger};
use tls::{Alpn, ServerFiles, ServerTls};
use tokio::net::TcpListener;

/// The loaded TLS of `args`, or `None` without `--tls-cert`.
pub fn load(args: &ListenTlsArgs, who: &str) -> Result<Option<ServerTls>> {
    // clap makes --tls-cert and --tls-key come together.
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    crate::access::warn_if_anyone_may_read("--tls-key", key);
    let files = ServerFiles {
        cert: cert.clone(),
        key: key.clone(),
        client_ca: args.tls_client_ca.clone(),
    };
    let server = ServerTls::load(&files)
        .context("--tls-cert, --tls-key, --tls-client-ca: cannot serve TLS with these files")?;
    let loaded = server.resolver().describe();
    eprintln!(
        "whyslow{who}: TLS with {} (SHA-256 {}, {} certificate{} in the chain){}; re-read on SIGHUP or when {} or {} changes",
        cert.display(),
        loaded.fingerprint,
        loaded.chain_len,
        if loaded.chain_len == 1 { "" } else { "s" },
        match &args.tls_client_ca {
            Some(ca) => format!(
                "; clients must present a certificate issued by a CA in {}",
                ca.display()
            ),
            None => String::new(),
        },
        cert.display(),
        key.display(),
    );
    Ok(Some(server))
}

/// `tcp` as a listener, TLS offering `alpn` when `tls` is given.
pub fn listener(
    tcp: TcpListener,
    tls: Option<&ServerTls>,
    alpn: Alpn,
    name: &str,
) -> Result<tls::Listener> {
    let config = match tls {
        Some(server) => Some(
            server
                .config(alpn)
                .with_context(|| format!("configuring TLS for the {name} listener"))?,
        ),
        None => None,
    };
    Ok(tls::Listener::new(tcp, config, name))
}

/// Reloads `server`'s certificate on SIGHUP or file change until `stop`,
/// logging each attempt.
pub fn spawn_reload(
    server: &ServerTls,
    who: &'static str,
    stop: impl Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let resolver = std::sync::Arc::clone(server.resolver());
    tokio::spawn(tls::reload::watch(
        resolver,
        tls::reload::POLL_INTERVAL,
        stop,
        move |reload| eprintln!("{}", reload_line(who, &reload)),
    ))
}

fn reload_line(who: &str, reload: &Reload<'_>) -> String {
    let why = match reload.trigger {
        Trigger::Hangup => "on SIGHUP".to_string(),
        Trigger::FileChanged => format!(
            "after {} or {} changed",
            reload.resolver.cert_path().display(),
            reload.resolver.key_path().display()
        ),
    };
    match &reload.result {
        Ok(loaded) => format!(
            "whyslow{who}: TLS certificate reloaded {why}: now SHA-256 {}",
            loaded.fingerprint
        ),
        Err(error) => format!(
            "whyslow{who}: TLS certificate not reloaded {why}: {error}; still serving SHA-256 {}",
            reload.resolver.describe().fingerprint
        ),
    }
}
