//! pprof profiles: gzipped `perftools.profiles.Profile` protobuf, as read by
//! `go tool pprof`, Pyroscope, Parca and Grafana. The model has pprof's shape,
//! so both directions are table copies; what pprof cannot say directly is
//! encoded in standard fields (see [`write()`]) so our own output reads back
//! unchanged. Not a symbolizer.

use crate::error::RenderError;
use crate::pprof_proto as proto;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use model::{FrameKind, Profile};
use prost::Message;
use query::ValueView;
use std::io::{Read, Write};

mod decode;
mod encode;

pub use decode::from_proto;
pub use encode::to_proto;

/// Marker mapping names, by the frame kind they stand for.
const MARKERS: [(&str, FrameKind); 3] = [
    ("[kernel.kallsyms]", FrameKind::Kernel),
    ("[jit]", FrameKind::Jit),
    ("[synthetic]", FrameKind::Synthetic),
];

/// Sample label keys.
const LABEL_PID: &str = "pid";
const LABEL_TID: &str = "tid";
const LABEL_THREAD_NAME: &str = "thread_name";
/// When the sample was taken (numeric, unit `nanoseconds`, Unix time):
/// written only for samples that carry a time (the continuous profiler's).
pub const LABEL_TIMESTAMP: &str = "timestamp";
/// The unit of [`LABEL_TIMESTAMP`].
const UNIT_NANOSECONDS: &str = "nanoseconds";

/// The frame kind implied by a location's mapping path (`None`: no mapping).
fn kind_of_mapping(path: Option<&str>) -> FrameKind {
    let Some(path) = path else {
        return FrameKind::User;
    };
    if path.starts_with("[kernel") || path.starts_with("[vmlinux") || path.ends_with(".ko") {
        FrameKind::Kernel
    } else if path == "[jit]" || (path.starts_with("/tmp/perf-") && path.ends_with(".map")) {
        FrameKind::Jit
    } else {
        FrameKind::User
    }
}

/// Writes `profile` as gzipped pprof with `view` as the default sample type.
///
/// The frame kind of a location without a mapping becomes a zero-sized marker
/// mapping named `[kernel.kallsyms]`, `[jit]` or `[synthetic]`; the `wall` view
/// adds a `wall` column (cpu + off_cpu). [`read`] drops both again; kinds of
/// locations with a real mapping are inferred from its path. Labels: `pid`,
/// `tid`, `timestamp` (numbers), `thread_name` (string).
pub fn write(profile: &Profile, view: ValueView, out: &mut dyn Write) -> Result<(), RenderError> {
    let bytes = to_proto(profile, view).encode_to_vec();
    let mut gz = GzEncoder::new(out, Compression::fast());
    gz.write_all(&bytes)?;
    gz.finish()?;
    Ok(())
}

/// Reads a pprof profile, gzipped or not.
pub fn read(bytes: &[u8]) -> Result<Profile, RenderError> {
    let decoded;
    let raw = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut buf = Vec::new();
        GzDecoder::new(bytes)
            .read_to_end(&mut buf)
            .map_err(|e| RenderError::NotPprof(format!("gzip data is corrupt: {e}")))?;
        decoded = buf;
        &decoded[..]
    } else {
        bytes
    };
    let message = proto::Profile::decode(raw)
        .map_err(|e| RenderError::NotPprof(format!("protobuf decoding failed: {e}")))?;
    from_proto(&message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::rich_profile;

    fn round_trip(profile: &Profile, view: ValueView) -> Profile {
        let mut out = Vec::new();
        write(profile, view, &mut out).unwrap();
        read(&out).unwrap()
    }

    #[test]
    fn own_output_reads_back_unchanged_in_every_view() {
        let p = rich_profile();
        for view in ValueView::ALL {
            assert_eq!(round_trip(&p, view), p, "{view}");
        }
    }

    #[test]
    fn sample_times_survive_as_numeric_labels() {
        let mut p = rich_profile();
        p.samples[0].labels.time_ns = 1_700_000_000_123_456_789;
        assert_eq!(
            round_trip(&p, ValueView::Cpu).samples[0].labels.time_ns,
            1_700_000_000_123_456_789
        );
        let message = to_proto(&p, ValueView::Cpu);
        let s = &message.string_table;
        let label = message.sample[0]
            .label
            .iter()
            .find(|l| s[l.key as usize] == LABEL_TIMESTAMP)
            .unwrap();
        assert_eq!(s[label.num_unit as usize], "nanoseconds");
    }

    #[test]
    fn wall_view_adds_default_wall_column() {
        let p = rich_profile();
        let message = to_proto(&p, ValueView::Wall);
        let s = &message.string_table;
        let kinds: Vec<&str> = message
            .sample_type
            .iter()
            .map(|t| s[t.r#type as usize].as_str())
            .collect();
        assert_eq!(kinds, ["samples", "cpu", "off_cpu", "wall"]);
        assert_eq!(s[message.default_sample_type as usize], "wall");
        assert_eq!(message.sample[2].value, [2, 0, 500_000_000, 500_000_000]);
        let cpu = to_proto(&p, ValueView::Cpu);
        assert_eq!(cpu.sample_type.len(), 3);
        assert_eq!(cpu.string_table[cpu.default_sample_type as usize], "cpu");
    }

    #[test]
    fn kinds_without_mapping_use_marker_mappings() {
        let message = to_proto(&rich_profile(), ValueView::Cpu);
        let names: Vec<&str> = message
            .mapping
            .iter()
            .map(|m| message.string_table[m.filename as usize].as_str())
            .collect();
        assert_eq!(names, ["/usr/bin/app", "[synthetic]", "[kernel.kallsyms]"]);
        assert!(message.mapping[0].has_inline_frames);
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        let err = read(b"\x1f\x8bnot gzip").unwrap_err().to_string();
        assert!(err.starts_with("not a pprof profile: gzip"), "{err}");
        let err = read(b"\xff\xff\xff").unwrap_err().to_string();
        assert!(err.starts_with("not a pprof profile: protobuf"), "{err}");
        let bad = proto::Profile {
            sample_type: vec![proto::ValueType { r#type: 5, unit: 0 }],
            string_table: vec![String::new()],
            ..proto::Profile::default()
        };
        let err = from_proto(&bad).unwrap_err().to_string();
        assert!(err.contains("string index 5"), "{err}");
    }
}
