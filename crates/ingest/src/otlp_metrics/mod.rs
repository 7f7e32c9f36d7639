//! OTLP metrics receiver: `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`
//! over gRPC and `POST /v1/metrics` (protobuf or JSON, gzip) over HTTP, into
//! a [`store::series::SeriesStore`].
//!
//! Metrics are translated exactly as Prometheus's OTLP receiver does by
//! default (`UnderscoreEscapingWithSuffixes`, see [`translate`]), with two
//! choices of our own, both because the store keeps cumulative float samples
//! only:
//!
//! - DELTA sums and histograms are accumulated into cumulative series per
//!   receiver ([`delta`]); Prometheus drops them unless its
//!   `otlp-deltatocumulative` feature is on.
//! - Exponential histograms become classic `_bucket{le}` series at their
//!   bucket boundaries ([`expo`]) instead of native histograms.
//!
//! Requests are admitted against the in-flight budget before decoding,
//! exactly like traces; points that cannot be translated and samples the
//! store refuses are reported as partial success (`rejected_data_points`,
//! `error_message`), never as a failed request.

pub mod delta;
pub mod expo;
pub mod export;
pub mod grpc;
pub mod http;
pub mod json;
pub mod labels;
pub mod names;
pub mod translate;

pub use delta::DeltaState;
pub use export::MetricsReceiver;
pub use grpc::{metrics_grpc_service, OtlpMetricsGrpcService};
