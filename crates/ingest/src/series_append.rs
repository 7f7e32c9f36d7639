//! Where metric receivers meet the [`SeriesStore`]: append one converted
//! batch, hand back the request's in-flight share, and wait until the store
//! says the accepted samples are durable.
//!
//! Shared by remote_write (`remote_write/`) and OTLP metrics
//! (`otlp_metrics/`); the span equivalent is `batch.rs`.

use crate::admission::Admitted;
use crate::error::IngestError;
use store::series::{Rejections, SeriesBatch, SeriesStore};

/// What the store took from one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Samples stored (durable when this is returned).
    pub accepted_samples: u64,
    /// Samples refused by the store (out of order, duplicate, too old, over
    /// the cardinality limits), with one message per kind.
    pub rejected: Rejections,
}

/// Appends `batch` and waits for its acknowledgement.
///
/// `admitted` (the request's in-flight share) is returned as soon as the
/// store has taken or refused the batch, not when the write is durable: from
/// then on the store's own budget counts the samples. A store refusal of the
/// whole batch (`Overloaded`, closed) is an error; refusals of single samples
/// are reported in [`AppendOutcome::rejected`] and the rest are still stored.
pub async fn append_durably(
    store: &dyn SeriesStore,
    batch: SeriesBatch,
    admitted: Admitted,
) -> Result<AppendOutcome, IngestError> {
    if batch.series.is_empty() && batch.metadata.is_empty() {
        return Ok(AppendOutcome::default());
    }
    let appended = store.append(batch);
    drop(admitted);
    let appended = appended?;
    match appended.ack.await {
        Ok(result) => result?,
        Err(_) => return Err(IngestError::AckLost),
    }
    Ok(AppendOutcome {
        accepted_samples: appended.accepted_samples,
        rejected: appended.rejected,
    })
}
