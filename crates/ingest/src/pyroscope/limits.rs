//! What one profile (and one request) may hold, with Pyroscope's defaults
//! (`pkg/validation/limits.go`), and the [`Budget`] that counts the memory a
//! request's conversion allocates.
//!
//! A pprof is small on the wire and large once converted: every stack
//! becomes a `Vec<String>` of function names per sample type, so a 100 KiB
//! gzipped profile can turn into tens of MiB. The budget charges each
//! inflated byte and each materialised frame to the request's in-flight
//! share ([`crate::admission`]) as it grows, and refuses the request once it
//! passes [`MAX_CONVERTED_BYTES`], which is what bounds a single request
//! that is alone in flight (the in-flight budget then lets it through).

use super::error::ProfileError;
use crate::error::IngestError;

/// Largest pprof after decompression, in bytes (Pyroscope's
/// `max_profile_size_bytes`, 4 MiB). Larger profiles are refused.
pub const MAX_PROFILE_BYTES: usize = 4 << 20;

/// Most samples in one pprof (Pyroscope's `max_profile_stacktrace_samples`);
/// for folded input, most distinct stacks. Larger profiles are refused.
pub const MAX_SAMPLES_PER_PROFILE: usize = 16_000;

/// Deepest stack kept, in frames (Pyroscope's
/// `max_profile_stacktrace_depth`). Deeper stacks are truncated, keeping the
/// root side (the outermost callers) and dropping the leaf-most frames, as
/// Pyroscope does.
pub const MAX_STACK_DEPTH: usize = 1000;

/// Most labels per series, `__profile_type__` not counted (Pyroscope's
/// `max_label_names_per_series`). More is refused.
pub const MAX_LABELS_PER_SERIES: usize = 30;

/// Longest label name in bytes (Pyroscope's `max_label_name_length`).
pub const MAX_LABEL_NAME_BYTES: usize = 1024;

/// Longest label value in bytes (Pyroscope's `max_label_value_length`).
pub const MAX_LABEL_VALUE_BYTES: usize = 2048;

/// Most labels on one pprof sample (Pyroscope's
/// `max_profile_stacktrace_sample_labels`). More is refused.
pub const MAX_SAMPLE_LABELS: usize = 100;

/// Longest function name kept, in bytes (Pyroscope's
/// `max_profile_symbol_value_length`). Longer names keep their last bytes
/// (the most specific part of a qualified name), as Pyroscope does.
pub const MAX_SYMBOL_BYTES: usize = 65_535;

/// Most sample types in one pprof (each becomes a series). Go heap profiles
/// have 4, JFR a dozen; more is refused.
pub const MAX_SAMPLE_TYPES: usize = 64;

/// Most memory one request's conversion may allocate: inflated profiles,
/// decoded pprof messages and converted stacks, in bytes (estimated as
/// below). Past it the request is refused with 413 / `invalid_argument`.
pub const MAX_CONVERTED_BYTES: u64 = 128 << 20;

/// Decoded pprof message per byte of pprof protobuf: the string table as
/// `String`s, location ids widened to `u64`, `Location`/`Line` structs.
pub const DECODE_EXPANSION: u64 = 8;

/// Cost of one materialised frame besides its text: the `String` header
/// and allocator rounding.
pub const FRAME_OVERHEAD_BYTES: u64 = 32;

/// Cost of one stored sample besides its frames.
pub const SAMPLE_OVERHEAD_BYTES: u64 = 64;

/// How far ahead of the bytes counted the in-flight charge is grown, so the
/// shared budget is not touched for every frame.
const RESERVE_STEP_BYTES: u64 = 1 << 20;

/// Memory counted for one request's conversion.
pub struct Budget<'a> {
    used: u64,
    reserved: u64,
    reserve: &'a mut dyn FnMut(u64) -> Result<(), IngestError>,
}

impl<'a> Budget<'a> {
    /// A budget that tells `reserve` the total charged (rounded up a step)
    /// whenever it grows, so the caller can grow its in-flight share and
    /// refuse; [`MAX_CONVERTED_BYTES`] is enforced here.
    pub fn new(reserve: &'a mut dyn FnMut(u64) -> Result<(), IngestError>) -> Self {
        Self {
            used: 0,
            reserved: 0,
            reserve,
        }
    }

    /// Counts `bytes` more of `what` (for the refusal message).
    pub fn charge(&mut self, bytes: u64, what: &str) -> Result<(), ProfileError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > MAX_CONVERTED_BYTES {
            return Err(ProfileError::TooLarge(format!(
                "converting this request's {what} needs more than {MAX_CONVERTED_BYTES} bytes of memory (the per-request limit); send fewer or smaller profiles per request"
            )));
        }
        if self.used > self.reserved {
            self.reserved = self
                .used
                .saturating_add(RESERVE_STEP_BYTES)
                .min(MAX_CONVERTED_BYTES);
            (self.reserve)(self.reserved)?;
        }
        Ok(())
    }

    /// Bytes counted so far.
    pub fn used(&self) -> u64 {
        self.used
    }
}

/// `name` cut to its last [`MAX_SYMBOL_BYTES`] bytes (at a character
/// boundary).
pub fn symbol_tail(name: &str) -> &str {
    if name.len() <= MAX_SYMBOL_BYTES {
        return name;
    }
    let mut start = name.len() - MAX_SYMBOL_BYTES;
    while !name.is_char_boundary(start) {
        start += 1;
    }
    &name[start..]
}

/// A reserve callback that never refuses (tests, fuzzing, the `parse_*`
/// entry points).
pub fn no_reserve(_: u64) -> Result<(), IngestError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_reserves_ahead_and_stops_at_the_cap() {
        let mut seen = Vec::new();
        let mut reserve = |n: u64| {
            seen.push(n);
            Ok(())
        };
        let mut budget = Budget::new(&mut reserve);
        budget.charge(10, "stacks").unwrap();
        budget.charge(10, "stacks").unwrap();
        assert_eq!(budget.used(), 20);
        let err = budget
            .charge(MAX_CONVERTED_BYTES, "stacks")
            .unwrap_err()
            .to_string();
        assert!(err.contains("per-request limit"), "{err}");
        assert_eq!(seen, vec![10 + RESERVE_STEP_BYTES]);
    }

    #[test]
    fn long_symbols_keep_their_tail() {
        assert_eq!(symbol_tail("main.run"), "main.run");
        let long = format!("é{}", "x".repeat(MAX_SYMBOL_BYTES - 1));
        let cut = symbol_tail(&long);
        assert_eq!(cut.len(), MAX_SYMBOL_BYTES - 1);
        assert!(cut.bytes().all(|b| b == b'x'));
    }

    #[test]
    fn a_refused_reservation_is_an_error() {
        let mut reserve = |_: u64| Err(IngestError::AckLost);
        let mut budget = Budget::new(&mut reserve);
        assert!(budget.charge(1, "x").is_err());
    }
}
