//! Folded stacks sent to `/ingest`: the default "groups" format (`a;b;c 123`
//! per line, split at the last space) and `format=lines` (one stack per line,
//! count 1), plus the legacy app-name suffixes that say what the numbers are
//! (Pyroscope `ingest_adapter.go` `convertMetadata`): `.cpu` (or none) means
//! CPU samples, scaled by the period `1e9 / sampleRate` into nanoseconds.

use super::error::ProfileError;
use super::labels::SERVICE_NAME;
use super::limits::{
    symbol_tail, Budget, FRAME_OVERHEAD_BYTES, MAX_SAMPLES_PER_PROFILE, MAX_STACK_DEPTH,
    SAMPLE_OVERHEAD_BYTES,
};
use model::metrics::{Labels, METRIC_NAME};
use std::collections::HashMap;
use store::profiles::{ProfileWrite, StackSample, PROFILE_TYPE_LABEL};

/// What a legacy profile holds, from its app-name suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// `__name__`.
    pub name: &'static str,
    /// Sample type.
    pub sample_type: &'static str,
    /// Sample unit.
    pub sample_unit: &'static str,
    /// Whether the values are sample counts, scaled by the sampling period
    /// into nanoseconds (period type `cpu:nanoseconds`).
    pub sampled: bool,
}

const CPU: Kind = Kind {
    name: "process_cpu",
    sample_type: "cpu",
    sample_unit: "nanoseconds",
    sampled: true,
};

const fn plain(name: &'static str, sample_type: &'static str, sample_unit: &'static str) -> Kind {
    Kind {
        name,
        sample_type,
        sample_unit,
        sampled: false,
    }
}

/// Known suffixes.
const SUFFIXES: &[(&str, Kind)] = &[
    ("cpu", CPU),
    ("itimer", CPU),
    (
        "wall",
        Kind {
            name: "wall",
            sample_type: "wall",
            sample_unit: "nanoseconds",
            sampled: true,
        },
    ),
    ("alloc_objects", plain("memory", "alloc_objects", "count")),
    ("alloc_space", plain("memory", "alloc_space", "bytes")),
    ("inuse_objects", plain("memory", "inuse_objects", "count")),
    ("inuse_space", plain("memory", "inuse_space", "bytes")),
    ("goroutines", plain("goroutines", "goroutines", "count")),
    ("mutex_count", plain("mutex", "contentions", "count")),
    ("mutex_duration", plain("mutex", "delay", "nanoseconds")),
    ("block_count", plain("block", "contentions", "count")),
    ("block_duration", plain("block", "delay", "nanoseconds")),
];

impl Kind {
    /// The `__profile_type__` value.
    pub fn profile_type(&self) -> String {
        let period = if self.sampled { "cpu:nanoseconds" } else { ":" };
        format!(
            "{}:{}:{}:{period}",
            self.name, self.sample_type, self.sample_unit
        )
    }
}

/// Splits `app.suffix` into the service name and its kind. Without a known
/// suffix the whole name is the service and the kind is CPU; the flag says
/// whether a suffix was recognised.
pub fn split_suffix(app: &str) -> (&str, Kind, bool) {
    if let Some((service, suffix)) = app.rsplit_once('.') {
        if let Some((_, kind)) = SUFFIXES.iter().find(|(s, _)| *s == suffix) {
            if !service.is_empty() {
                return (service, *kind, true);
            }
        }
    }
    (app, CPU, false)
}

/// The two folded formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folded {
    /// `a;b;c 123` per line ("groups", Pyroscope's default).
    Groups,
    /// `a;b;c` per line, each counting 1.
    Lines,
}

/// Where a folded profile goes.
#[derive(Debug, Clone, Default)]
pub struct FoldedSeries {
    /// The application name with its suffix (`myapp.cpu`).
    pub app: String,
    /// Other labels (tags, `pyroscope_spy`); a `service_name` tag wins over the app name.
    pub labels: Vec<(String, String)>,
    /// Samples per second, for the CPU and wall period.
    pub sample_rate: u32,
    /// Profile start, Unix ns.
    pub time_ns: i64,
    /// Profile length, ns.
    pub duration_ns: i64,
}

/// Parses a folded body into one [`ProfileWrite`] (nothing when it has no
/// stacks), identical stacks summed.
pub fn parse_folded(
    body: &[u8],
    format: Folded,
    series: &FoldedSeries,
    budget: &mut Budget<'_>,
) -> Result<Vec<ProfileWrite>, ProfileError> {
    let (service, kind, _) = split_suffix(&series.app);
    let scale: i64 = if kind.sampled {
        if series.sample_rate == 0 {
            return Err(ProfileError::Invalid("sampleRate must be positive".into()));
        }
        (1_000_000_000 / i64::from(series.sample_rate)).max(1)
    } else {
        1
    };
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    let mut stacks: Vec<(Vec<String>, i64)> = Vec::new();
    for (number, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = String::from_utf8_lossy(line);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let line_error = |why: String| ProfileError::Invalid(format!("line {}: {why}", number + 1));
        let (stack, count) = match format {
            Folded::Lines => (line, 1),
            Folded::Groups => {
                let (stack, count) = line.rsplit_once(' ').ok_or_else(|| {
                    line_error(
                        "expected 'frame;frame;... <count>' (no space before a count)".into(),
                    )
                })?;
                let count: u64 = count.parse().map_err(|_| {
                    line_error(format!(
                        "the count '{}' is not a whole number",
                        super::labels::shorten(count)
                    ))
                })?;
                (stack.trim_end(), count)
            }
        };
        let frames: Vec<String> = stack
            .split(';')
            .filter(|f| !f.is_empty())
            .take(MAX_STACK_DEPTH)
            .map(|f| symbol_tail(f).to_string())
            .collect();
        if frames.is_empty() || count == 0 {
            continue;
        }
        let value = i64::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(scale))
            .ok_or_else(|| line_error(format!("the count {count} overflows")))?;
        if let Some(&i) = index.get(&frames) {
            stacks[i].1 = stacks[i].1.saturating_add(value);
            continue;
        }
        if stacks.len() == MAX_SAMPLES_PER_PROFILE {
            return Err(ProfileError::Invalid(format!(
                "the profile has more than {MAX_SAMPLES_PER_PROFILE} distinct stacks (max_profile_stacktrace_samples)"
            )));
        }
        // Twice: the index key and the stored stack.
        let bytes: u64 = frames
            .iter()
            .map(|f| f.len() as u64 + FRAME_OVERHEAD_BYTES)
            .sum::<u64>()
            * 2
            + SAMPLE_OVERHEAD_BYTES;
        budget.charge(bytes, "folded stacks")?;
        index.insert(frames.clone(), stacks.len());
        stacks.push((frames, value));
    }
    drop(index);
    let samples: Vec<StackSample> = stacks
        .into_iter()
        .filter(|(_, value)| *value != 0)
        .map(|(frames, value)| StackSample {
            frames,
            value,
            span_id: None,
            trace_id: None,
        })
        .collect();
    if samples.is_empty() {
        return Ok(Vec::new());
    }
    let mut pairs = vec![(SERVICE_NAME.to_string(), service.to_string())];
    pairs.extend(series.labels.iter().cloned());
    pairs.push((METRIC_NAME.to_string(), kind.name.to_string()));
    pairs.push((PROFILE_TYPE_LABEL.to_string(), kind.profile_type()));
    let labels = Labels::from_pairs(pairs);
    super::labels::check_series(&labels)?;
    Ok(vec![ProfileWrite {
        labels,
        time_ns: series.time_ns,
        duration_ns: series.duration_ns,
        samples,
        ticks: Vec::new(),
        objects: Vec::new(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyroscope::limits::no_reserve;

    fn parse(body: &str, format: Folded, app: &str) -> Result<Vec<ProfileWrite>, ProfileError> {
        let series = FoldedSeries {
            app: app.into(),
            labels: vec![("env".into(), "prod".into())],
            sample_rate: 100,
            time_ns: 5,
            duration_ns: 10,
        };
        parse_folded(
            body.as_bytes(),
            format,
            &series,
            &mut Budget::new(&mut no_reserve),
        )
    }

    fn stacks(write: &ProfileWrite) -> Vec<(String, i64)> {
        write
            .samples
            .iter()
            .map(|s| (s.frames.join(";"), s.value))
            .collect()
    }

    #[test]
    fn groups_are_scaled_by_the_period_and_merged() {
        let writes = parse(
            "a;b;c 2\r\na;b 1\n\na;b;c 3\nmain;do work 4\n",
            Folded::Groups,
            "app.cpu",
        )
        .unwrap();
        assert_eq!(writes.len(), 1);
        let w = &writes[0];
        assert_eq!(w.labels.get("service_name"), Some("app"));
        assert_eq!(w.labels.get("__name__"), Some("process_cpu"));
        assert_eq!(w.labels.get("env"), Some("prod"));
        assert_eq!(
            w.labels.get(PROFILE_TYPE_LABEL),
            Some("process_cpu:cpu:nanoseconds:cpu:nanoseconds")
        );
        assert_eq!((w.time_ns, w.duration_ns), (5, 10));
        let ms = 10_000_000;
        assert_eq!(
            stacks(w),
            vec![
                ("a;b;c".into(), 5 * ms),
                ("a;b".into(), ms),
                ("main;do work".into(), 4 * ms)
            ]
        );
    }

    #[test]
    fn lines_count_one_each() {
        let writes = parse("a;b\na;b\nc\n", Folded::Lines, "svc").unwrap();
        assert_eq!(writes[0].labels.get("service_name"), Some("svc"));
        assert_eq!(
            stacks(&writes[0]),
            vec![("a;b".into(), 20_000_000), ("c".into(), 10_000_000)]
        );
    }

    #[test]
    fn suffixes_pick_the_type() {
        let w = &parse("a 7", Folded::Groups, "app.alloc_space").unwrap()[0];
        assert_eq!(
            w.labels.get(PROFILE_TYPE_LABEL),
            Some("memory:alloc_space:bytes::")
        );
        assert_eq!(stacks(w), vec![("a".into(), 7)]);
        let w = &parse("a 1", Folded::Groups, "app.wall").unwrap()[0];
        assert_eq!(
            w.labels.get(PROFILE_TYPE_LABEL),
            Some("wall:wall:nanoseconds:cpu:nanoseconds")
        );
        let w = &parse("a 1", Folded::Groups, "my.service").unwrap()[0];
        assert_eq!(w.labels.get("service_name"), Some("my.service"));
        assert_eq!(w.labels.get("__name__"), Some("process_cpu"));
        for (suffix, name) in [
            ("inuse_objects", "memory"),
            ("inuse_space", "memory"),
            ("alloc_objects", "memory"),
        ] {
            let app = format!("x.{suffix}");
            let (service, kind, known) = split_suffix(&app);
            assert_eq!((service, kind.name, known), ("x", name, true));
        }
    }

    #[test]
    fn deep_stacks_keep_the_root_side() {
        let body = format!(
            "{} 1",
            (0..MAX_STACK_DEPTH + 5)
                .map(|i| format!("f{i}"))
                .collect::<Vec<_>>()
                .join(";")
        );
        let w = &parse(&body, Folded::Groups, "app").unwrap()[0];
        let frames = &w.samples[0].frames;
        assert_eq!(frames.len(), MAX_STACK_DEPTH);
        assert_eq!(frames[0], "f0");
    }

    #[test]
    fn bad_lines_are_refused_with_their_number() {
        let err = parse("a 1\nb x\n", Folded::Groups, "app")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 2:"), "{err}");
        let err = parse("a;b\n", Folded::Groups, "app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no space"), "{err}");
        let err = parse("a -1", Folded::Groups, "app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a whole number"), "{err}");
        let err = parse(&format!("a {}", i64::MAX), Folded::Groups, "app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("overflows"), "{err}");
        assert!(parse("", Folded::Groups, "app").unwrap().is_empty());
    }

    #[test]
    fn too_many_stacks_are_refused() {
        let body: String = (0..=MAX_SAMPLES_PER_PROFILE)
            .map(|i| format!("f{i} 1\n"))
            .collect();
        let err = parse(&body, Folded::Groups, "app").unwrap_err().to_string();
        assert!(err.contains("max_profile_stacktrace_samples"), "{err}");
    }
}
