//! Kernel type information from raw BTF (`/sys/kernel/btf/vmlinux`): where a
//! member of a kernel struct lives, so a program can read it with
//! `bpf_probe_read_kernel` at the right offset on this very kernel (what
//! libbpf's CO-RE relocations do, answered up front instead).
//!
//! Raw BTF is a header (magic `0xeB9F`, version, header length, then the
//! offsets and lengths of the type and string sections, both counted from
//! the end of the header), a type section of variable-length records
//! (`struct btf_type`: name offset, `info` = vlen | kind << 24 | kind_flag
//! << 31, size-or-type; then kind-specific data) numbered from 1 (0 is
//! `void`), and a string section of NUL-terminated names.
//!
//! Hand-written rather than a crate: `btf-rs` (the maintained BTF reader) is
//! LGPL-2.1-or-later, which a statically linked MIT/Apache binary cannot
//! simply take, and brings a proc-macro derive crate; `aya-obj` keeps BTF as
//! the internals of its ELF relocation engine and pins its own `object`
//! version. We need one question answered at startup, which takes a table
//! of record offsets (every kind skipped by its exact extra-data size) and
//! a walk through struct members.

mod member;

pub use member::Member;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The running kernel's BTF.
pub const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

const MAGIC: u16 = 0xeb9f;
/// `struct btf_header` up to `str_len`; newer headers may be longer.
const HEADER_LEN: usize = 24;
/// `struct btf_type`: name_off, info, size/type.
const TYPE_LEN: usize = 12;

/// The kinds (`BTF_KIND_*`).
pub(crate) mod kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const RESTRICT: u32 = 11;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const FLOAT: u32 = 16;
    pub const DECL_TAG: u32 = 17;
    pub const TYPE_TAG: u32 = 18;
    pub const ENUM64: u32 = 19;
}

/// Bytes of kind-specific data after the `btf_type` record, or `None` for a
/// kind we do not know (its length is unknown, so nothing after it can be
/// read).
fn extra_len(kind: u32, vlen: usize) -> Option<usize> {
    Some(match kind {
        kind::INT | kind::VAR | kind::DECL_TAG => 4,
        kind::ARRAY => 12,
        kind::STRUCT | kind::UNION | kind::DATASEC | kind::ENUM64 => 12 * vlen,
        kind::ENUM | kind::FUNC_PROTO => 8 * vlen,
        kind::PTR
        | kind::FWD
        | kind::TYPEDEF
        | kind::VOLATILE
        | kind::CONST
        | kind::RESTRICT
        | kind::FUNC
        | kind::FLOAT
        | kind::TYPE_TAG => 0,
        _ => return None,
    })
}

/// One type record, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Type {
    pub name_off: u32,
    pub kind: u32,
    pub vlen: usize,
    pub kind_flag: bool,
    /// `size` for sized kinds, the referenced type id for the others.
    pub size_or_type: u32,
    /// Where the kind-specific data starts in [`Btf::data`].
    pub extra: usize,
}

/// Parsed BTF: the bytes and where each type record starts.
#[derive(Debug, Clone)]
pub struct Btf {
    /// Where it came from, for messages.
    source: PathBuf,
    data: Vec<u8>,
    /// Start of the string section in `data`, and its end.
    strings: (usize, usize),
    /// Offset in `data` of type `id` at index `id - 1`.
    types: Vec<usize>,
}

impl Btf {
    /// The running kernel's BTF ([`VMLINUX`]).
    pub fn kernel() -> Result<Btf> {
        Btf::read(Path::new(VMLINUX))
    }

    /// Raw BTF from a file.
    pub fn read(path: &Path) -> Result<Btf> {
        let data = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Btf::parse(path, data)
    }

    /// Raw BTF in `data`; `source` names it in errors.
    pub fn parse(source: impl Into<PathBuf>, data: Vec<u8>) -> Result<Btf> {
        let source = source.into();
        match layout(&data) {
            Ok((strings, types)) => Ok(Btf {
                source,
                data,
                strings,
                types,
            }),
            Err(detail) => Err(Error::Btf {
                path: source,
                detail,
            }),
        }
    }

    /// How many types there are (ids run from 1 to this).
    pub fn type_count(&self) -> usize {
        self.types.len()
    }

    /// Where the BTF came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Type `id` (`None` for 0, `void`, and past the end).
    pub(crate) fn ty(&self, id: u32) -> Option<Type> {
        let at = *self.types.get((id as usize).checked_sub(1)?)?;
        let info = u32_at(&self.data, at + 4)?;
        Some(Type {
            name_off: u32_at(&self.data, at)?,
            kind: (info >> 24) & 0x1f,
            vlen: (info & 0xffff) as usize,
            kind_flag: info >> 31 == 1,
            size_or_type: u32_at(&self.data, at + 8)?,
            extra: at + TYPE_LEN,
        })
    }

    /// The name at `off` in the string section (`""` when out of range or
    /// not UTF-8: such a name matches nothing we look for).
    pub(crate) fn name(&self, off: u32) -> &str {
        let (start, end) = self.strings;
        let Some(at) = start.checked_add(off as usize).filter(|&at| at < end) else {
            return "";
        };
        let bytes = &self.data[at..end];
        let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        std::str::from_utf8(&bytes[..len]).unwrap_or("")
    }

    /// The `i`-th little-endian u32 of type `t`'s extra data.
    pub(crate) fn extra_u32(&self, t: &Type, i: usize) -> Option<u32> {
        u32_at(&self.data, t.extra + 4 * i)
    }
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at.checked_add(4)?)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
}

/// The string section's bounds and each type record's offset.
type Layout = ((usize, usize), Vec<usize>);

/// Checks the header and walks the type section.
fn layout(data: &[u8]) -> std::result::Result<Layout, String> {
    let magic = data
        .get(0..2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or("shorter than a BTF header")?;
    if magic == MAGIC.swap_bytes() {
        return Err("BTF of the other byte order".into());
    }
    if magic != MAGIC {
        return Err(format!("bad magic {magic:#06x} (expected {MAGIC:#06x})"));
    }
    let field = |i: usize| u32_at(data, 4 + 4 * i).ok_or("shorter than a BTF header");
    let hdr_len = field(0)? as usize;
    let (type_off, type_len) = (field(1)? as usize, field(2)? as usize);
    let (str_off, str_len) = (field(3)? as usize, field(4)? as usize);
    if hdr_len < HEADER_LEN {
        return Err(format!("header length {hdr_len} below {HEADER_LEN}"));
    }
    let section = |off: usize, len: usize, what: &str| {
        let start = hdr_len.checked_add(off);
        let end = start.and_then(|s| s.checked_add(len));
        match (start, end) {
            (Some(start), Some(end)) if end <= data.len() => Ok((start, end)),
            _ => Err(format!(
                "{what} section ({len} bytes at {off}) runs past the end ({} bytes)",
                data.len()
            )),
        }
    };
    let (types_start, types_end) = section(type_off, type_len, "type")?;
    let strings = section(str_off, str_len, "string")?;
    let mut types = Vec::new();
    let mut at = types_start;
    while at < types_end {
        let info = u32_at(data, at + 4)
            .filter(|_| at + TYPE_LEN <= types_end)
            .ok_or_else(|| format!("type {} is cut off", types.len() + 1))?;
        let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        let extra = extra_len(kind, vlen)
            .ok_or_else(|| format!("type {} has unknown kind {kind}", types.len() + 1))?;
        types.push(at);
        at += TYPE_LEN + extra;
    }
    if at != types_end {
        return Err(format!(
            "the last type ({}) runs past the type section",
            types.len()
        ));
    }
    Ok((strings, types))
}

#[cfg(test)]
mod tests;
