//! OTLP/gRPC trace receiver: `opentelemetry.proto.collector.trace.v1.TraceService/Export`
//! on tonic, with the `opentelemetry-proto` crate's generated message types.
//!
//! The service plumbing (one unary route) is written here rather than taken from
//! the crate's generated `TraceServiceServer`, because that server hard-wires a
//! codec that answers malformed protobuf with INTERNAL and oversized messages
//! with OUT_OF_RANGE; OTLP clients treat those as "retry", while the right
//! answers are INVALID_ARGUMENT and RESOURCE_EXHAUSTED (do not retry). Message
//! encoding and decoding stay prost's. Each request is admitted against the
//! in-flight budget before tonic reads its message (`grpc_in_flight.rs`).

use crate::error::IngestError;
use crate::grpc_in_flight::{self, AdmittedBody, InFlight, SharedInFlight};
use crate::limits::Limits;
use crate::otlp_export;
use bytes::Buf;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use store::{SpanStore, StoreError};
use tokio::net::TcpListener;
use tonic::codec::{BufferSettings, Codec, CompressionEncoding, DecodeBuf, Decoder};
use tonic::codegen::{http, Body, BoxFuture, Service, StdError};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The gRPC service name.
pub const SERVICE_NAME: &str = "opentelemetry.proto.collector.trace.v1.TraceService";
/// The one method's HTTP/2 path.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// The receiver as a tonic service; add it to a `tonic::transport::Server`.
#[derive(Clone)]
pub struct OtlpGrpcService {
    receiver: Arc<Receiver>,
}

struct Receiver {
    store: Arc<dyn SpanStore>,
    limits: Limits,
}

/// Builds the gRPC trace service writing into `store`.
pub fn grpc_service(store: Arc<dyn SpanStore>, limits: Limits) -> OtlpGrpcService {
    OtlpGrpcService {
        receiver: Arc::new(Receiver { store, limits }),
    }
}

/// Serves OTLP/gRPC on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve_grpc(
    listener: TcpListener,
    store: Arc<dyn SpanStore>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(grpc_service(store, limits))
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            shutdown,
        )
        .await
}

impl NamedService for OtlpGrpcService {
    const NAME: &'static str = SERVICE_NAME;
}

impl<B> Service<http::Request<B>> for OtlpGrpcService
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
            let path = request.uri().path().to_string();
            return Box::pin(async move {
                Ok(Status::unimplemented(format!(
                    "unknown method {path}; this server implements {EXPORT_PATH}"
                ))
                .into_http())
            });
        }
        let receiver = Arc::clone(&self.receiver);
        Box::pin(async move {
            let limit = receiver.limits.max_request_bytes;
            // Admitted before tonic reads a byte of the message; refused at once.
            let in_flight = match InFlight::admit(&receiver.limits.in_flight, &request, limit) {
                Ok(in_flight) => in_flight,
                Err(refused) => return Ok(status_for(&refused).into_http()),
            };
            let request = request.map(|body| AdmittedBody::new(body, Arc::clone(&in_flight)));
            let mut grpc = Grpc::new(ExportCodec(Arc::clone(&in_flight)))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(limit);
            let response = grpc
                .unary(
                    ExportMethod {
                        receiver,
                        in_flight,
                    },
                    request,
                )
                .await;
            Ok(too_large_is_resource_exhausted(response, limit))
        })
    }
}

/// tonic reports a frame over the size limit as OUT_OF_RANGE, which OTLP
/// clients retry forever; say RESOURCE_EXHAUSTED (without retry info) instead.
fn too_large_is_resource_exhausted(
    response: http::Response<tonic::body::Body>,
    limit: usize,
) -> http::Response<tonic::body::Body> {
    match Status::from_header_map(response.headers()) {
        Some(status) if status.code() == Code::OutOfRange => status_for(&IngestError::TooLarge {
            limit_bytes: limit,
            decompressed: false,
        })
        .into_http(),
        _ => response,
    }
}

struct ExportMethod {
    receiver: Arc<Receiver>,
    in_flight: SharedInFlight,
}

impl UnaryService<ExportTraceServiceRequest> for ExportMethod {
    type Response = ExportTraceServiceResponse;
    type Future = BoxFuture<tonic::Response<Self::Response>, Status>;

    fn call(&mut self, request: tonic::Request<ExportTraceServiceRequest>) -> Self::Future {
        let receiver = Arc::clone(&self.receiver);
        let admitted = grpc_in_flight::lock(&self.in_flight).take();
        Box::pin(async move {
            let Some(admitted) = admitted else {
                return Err(Status::internal("request was not admitted (server bug)"));
            };
            otlp_export::export(
                receiver.store.as_ref(),
                &receiver.limits,
                request.into_inner(),
                admitted,
            )
            .await
            .map(tonic::Response::new)
            .map_err(|e| status_for(&e))
        })
    }
}

/// The gRPC status for a refused request. Overload carries `google.rpc.RetryInfo`,
/// which is what tells OTLP clients that RESOURCE_EXHAUSTED is worth retrying.
pub fn status_for(error: &IngestError) -> Status {
    let message = error.to_string();
    match error {
        IngestError::Store(StoreError::Overloaded { retry_after_ms, .. })
        | IngestError::InFlightBudget { retry_after_ms, .. } => Status::with_error_details(
            Code::ResourceExhausted,
            message,
            ErrorDetails::with_retry_info(Some(Duration::from_millis(*retry_after_ms))),
        ),
        IngestError::TooLarge { .. } => Status::resource_exhausted(message),
        IngestError::Malformed(_)
        | IngestError::UnsupportedContentType { .. }
        | IngestError::UnsupportedEncoding(_) => Status::invalid_argument(message),
        IngestError::Store(StoreError::Closed | StoreError::Io { .. })
        | IngestError::AckLost
        | IngestError::Read(_) => Status::unavailable(message),
        IngestError::Store(StoreError::Corrupt { .. }) => Status::internal(message),
    }
}

/// Prost encoding for the response, and a decoder that charges the message's
/// decoded size to the request's in-flight share before decoding it and
/// calls malformed requests what they are (INVALID_ARGUMENT).
struct ExportCodec(SharedInFlight);

impl Codec for ExportCodec {
    type Encode = ExportTraceServiceResponse;
    type Decode = ExportTraceServiceRequest;
    type Encoder = tonic_prost::ProstEncoder<ExportTraceServiceResponse>;
    type Decoder = ExportRequestDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ExportRequestDecoder(Arc::clone(&self.0))
    }
}

struct ExportRequestDecoder(SharedInFlight);

impl Decoder for ExportRequestDecoder {
    type Item = ExportTraceServiceRequest;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        grpc_in_flight::lock(&self.0)
            .on_message(buf.remaining())
            .map_err(|refused| status_for(&refused))?;
        prost::Message::decode(buf).map(Some).map_err(|e| {
            Status::invalid_argument(format!("malformed protobuf ExportTraceServiceRequest: {e}"))
        })
    }
}
