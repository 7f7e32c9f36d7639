//! One request's spans after conversion, what was rejected or trimmed on the
//! way, and the durable write into the store.
//!
//! Every wire format produces a [`Batch`]; this file is where they meet the
//! [`SpanStore`]. A success answer is sent only after the store's
//! acknowledgement says the spans are durable.

use crate::admission::Admitted;
use crate::error::IngestError;
use crate::limits::{Limits, Trimmed};
use model::Span;
use store::SpanStore;

/// How many rejection reasons a response spells out (the rest are counted).
const MAX_REASONS: usize = 5;

/// Spans converted from one request.
#[derive(Debug, Default)]
pub struct Batch {
    /// Valid spans, trimmed to the limits.
    pub spans: Vec<Span>,
    /// Spans that were invalid and not stored.
    pub rejected_spans: u64,
    /// Why, for the first few rejected spans.
    pub reasons: Vec<String>,
    /// What the limits removed.
    pub trimmed: Trimmed,
}

impl Batch {
    /// Records a rejected span; `reason` is only built for the first few.
    pub(crate) fn reject(&mut self, reason: impl FnOnce() -> String) {
        self.rejected_spans += 1;
        if self.reasons.len() < MAX_REASONS {
            self.reasons.push(reason());
        }
    }

    /// The partial-success message: rejections and trimming, or empty when
    /// everything was taken as sent.
    pub fn message(&self, limits: &Limits) -> String {
        let mut parts = Vec::new();
        if self.rejected_spans > 0 {
            let total = self.rejected_spans + self.spans.len() as u64;
            let more = self
                .rejected_spans
                .saturating_sub(self.reasons.len() as u64);
            let mut text = format!(
                "rejected {} of {} spans: {}",
                self.rejected_spans,
                total,
                self.reasons.join("; ")
            );
            if more > 0 {
                text.push_str(&format!(" (and {more} more)"));
            }
            parts.push(text);
        }
        if !self.trimmed.is_empty() {
            parts.push(format!(
                "accepted with limits applied: {}",
                self.trimmed.describe(limits)
            ));
        }
        parts.join(". ")
    }
}

/// Writes spans and waits until the store says they are durable.
///
/// `admitted` is the request's share of the in-flight budget: it is returned
/// as soon as the store has taken the spans (its own budget counts them from
/// then on) or refused them, not when the write is durable.
pub async fn store_durably(
    store: &dyn SpanStore,
    spans: Vec<Span>,
    admitted: Admitted,
) -> Result<(), IngestError> {
    if spans.is_empty() {
        return Ok(());
    }
    let count = spans.len() as u64;
    let written = store.write(spans);
    drop(admitted);
    let result = match written {
        Ok(ack) => match ack.await {
            Ok(result) => result.map_err(IngestError::from),
            Err(_) => Err(IngestError::AckLost),
        },
        Err(e) => Err(IngestError::from(e)),
    };
    match &result {
        Ok(()) => crate::counters::spans_stored(count),
        Err(_) => crate::counters::spans_refused(count),
    }
    result
}
