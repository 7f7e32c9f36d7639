//! The kernel side of `whyslow trace`: BPF without LLVM or libbpf. The
//! tracer's compiler emits [`insn::Insn`]s; this crate creates the maps,
//! loads the program through the raw `bpf()` syscall (returning the
//! verifier's log when it is rejected), attaches it with `perf_event_open`,
//! reads what programs send through a ring buffer, and answers the lookups
//! that needs (tracefs ids and record formats, ELF symbol offsets for
//! uprobes, kernel struct member offsets from BTF). It knows nothing of the
//! bpftrace language.
//!
//! Steps, as the tracer uses them:
//!
//! ```no_run
//! use bpf::insn::{Helper, Insn, Reg};
//! use bpf::{attach, map::{Map, MapSpec, MapType}, prog::{ProgType, Program}, tracefs::Tracefs};
//!
//! # fn main() -> bpf::Result<()> {
//! let tracefs = Tracefs::open()?; // mounts it when missing
//! let id = tracefs.tracepoint_id("syscalls", "sys_enter_write")?;
//! let counts = Map::create(MapSpec::new(MapType::PercpuHash, "counts", 4, 8, 1024))?;
//! let insns = vec![Insn::mov64_imm(Reg::R0, 0), Insn::exit()]; // from the compiler
//! let prog = Program::load(ProgType::Tracepoint, "count_writes", &insns)?;
//! let _attached = attach::tracepoint(&prog, id)?; // detaches on drop
//! # let _ = (counts, Helper::MapLookupElem);
//! # Ok(()) }
//! ```
//!
//! Linux only; needs root (or CAP_BPF + CAP_PERFMON) at run time.

pub mod attach;
pub mod btf;
pub mod cpus;
pub mod elf;
pub mod error;
pub mod insn;
pub mod map;
pub mod prog;
pub mod ringbuf;
mod sys;
pub mod tracefs;

pub use error::{Error, Result};
