//! pprof (`perftools.profiles.Profile`, gzipped or not) into
//! [`ProfileWrite`]s, as Pyroscope splits a pushed profile into series
//! (`pkg/model/pprofsplit`, `pkg/validation`):
//!
//! - one write per sample type and per distinct set of pprof sample labels;
//!   string sample labels become series labels (series labels win over
//!   them), except `span_id` (16 hex digits), `trace_id` (32 hex digits) and
//!   the legacy `profile_id` (read as `span_id`), which stay per sample;
//! - `__profile_type__` = `name:sample_type:sample_unit:period_type:period_unit`;
//!   without a `__name__` label the name is derived from the sample types
//!   (`wall`, anything with `cpu` → `process_cpu`, `alloc_*`/`inuse_*` →
//!   `memory`, `mutex_*`, `block_*`, `goroutines`), as `/ingest` does;
//! - stacks are function names root first (pprof lists locations leaf first,
//!   and a location's inlined lines innermost first); a location without a
//!   named function becomes `0x<address>`; identical stacks (with the same
//!   span and trace) are summed, zero values dropped;
//! - the limits of [`super::limits`]: size, samples, sample labels, depth
//!   (root side kept), symbol length (tail kept), label count and lengths.
//!
//! This file inflates and decodes; the conversion itself is in
//! `pprof_split.rs`. The protobuf structs are `render::pprof_proto`'s
//! hand-written prost derives (no `protoc` at build time).

use super::error::ProfileError;
use super::limits::{no_reserve, Budget, DECODE_EXPANSION, MAX_PROFILE_BYTES};
use super::pprof_split::Converter;
use flate2::read::MultiGzDecoder;
use prost::Message;
use render::pprof_proto::Profile;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use store::profiles::ProfileWrite;

/// Where a pprof's samples go.
#[derive(Debug, Clone, Default)]
pub struct PprofSeries {
    /// Series labels. Without `__name__`, the profile name is derived from
    /// the sample types.
    pub labels: Vec<(String, String)>,
    /// Display names of sample types (`sample_type_config`), used only to
    /// derive the name; empty means Pyroscope's default (`samples` → `cpu`).
    pub display_names: HashMap<String, String>,
    /// Profile start when the pprof has no plausible `time_nanos`, Unix ns.
    pub default_time_ns: i64,
    /// Profile length when the pprof has no `duration_nanos`, ns.
    pub default_duration_ns: i64,
}

/// Converts one pprof (gzipped or not) without in-flight accounting (the
/// conversion limits still apply). An entry point for fuzzing.
pub fn parse_pprof(bytes: &[u8], series: &PprofSeries) -> Result<Vec<ProfileWrite>, ProfileError> {
    convert(bytes, series, &mut Budget::new(&mut no_reserve))
}

/// Converts one pprof, charging what it allocates to `budget`.
pub fn convert(
    bytes: &[u8],
    series: &PprofSeries,
    budget: &mut Budget<'_>,
) -> Result<Vec<ProfileWrite>, ProfileError> {
    let raw = inflate(bytes, budget)?;
    budget.charge(raw.len() as u64 * DECODE_EXPANSION, "decoded pprof")?;
    let profile = Profile::decode(&raw[..])
        .map_err(|e| ProfileError::Invalid(format!("malformed pprof protobuf: {e}")))?;
    drop(raw);
    Converter::new(&profile, budget)?.run(series)
}

/// The pprof bytes, inflated when they start with the gzip magic.
fn inflate<'a>(bytes: &'a [u8], budget: &mut Budget<'_>) -> Result<Cow<'a, [u8]>, ProfileError> {
    let too_large = || {
        ProfileError::TooLarge(format!(
            "the profile is larger than {MAX_PROFILE_BYTES} bytes uncompressed (max_profile_size_bytes)"
        ))
    };
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return if bytes.len() > MAX_PROFILE_BYTES {
            Err(too_large())
        } else {
            Ok(Cow::Borrowed(bytes))
        };
    }
    let mut decoder = MultiGzDecoder::new(bytes).take(MAX_PROFILE_BYTES as u64 + 1);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(Cow::Owned(out)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ProfileError::Invalid(format!(
                    "malformed gzip in the profile: {e}"
                )))
            }
        };
        if out.len() + n > MAX_PROFILE_BYTES {
            return Err(too_large());
        }
        budget.charge(n as u64, "inflated profiles")?;
        out.extend_from_slice(&chunk[..n]);
    }
}

/// The profile name of a pprof sent without one (Pyroscope's
/// `RawProfile.metricName`).
pub fn derive_name(types: &[(&str, &str)], display_names: &HashMap<String, String>) -> String {
    if types.iter().any(|(t, _)| *t == "wall") {
        return "wall".into();
    }
    let mut last = "";
    for (sample_type, _) in types {
        let st = if display_names.is_empty() {
            if *sample_type == "samples" {
                "cpu"
            } else {
                sample_type
            }
        } else {
            display_names
                .get(*sample_type)
                .map(String::as_str)
                .filter(|d| !d.is_empty())
                .unwrap_or(sample_type)
        };
        last = st;
        if st.contains("cpu") {
            return "process_cpu".into();
        }
        if st.contains("alloc_") || st.contains("inuse_") || st == "space" || st == "objects" {
            return "memory".into();
        }
        for name in ["mutex", "block"] {
            if st.contains(&format!("{name}_")) {
                return name.into();
            }
        }
        if st.contains("goroutines") {
            return "goroutines".into();
        }
    }
    last.to_string()
}
