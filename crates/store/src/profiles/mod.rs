//! Where profiles live: the [`ProfileStore`] trait every backend implements
//! (the embedded engine now, ClickHouse later), the write and query types the
//! Pyroscope-compatible ingest and query APIs use, and the embedded engine
//! ([`EmbeddedProfileStore`]).
//!
//! A profile series is a label set, as Pyroscope keys it: `__name__`
//! (`process_cpu`, `memory`, …), `__profile_type__`
//! (`name:sample_type:sample_unit:period_type:period_unit`), `service_name`
//! and whatever else the sender attached (pprof sample labels included).
//! Each series holds profiles (a time, a duration) of stack samples. Frames
//! are function names, root first; the store interns names and stacks once
//! (a parent-pointer tree of call paths) and keeps per-sample span and trace
//! ids apart from the labels, so they never multiply series.
//!
//! Frames a sender could not name arrive as `FILE+0xOFFSET` (a file
//! offset, what `whyslow agent` writes); each series keeps the object files
//! ([`ObjectFile`]: path, build id, mapped range) its frames came from, so
//! such frames can be symbolized later by whoever has the file or its debug
//! info (the pprof download hands them to `go tool pprof` as addresses).

pub mod block;
mod block_ticks;
pub mod combine;
pub mod embedded;
pub mod head;
mod maintenance;
pub mod record;
pub mod resymbolize;
pub mod tables;

pub use embedded::{EmbeddedProfileStore, ProfileStoreConfig};
pub use resymbolize::{FrameNamer, Resymbolizing};

use crate::series::Matcher;
use crate::{StoreError, WriteAck};
use model::metrics::Labels;
use serde::{Deserialize, Serialize};

/// The label that names a series' profile type.
pub const PROFILE_TYPE_LABEL: &str = "__profile_type__";

/// One profile to store: the samples of one sample type of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileWrite {
    /// Series identity (with `__name__`, `__profile_type__`, `service_name`).
    pub labels: Labels,
    /// Start of the profile, Unix ns.
    pub time_ns: i64,
    /// How long the profile covers, ns (0 when unknown).
    pub duration_ns: i64,
    /// The samples.
    pub samples: Vec<StackSample>,
    /// Samples taken at a known time on a known thread (what the agent
    /// sends), kept beside the merged `samples` so a span's process,
    /// thread and time find them. Empty for SDK profiles.
    pub ticks: Vec<Tick>,
    /// The object files of the frames named `FILE+0xOFFSET` (empty when
    /// every frame has a name).
    pub objects: Vec<ObjectFile>,
}

/// An executable or library mapping that unsymbolized frames came from:
/// a frame `FILE+0xOFFSET` whose `FILE` is this path's last component and
/// whose offset falls in `offset..offset + size` is at that file offset of
/// this build.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectFile {
    /// The file's path on the profiled host.
    pub path: String,
    /// Its GNU build id, lowercase hex (empty when it has none).
    pub build_id: String,
    /// File offset where the mapping starts.
    pub offset: u64,
    /// Bytes mapped.
    pub size: u64,
}

impl ObjectFile {
    /// The path's last component, as frame names use it.
    pub fn basename(&self) -> &str {
        Self::file_name(&self.path)
    }

    /// The last component of `path`.
    pub fn file_name(path: &str) -> &str {
        path.rsplit('/').next().unwrap_or(path)
    }

    /// Whether frame `name` (`FILE+0xOFFSET`) points into this mapping;
    /// the file offset when it does.
    pub fn offset_of(&self, name: &str) -> Option<u64> {
        let (file, hex) = name.rsplit_once("+0x")?;
        if file != self.basename() {
            return None;
        }
        let offset = u64::from_str_radix(hex, 16).ok()?;
        (offset >= self.offset && offset - self.offset < self.size).then_some(offset)
    }

    /// The first of `objects` frame `name` points into, and its file offset.
    pub fn locate(objects: &[ObjectFile], name: &str) -> Option<(usize, u64)> {
        objects
            .iter()
            .enumerate()
            .find_map(|(at, o)| Some((at, o.offset_of(name)?)))
    }
}

/// One sample taken at a known time on a known thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// Its stack: an index into the write's `samples`.
    pub sample: u32,
    /// The OS thread id.
    pub thread_id: u32,
    /// When it was taken, Unix ns.
    pub time_ns: i64,
    /// Its value in the profile's unit.
    pub value: i64,
}

/// The timed samples of a window merged: their call tree, and how many
/// there were per thread before the thread filter (so a caller can tell
/// whether a thread it asked for ran at all).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickMerge {
    /// The selected threads' samples, merged.
    pub stacks: MergedStacks,
    /// `(thread id, samples)` of every thread in the window, ascending by id.
    pub threads: Vec<(u32, u64)>,
}

/// One stack and its value (after merging identical stacks of a profile).
#[derive(Debug, Clone, PartialEq)]
pub struct StackSample {
    /// Function names, root (outermost caller) first.
    pub frames: Vec<String>,
    /// The value (ns of CPU, bytes, count) in the profile's unit.
    pub value: i64,
    /// The span that was running, when the sender tagged it.
    pub span_id: Option<u64>,
    /// Its trace.
    pub trace_id: Option<u128>,
}

/// What to read: one profile type, series matching `matchers`, profiles
/// starting within `[start_ns, end_ns)`; with span or trace ids, only the
/// samples carrying one of them.
#[derive(Debug, Clone, Default)]
pub struct ProfileQuery {
    /// The `__profile_type__` value.
    pub profile_type: String,
    /// Label matchers (all must match).
    pub matchers: Vec<Matcher>,
    /// Range start, Unix ns (inclusive).
    pub start_ns: i64,
    /// Range end, Unix ns (exclusive).
    pub end_ns: i64,
    /// Only samples of these spans (empty: no filter).
    pub span_ids: Vec<u64>,
    /// Only samples of these traces (empty: no filter).
    pub trace_ids: Vec<u128>,
}

/// Stacks merged over a query: a parent-pointer call tree and the value
/// that ended in each node (self value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergedStacks {
    /// Function names, by id.
    pub names: Vec<String>,
    /// Tree nodes: `(parent node + 1 or 0 for a root, name id)`. A parent
    /// always comes before its children.
    pub nodes: Vec<(u32, u32)>,
    /// Self value per node (same length as `nodes`).
    pub self_values: Vec<i64>,
}

impl MergedStacks {
    /// Sum of every self value.
    pub fn total(&self) -> i64 {
        self.self_values.iter().sum()
    }

    /// Frames of node `node`, root first.
    pub fn frames(&self, node: usize) -> Vec<&str> {
        let mut out = Vec::new();
        let mut at = node + 1;
        while at != 0 {
            let (parent, name) = self.nodes[at - 1];
            out.push(self.names[name as usize].as_str());
            at = parent as usize;
        }
        out.reverse();
        out
    }

    /// Every stack with a non-zero self value, root first.
    pub fn stacks(&self) -> Vec<(Vec<&str>, i64)> {
        (0..self.nodes.len())
            .filter(|&i| self.self_values[i] != 0)
            .map(|i| (self.frames(i), self.self_values[i]))
            .collect()
    }
}

/// A span whose samples hit a frame: its ids and what its samples there add
/// up to.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanHit {
    /// The trace, when the sender tagged it.
    pub trace_id: Option<u128>,
    /// The span, when the sender tagged it.
    pub span_id: Option<u64>,
    /// Sum of the values of the span's samples with the frame on their stack.
    pub value: i64,
    /// How many such samples.
    pub samples: u64,
    /// Start of the first profile holding one, Unix ns.
    pub first_ns: i64,
}

/// One series of totals over time.
#[derive(Debug, Clone, PartialEq)]
pub struct TotalSeries {
    /// The grouping labels (all labels when not grouped).
    pub labels: Labels,
    /// `(step start in Unix ms, summed value)`, ascending, empty steps left out.
    pub points: Vec<(i64, f64)>,
}

/// A profile store.
pub trait ProfileStore: Send + Sync + 'static {
    /// Queues profiles for a durable write. `Err(Overloaded)` when too much
    /// is queued (nothing was taken); otherwise the receiver resolves once
    /// they are durable and queryable.
    fn write(&self, profiles: Vec<ProfileWrite>) -> Result<WriteAck, StoreError>;

    /// Distinct `__profile_type__` values with profiles in the range, sorted.
    fn profile_types(&self, start_ns: i64, end_ns: i64) -> Result<Vec<String>, StoreError>;

    /// Series (label sets) matching `matchers` with profiles in the range.
    fn series(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>, StoreError>;

    /// Stacks of the matching samples, merged.
    fn merge(&self, query: &ProfileQuery) -> Result<MergedStacks, StoreError>;

    /// Totals of the matching samples per `step_ns` bucket, one series per
    /// distinct value of the `group_by` labels (one series when empty).
    fn totals(
        &self,
        query: &ProfileQuery,
        step_ns: i64,
        group_by: &[String],
    ) -> Result<Vec<TotalSeries>, StoreError>;

    /// Spans (by span and trace id) of the selected samples that have a
    /// frame named `frame` anywhere on their stack (every linked sample when
    /// `None`), heaviest first, at most `limit`.
    fn span_hits(
        &self,
        query: &ProfileQuery,
        frame: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SpanHit>, StoreError>;

    /// Timed samples ([`Tick`]s) of the matching series taken within
    /// `[query.start_ns, query.end_ns)`, of the threads `threads` (all when
    /// empty), merged. Span and trace filters of the query do not apply.
    fn merge_ticks(&self, query: &ProfileQuery, threads: &[u32]) -> Result<TickMerge, StoreError>;

    /// Object files of the series the query selects (distinct, sorted):
    /// where their `FILE+0xOFFSET` frames are.
    fn objects(&self, query: &ProfileQuery) -> Result<Vec<ObjectFile>, StoreError>;

    /// `(oldest, newest)` profile time stored, Unix ns; `None` when empty.
    fn time_bounds(&self) -> Result<Option<(i64, i64)>, StoreError>;
}

/// Sorted distinct label names of series matching the query range.
pub fn label_names(
    store: &dyn ProfileStore,
    matchers: &[Matcher],
    start_ns: i64,
    end_ns: i64,
) -> Result<Vec<String>, StoreError> {
    let mut names: Vec<String> = store
        .series(matchers, start_ns, end_ns)?
        .iter()
        .flat_map(|l| l.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>())
        .collect();
    names.sort_unstable();
    names.dedup();
    Ok(names)
}

/// Sorted distinct values of label `name` among matching series.
pub fn label_values(
    store: &dyn ProfileStore,
    name: &str,
    matchers: &[Matcher],
    start_ns: i64,
    end_ns: i64,
) -> Result<Vec<String>, StoreError> {
    let mut values: Vec<String> = store
        .series(matchers, start_ns, end_ns)?
        .iter()
        .filter_map(|l| l.get(name).map(str::to_string))
        .collect();
    values.sort_unstable();
    values.dedup();
    Ok(values)
}
