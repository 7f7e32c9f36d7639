//! The OTLP export step shared by the gRPC and HTTP receivers: convert, store
//! durably, answer with partial success when spans were rejected or trimmed.

use crate::admission::Admitted;
use crate::batch::store_durably;
use crate::error::IngestError;
use crate::limits::Limits;
use crate::otlp_convert::convert_request;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use store::SpanStore;

/// Converts `request`, waits until its valid spans are durable, and builds the
/// response. `admitted` (the request's in-flight share) is returned once the
/// store has taken the spans.
pub async fn export(
    store: &dyn SpanStore,
    limits: &Limits,
    request: ExportTraceServiceRequest,
    admitted: Admitted,
) -> Result<ExportTraceServiceResponse, IngestError> {
    let batch = convert_request(request, limits);
    let error_message = batch.message(limits);
    let rejected_spans = i64::try_from(batch.rejected_spans).unwrap_or(i64::MAX);
    store_durably(store, batch.spans, admitted).await?;
    let partial_success =
        (rejected_spans > 0 || !error_message.is_empty()).then_some(ExportTracePartialSuccess {
            rejected_spans,
            error_message,
        });
    Ok(ExportTraceServiceResponse { partial_success })
}
