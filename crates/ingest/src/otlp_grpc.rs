//! OTLP/gRPC trace receiver: `opentelemetry.proto.collector.trace.v1.TraceService/Export`
//! on tonic, with the `opentelemetry-proto` crate's generated message types,
//! and the unary-export plumbing the metrics service (`otlp_metrics/grpc.rs`)
//! shares with it; [`serve_grpc`] serves both.
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
use crate::otlp_metrics::metrics_grpc_service;
use bytes::Buf;
use gate::{Gate, GrpcGuardLayer, Permission};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use store::series::SeriesStore;
use store::{SpanStore, StoreError};
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

/// Serves OTLP/gRPC traces (into `store`) and metrics (into `series`) on
/// `listener` (a `TcpListener`, or a [`tls::Listener`] with TLS offering
/// ALPN h2) until `shutdown` resolves, then drains in-flight requests.
/// With a `gate`, every call must show credentials that may ingest, checked
/// before the call is admitted or its message read.
pub async fn serve_grpc(
    listener: impl Into<tls::Listener>,
    store: Arc<dyn SpanStore>,
    series: Arc<dyn SeriesStore>,
    limits: Limits,
    gate: Option<Arc<Gate>>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .layer(GrpcGuardLayer::new(gate, Permission::Ingest))
        .add_service(grpc_service(store, limits.clone()))
        .add_service(metrics_grpc_service(series, limits))
        .serve_with_incoming_shutdown(listener.into().into_incoming(), shutdown)
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
            return unknown_method(&request, EXPORT_PATH);
        }
        let receiver = Arc::clone(&self.receiver);
        let limits = receiver.limits.clone();
        unary_export(
            limits,
            request,
            "ExportTraceServiceRequest",
            move |in_flight| ExportMethod {
                receiver,
                in_flight,
            },
        )
    }
}

/// UNIMPLEMENTED for a path this service does not serve, naming the one it does.
pub(crate) fn unknown_method<B>(
    request: &http::Request<B>,
    implemented: &'static str,
) -> BoxFuture<http::Response<tonic::body::Body>, Infallible> {
    let path = request.uri().path().to_string();
    Box::pin(async move {
        Ok(Status::unimplemented(format!(
            "unknown method {path}; this server implements {implemented}"
        ))
        .into_http())
    })
}

/// Serves one unary OTLP export call: admits it against the in-flight budget
/// before tonic reads a byte, decodes with [`ExportCodec`] (gzip accepted),
/// and maps oversized messages to RESOURCE_EXHAUSTED. `method` gets the
/// request's in-flight share to hand back once the store has the data.
pub(crate) fn unary_export<B, Req, Resp, M>(
    limits: Limits,
    request: http::Request<B>,
    message_name: &'static str,
    method: impl FnOnce(SharedInFlight) -> M + Send + 'static,
) -> BoxFuture<http::Response<tonic::body::Body>, Infallible>
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    M: UnaryService<Req, Response = Resp> + Send + 'static,
    M::Future: Send,
{
    Box::pin(async move {
        let limit = limits.max_request_bytes;
        // Admitted before tonic reads a byte of the message; refused at once.
        let in_flight = match InFlight::admit(&limits.in_flight, &request, limit) {
            Ok(in_flight) => in_flight,
            Err(refused) => return Ok(status_for(&refused).into_http()),
        };
        let request = request.map(|body| AdmittedBody::new(body, Arc::clone(&in_flight)));
        let codec = ExportCodec::<Req, Resp> {
            in_flight: Arc::clone(&in_flight),
            message_name,
            types: PhantomData,
        };
        let mut grpc = Grpc::new(codec)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit);
        let response = grpc.unary(method(in_flight), request).await;
        Ok(too_large_is_resource_exhausted(response, limit))
    })
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
        | IngestError::UnsupportedEncoding(_)
        | IngestError::Unsupported(_) => Status::invalid_argument(message),
        IngestError::Store(
            StoreError::Closed | StoreError::Io { .. } | StoreError::Unavailable(_),
        )
        | IngestError::AckLost
        | IngestError::Read(_) => Status::unavailable(message),
        IngestError::Store(StoreError::Corrupt { .. } | StoreError::TooManySamples { .. }) => {
            Status::internal(message)
        }
    }
}

/// Prost encoding for the response, and a decoder that charges the message's
/// decoded size to the request's in-flight share before decoding it and
/// calls malformed requests what they are (INVALID_ARGUMENT).
pub(crate) struct ExportCodec<Req, Resp> {
    in_flight: SharedInFlight,
    message_name: &'static str,
    types: PhantomData<fn() -> (Req, Resp)>,
}

impl<Req, Resp> Codec for ExportCodec<Req, Resp>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
{
    type Encode = Resp;
    type Decode = Req;
    type Encoder = tonic_prost::ProstEncoder<Resp>;
    type Decoder = ExportRequestDecoder<Req>;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ExportRequestDecoder {
            in_flight: Arc::clone(&self.in_flight),
            message_name: self.message_name,
            types: PhantomData,
        }
    }
}

pub(crate) struct ExportRequestDecoder<Req> {
    in_flight: SharedInFlight,
    message_name: &'static str,
    types: PhantomData<fn() -> Req>,
}

impl<Req: prost::Message + Default + Send + 'static> Decoder for ExportRequestDecoder<Req> {
    type Item = Req;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        grpc_in_flight::lock(&self.in_flight)
            .on_message(buf.remaining())
            .map_err(|refused| status_for(&refused))?;
        Req::decode(buf).map(Some).map_err(|e| {
            Status::invalid_argument(format!("malformed protobuf {}: {e}", self.message_name))
        })
    }
}
