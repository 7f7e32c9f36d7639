//! Value types of the trace language, as the checker infers them and the code
//! generator lays them out.
//!
//! All integers are 64-bit (bpftrace widens map keys and values the same way);
//! strings carry their buffer size (`comm` is `string[16]`, `str()` is
//! `string[64]`, a literal is its length plus the NUL). Names print as
//! bpftrace's messages print them (`int64`, `string[16]`, …).

use std::fmt;

/// bpftrace's default `str()` buffer size (BPFTRACE_STRLEN).
pub const STR_SIZE: usize = 64;

/// The size of `comm` (TASK_COMM_LEN).
pub const COMM_SIZE: usize = 16;

/// Type of an expression or a map key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Type {
    /// Not inferred (yet, or because of an earlier error).
    #[default]
    Unknown,
    /// No value (`printf(...)`, `exit()`).
    Void,
    /// A 64-bit integer.
    Int {
        /// Whether it prints and compares as signed.
        signed: bool,
    },
    /// A NUL-padded string buffer of `size` bytes.
    Str {
        /// Buffer size in bytes, NUL included.
        size: usize,
    },
    /// `kstack`/`ustack` (with their options): a stack id (plus the pid
    /// for user stacks), resolved to frames in user space.
    Stack(StackType),
    /// `func`: an instruction address and the pid, resolved to a symbol in
    /// user space.
    Sym,
    /// `probe`: the probe's index, printed as its full name.
    Probe,
    /// The result of an aggregation function (only valid as a map value).
    Agg(AggKind),
}

/// What a `kstack`/`ustack` value is: which stack, how many frames at most,
/// and how it prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StackType {
    /// `ustack` (else `kstack`).
    pub user: bool,
    /// Frames kept, `kstack(N)`; 0 for the default (the kernel's
    /// `perf_event_max_stack`, 127 unless changed).
    pub limit: u16,
    /// `kstack(perf)`: frames as `\tADDRESS SYMBOL` (user frames with their
    /// module), as perf prints them; else bpftrace's indented symbols.
    pub perf: bool,
}

impl StackType {
    /// `kstack` with the default options.
    pub const KERNEL: StackType = StackType {
        user: false,
        limit: 0,
        perf: false,
    };
    /// `ustack` with the default options.
    pub const USER: StackType = StackType {
        user: true,
        limit: 0,
        perf: false,
    };
}

/// An aggregation function, i.e. the kind of a per-CPU map value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggKind {
    /// `count()`
    Count,
    /// `sum(x)`
    Sum,
    /// `avg(x)`
    Avg,
    /// `min(x)`
    Min,
    /// `max(x)`
    Max,
    /// `hist(x)`
    Hist,
    /// `lhist(x, min, max, step)`
    Lhist {
        /// Lower bound.
        min: i64,
        /// Upper bound (exclusive).
        max: i64,
        /// Bucket width.
        step: i64,
    },
    /// `stats(x)`
    Stats,
}

impl AggKind {
    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            AggKind::Count => "count",
            AggKind::Sum => "sum",
            AggKind::Avg => "avg",
            AggKind::Min => "min",
            AggKind::Max => "max",
            AggKind::Hist => "hist",
            AggKind::Lhist { .. } => "lhist",
            AggKind::Stats => "stats",
        }
    }
}

impl Type {
    /// Integer, signed.
    pub const INT: Type = Type::Int { signed: true };
    /// Integer, unsigned.
    pub const UINT: Type = Type::Int { signed: false };

    /// Whether this is an integer.
    pub fn is_int(self) -> bool {
        matches!(self, Type::Int { .. })
    }

    /// Whether this is a string.
    pub fn is_str(self) -> bool {
        matches!(self, Type::Str { .. })
    }

    /// Same kind of value, ignoring string sizes and integer signedness
    /// (which bpftrace lets differ between two uses of a map).
    pub fn compatible(self, other: Type) -> bool {
        match (self, other) {
            (Type::Int { .. }, Type::Int { .. }) | (Type::Str { .. }, Type::Str { .. }) => true,
            (Type::Agg(a), Type::Agg(b)) => a.name() == b.name(),
            (a, b) => a == b,
        }
    }

    /// The wider of two compatible types (the larger string buffer).
    pub fn widen(self, other: Type) -> Type {
        match (self, other) {
            (Type::Str { size: a }, Type::Str { size: b }) => Type::Str { size: a.max(b) },
            (Type::Unknown, b) => b,
            (a, _) => a,
        }
    }

    /// Whether values of this type may be map keys.
    pub fn is_key(self) -> bool {
        matches!(
            self,
            Type::Int { .. } | Type::Str { .. } | Type::Stack(_) | Type::Sym | Type::Probe
        )
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Unknown => f.write_str("unknown"),
            Type::Void => f.write_str("none"),
            Type::Int { signed: true } => f.write_str("int64"),
            Type::Int { signed: false } => f.write_str("unsigned int64"),
            Type::Str { size } => write!(f, "string[{size}]"),
            Type::Stack(StackType { user: false, .. }) => f.write_str("kstack"),
            Type::Stack(StackType { user: true, .. }) => f.write_str("ustack"),
            Type::Sym => f.write_str("usym"),
            Type::Probe => f.write_str("probe"),
            Type::Agg(kind) => f.write_str(kind.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_bpftrace_prints_them() {
        assert_eq!(Type::INT.to_string(), "int64");
        assert_eq!(Type::UINT.to_string(), "unsigned int64");
        assert_eq!(Type::Str { size: 16 }.to_string(), "string[16]");
        assert_eq!(Type::Agg(AggKind::Count).to_string(), "count");
    }

    #[test]
    fn compatibility_ignores_sizes_and_sign() {
        assert!(Type::Str { size: 2 }.compatible(Type::Str { size: 64 }));
        assert!(Type::INT.compatible(Type::UINT));
        assert!(!Type::INT.compatible(Type::Str { size: 2 }));
        assert!(!Type::Agg(AggKind::Count).compatible(Type::Agg(AggKind::Sum)));
        assert_eq!(
            Type::Str { size: 2 }.widen(Type::Str { size: 9 }),
            Type::Str { size: 9 }
        );
    }
}
