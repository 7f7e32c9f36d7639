//! The analysis side of the profiler: everything between raw [`crate::Event`]s
//! and a symbolized [`model::Profile`], one stage per file.
//!
//! `process` follows address spaces, `unwind` turns registers and copied stack
//! bytes into return addresses, `stacks` interns and aggregates them, `offcpu`
//! pairs switch-outs with switch-ins, and `resolve` names every frame at the end
//! (`symbolize` for ELF files, `kernel`, `perfmap`, `vdso`). [`crate::builder`]
//! ties them together; nothing here reads perf ring buffers.

pub(crate) mod elf;
pub(crate) mod kernel;
pub(crate) mod mappings;
pub(crate) mod offcpu;
pub(crate) mod perfmap;
pub(crate) mod proc_maps;
pub(crate) mod process;
pub(crate) mod resolve;
pub(crate) mod stacks;
pub(crate) mod symbolize;
pub(crate) mod symscan;
pub(crate) mod symtab;
pub(crate) mod tailcall;
pub(crate) mod unwind;
pub(crate) mod vdso;
