//! Pyroscope-compatible profile ingest into a [`ProfileStore`]:
//!
//! - `POST /ingest` and `POST /pyroscope/ingest` — the legacy HTTP API
//!   (pyroscope-go's multipart pprof, pyroscope-rs ≤ 0.8, folded text):
//!   [`ingest`], [`folded`], [`multipart`], [`time`].
//! - `POST /push.v1.PusherService/Push` — the Connect push API, protobuf or
//!   JSON (pyroscope-rs ≥ 1.0.1, Grafana Alloy): [`push`].
//!
//! Both turn pprof into series as Pyroscope does ([`pprof`]), check labels
//! ([`labels`]) and limits ([`limits`]), and answer only after the store's
//! acknowledgement says the profiles are durable. Memory is bounded like
//! the other receivers: the request is admitted against the in-flight
//! budget before its body is read, and the conversion grows that charge as
//! it inflates and materialises stacks ([`limits::Budget`]). Errors are
//! Connect JSON bodies ([`error`]).
//!
//! Entry points without HTTP or in-flight accounting, for fuzzing:
//! [`parse_pprof`], [`parse_push`], [`parse_folded`].

pub mod error;
pub mod folded;
pub mod ingest;
pub mod labels;
pub mod limits;
pub mod multipart;
pub mod pprof;
mod pprof_split;
pub mod push;
pub mod time;

#[cfg(test)]
mod pprof_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

pub use error::{Api, ProfileError};
pub use folded::{parse_folded, Folded, FoldedSeries};
pub use pprof::{parse_pprof, PprofSeries};
pub use push::{decode_push, parse_push, PushRequest};

use crate::admission::Admitted;
use crate::error::IngestError;
use crate::http::method_not_allowed;
use crate::limits::Limits;
use axum::routing::post;
use axum::Router;
use std::sync::Arc;
use store::profiles::{ProfileStore, ProfileWrite};

/// Legacy ingest path.
pub const INGEST_PATH: &str = "/ingest";
/// Legacy ingest path under Pyroscope's `/pyroscope` prefix.
pub const PYROSCOPE_INGEST_PATH: &str = "/pyroscope/ingest";
/// The Connect push method.
pub const PUSH_PATH: &str = "/push.v1.PusherService/Push";

/// What the handlers share.
pub(crate) struct Receiver {
    pub(crate) store: Arc<dyn ProfileStore>,
    pub(crate) limits: Limits,
}

/// The profile receivers as a router without a fallback (it is merged into
/// the main router of `whyslow serve`).
pub fn pyroscope_router(store: Arc<dyn ProfileStore>, limits: Limits) -> Router {
    Router::new()
        .route(
            INGEST_PATH,
            post(ingest::ingest).fallback(method_not_allowed),
        )
        .route(
            PYROSCOPE_INGEST_PATH,
            post(ingest::ingest).fallback(method_not_allowed),
        )
        .route(PUSH_PATH, post(push::push).fallback(method_not_allowed))
        .with_state(Arc::new(Receiver { store, limits }))
}

/// Writes `writes` and waits until the store says they are durable. The
/// request's in-flight share is returned as soon as the store has taken or
/// refused them; from then on the store's own budget counts them.
pub(crate) async fn write_durably(
    store: &dyn ProfileStore,
    writes: Vec<ProfileWrite>,
    admitted: Admitted,
) -> Result<(), ProfileError> {
    if writes.is_empty() {
        return Ok(());
    }
    let written = store.write(writes);
    drop(admitted);
    match written?.await {
        Ok(result) => Ok(result?),
        Err(_) => Err(IngestError::AckLost.into()),
    }
}
