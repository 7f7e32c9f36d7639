//! Admission control: the in-flight byte budget every receiver draws from
//! *before* it reads and decodes a request, so a burst of senders cannot grow
//! memory past the budget while their bodies are buffered and decoded.
//!
//! A request's charge is its body on the wire times the decode expansion of
//! its format (`EXPANSION_*`): the body, the decoded message and the converted
//! [`model::Span`]s are all alive at once before the batch reaches the store.
//! HTTP receivers charge the whole `Content-Length` up front; bodies without
//! one, gRPC messages and inflated gzip bodies grow the charge as bytes arrive.
//! When the charge (or its growth) does not fit, the request is refused at
//! once — HTTP 429 + `Retry-After`, gRPC RESOURCE_EXHAUSTED + `RetryInfo` —
//! never queued. The charge is returned when the batch has been handed to the
//! store (whose own budget then counts the spans) or when the request ends.
//!
//! A request whose charge exceeds the whole budget is admitted only when
//! nothing else is in flight, and then takes the whole budget: a small budget
//! serves big batches one at a time instead of refusing them forever (the
//! size cap stays [`crate::Limits::max_request_bytes`], answered with 413).
//! So memory in flight is at most the budget, or one request alone.
//!
//! Not for the store's memory (its own budget, `StoreError::Overloaded`).

use crate::error::IngestError;
use std::fmt;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Peak heap while an OTLP protobuf request is held (body + decoded message +
/// converted spans), per byte of body. Measured with
/// `cargo run --release -p ingest --example decode_expansion`: 5.7 for SDK
/// spans with 10 attributes, 11.5 for bare spans (ids, times, a one-letter
/// name), 4.0 for spans with long names; the worst case, rounded up.
pub const EXPANSION_PROTOBUF: u64 = 12;
/// The same for OTLP/JSON: 17.2 for SDK spans (the `serde_json::Value` tree the
/// normalising pass needs is the bulk), 8.3 for bare spans, 7.0 for long names.
pub const EXPANSION_OTLP_JSON: u64 = 18;
/// The same for Zipkin v2 JSON (decoded straight into typed structs): 4.3 for
/// SDK spans, 5.1 for bare spans, 3.7 for long names.
pub const EXPANSION_ZIPKIN_JSON: u64 = 6;

/// Back-off suggested to senders refused for lack of in-flight budget, in ms.
/// In-flight requests finish in milliseconds to a few hundred; a second lets
/// several of them complete without making senders wait long.
pub const RETRY_AFTER_MS: u64 = 1000;

/// The budget is counted in KiB so a `u32` permit count covers 4 TiB.
const UNIT_BYTES: u64 = 1024;

/// A shared in-flight byte budget. Clones share one budget: give every
/// receiver of one server a clone of the same value.
#[derive(Clone)]
pub struct InFlightBudget {
    semaphore: Arc<Semaphore>,
    budget_units: u32,
}

impl InFlightBudget {
    /// A budget of `budget_bytes`, rounded up to whole KiB; zero means "one
    /// request at a time" (every request then needs the whole, 1 KiB, budget).
    pub fn new(budget_bytes: u64) -> Self {
        let max_units = (Semaphore::MAX_PERMITS as u64).min(u64::from(u32::MAX));
        let budget_units = budget_bytes.div_ceil(UNIT_BYTES).clamp(1, max_units);
        let budget_units = u32::try_from(budget_units).unwrap_or(u32::MAX);
        Self {
            semaphore: Arc::new(Semaphore::new(budget_units as usize)),
            budget_units,
        }
    }

    /// The budget in bytes.
    pub fn budget_bytes(&self) -> u64 {
        u64::from(self.budget_units) * UNIT_BYTES
    }

    /// Bytes currently charged to admitted requests.
    pub fn in_use_bytes(&self) -> u64 {
        let available = self.semaphore.available_permits() as u64;
        (u64::from(self.budget_units) - available.min(u64::from(self.budget_units))) * UNIT_BYTES
    }

    /// Admits a request charged `charge_bytes`, or refuses it at once when the
    /// budget cannot take it now. A charge above the whole budget is capped to
    /// it, so such a request is admitted exactly when nothing else is in flight.
    pub fn admit(&self, charge_bytes: u64) -> Result<Admitted, IngestError> {
        let units = self.units_for(charge_bytes);
        match Arc::clone(&self.semaphore).try_acquire_many_owned(units) {
            Ok(permit) => Ok(Admitted {
                budget: self.clone(),
                permit,
            }),
            Err(_) => Err(self.refusal(charge_bytes)),
        }
    }

    /// Whole units for a charge: at least one (every request costs something),
    /// at most the budget.
    fn units_for(&self, charge_bytes: u64) -> u32 {
        let units = charge_bytes
            .div_ceil(UNIT_BYTES)
            .clamp(1, u64::from(self.budget_units));
        u32::try_from(units).unwrap_or(self.budget_units)
    }

    fn refusal(&self, needed_bytes: u64) -> IngestError {
        IngestError::InFlightBudget {
            needed_bytes,
            in_use_bytes: self.in_use_bytes(),
            budget_bytes: self.budget_bytes(),
            retry_after_ms: RETRY_AFTER_MS,
        }
    }
}

impl Default for InFlightBudget {
    /// 128 MiB: the in-flight quarter of `whyslow serve`'s default 512 MB memory budget.
    fn default() -> Self {
        Self::new(128 << 20)
    }
}

impl fmt::Debug for InFlightBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InFlightBudget")
            .field("budget_bytes", &self.budget_bytes())
            .field("in_use_bytes", &self.in_use_bytes())
            .finish()
    }
}

/// Two handles are equal when they draw from the same budget.
impl PartialEq for InFlightBudget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.semaphore, &other.semaphore)
    }
}

impl Eq for InFlightBudget {}

/// One admitted request's share of the budget; returned when dropped.
pub struct Admitted {
    budget: InFlightBudget,
    permit: OwnedSemaphorePermit,
}

impl Admitted {
    /// Bytes this request holds.
    pub fn held_bytes(&self) -> u64 {
        self.permit.num_permits() as u64 * UNIT_BYTES
    }

    /// Raises the charge to `charge_bytes` (capped at the whole budget) if it
    /// holds less; refuses at once when the budget cannot take the difference.
    /// On refusal the request keeps what it held until it is dropped.
    pub fn grow_to(&mut self, charge_bytes: u64) -> Result<(), IngestError> {
        let wanted = self.budget.units_for(charge_bytes);
        let held = u32::try_from(self.permit.num_permits()).unwrap_or(u32::MAX);
        if wanted <= held {
            return Ok(());
        }
        match Arc::clone(&self.budget.semaphore).try_acquire_many_owned(wanted - held) {
            Ok(more) => {
                self.permit.merge(more);
                Ok(())
            }
            Err(_) => Err(self.budget.refusal(charge_bytes)),
        }
    }

    /// For a body of unknown final size: makes the charge cover `exact_bytes`
    /// (what has arrived), reaching for `ahead_bytes` (one step further, so
    /// the budget is not touched for every frame) when that fits.
    pub fn grow_ahead(&mut self, exact_bytes: u64, ahead_bytes: u64) -> Result<(), IngestError> {
        if exact_bytes <= self.held_bytes() {
            return Ok(());
        }
        self.grow_to(ahead_bytes)
            .or_else(|_| self.grow_to(exact_bytes))
    }
}

impl fmt::Debug for Admitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admitted")
            .field("held_bytes", &self.held_bytes())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1024;

    #[test]
    fn requests_share_the_budget_and_return_it_when_done() {
        let budget = InFlightBudget::new(100 * KIB);
        let a = budget.admit(60 * KIB).unwrap();
        assert_eq!(a.held_bytes(), 60 * KIB);
        assert_eq!(budget.in_use_bytes(), 60 * KIB);
        let b = budget.admit(40 * KIB).unwrap();
        assert_eq!(budget.in_use_bytes(), 100 * KIB);
        drop(a);
        assert_eq!(budget.in_use_bytes(), 40 * KIB);
        drop(b);
        assert_eq!(budget.in_use_bytes(), 0);
    }

    #[test]
    fn a_request_that_does_not_fit_is_refused_at_once_with_a_retry_hint() {
        let budget = InFlightBudget::new(100 * KIB);
        let _held = budget.admit(90 * KIB).unwrap();
        let err = budget.admit(20 * KIB).unwrap_err();
        assert_eq!(err.retry_after_ms(), Some(RETRY_AFTER_MS));
        let message = err.to_string();
        assert!(message.contains("92160 of the 102400-byte"), "{message}");
        assert!(message.contains("needs 20480 bytes"), "{message}");
        assert!(message.contains("--memory-budget"), "{message}");
        // Nothing was taken by the refused request.
        assert_eq!(budget.in_use_bytes(), 90 * KIB);
        assert!(budget.admit(10 * KIB).is_ok());
    }

    #[test]
    fn charges_round_up_to_whole_kib_and_never_cost_nothing() {
        let budget = InFlightBudget::new(10 * KIB);
        assert_eq!(budget.admit(0).unwrap().held_bytes(), KIB);
        assert_eq!(budget.admit(KIB + 1).unwrap().held_bytes(), 2 * KIB);
        assert_eq!(InFlightBudget::new(0).budget_bytes(), KIB);
        assert_eq!(InFlightBudget::new(1500).budget_bytes(), 2 * KIB);
    }

    #[test]
    fn a_request_larger_than_the_budget_runs_alone() {
        let budget = InFlightBudget::new(100 * KIB);
        let small = budget.admit(KIB).unwrap();
        // Busy: refused, not queued.
        assert!(budget.admit(500 * KIB).is_err());
        drop(small);
        // Idle: admitted, holding the whole budget, so nothing else gets in.
        let big = budget.admit(500 * KIB).unwrap();
        assert_eq!(big.held_bytes(), 100 * KIB);
        assert!(budget.admit(KIB).is_err());
        drop(big);
        assert!(budget.admit(KIB).is_ok());
    }

    #[test]
    fn growing_takes_only_the_difference_and_keeps_the_share_on_refusal() {
        let budget = InFlightBudget::new(100 * KIB);
        let mut a = budget.admit(10 * KIB).unwrap();
        a.grow_to(30 * KIB).unwrap();
        assert_eq!(a.held_bytes(), 30 * KIB);
        assert_eq!(budget.in_use_bytes(), 30 * KIB);
        a.grow_to(5 * KIB).unwrap(); // never shrinks
        assert_eq!(a.held_bytes(), 30 * KIB);

        let _b = budget.admit(60 * KIB).unwrap();
        let err = a.grow_to(50 * KIB).unwrap_err();
        assert!(matches!(err, IngestError::InFlightBudget { .. }), "{err}");
        assert_eq!(a.held_bytes(), 30 * KIB);
        assert_eq!(budget.in_use_bytes(), 90 * KIB);
        a.grow_to(40 * KIB).unwrap();
        drop(a);
        assert_eq!(budget.in_use_bytes(), 60 * KIB);
    }

    #[test]
    fn growing_ahead_falls_back_to_what_arrived() {
        let budget = InFlightBudget::new(100 * KIB);
        let mut a = budget.admit(10 * KIB).unwrap();
        a.grow_ahead(20 * KIB, 50 * KIB).unwrap();
        assert_eq!(a.held_bytes(), 50 * KIB);
        a.grow_ahead(40 * KIB, 90 * KIB).unwrap(); // covered: untouched
        assert_eq!(a.held_bytes(), 50 * KIB);
        let _b = budget.admit(30 * KIB).unwrap();
        a.grow_ahead(60 * KIB, 110 * KIB).unwrap(); // ahead does not fit
        assert_eq!(a.held_bytes(), 60 * KIB);
        assert!(a.grow_ahead(80 * KIB, 90 * KIB).is_err());
        assert_eq!(a.held_bytes(), 60 * KIB);
    }

    #[test]
    fn growing_past_the_budget_succeeds_only_for_a_request_alone() {
        let budget = InFlightBudget::new(100 * KIB);
        let mut a = budget.admit(10 * KIB).unwrap();
        a.grow_to(1 << 30).unwrap();
        assert_eq!(a.held_bytes(), 100 * KIB);
        drop(a);
        let mut a = budget.admit(10 * KIB).unwrap();
        let _b = budget.admit(10 * KIB).unwrap();
        assert!(a.grow_to(1 << 30).is_err());
    }

    #[test]
    fn clones_share_one_budget() {
        let budget = InFlightBudget::new(10 * KIB);
        let clone = budget.clone();
        assert_eq!(budget, clone);
        assert_ne!(budget, InFlightBudget::new(10 * KIB));
        let _held = clone.admit(10 * KIB).unwrap();
        assert!(budget.admit(KIB).is_err());
    }
}
