//! The one question [`Btf`] answers: byte offset and size of member M of
//! struct S. Members of anonymous structs and unions count as members of
//! the enclosing struct (as in C); typedefs and `const`/`volatile`/
//! `restrict`/type tags are looked through for sizes; bitfields are refused
//! (a byte read cannot fetch them).

use super::{kind, Btf, Type};
use crate::error::{Error, Result};

/// How deep typedef chains and anonymous nesting may go before we call the
/// BTF cyclic.
const MAX_DEPTH: usize = 32;

/// Where a struct member lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Bytes from the start of the struct.
    pub offset: u32,
    /// Bytes it occupies.
    pub size: u32,
}

/// A member found by name: bit offset in the outermost struct, its type,
/// and its bitfield width (0 for a whole member).
struct Found {
    bits: u64,
    type_id: u32,
    bitfield: u32,
}

impl Btf {
    /// Offset and size of `member` in `struct structure`, looking into
    /// anonymous struct and union members. When several structs share the
    /// name, the first that has the member answers.
    pub fn member(&self, structure: &str, member: &str) -> Result<Member> {
        let missing = |detail: String| Error::BtfMember {
            path: self.source().to_path_buf(),
            structure: structure.to_string(),
            member: member.to_string(),
            detail,
        };
        let mut seen_struct = false;
        for id in 1..=self.type_count() as u32 {
            let Some(t) = self.ty(id) else { continue };
            if t.kind != kind::STRUCT || self.name(t.name_off) != structure {
                continue;
            }
            seen_struct = true;
            let Some(found) = self.find(&t, member, 0, 0) else {
                continue;
            };
            let size = self
                .size_of(found.type_id)
                .ok_or_else(|| missing("its type has no size".into()))?;
            if found.bitfield != 0 || found.bits % 8 != 0 || self.is_int_bitfield(found.type_id) {
                return Err(missing("it is a bitfield".into()));
            }
            let offset = u32::try_from(found.bits / 8)
                .map_err(|_| missing("its offset is out of range".into()))?;
            return Ok(Member { offset, size });
        }
        Err(missing(if seen_struct {
            "no such member".into()
        } else {
            "no such struct".into()
        }))
    }

    /// Bytes of type `id`, through typedefs, modifiers and arrays; `None`
    /// for `void`, functions and forward declarations.
    pub fn size_of(&self, id: u32) -> Option<u32> {
        self.size_at_depth(id, 0)
    }

    fn size_at_depth(&self, id: u32, depth: usize) -> Option<u32> {
        if depth > MAX_DEPTH {
            return None;
        }
        let t = self.resolve(id)?;
        match t.kind {
            kind::INT
            | kind::STRUCT
            | kind::UNION
            | kind::ENUM
            | kind::ENUM64
            | kind::FLOAT
            | kind::DATASEC => Some(t.size_or_type),
            kind::PTR => Some(std::mem::size_of::<usize>() as u32),
            kind::ARRAY => {
                // struct btf_array { type; index_type; nelems; }
                let elem = self.extra_u32(&t, 0)?;
                let count = self.extra_u32(&t, 2)?;
                count.checked_mul(self.size_at_depth(elem, depth + 1)?)
            }
            _ => None,
        }
    }

    /// Type `id` with typedefs, modifiers, type tags and variables looked
    /// through.
    fn resolve(&self, mut id: u32) -> Option<Type> {
        for _ in 0..MAX_DEPTH {
            let t = self.ty(id)?;
            match t.kind {
                kind::TYPEDEF
                | kind::VOLATILE
                | kind::CONST
                | kind::RESTRICT
                | kind::TYPE_TAG
                | kind::VAR => id = t.size_or_type,
                _ => return Some(t),
            }
        }
        None
    }

    /// `member` among the members of struct or union `t` (at bit `base` of
    /// the outermost struct), or inside one of its anonymous members.
    fn find(&self, t: &Type, member: &str, base: u64, depth: usize) -> Option<Found> {
        if depth > MAX_DEPTH {
            return None;
        }
        for i in 0..t.vlen {
            let name_off = self.extra_u32(t, 3 * i)?;
            let type_id = self.extra_u32(t, 3 * i + 1)?;
            let raw = self.extra_u32(t, 3 * i + 2)?;
            // With kind_flag the offset word packs the bitfield width in its
            // top byte; without it, all 32 bits are the bit offset.
            let (offset, bitfield) = if t.kind_flag {
                (raw & 0x00ff_ffff, raw >> 24)
            } else {
                (raw, 0)
            };
            let bits = base + u64::from(offset);
            let name = self.name(name_off);
            if name == member {
                return Some(Found {
                    bits,
                    type_id,
                    bitfield,
                });
            }
            if name.is_empty() {
                let inner = self.resolve(type_id)?;
                if matches!(inner.kind, kind::STRUCT | kind::UNION) {
                    if let Some(found) = self.find(&inner, member, bits, depth + 1) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    /// Whether `id` is an integer narrower than its storage (the old way of
    /// encoding bitfields: `BTF_INT_BITS` below the size, or an
    /// `BTF_INT_OFFSET`).
    fn is_int_bitfield(&self, id: u32) -> bool {
        let Some(t) = self.resolve(id) else {
            return false;
        };
        if t.kind != kind::INT {
            return false;
        }
        let encoding = self.extra_u32(&t, 0).unwrap_or(0);
        let (bits, offset) = (encoding & 0xff, (encoding >> 16) & 0xff);
        offset != 0 || bits != t.size_or_type.saturating_mul(8)
    }
}
