//! Admission for the OTLP/gRPC receiver: the request's share of the in-flight
//! budget, taken before tonic reads the message and grown as its frames
//! arrive and once its (possibly inflated) length is known.
//!
//! gRPC requests rarely carry `Content-Length`, so the first charge is one
//! growth step; [`AdmittedBody`] raises it as DATA frames arrive and turns a
//! refusal into the body error tonic reports as the request's status
//! (RESOURCE_EXHAUSTED with `RetryInfo`). The message decoder calls
//! [`InFlight::on_message`] before prost allocates the decoded request.

use crate::admission::{Admitted, InFlightBudget, EXPANSION_PROTOBUF};
use crate::body::GROWTH_STEP_BYTES;
use crate::error::IngestError;
use crate::otlp_grpc::status_for;
use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll};
use tonic::codegen::{http, StdError};
use tonic::Status;

/// One gRPC request's admission, shared by its body, its decoder and the
/// export step (which hands the share back once the store has the spans).
pub(crate) struct InFlight {
    admitted: Option<Admitted>,
    /// Bytes received on the wire so far (gRPC framing included).
    wire_bytes: usize,
    /// Whether the message is compressed (`grpc-encoding` other than identity).
    compressed: bool,
    /// The largest message accepted, on the wire.
    limit: usize,
}

/// [`InFlight`] behind the lock its three users share.
pub(crate) type SharedInFlight = Arc<Mutex<InFlight>>;

impl InFlight {
    /// Admits `request` from its headers: its `Content-Length` when present,
    /// else one growth step.
    pub(crate) fn admit<B>(
        budget: &InFlightBudget,
        request: &http::Request<B>,
        limit: usize,
    ) -> Result<SharedInFlight, IngestError> {
        let headers = request.headers();
        let compressed = headers
            .get("grpc-encoding")
            .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
        let expected = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(GROWTH_STEP_BYTES)
            .min(limit);
        let mut in_flight = Self {
            admitted: None,
            wire_bytes: 0,
            compressed,
            limit,
        };
        in_flight.admitted = Some(budget.admit(in_flight.charge(expected, expected))?);
        Ok(Arc::new(Mutex::new(in_flight)))
    }

    /// What `wire` bytes holding a message of `message` bytes cost in flight:
    /// the wire bytes times the expansion, or for a compressed message the
    /// wire bytes plus the inflated message times it.
    fn charge(&self, wire: usize, message: usize) -> u64 {
        if self.compressed {
            wire as u64 + message as u64 * EXPANSION_PROTOBUF
        } else {
            wire as u64 * EXPANSION_PROTOBUF
        }
    }

    /// `bytes` more arrived on the wire.
    fn on_wire(&mut self, bytes: usize) -> Result<(), IngestError> {
        self.wire_bytes += bytes;
        let (wire, ahead) = (
            self.wire_bytes,
            (self.wire_bytes + GROWTH_STEP_BYTES).min(self.limit),
        );
        let (exact, ahead) = (self.charge(wire, wire), self.charge(ahead, ahead));
        match &mut self.admitted {
            Some(admitted) => admitted.grow_ahead(exact, ahead),
            None => Ok(()),
        }
    }

    /// The message (after inflating) is `message_bytes` long and about to be decoded.
    pub(crate) fn on_message(&mut self, message_bytes: usize) -> Result<(), IngestError> {
        let charge = self.charge(self.wire_bytes, message_bytes);
        match &mut self.admitted {
            Some(admitted) => admitted.grow_to(charge),
            None => Ok(()),
        }
    }

    /// The share, for the export step to return once the store has the spans.
    pub(crate) fn take(&mut self) -> Option<Admitted> {
        self.admitted.take()
    }
}

/// Locks the shared admission (a panic elsewhere leaves plain counters behind, still usable).
pub(crate) fn lock(in_flight: &SharedInFlight) -> MutexGuard<'_, InFlight> {
    in_flight.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A request body that grows the request's charge as DATA frames arrive and
/// fails with the refusal's gRPC status when the budget cannot take them.
pub(crate) struct AdmittedBody<B> {
    body: Pin<Box<B>>,
    in_flight: SharedInFlight,
}

impl<B> AdmittedBody<B> {
    pub(crate) fn new(body: B, in_flight: SharedInFlight) -> Self {
        Self {
            body: Box::pin(body),
            in_flight,
        }
    }
}

impl<B> Body for AdmittedBody<B>
where
    B: Body,
    B::Error: Into<StdError>,
{
    type Data = B::Data;
    type Error = StdError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let frame = match ready!(self.body.as_mut().poll_frame(cx)) {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => return Poll::Ready(Some(Err(e.into()))),
            None => return Poll::Ready(None),
        };
        if let Some(data) = frame.data_ref() {
            if let Err(refused) = lock(&self.in_flight).on_wire(data.remaining()) {
                // tonic reports a body error that is a `Status` as that status.
                let status: Status = status_for(&refused);
                return Poll::Ready(Some(Err(Box::new(status))));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: usize = 1024;

    fn request(headers: &[(&str, &str)]) -> http::Request<()> {
        let mut builder = http::Request::builder();
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn the_first_charge_is_one_step_or_the_content_length() {
        let budget = InFlightBudget::new(100 << 20);
        let unknown = InFlight::admit(&budget, &request(&[]), 16 << 20).unwrap();
        let step = (GROWTH_STEP_BYTES as u64) * EXPANSION_PROTOBUF;
        assert_eq!(budget.in_use_bytes(), step);
        drop(unknown);
        let known =
            InFlight::admit(&budget, &request(&[("content-length", "10240")]), 16 << 20).unwrap();
        assert_eq!(budget.in_use_bytes(), 10 * 1024 * EXPANSION_PROTOBUF);
        drop(known);
        assert_eq!(budget.in_use_bytes(), 0);
    }

    #[test]
    fn frames_grow_the_charge_and_a_compressed_message_is_charged_inflated() {
        let budget = InFlightBudget::new(100 << 20);
        let in_flight =
            InFlight::admit(&budget, &request(&[("grpc-encoding", "gzip")]), 16 << 20).unwrap();
        lock(&in_flight).on_wire(200 * KIB).unwrap();
        let wire = 200 * 1024;
        let ahead = (wire + GROWTH_STEP_BYTES) as u64 * (1 + EXPANSION_PROTOBUF);
        assert_eq!(budget.in_use_bytes(), ahead);
        lock(&in_flight).on_message(2048 * KIB).unwrap();
        let inflated = wire as u64 + 2048 * 1024 * EXPANSION_PROTOBUF;
        assert_eq!(budget.in_use_bytes(), inflated.div_ceil(1024) * 1024);
        let admitted = lock(&in_flight).take().unwrap();
        drop(in_flight);
        assert_eq!(admitted.held_bytes(), budget.in_use_bytes());
        drop(admitted);
        assert_eq!(budget.in_use_bytes(), 0);
    }

    #[test]
    fn growth_that_does_not_fit_is_refused_with_retry_info() {
        let budget = InFlightBudget::new(2 << 20);
        let _other = budget.admit(1 << 20).unwrap();
        let in_flight = InFlight::admit(&budget, &request(&[]), 16 << 20).unwrap();
        let err = lock(&in_flight).on_wire(128 * KIB).unwrap_err();
        let status = status_for(&err);
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(status.message().contains("in-flight budget"), "{status:?}");
        use tonic_types::StatusExt;
        assert!(status.get_error_details().retry_info().is_some());
    }
}
