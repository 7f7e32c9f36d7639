//! The OTLP metrics export step shared by the gRPC and HTTP receivers:
//! translate, append durably, commit the delta totals, answer with partial
//! success when points were rejected.

use super::delta::DeltaState;
use super::translate::translate;
use crate::admission::Admitted;
use crate::error::IngestError;
use crate::limits::Limits;
use crate::series_append::append_durably;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use std::sync::Arc;
use store::series::SeriesStore;

/// One receiver's store, limits and delta totals.
pub struct MetricsReceiver {
    pub(crate) series: Arc<dyn SeriesStore>,
    pub(crate) limits: Limits,
    pub(crate) deltas: DeltaState,
}

impl MetricsReceiver {
    /// A receiver writing into `series`.
    pub fn new(series: Arc<dyn SeriesStore>, limits: Limits) -> Self {
        Self {
            series,
            limits,
            deltas: DeltaState::default(),
        }
    }

    /// Translates `request`, waits until its samples are durable, and builds
    /// the response. `admitted` is returned once the store has the samples.
    ///
    /// `rejected_data_points` counts the points that could not be translated
    /// plus the samples the store refused (a histogram point is many
    /// samples, so this is an upper bound, capped at the points sent).
    pub async fn export(
        &self,
        request: ExportMetricsServiceRequest,
        admitted: Admitted,
    ) -> Result<ExportMetricsServiceResponse, IngestError> {
        let translated = translate(&request, &self.limits, &self.deltas);
        drop(request);
        let outcome = append_durably(self.series.as_ref(), translated.batch, admitted).await?;
        self.deltas.commit(translated.deltas);
        crate::counters::samples(
            crate::counters::SampleSource::OtlpMetrics,
            outcome.accepted_samples,
            translated.rejected_points + outcome.rejected.total(),
        );
        let mut parts = Vec::new();
        if translated.rejected_points > 0 {
            let more = translated
                .rejected_points
                .saturating_sub(translated.reasons.len() as u64);
            let mut text = format!(
                "rejected {} of {} data points: {}",
                translated.rejected_points,
                translated.points,
                translated.reasons.join("; ")
            );
            if more > 0 {
                text.push_str(&format!(" (and {more} more)"));
            }
            parts.push(text);
        }
        let refused = outcome.rejected.total();
        if refused > 0 {
            parts.push(format!(
                "the store refused {refused} samples: {}",
                outcome.rejected.messages.join("; ")
            ));
        }
        let rejected = (translated.rejected_points + refused).min(translated.points);
        let partial_success = (!parts.is_empty()).then(|| ExportMetricsPartialSuccess {
            rejected_data_points: i64::try_from(rejected).unwrap_or(i64::MAX),
            error_message: parts.join(". "),
        });
        Ok(ExportMetricsServiceResponse { partial_success })
    }
}
