//! The one credentials check behind every guard: the authenticator's cached
//! answer when it has one (a microsecond), else argon2 on tokio's blocking
//! pool so async workers never stall, with at most
//! [`GateOptions::max_waiting_verifications`](crate::GateOptions) requests
//! waiting for it.

use crate::refusal::Refusal;
use crate::Gate;
use auth::{Identity, Permission};
use std::net::IpAddr;
use std::sync::Arc;

impl Gate {
    /// Whether the `Authorization` header value `header` (`None` without
    /// one) grants `permission` to a client at `client`.
    pub async fn check_header(
        &self,
        header: Option<&[u8]>,
        client: IpAddr,
        permission: Permission,
    ) -> Result<Identity, Refusal> {
        if let Some(decision) = self.auth.authorize_cached(header, client, permission) {
            return decision.map_err(Refusal::from);
        }
        // A token not verified yet: argon2 (tens of ms, one at a time
        // process-wide). Bound how many requests queue for it.
        let Ok(_waiting) = Arc::clone(&self.waiting_verifications).try_acquire_owned() else {
            return Err(Refusal::Busy);
        };
        let auth = Arc::clone(&self.auth);
        let header = header.map(<[u8]>::to_vec);
        match tokio::task::spawn_blocking(move || {
            auth.authorize(header.as_deref(), client, permission)
        })
        .await
        {
            Ok(decision) => decision.map_err(Refusal::from),
            // The verification panicked or the runtime is shutting down: no answer, try again.
            Err(_) => Err(Refusal::Busy),
        }
    }
}
