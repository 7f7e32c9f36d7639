//! `serve --auth-file` and `--insecure-allow-anonymous`: which permission each
//! route of the UI port needs, the login routes beside them (their session
//! cookie `Secure` when the ports speak TLS) and the security headers on all
//! of them. The OTLP ports take the same gate (ingest) in `ingest::serve_grpc`
//! and `ingest::serve_http`. `serve` scrapes its own `/metrics` in process,
//! past the gate, so it needs no token.

use crate::cli::ServeArgs;
use anyhow::Result;
use auth::Permission;
use axum::Router;
use gate::{FairShareOptions, Gate, GateOptions};
use std::sync::Arc;

/// The access settings of one `serve`.
pub struct Access {
    /// The gate, with `--auth-file`.
    pub gate: Option<Arc<Gate>>,
    /// Listening beyond loopback without `--auth-file` nor `--insecure-allow-anonymous`.
    pub warn_open: bool,
}

impl Access {
    /// Loads `--auth-file` or says on stderr that the listeners are open.
    pub fn open(args: &ServeArgs) -> Result<Access> {
        let Some(path) = &args.auth_file else {
            let warn_open = crate::access::open_beyond_loopback(args.bind, false)
                && !args.insecure_allow_anonymous;
            if warn_open {
                crate::access::warn_open("whyslow", "serve listens", args.bind);
            }
            return Ok(Access {
                gate: None,
                warn_open,
            });
        };
        let options = GateOptions {
            login: true,
            // Browsers send a `Secure` cookie over https only.
            secure_cookies: args.tls.tls_cert.is_some(),
            ..GateOptions::default()
        };
        Ok(Access {
            gate: Some(crate::access::load_gate(path, options)?),
            warn_open: false,
        })
    }

    /// The UI port's router: `read` routes (query APIs, UI, `/metrics`) need
    /// read, `write` routes (remote_write, Pyroscope ingest) need ingest, the
    /// login routes none; each reader gets its fair `share` of the query
    /// routes; security headers on every answer.
    pub fn ui_router(&self, read: Router, write: Router, share: FairShareOptions) -> Router {
        let read = gate::fair_share(read, share);
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
