//! Prometheus remote_write 1.0 receiver (`POST /api/v1/write`, snappy block
//! format, protobuf `prometheus.WriteRequest`) into a
//! [`store::series::SeriesStore`].
//!
//! - [`proto`]: the messages, as hand-written prost derives.
//! - [`decode`]: snappy with a decompressed-size limit checked from the block
//!   header before allocating, then protobuf.
//! - [`validate`]: name syntax, duplicate/empty labels, label limits.
//! - [`handler`]: the axum endpoint ([`prometheus_router`]); answers 204, 400
//!   with the reasons (the valid samples are still stored), 413 for bodies
//!   over the limit (snappy bombs included), 415 for remote_write 2.0 or
//!   other encodings, 429 + `Retry-After` when overloaded.

pub mod decode;
pub mod handler;
pub mod proto;
pub mod validate;

pub use handler::{prometheus_router, WRITE_PATH};
