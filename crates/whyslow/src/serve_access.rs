//! `serve --auth-file` and `--insecure-allow-anonymous`: which permission each
//! route of the UI port needs, the login routes beside them, the security
//! headers on all of them, and the token `serve` scrapes its own `/metrics`
//! with. The OTLP ports take the same gate (ingest) in `ingest::serve_grpc`
//! and `ingest::serve_http`.

use crate::cli::ServeArgs;
use anyhow::{Context, Result};
use auth::{Entry, Permission, Role};
use axum::Router;
use gate::{Gate, GateOptions};
use ingest::scrape::Authorization;
use std::sync::Arc;

/// The access settings of one `serve`.
pub struct Access {
    /// The gate, with `--auth-file`.
    pub gate: Option<Arc<Gate>>,
    /// What serve's scrape of its own `/metrics` sends, with `--auth-file`.
    pub self_scrape: Option<Authorization>,
    /// Listening beyond loopback without `--auth-file` nor `--insecure-allow-anonymous`.
    pub warn_open: bool,
}

impl Access {
    /// Loads `--auth-file` (with an extra read token for the self-scrape
    /// when it is on) or says on stderr that the listeners are open.
    pub fn open(args: &ServeArgs) -> Result<Access> {
        let Some(path) = &args.auth_file else {
            let warn_open = crate::access::open_beyond_loopback(args.bind, false)
                && !args.insecure_allow_anonymous;
            if warn_open {
                crate::access::warn_open("whyslow", "serve listens", args.bind);
            }
            return Ok(Access {
                gate: None,
                self_scrape: None,
                warn_open,
            });
        };
        let (extra, self_scrape) = if args.self_scrape_interval.is_zero() {
            (Vec::new(), None)
        } else {
            let (entry, token) = self_scrape_token()?;
            (vec![entry], Some(Authorization(format!("Bearer {token}"))))
        };
        let options = GateOptions {
            login: true,
            ..GateOptions::default()
        };
        Ok(Access {
            gate: Some(crate::access::load_gate(path, extra, options)?),
            self_scrape,
            warn_open: false,
        })
    }

    /// The UI port's router: `read` routes (query APIs, UI, `/metrics`) need
    /// read, `write` routes (remote_write, Pyroscope ingest) need ingest, the
    /// login routes none; security headers on every answer.
    pub fn ui_router(&self, read: Router, write: Router) -> Router {
        let router = match &self.gate {
            Some(gate) => gate
                .protect(read, Permission::Read)
                .merge(gate.protect(write, Permission::Ingest))
                .merge(gate.login_routes()),
            None => read.merge(write),
        };
        gate::security_headers(router)
    }
}

/// A fresh read token for serve's scrape of itself, and its auth-file entry
/// (hashed once at start; it lives only in this process).
fn self_scrape_token() -> Result<(Entry, String)> {
    let token = auth::new_token().context("making the self-scrape token")?;
    let phc = auth::hash_token(&token).context("hashing the self-scrape token")?;
    let hash = auth::TokenHash::parse(&phc).context("reading the self-scrape token's hash")?;
    let entry = Entry {
        role: Role::Read,
        hash,
        // Not a name a file line may have (it has spaces): it cannot clash.
        name: Some("serve self-scrape".to_string()),
        line: 0,
    };
    Ok((entry, token))
}
