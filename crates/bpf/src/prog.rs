//! Loading programs: `BPF_PROG_LOAD` of an instruction list under the GPL
//! license. The fast path loads without a verifier log; only when the kernel
//! refuses is the program loaded again with a log (growing the buffer on
//! ENOSPC), so the error carries the verifier's reason.

use crate::error::{Error, Result};
use crate::insn::Insn;
use crate::sys;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// Verifier log buffer sizes tried in turn; the last is the largest every
/// kernel accepts (older ones cap `log_size` at 2^24 - 1).
const LOG_SIZES: [usize; 3] = [64 * 1024, 1024 * 1024, (1 << 24) - 1];
/// Log level 1: the instructions walked and the reason for a rejection.
const LOG_LEVEL: u32 = 1;

/// Program types the tracer loads (`enum bpf_prog_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgType {
    /// Kprobes and, here, uprobes/uretprobes: ctx is `struct pt_regs`.
    Kprobe,
    /// Classic tracepoints: ctx is the event's record (fields from tracefs).
    Tracepoint,
    /// Perf events such as cpu-clock: ctx is `struct bpf_perf_event_data`.
    PerfEvent,
}

impl ProgType {
    /// The uapi number.
    pub const fn code(self) -> u32 {
        match self {
            ProgType::Kprobe => 2,
            ProgType::Tracepoint => 5,
            ProgType::PerfEvent => 7,
        }
    }

    /// Lower-case name for messages.
    pub const fn name(self) -> &'static str {
        match self {
            ProgType::Kprobe => "kprobe",
            ProgType::Tracepoint => "tracepoint",
            ProgType::PerfEvent => "perf_event",
        }
    }
}

/// A loaded, verified program. Attaching takes a reference of its own in the
/// kernel, so dropping this after attaching is fine.
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    kind: ProgType,
    name: String,
    insn_count: usize,
}

impl Program {
    /// Loads `insns`; a rejection comes back as [`Error::Verifier`] with the
    /// verifier's log.
    pub fn load(kind: ProgType, name: &str, insns: &[Insn]) -> Result<Program> {
        match sys::prog_load(kind.code(), name, insns, None) {
            Ok(fd) => Ok(Program::new(fd, kind, name, insns)),
            Err(first) => {
                let (result, log) = load_logged(kind, name, insns);
                match result {
                    // Loaded the second time (e.g. a transient failure).
                    Ok(fd) => Ok(Program::new(fd, kind, name, insns)),
                    Err(e) if !log.trim().is_empty() => Err(Error::Verifier {
                        program: name.to_string(),
                        log,
                        source: e,
                    }),
                    Err(_) => Err(Error::bpf(format!("loading program `{name}`"), first)),
                }
            }
        }
    }

    /// Loads `insns` with the verifier log on, returning the log also on
    /// success (for a verbose mode; slower than [`Program::load`]).
    pub fn load_with_log(kind: ProgType, name: &str, insns: &[Insn]) -> Result<(Program, String)> {
        let (result, log) = load_logged(kind, name, insns);
        match result {
            Ok(fd) => Ok((Program::new(fd, kind, name, insns), log)),
            Err(e) if !log.trim().is_empty() => Err(Error::Verifier {
                program: name.to_string(),
                log,
                source: e,
            }),
            Err(e) => Err(Error::bpf(format!("loading program `{name}`"), e)),
        }
    }

    fn new(fd: OwnedFd, kind: ProgType, name: &str, insns: &[Insn]) -> Program {
        Program {
            fd,
            kind,
            name: name.to_string(),
            insn_count: insns.len(),
        }
    }

    /// Its type.
    pub fn kind(&self) -> ProgType {
        self.kind
    }

    /// The name it was loaded under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Instructions loaded (a 16-byte `ld_imm64` counts as two).
    pub fn insn_count(&self) -> usize {
        self.insn_count
    }

    /// The descriptor number.
    pub fn fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

impl AsFd for Program {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Loads with a log, growing the buffer while the kernel says ENOSPC; returns
/// the outcome and the log text.
fn load_logged(kind: ProgType, name: &str, insns: &[Insn]) -> (std::io::Result<OwnedFd>, String) {
    let mut outcome = (
        Err(std::io::Error::from_raw_os_error(libc::ENOSPC)),
        String::new(),
    );
    for size in LOG_SIZES {
        let mut buf = vec![0u8; size];
        let result = sys::prog_load(kind.code(), name, insns, Some((&mut buf, LOG_LEVEL)));
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let log = String::from_utf8_lossy(&buf[..end]).into_owned();
        let truncated = matches!(&result, Err(e) if e.raw_os_error() == Some(libc::ENOSPC));
        outcome = (result, log);
        if !truncated {
            break;
        }
    }
    outcome
}
