//! Plain values of a map as read back from the kernel and combined over CPUs:
//! what the printer takes. No kernel types here; the runtime fills these in.

use crate::types::Type;

/// One key component of a map element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// An integer key (printed signed, as bpftrace does).
    Int(i64),
    /// A string key (`comm`, `str(…)`, a literal).
    Str(String),
    /// A kernel or user stack, already resolved to frame texts.
    Stack(Stack),
    /// A resolved symbol (`func`).
    Sym(String),
    /// A probe name (`probe`).
    Probe(String),
}

/// A stack resolved to text, innermost frame first.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Stack {
    /// One text per frame: `func+off` or `0x…` (bpftrace mode), or
    /// `\tADDRESS func+off[ (module)]` (perf mode). Empty when the stack
    /// could not be read (e.g. `kstack` in a uprobe), which prints as nothing.
    pub frames: Vec<String>,
    /// Perf mode: frames are printed as they are, not indented.
    pub perf: bool,
}

/// The value of one map element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapValue {
    /// A plain signed integer assigned with `=` / `+=` / `++`.
    Int(i64),
    /// A plain unsigned integer (bpftrace prints a map of unsigned values,
    /// e.g. `@x = cpu - 5` or `@x = @x - 1` from nothing, as unsigned).
    UInt(u64),
    /// A plain string.
    Str(String),
    /// A plain stack (`@s = kstack`), frames resolved.
    Stack(Stack),
    /// A plain symbol (`@f = func`), resolved.
    Sym(String),
    /// `count()`, summed over CPUs.
    Count(u64),
    /// `sum(x)`, summed over CPUs.
    Sum(i64),
    /// `min(x)` over CPUs.
    Min(i64),
    /// `max(x)` over CPUs.
    Max(i64),
    /// `avg(x)`: count and total summed over CPUs.
    Avg {
        /// Number of values.
        count: u64,
        /// Their sum.
        total: i64,
    },
    /// `stats(x)`: count and total summed over CPUs.
    Stats {
        /// Number of values.
        count: u64,
        /// Their sum.
        total: i64,
    },
    /// `hist(x)`: bucket counts indexed as [`super::hist::hist_index`] places values.
    Hist(Vec<u64>),
    /// `lhist(x, min, max, step)`: `buckets[0]` counts values below `min`,
    /// `buckets[1..=n]` the `n = (max - min) / step` steps, `buckets[n + 1]`
    /// values at or above `max` (see [`super::hist::lhist_index`]).
    Lhist {
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
        /// Bucket width.
        step: i64,
        /// Counts, `n + 2` of them.
        buckets: Vec<u64>,
    },
}

impl MapValue {
    /// Whether bpftrace prints this value over several lines (hist, lhist).
    pub fn is_histogram(&self) -> bool {
        matches!(self, MapValue::Hist(_) | MapValue::Lhist { .. })
    }
}

/// A map's contents at print time.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MapSnapshot {
    /// With the `@` (`@` for the anonymous map).
    pub name: String,
    /// The map's value type as the checker found it ([`crate::MapInfo::value`]);
    /// only needed to print an empty avg/stats map (two blank lines, not one).
    pub kind: Type,
    /// Elements in any order (the printer sorts them); keys empty for a
    /// scalar map.
    pub entries: Vec<(Vec<Key>, MapValue)>,
}
