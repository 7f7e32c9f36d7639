//! A sampled profile in the shape of pprof's `profile.proto`: interned tables of
//! mappings, functions and locations, and samples that point into them.
//!
//! Keeping the pprof shape means every format (pprof, folded, speedscope, perf
//! script) converts to and from this one type without losing what it carries.
//! Frames keep their mapping (path, build id, file offset) so a profile can be
//! re-symbolized later on another machine.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Index into [`Profile::mappings`].
pub type MappingId = usize;
/// Index into [`Profile::functions`].
pub type FunctionId = usize;
/// Index into [`Profile::locations`].
pub type LocationId = usize;

/// What one column of sample values measures, e.g. `("cpu", "nanoseconds")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ValueType {
    /// Name of the measure: `samples`, `cpu`, `off_cpu`, `wall`.
    pub kind: String,
    /// Unit of the measure: `count`, `nanoseconds`, `bytes`.
    pub unit: String,
}

impl ValueType {
    /// A value type from its kind and unit.
    pub fn new(kind: &str, unit: &str) -> Self {
        Self {
            kind: kind.to_string(),
            unit: unit.to_string(),
        }
    }
}

/// A loaded object (executable, shared library, kernel, JIT region) that
/// addresses fall into.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mapping {
    /// First runtime address covered by the mapping.
    pub start: u64,
    /// One past the last runtime address covered.
    pub limit: u64,
    /// File offset that `start` corresponds to.
    pub file_offset: u64,
    /// Path of the object file (`[kernel.kallsyms]` for the kernel, `[jit]` for perf maps).
    pub path: String,
    /// GNU build id, lowercase hex, empty when unknown.
    pub build_id: String,
}

impl Mapping {
    /// The file offset of a runtime address inside this mapping.
    pub fn file_offset_of(&self, address: u64) -> u64 {
        address
            .wrapping_sub(self.start)
            .wrapping_add(self.file_offset)
    }
}

/// A function, as named by symbolization.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Function {
    /// Human-readable (demangled) name, e.g. `workload::hot_a`.
    pub name: String,
    /// Name as found in the object file (mangled), empty when the same as `name`.
    pub system_name: String,
    /// Source file, empty when unknown.
    pub filename: String,
    /// Line where the function starts, 0 when unknown.
    pub start_line: u32,
}

/// One source position inside a location; several when functions were inlined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Line {
    /// The function this line belongs to.
    pub function: FunctionId,
    /// Source line, 0 when unknown.
    pub line: u32,
}

/// Where a frame comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum FrameKind {
    /// User-space native code.
    #[default]
    User,
    /// Kernel code.
    Kernel,
    /// JIT-compiled code named by a perf map.
    Jit,
    /// A synthetic frame (process name root, `[unknown]`, off-CPU marker).
    Synthetic,
}

/// A unique program counter, with the source lines it maps to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Mapping the address falls into, if known.
    pub mapping: Option<MappingId>,
    /// Runtime address: the sampled instruction for a leaf, the return address for
    /// callers (as pprof stores it; symbolizers look callers up at `address - 1`).
    pub address: u64,
    /// Source lines, innermost (most inlined) first; empty when unsymbolized.
    pub lines: Vec<Line>,
    /// Kernel, user, JIT or synthetic.
    pub kind: FrameKind,
}

/// Per-sample labels whoever reads the profile may group by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SampleLabels {
    /// Process id, 0 when unknown.
    pub pid: u32,
    /// Thread id, 0 when unknown.
    pub tid: u32,
    /// Thread name (`comm`), empty when unknown.
    pub thread_name: String,
    /// When the sample was taken, Unix ns; 0 when the profiler merged
    /// samples over time (the continuous profiler keeps it, so a span's
    /// thread and time find their samples).
    pub time_ns: i64,
}

/// One stack with its values (one per [`Profile::sample_types`] entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// The stack, leaf first.
    pub locations: Vec<LocationId>,
    /// Values, aligned with [`Profile::sample_types`].
    pub values: Vec<i64>,
    /// Who the sample was taken from.
    pub labels: SampleLabels,
}

/// A frame as views see it: one function at one line (inlined frames expanded).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame<'a> {
    /// Function name, or a hex address when unsymbolized.
    pub name: &'a str,
    /// Source file, empty when unknown.
    pub filename: &'a str,
    /// Source line, 0 when unknown.
    pub line: u32,
    /// Kernel, user, JIT or synthetic.
    pub kind: FrameKind,
}

/// A sampled profile: what was measured, and the stacks it was measured at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// What each column of [`Sample::values`] measures.
    pub sample_types: Vec<ValueType>,
    /// Stacks and their values.
    pub samples: Vec<Sample>,
    /// Interned locations.
    pub locations: Vec<Location>,
    /// Interned functions.
    pub functions: Vec<Function>,
    /// Interned mappings.
    pub mappings: Vec<Mapping>,
    /// Wall-clock start of the recording, nanoseconds since the Unix epoch (0 when unknown).
    pub start_time_ns: i64,
    /// Length of the recording in nanoseconds (0 when unknown).
    pub duration_ns: i64,
    /// What one sampling period measures, e.g. `("cpu", "nanoseconds")`.
    pub period_type: Option<ValueType>,
    /// The sampling period in `period_type` units (e.g. 10_101_010 ns at 99 Hz).
    pub period: i64,
    /// Free-form notes shown with the profile (event used, lost samples, command line).
    pub comments: Vec<String>,
}

impl Profile {
    /// An empty profile measuring the given value types.
    pub fn new(sample_types: Vec<ValueType>) -> Self {
        Self {
            sample_types,
            ..Self::default()
        }
    }

    /// Index of the value type named `kind`, if the profile has it.
    pub fn value_index(&self, kind: &str) -> Option<usize> {
        self.sample_types.iter().position(|t| t.kind == kind)
    }

    /// Frames of a location, outermost (caller) first within the location,
    /// i.e. the order they appear in a root-to-leaf stack.
    pub fn frames_of(&self, location: &Location) -> Vec<Frame<'_>> {
        if location.lines.is_empty() {
            return vec![Frame {
                name: "",
                filename: "",
                line: 0,
                kind: location.kind,
            }];
        }
        location
            .lines
            .iter()
            .rev()
            .map(|l| {
                let f = &self.functions[l.function];
                Frame {
                    name: &f.name,
                    filename: &f.filename,
                    line: l.line,
                    kind: location.kind,
                }
            })
            .collect()
    }

    /// The stack of a sample as frame names, root first, inlined frames expanded.
    /// Unsymbolized frames are named by their hex address (`0x7f12ab`).
    pub fn stack_names(&self, sample: &Sample) -> Vec<String> {
        let mut out = Vec::with_capacity(sample.locations.len());
        for &loc_id in sample.locations.iter().rev() {
            let Some(loc) = self.locations.get(loc_id) else {
                continue;
            };
            if loc.lines.is_empty() {
                out.push(format!("{:#x}", loc.address));
                continue;
            }
            for l in loc.lines.iter().rev() {
                if let Some(f) = self.functions.get(l.function) {
                    out.push(f.name.clone());
                }
            }
        }
        out
    }

    /// Sum of one value column over all samples.
    pub fn total(&self, value_index: usize) -> i64 {
        self.samples
            .iter()
            .map(|s| s.values.get(value_index).copied().unwrap_or(0))
            .sum()
    }
}

/// Builds a [`Profile`] while interning functions, locations and mappings.
#[derive(Debug, Default)]
pub struct ProfileBuilder {
    profile: Profile,
    functions: HashMap<Function, FunctionId>,
    locations: HashMap<Location, LocationId>,
    mappings: HashMap<Mapping, MappingId>,
}

impl ProfileBuilder {
    /// A builder for a profile measuring `sample_types`.
    pub fn new(sample_types: Vec<ValueType>) -> Self {
        Self {
            profile: Profile::new(sample_types),
            ..Self::default()
        }
    }

    /// The profile being built, for setting metadata (period, duration, comments).
    pub fn profile_mut(&mut self) -> &mut Profile {
        &mut self.profile
    }

    /// Interns a function and returns its id.
    pub fn function(&mut self, function: Function) -> FunctionId {
        if let Some(&id) = self.functions.get(&function) {
            return id;
        }
        let id = self.profile.functions.len();
        self.profile.functions.push(function.clone());
        self.functions.insert(function, id);
        id
    }

    /// Interns a function known only by name (and optionally file).
    pub fn function_named(&mut self, name: &str, filename: &str) -> FunctionId {
        self.function(Function {
            name: name.to_string(),
            system_name: String::new(),
            filename: filename.to_string(),
            start_line: 0,
        })
    }

    /// Interns a mapping and returns its id.
    pub fn mapping(&mut self, mapping: Mapping) -> MappingId {
        if let Some(&id) = self.mappings.get(&mapping) {
            return id;
        }
        let id = self.profile.mappings.len();
        self.profile.mappings.push(mapping.clone());
        self.mappings.insert(mapping, id);
        id
    }

    /// Interns a location and returns its id.
    pub fn location(&mut self, location: Location) -> LocationId {
        if let Some(&id) = self.locations.get(&location) {
            return id;
        }
        let id = self.profile.locations.len();
        self.profile.locations.push(location.clone());
        self.locations.insert(location, id);
        id
    }

    /// Interns a synthetic or symbolized frame known only by name: one location
    /// with a single line in function `name`.
    pub fn named_location(
        &mut self,
        name: &str,
        filename: &str,
        line: u32,
        kind: FrameKind,
    ) -> LocationId {
        let function = self.function_named(name, filename);
        self.location(Location {
            mapping: None,
            address: 0,
            lines: vec![Line { function, line }],
            kind,
        })
    }

    /// Adds a sample.
    pub fn add_sample(&mut self, sample: Sample) {
        self.profile.samples.push(sample);
    }

    /// Finishes the profile, merging samples with identical stacks and labels.
    pub fn finish(mut self) -> Profile {
        merge_identical_samples(&mut self.profile);
        self.profile
    }
}

/// Merges samples with identical stacks and labels by adding their values;
/// keeps first-seen order.
pub fn merge_identical_samples(profile: &mut Profile) {
    let mut index: HashMap<(Vec<LocationId>, SampleLabels), usize> = HashMap::new();
    let mut merged: Vec<Sample> = Vec::with_capacity(profile.samples.len());
    for sample in profile.samples.drain(..) {
        let key = (sample.locations.clone(), sample.labels.clone());
        match index.get(&key) {
            Some(&i) => {
                let target = &mut merged[i];
                for (a, b) in target.values.iter_mut().zip(&sample.values) {
                    *a += *b;
                }
            }
            None => {
                index.insert(key, merged.len());
                merged.push(sample);
            }
        }
    }
    profile.samples = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_interns_and_merges() {
        let mut b = ProfileBuilder::new(vec![ValueType::new("samples", "count")]);
        let main = b.named_location("main", "main.rs", 3, FrameKind::User);
        let hot = b.named_location("hot_a", "main.rs", 10, FrameKind::User);
        assert_eq!(
            main,
            b.named_location("main", "main.rs", 3, FrameKind::User)
        );
        for _ in 0..3 {
            b.add_sample(Sample {
                locations: vec![hot, main],
                values: vec![1],
                labels: SampleLabels::default(),
            });
        }
        let p = b.finish();
        assert_eq!(p.samples.len(), 1);
        assert_eq!(p.samples[0].values, vec![3]);
        assert_eq!(p.stack_names(&p.samples[0]), vec!["main", "hot_a"]);
    }

    #[test]
    fn inlined_frames_expand_outermost_first() {
        let mut b = ProfileBuilder::new(vec![ValueType::new("samples", "count")]);
        let outer = b.function_named("outer", "");
        let inner = b.function_named("inner", "");
        let loc = b.location(Location {
            mapping: None,
            address: 0x10,
            lines: vec![
                Line {
                    function: inner,
                    line: 2,
                },
                Line {
                    function: outer,
                    line: 1,
                },
            ],
            kind: FrameKind::User,
        });
        b.add_sample(Sample {
            locations: vec![loc],
            values: vec![1],
            labels: SampleLabels::default(),
        });
        let p = b.finish();
        assert_eq!(p.stack_names(&p.samples[0]), vec!["outer", "inner"]);
    }
}
