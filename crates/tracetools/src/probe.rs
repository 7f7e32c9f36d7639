//! The kernel side every tool sets up the same way: tracefs (mounted when
//! missing), record field offsets by name, maps, and programs loaded and
//! attached to tracepoints, kept alive as long as the [`Probes`] value.

use crate::error::{Error, Result};
use bpf::attach::{self, Attachment};
use bpf::insn::{Insn, Size};
use bpf::map::{Map, MapSpec, MapType};
use bpf::prog::{ProgType, Program};
use bpf::tracefs::Tracefs;

/// A field of a tracepoint record: where the program loads it from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub offset: i16,
    pub size: Size,
    /// Bytes in the record (the whole array for arrays).
    pub len: u32,
}

/// Attached programs (detached on drop).
#[derive(Debug)]
pub struct Probes {
    tracefs: Tracefs,
    attached: Vec<Attachment>,
}

impl Probes {
    /// tracefs, mounting it when needed.
    pub fn new() -> Result<Probes> {
        Ok(Probes {
            tracefs: Tracefs::open()?,
            attached: Vec::new(),
        })
    }

    /// Whether `category:name` exists on this kernel.
    pub fn has(&self, category: &str, name: &str) -> bool {
        self.tracefs.tracepoint_id(category, name).is_ok()
    }

    /// `field` of `category:name`, from its `format` file.
    pub fn field(&self, category: &str, name: &str, field: &str) -> Result<Field> {
        let fields = self.tracefs.tracepoint_fields(category, name)?;
        let missing = || Error::MissingField {
            tracepoint: format!("{category}:{name}"),
            field: field.to_string(),
        };
        let f = fields
            .iter()
            .find(|f| f.name == field)
            .ok_or_else(missing)?;
        let offset = i16::try_from(f.offset).map_err(|_| missing())?;
        let size = if f.array_len.is_some() {
            Size::DW // arrays: the caller reads them in 8-byte pieces
        } else {
            Size::from_bytes(f.size).ok_or_else(missing)?
        };
        Ok(Field {
            offset,
            size,
            len: f.size,
        })
    }

    /// Loads `insns` as a tracepoint program and attaches it to
    /// `category:name`.
    pub fn attach(&mut self, category: &str, name: &str, insns: &[Insn]) -> Result<()> {
        let prog_name: String = name.chars().take(15).collect();
        let prog = Program::load(ProgType::Tracepoint, &prog_name, insns)?;
        let id = self.tracefs.tracepoint_id(category, name)?;
        self.attached.push(attach::tracepoint(&prog, id)?);
        Ok(())
    }
}

/// A map of `kind` (a thin wrapper naming the common shapes).
pub fn map(kind: MapType, name: &str, key: u32, value: u32, entries: u32) -> Result<Map> {
    Ok(Map::create(MapSpec::new(kind, name, key, value, entries))?)
}
