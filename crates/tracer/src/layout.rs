//! How each map is laid out in the kernel: its BPF map type, key bytes and
//! value bytes. The code generator writes these layouts and the runtime
//! reads them back, so both take them from here.
//!
//! Keys: every component padded to 8 bytes (integers as u64, strings NUL
//! padded to a multiple of 8, stacks as `stack id | pid << 32` — the pid
//! only for user stacks, `probe` as its index in the run's probe names,
//! `func` as the address then the pid); a scalar map has one 8-byte zero key.
//! hist/lhist add the bucket index as a last 8-byte component (as bpftrace
//! does). Values: aggregations live in per-CPU hashes (count/sum: u64;
//! min/max: value + "set" flag; avg/stats: count + total; hist/lhist: one
//! count per bucket key); plain `@x = …` values in a shared hash.

use crate::types::{AggKind, Type};

/// Elements each map holds (bpftrace's default, BPFTRACE_MAP_KEYS_MAX).
pub const MAX_ENTRIES: u32 = 4096;

/// Bytes a value of `ty` takes in a key, a record or the stack.
pub fn slot_size(ty: Type) -> usize {
    match ty {
        Type::Str { size } => size.div_ceil(8) * 8,
        // The address, then the pid that gives it a meaning.
        Type::Sym => 16,
        _ => 8,
    }
}

/// The kernel-side shape of one map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapLayout {
    /// Per-CPU (aggregations) or shared (plain values).
    pub percpu: bool,
    /// Key component types, in order (without the bucket index).
    pub keys: Vec<Type>,
    /// Whether the key ends with a bucket index (hist, lhist).
    pub bucketed: bool,
    /// Key bytes.
    pub key_size: usize,
    /// Value bytes (per CPU for per-CPU maps).
    pub value_size: usize,
}

impl MapLayout {
    /// The layout of a map with these key types and value type.
    pub fn new(keys: &[Type], value: Type) -> MapLayout {
        let bucketed = matches!(value, Type::Agg(AggKind::Hist | AggKind::Lhist { .. }));
        let mut key_size: usize = keys.iter().map(|&t| slot_size(t)).sum();
        if bucketed {
            key_size += 8;
        }
        let value_size = match value {
            Type::Agg(AggKind::Min | AggKind::Max | AggKind::Avg | AggKind::Stats) => 16,
            Type::Agg(_) => 8,
            other => slot_size(other),
        };
        MapLayout {
            percpu: matches!(value, Type::Agg(_)),
            keys: keys.to_vec(),
            bucketed,
            key_size: key_size.max(8),
            value_size,
        }
    }
}

/// Record kinds sent through the ring buffer (first u32 of a record; the
/// second u32 is the printf format or map index).
pub mod record {
    /// `printf`: the packed arguments follow.
    pub const PRINTF: u32 = 1;
    /// `exit()`.
    pub const EXIT: u32 = 2;
    /// `print(@m)`: top and div follow as two u64.
    pub const PRINT: u32 = 3;
    /// `clear(@m)`.
    pub const CLEAR: u32 = 4;
}
