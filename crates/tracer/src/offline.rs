//! Code generation without a kernel: every probe of a program compiled
//! against placeholder map descriptors and one fixed tracepoint record,
//! nothing created or loaded. What the fuzzer runs on any text (the whole
//! compiler, parse to instructions, must never panic) and what tests use to
//! look at generated code without root.

use crate::check::{Environment, FieldLookup};
use crate::codegen::{self, MapRef, PrintfSite, Shared, Site};
use crate::diag::{Diagnostic, Diagnostics};
use crate::env::field_type;
use crate::layout::MapLayout;
use bpf::insn::Insn;
use bpf::tracefs::Field;
use std::collections::{BTreeMap, HashMap};

/// The descriptor placeholders start here (never opened).
const FAKE_FD: i32 = 1000;

fn field(name: &str, type_name: &str, offset: u32, size: u32, signed: bool) -> Field {
    let array_len = type_name.ends_with(']').then_some(size);
    Field {
        name: name.to_string(),
        type_name: type_name.trim_end_matches("[16]").to_string(),
        offset,
        size,
        signed,
        array_len: array_len.filter(|_| !type_name.starts_with("__data_loc")),
        data_loc: type_name.starts_with("__data_loc"),
    }
}

/// The record every tracepoint has offline: a `sys_enter_write`-like
/// header and arguments, a `char[16]` array, a `__data_loc` string and a
/// signed short.
pub fn fields() -> Vec<Field> {
    vec![
        field("common_type", "unsigned short", 0, 2, false),
        field("common_pid", "int", 4, 4, true),
        field("__syscall_nr", "int", 8, 4, true),
        field("fd", "unsigned int", 16, 8, false),
        field("buf", "const char *", 24, 8, false),
        field("count", "size_t", 32, 8, false),
        field("comm", "char[16]", 40, 16, false),
        field("name", "__data_loc char[]", 56, 4, false),
        field("prio", "short", 60, 2, true),
    ]
}

/// The checker's view of [`fields`] for every tracepoint.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfflineEnvironment;

impl Environment for OfflineEnvironment {
    fn tracepoint_field(&self, _category: &str, _event: &str, name: &str) -> FieldLookup {
        let fields = fields();
        let fields: Vec<&Field> = fields.iter().filter(|f| !f.is_common()).collect();
        match fields.iter().find(|f| f.name == name) {
            Some(f) => FieldLookup::Found(field_type(f)),
            None => FieldLookup::Missing {
                available: fields.iter().map(|f| f.name.clone()).collect(),
            },
        }
    }
}

/// Parses, checks (against [`OfflineEnvironment`]) and generates the
/// program of every attach point of `source`, BEGIN and END included;
/// returns each program's instructions.
pub fn compile(source: &str) -> Result<Vec<Vec<Insn>>, Diagnostics> {
    let checked = crate::check(crate::parse(source)?, &OfflineEnvironment)?;
    let maps: BTreeMap<String, MapRef> = checked
        .maps
        .values()
        .zip(0u32..)
        .map(|(info, index)| {
            let fd = FAKE_FD.saturating_add_unsigned(index);
            let layout = MapLayout::new(&info.keys, info.value);
            let map = MapRef {
                fd,
                index,
                layout,
                value: info.value,
            };
            (info.name.clone(), map)
        })
        .collect();
    let stack_maps: BTreeMap<u16, i32> = checked
        .stacks
        .keys()
        .map(|s| (s.limit, FAKE_FD - 1 - i32::from(s.limit)))
        .collect();
    let fields = fields();
    let mut printfs: Vec<PrintfSite> = Vec::new();
    let mut printf_ids = HashMap::new();
    let mut programs = Vec::new();
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    for probe in &checked.program.probes {
        for (point, probe_id) in probe.attach_points.iter().zip(0u32..) {
            let mut shared = Shared {
                maps: &maps,
                stack_maps: &stack_maps,
                ringbuf_fd: FAKE_FD - 2000,
                printfs: &mut printfs,
                printf_ids: &mut printf_ids,
            };
            let site = Site {
                provider: &point.provider,
                fields: &fields,
                probe_id,
            };
            programs.push(codegen::compile_probe(probe, site, &mut shared).map_err(one)?);
        }
    }
    Ok(programs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_construct_generates_code() {
        let programs = compile(
            "tracepoint:syscalls:sys_enter_write /comm == \"dd\" && args.fd == 1/ { \
               @[kstack, ustack(perf, 3)] = count(); @f[probe] = sum(args.count); \
               @s[comm, args.comm] = hist(args.prio); printf(\"%s %s %d\\n\", str(args.name), kstack, args.fd); } \
             uretprobe:/bin/sh:main { @r[func] = max(retval); $f = func; @g = $f; @h = ustack; } \
             BEGIN { @x = @x + 1; exit(); }",
        )
        .unwrap_or_else(|e| panic!("{}", e.render("stdin", "")));
        assert_eq!(programs.len(), 3);
        assert!(programs.iter().all(|p| p.len() > 2));
    }

    #[test]
    fn errors_are_diagnostics() {
        assert!(compile("uprobe:/x:y { @ = args.fd; }").is_err());
        assert!(compile("tracepoint:a:b { @ = args.nosuch; }").is_err());
    }
}
