//! Which value of a profile a view shows: sample counts, on-CPU time, off-CPU
//! time, or both added up as wall time.
//!
//! This maps a user's `--view` choice onto a profile's value columns. It is not
//! about units or formatting (renderers do that from [`ValueView::unit`]).

use model::{Profile, Sample};
use std::fmt;
use std::str::FromStr;

/// Column kind of sample counts.
const SAMPLES: &str = "samples";
/// Column kind of on-CPU time.
const CPU: &str = "cpu";
/// Column kind of off-CPU (blocked) time.
const OFF_CPU: &str = "off_cpu";
/// Column kind of wall time (on- plus off-CPU), when a source provides it directly.
const WALL: &str = "wall";

/// The value a view of a profile shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueView {
    /// Number of samples (the `samples` column, or a profile's only generic column).
    Samples,
    /// Time on CPU (the `cpu` column).
    Cpu,
    /// Time blocked off CPU (the `off_cpu` column).
    OffCpu,
    /// On-CPU plus off-CPU time (a `wall` column, or `cpu + off_cpu`).
    Wall,
}

/// Error of parsing a `--view` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown view '{0}' (expected one of: samples, cpu, off-cpu, wall)")]
pub struct ParseViewError(pub String);

impl FromStr for ValueView {
    type Err = ParseViewError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "samples" => Ok(Self::Samples),
            "cpu" | "on-cpu" | "on_cpu" => Ok(Self::Cpu),
            "off-cpu" | "off_cpu" | "offcpu" => Ok(Self::OffCpu),
            "wall" => Ok(Self::Wall),
            _ => Err(ParseViewError(s.to_string())),
        }
    }
}

impl fmt::Display for ValueView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Reads a view's value from samples with the column indices resolved once
/// (the fast path for loops over many samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueExtractor {
    /// The view has no values in this profile: every sample is 0.
    Missing,
    /// One column.
    Column(usize),
    /// The sum of two columns (wall = cpu + off_cpu).
    Sum(usize, usize),
}

impl ValueExtractor {
    /// The view's value of one sample.
    #[inline]
    pub fn value(&self, sample: &Sample) -> i64 {
        let at = |i: usize| sample.values.get(i).copied().unwrap_or(0);
        match *self {
            Self::Missing => 0,
            Self::Column(i) => at(i),
            Self::Sum(a, b) => at(a) + at(b),
        }
    }

    /// Whether the view has values in the profile at all.
    pub fn is_available(&self) -> bool {
        !matches!(self, Self::Missing)
    }
}

impl ValueView {
    /// Every view, in the order they are listed to users.
    pub const ALL: [ValueView; 4] = [Self::Samples, Self::Cpu, Self::OffCpu, Self::Wall];

    /// The `--view` spelling: `samples`, `cpu`, `off-cpu`, `wall`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Samples => "samples",
            Self::Cpu => "cpu",
            Self::OffCpu => "off-cpu",
            Self::Wall => "wall",
        }
    }

    /// The views a profile has values for, in [`ValueView::ALL`] order.
    ///
    /// `Wall` needs a `wall` column or both `cpu` and `off_cpu`. A profile whose
    /// columns are all generic (e.g. read from folded stacks, which carry no
    /// unit) offers its first column as both `Samples` and `Cpu`.
    pub fn available(profile: &Profile) -> Vec<ValueView> {
        Self::ALL
            .into_iter()
            .filter(|v| v.extractor(profile).is_available())
            .collect()
    }

    /// The view shown when the user picks none: `Wall` when the profile has
    /// off-CPU values (`OffCpu` if it lacks on-CPU ones), else `Cpu` when it has
    /// a `cpu` column, else `Samples`.
    pub fn default_for(profile: &Profile) -> ValueView {
        if profile.value_index(OFF_CPU).is_some() {
            if Self::Wall.extractor(profile).is_available() {
                return Self::Wall;
            }
            return Self::OffCpu;
        }
        if profile.value_index(CPU).is_some() {
            return Self::Cpu;
        }
        if profile.value_index(WALL).is_some() {
            return Self::Wall;
        }
        Self::Samples
    }

    /// Resolves which columns this view reads in `profile`.
    pub fn extractor(&self, profile: &Profile) -> ValueExtractor {
        let column = |kind: &str| profile.value_index(kind).map(ValueExtractor::Column);
        let generic = || {
            profile
                .sample_types
                .iter()
                .position(|t| !matches!(t.kind.as_str(), CPU | OFF_CPU | WALL))
                .map(ValueExtractor::Column)
        };
        let only_generic = || {
            profile
                .sample_types
                .iter()
                .all(|t| !matches!(t.kind.as_str(), CPU | OFF_CPU | WALL))
        };
        let found = match self {
            Self::Samples => column(SAMPLES).or_else(generic),
            Self::Cpu => column(CPU).or_else(|| if only_generic() { generic() } else { None }),
            Self::OffCpu => column(OFF_CPU),
            Self::Wall => column(WALL).or_else(|| {
                match (profile.value_index(CPU), profile.value_index(OFF_CPU)) {
                    (Some(a), Some(b)) => Some(ValueExtractor::Sum(a, b)),
                    _ => None,
                }
            }),
        };
        found.unwrap_or(ValueExtractor::Missing)
    }

    /// The view's value of one sample (0 when the profile lacks the view).
    /// Loops over many samples should resolve an [`ValueView::extractor`] once.
    pub fn value(&self, profile: &Profile, sample: &Sample) -> i64 {
        self.extractor(profile).value(sample)
    }

    /// Sum of the view's values over all samples.
    pub fn total(&self, profile: &Profile) -> i64 {
        let extractor = self.extractor(profile);
        profile.samples.iter().map(|s| extractor.value(s)).sum()
    }

    /// Unit of the view's values as the profile names it (`count`,
    /// `nanoseconds`, …); `count` when the profile lacks the view.
    pub fn unit<'a>(&self, profile: &'a Profile) -> &'a str {
        let index = match self.extractor(profile) {
            ValueExtractor::Missing => None,
            ValueExtractor::Column(i) | ValueExtractor::Sum(i, _) => Some(i),
        };
        index
            .and_then(|i| profile.sample_types.get(i))
            .map_or("count", |t| t.unit.as_str())
    }

    /// The profile column kind this view is stored under when written to a
    /// format with typed columns: `samples`, `cpu`, `off_cpu`, `wall`.
    pub fn column_kind(&self) -> &'static str {
        match self {
            Self::Samples => SAMPLES,
            Self::Cpu => CPU,
            Self::OffCpu => OFF_CPU,
            Self::Wall => WALL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{SampleLabels, ValueType};

    fn profile(kinds: &[(&str, &str)], values: &[i64]) -> Profile {
        let mut p = Profile::new(kinds.iter().map(|(k, u)| ValueType::new(k, u)).collect());
        p.samples.push(Sample {
            locations: vec![],
            values: values.to_vec(),
            labels: SampleLabels::default(),
        });
        p
    }

    #[test]
    fn parses_and_displays_every_view() {
        for v in ValueView::ALL {
            assert_eq!(v.to_string().parse::<ValueView>(), Ok(v));
        }
        assert_eq!("off_cpu".parse::<ValueView>(), Ok(ValueView::OffCpu));
        let err = "xyz".parse::<ValueView>().unwrap_err();
        assert!(err.to_string().contains("'xyz'"));
    }

    #[test]
    fn on_and_off_cpu_profile_offers_every_view_and_defaults_to_wall() {
        let p = profile(
            &[
                ("samples", "count"),
                ("cpu", "nanoseconds"),
                ("off_cpu", "nanoseconds"),
            ],
            &[3, 30, 70],
        );
        assert_eq!(ValueView::available(&p), ValueView::ALL.to_vec());
        assert_eq!(ValueView::default_for(&p), ValueView::Wall);
        let s = &p.samples[0];
        assert_eq!(ValueView::Samples.value(&p, s), 3);
        assert_eq!(ValueView::Cpu.value(&p, s), 30);
        assert_eq!(ValueView::OffCpu.value(&p, s), 70);
        assert_eq!(ValueView::Wall.value(&p, s), 100);
        assert_eq!(ValueView::Wall.unit(&p), "nanoseconds");
        assert_eq!(ValueView::Samples.unit(&p), "count");
    }

    #[test]
    fn cpu_profile_has_no_wall_and_defaults_to_cpu() {
        let p = profile(&[("samples", "count"), ("cpu", "nanoseconds")], &[1, 10]);
        assert_eq!(
            ValueView::available(&p),
            vec![ValueView::Samples, ValueView::Cpu]
        );
        assert_eq!(ValueView::default_for(&p), ValueView::Cpu);
        assert_eq!(ValueView::Wall.value(&p, &p.samples[0]), 0);
    }

    #[test]
    fn generic_single_column_serves_samples_and_cpu() {
        let p = profile(&[("samples", "count")], &[7]);
        assert_eq!(
            ValueView::available(&p),
            vec![ValueView::Samples, ValueView::Cpu]
        );
        assert_eq!(ValueView::default_for(&p), ValueView::Samples);
        assert_eq!(ValueView::Cpu.value(&p, &p.samples[0]), 7);
        let other = profile(&[("alloc_space", "bytes")], &[9]);
        assert_eq!(ValueView::Samples.value(&other, &other.samples[0]), 9);
        assert_eq!(ValueView::Samples.unit(&other), "bytes");
    }

    #[test]
    fn off_cpu_only_profile_defaults_to_off_cpu() {
        let p = profile(&[("off_cpu", "nanoseconds")], &[5]);
        assert_eq!(ValueView::available(&p), vec![ValueView::OffCpu]);
        assert_eq!(ValueView::default_for(&p), ValueView::OffCpu);
    }
}
