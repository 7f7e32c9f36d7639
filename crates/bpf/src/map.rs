//! BPF maps as user space sees them: create one from a [`MapSpec`], read,
//! write, delete and walk its entries as bytes, and split per-CPU values into
//! one slot per possible CPU. Keys and values are plain byte strings in the
//! layout the program uses; typing them is the compiler's business.

use crate::error::{Error, Result};
use crate::sys::{MapFd, MapParams};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// Map types the tracer uses (`enum bpf_map_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapType {
    /// Keyed, shared by all CPUs.
    Hash,
    /// Indexed by a u32 below `max_entries`, preallocated and zeroed.
    Array,
    /// One perf ring per CPU (key: CPU index, value: perf event fd).
    PerfEventArray,
    /// Keyed, one value per CPU: counts without atomics.
    PercpuHash,
    /// Indexed, one value per CPU.
    PercpuArray,
    /// Stack ids (u32) to arrays of instruction pointers.
    StackTrace,
    /// Hash evicting the least recently used entry when full.
    LruHash,
    /// One shared ring buffer; `max_entries` is its size in bytes (a power of
    /// two, multiple of the page size).
    RingBuf,
}

impl MapType {
    /// The uapi number.
    pub const fn code(self) -> u32 {
        match self {
            MapType::Hash => 1,
            MapType::Array => 2,
            MapType::PerfEventArray => 4,
            MapType::PercpuHash => 5,
            MapType::PercpuArray => 6,
            MapType::StackTrace => 7,
            MapType::LruHash => 9,
            MapType::RingBuf => 27,
        }
    }

    /// Whether user space sees one value per possible CPU.
    pub const fn is_percpu(self) -> bool {
        matches!(self, MapType::PercpuHash | MapType::PercpuArray)
    }
}

/// Flags of an update (`BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateFlag {
    /// Create or replace.
    Any = 0,
    /// Create only.
    NoExist = 1,
    /// Replace only.
    Exist = 2,
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSpec {
    pub kind: MapType,
    /// Key bytes (4 for arrays and stack maps).
    pub key_size: u32,
    /// Value bytes, per CPU for per-CPU maps.
    pub value_size: u32,
    pub max_entries: u32,
    /// `map_flags` (e.g. `BPF_F_NO_PREALLOC` 1 for hashes).
    pub flags: u32,
    /// Shown by bpftool; truncated to 15 characters.
    pub name: String,
}

impl MapSpec {
    /// A map of `kind` with no flags.
    pub fn new(
        kind: MapType,
        name: &str,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> MapSpec {
        MapSpec {
            kind,
            key_size,
            value_size,
            max_entries,
            flags: 0,
            name: name.to_string(),
        }
    }
}

/// A created map; closing the descriptor (drop) frees it once no loaded
/// program refers to it.
#[derive(Debug)]
pub struct Map {
    raw: MapFd,
    spec: MapSpec,
}

impl Map {
    /// Creates the map.
    pub fn create(spec: MapSpec) -> Result<Map> {
        let params = MapParams {
            map_type: spec.kind.code(),
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            flags: spec.flags,
            name: &spec.name,
        };
        let raw = MapFd::create(&params).map_err(|e| {
            Error::bpf(format!("creating map `{}` ({:?})", spec.name, spec.kind), e)
        })?;
        Ok(Map { raw, spec })
    }

    /// What it was created from.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }

    /// The descriptor number, for [`crate::insn::Insn::ld_map_fd`].
    pub fn fd(&self) -> i32 {
        self.raw.as_fd().as_raw_fd()
    }

    /// Bytes of a value as [`Map::lookup`] returns it and [`Map::update`]
    /// takes it: per-CPU maps hold one slot per possible CPU, each
    /// `value_size` rounded up to 8.
    pub fn value_len(&self) -> usize {
        self.raw.value_len()
    }

    /// The value of `key` (all CPUs' slots for a per-CPU map), or `None`.
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.check_key(key)?;
        let mut value = vec![0u8; self.raw.value_len()];
        let found = self
            .raw
            .lookup(key, &mut value)
            .map_err(|e| Error::bpf(format!("looking up in map `{}`", self.spec.name), e))?;
        Ok(found.then_some(value))
    }

    /// A per-CPU map's value of `key` as one `value_size` slice per possible
    /// CPU (in CPU order), or `None`. On other maps: one slice.
    pub fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>> {
        let Some(value) = self.lookup(key)? else {
            return Ok(None);
        };
        if !self.spec.kind.is_percpu() {
            return Ok(Some(vec![value]));
        }
        let stride = (self.spec.value_size as usize).div_ceil(8) * 8;
        let size = self.spec.value_size as usize;
        Ok(Some(
            value
                .chunks(stride.max(1))
                .map(|slot| slot[..size.min(slot.len())].to_vec())
                .collect(),
        ))
    }

    /// Sets `key` to `value` ([`Map::value_len`] bytes).
    pub fn update(&self, key: &[u8], value: &[u8], flag: UpdateFlag) -> Result<()> {
        self.check_key(key)?;
        if value.len() != self.raw.value_len() {
            return Err(self.size_error("value", self.raw.value_len(), value.len()));
        }
        self.raw
            .update(key, value, flag as u64)
            .map_err(|e| Error::bpf(format!("updating map `{}`", self.spec.name), e))
    }

    /// Deletes `key`; false when it was not there.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.check_key(key)?;
        self.raw
            .delete(key)
            .map_err(|e| Error::bpf(format!("deleting from map `{}`", self.spec.name), e))
    }

    /// The key after `key` in the kernel's order (the first for `None`), or
    /// `None` at the end. A deleted `key` restarts the walk (kernel rule).
    pub fn next_key(&self, key: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
        if let Some(key) = key {
            self.check_key(key)?;
        }
        let mut next = vec![0u8; self.raw.key_len()];
        let found = self
            .raw
            .next_key(key, &mut next)
            .map_err(|e| Error::bpf(format!("walking map `{}`", self.spec.name), e))?;
        Ok(found.then_some(next))
    }

    /// Every key, in the kernel's order (a snapshot: entries added meanwhile
    /// may be missed).
    pub fn keys(&self) -> Result<Vec<Vec<u8>>> {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        while let Some(next) = self.next_key(keys.last().map(Vec::as_slice))? {
            keys.push(next);
            if keys.len() > self.spec.max_entries as usize {
                break; // entries churned under us; what we have is the snapshot
            }
        }
        Ok(keys)
    }

    fn check_key(&self, key: &[u8]) -> Result<()> {
        if key.len() == self.raw.key_len() {
            Ok(())
        } else {
            Err(self.size_error("key", self.raw.key_len(), key.len()))
        }
    }

    fn size_error(&self, what: &'static str, expected: usize, got: usize) -> Error {
        Error::Size {
            map: self.spec.name.clone(),
            what,
            expected,
            got,
        }
    }
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.raw.as_fd()
    }
}

/// Bytes of a STACK_TRACE value: 8 per frame, `kernel.perf_event_max_stack`
/// frames (127 by default).
pub fn stack_trace_value_size() -> u32 {
    let frames = std::fs::read_to_string("/proc/sys/kernel/perf_event_max_stack")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(127);
    frames.saturating_mul(8)
}
