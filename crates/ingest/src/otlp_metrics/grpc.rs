//! OTLP/gRPC metrics: `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`,
//! on the same tonic server and with the same admission, codec and error
//! mapping as traces (`otlp_grpc.rs`).

use super::export::MetricsReceiver;
use crate::grpc_in_flight::{self, SharedInFlight};
use crate::limits::Limits;
use crate::otlp_grpc::{status_for, unary_export, unknown_method};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use store::series::SeriesStore;
use tonic::codegen::{http, Body, BoxFuture, Service, StdError};
use tonic::server::{NamedService, UnaryService};
use tonic::Status;

/// The gRPC service name.
pub const SERVICE_NAME: &str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
/// The one method's HTTP/2 path.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// The metrics receiver as a tonic service; add it to a `tonic::transport::Server`.
#[derive(Clone)]
pub struct OtlpMetricsGrpcService {
    receiver: Arc<MetricsReceiver>,
}

/// Builds the gRPC metrics service writing into `series`.
pub fn metrics_grpc_service(
    series: Arc<dyn SeriesStore>,
    limits: Limits,
) -> OtlpMetricsGrpcService {
    OtlpMetricsGrpcService {
        receiver: Arc::new(MetricsReceiver::new(series, limits)),
    }
}

impl NamedService for OtlpMetricsGrpcService {
    const NAME: &'static str = SERVICE_NAME;
}

impl<B> Service<http::Request<B>> for OtlpMetricsGrpcService
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != EXPORT_PATH {
            return unknown_method(&request, EXPORT_PATH);
        }
        let receiver = Arc::clone(&self.receiver);
        let limits = receiver.limits.clone();
        unary_export(
            limits,
            request,
            "ExportMetricsServiceRequest",
            move |in_flight| ExportMethod {
                receiver,
                in_flight,
            },
        )
    }
}

struct ExportMethod {
    receiver: Arc<MetricsReceiver>,
    in_flight: SharedInFlight,
}

impl UnaryService<ExportMetricsServiceRequest> for ExportMethod {
    type Response = ExportMetricsServiceResponse;
    type Future = BoxFuture<tonic::Response<Self::Response>, Status>;

    fn call(&mut self, request: tonic::Request<ExportMetricsServiceRequest>) -> Self::Future {
        let receiver = Arc::clone(&self.receiver);
        let admitted = grpc_in_flight::lock(&self.in_flight).take();
        Box::pin(async move {
            let Some(admitted) = admitted else {
                return Err(Status::internal("request was not admitted (server bug)"));
            };
            receiver
                .export(request.into_inner(), admitted)
                .await
                .map(tonic::Response::new)
                .map_err(|e| status_for(&e))
        })
    }
}
