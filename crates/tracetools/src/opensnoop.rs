//! `opensnoop`: one line per open, like libbpf-tools' opensnoop, from
//! `syscalls:sys_enter_open`/`openat`/`openat2` (the filename pointer, flags
//! and mode, kept per thread; `openat2` reads flags and mode from its
//! `struct open_how`) and the matching `sys_exit_*` (the result; the path is
//! read there, after the kernel has copied it, so its page is present, and
//! the event goes out through a ring buffer).
//!
//! `-p`, `-t` and `-u` filter in the enter program, `-x` in the exit
//! program; `-n` (comm substring) filters in user space as in libbpf-tools.

use crate::args::{Arg, Lexer, Parsed};
use crate::asm::Asm;
use crate::error::Result;
use crate::probe::{self, Probes};
use crate::runtime;
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};
use bpf::map::{Map, MapType};
use bpf::ringbuf::RingBuf;
use std::io::Write;
use std::time::Duration;

pub const USAGE: &str =
    "USAGE: opensnoop [-h] [-T] [-U] [-x] [-p PID] [-t TID] [-u UID] [-d DURATION] [-n NAME] [-e]";

const HELP: &str = "Trace open family syscalls

USAGE: opensnoop [-h] [-T] [-U] [-x] [-p PID] [-t TID] [-u UID] [-d DURATION]
                 [-n NAME] [-e]

EXAMPLES:
    ./opensnoop           # trace all open() syscalls
    ./opensnoop -T        # include timestamps
    ./opensnoop -U        # include UID
    ./opensnoop -x        # only show failed opens
    ./opensnoop -p 181    # only trace PID 181
    ./opensnoop -t 123    # only trace TID 123
    ./opensnoop -u 1000   # only trace UID 1000
    ./opensnoop -d 10     # trace for 10 seconds only
    ./opensnoop -n main   # only print process names containing \"main\"
    ./opensnoop -e        # show extended fields

  -d, --duration=DURATION    Duration to trace
  -e, --extended-fields      Print extended fields
  -n, --name=NAME            Trace process names containing this
  -p, --pid=PID              Process ID to trace
  -t, --tid=TID              Thread ID to trace
  -T, --timestamp            Print timestamp
  -u, --uid=UID              User ID to trace
  -U, --print-uid            Print UID
  -x, --failed               Failed opens only
  -h, --help                 Show this help
";

/// Bytes of the path kept (libbpf-tools' NAME_MAX plus the NUL).
pub const PATH_LEN: usize = 256;
const COMM_AT: usize = 24;
const PATH_AT: usize = 40;
const EVENT_LEN: usize = PATH_AT + PATH_LEN;
/// Per-thread state between enter and exit: filename pointer, flags, mode.
const START_LEN: u32 = 24;

const O_CREAT: u32 = 0o100;
const O_TMPFILE: u32 = 0o20200000;

/// What `opensnoop` was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// Process (tgid) to trace.
    pub pid: Option<u32>,
    /// Thread to trace.
    pub tid: Option<u32>,
    pub uid: Option<u32>,
    /// Failed opens only.
    pub failed: bool,
    /// Only comms containing this (user-space filter).
    pub name: Option<String>,
    /// Seconds to trace; `None` until Ctrl-C.
    pub duration: Option<u64>,
    /// `HH:MM:SS` column.
    pub timestamp: bool,
    pub print_uid: bool,
    /// FLAGS and MODE columns.
    pub extended: bool,
}

/// Parses `opensnoop`'s arguments.
pub fn parse(args: &[String]) -> Result<Parsed<Options>> {
    let mut lx = Lexer::new("opensnoop", USAGE, args);
    let mut o = Options::default();
    let max = i32::MAX as u64;
    while let Some(arg) = lx.next() {
        let long = arg.long_name();
        match (&arg, long) {
            (Arg::Short('h'), _) | (_, "help") => return Ok(Parsed::Help),
            (Arg::Short('T'), _) | (_, "timestamp") => o.timestamp = true,
            (Arg::Short('U'), _) | (_, "print-uid") => o.print_uid = true,
            (Arg::Short('x'), _) | (_, "failed") => o.failed = true,
            (Arg::Short('e'), _) | (_, "extended-fields") => o.extended = true,
            (Arg::Short('p'), _) | (_, "pid") => o.pid = Some(lx.number("PID", 1, max)? as u32),
            (Arg::Short('t'), _) | (_, "tid") => o.tid = Some(lx.number("TID", 1, max)? as u32),
            (Arg::Short('u'), _) | (_, "uid") => {
                o.uid = Some(lx.number("UID", 0, u32::MAX as u64 - 1)? as u32)
            }
            (Arg::Short('d'), _) | (_, "duration") => {
                o.duration = Some(lx.number("DURATION", 1, max)?)
            }
            (Arg::Short('n'), _) | (_, "name") => o.name = Some(lx.value("NAME")?),
            _ => return Err(lx.unknown(&arg)),
        }
    }
    Ok(Parsed::Run(o))
}

/// One open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub pid: u32,
    pub tid: u32,
    pub uid: u32,
    /// The syscall's result: a descriptor or `-errno`.
    pub ret: i32,
    pub flags: u32,
    pub mode: u32,
    pub comm: String,
    pub path: String,
}

impl Event {
    fn parse(bytes: &[u8]) -> Event {
        Event {
            pid: runtime::u32_at(bytes, 0),
            tid: runtime::u32_at(bytes, 4),
            uid: runtime::u32_at(bytes, 8),
            ret: runtime::u32_at(bytes, 12) as i32,
            flags: runtime::u32_at(bytes, 16),
            mode: runtime::u32_at(bytes, 20),
            comm: runtime::c_str(bytes.get(COMM_AT..PATH_AT).unwrap_or(&[])),
            path: runtime::c_str(bytes.get(PATH_AT..).unwrap_or(&[])),
        }
    }

    /// The FD column: the descriptor, or -1 on failure.
    pub fn fd(&self) -> i32 {
        if self.ret >= 0 {
            self.ret
        } else {
            -1
        }
    }

    /// The ERR column: the errno, or 0 on success.
    pub fn err(&self) -> i32 {
        if self.ret >= 0 {
            0
        } else {
            self.ret.saturating_neg()
        }
    }
}

/// The attached tracer.
#[derive(Debug)]
pub struct Opensnoop {
    options: Options,
    ring: RingBuf,
    _probes: Probes,
}

impl Opensnoop {
    /// Loads and attaches the programs (for whichever of open, openat and
    /// openat2 this kernel has).
    pub fn start(options: &Options) -> Result<Opensnoop> {
        let mut probes = Probes::new()?;
        let start = probe::map(MapType::Hash, "open_start", 4, START_LEN, 10240)?;
        let scratch = probe::map(MapType::PercpuArray, "open_scratch", 4, EVENT_LEN as u32, 1)?;
        let events = probe::map(MapType::RingBuf, "open_events", 0, 0, 1 << 20)?;
        for call in ["open", "openat", "openat2"] {
            let enter = format!("sys_enter_{call}");
            let exit = format!("sys_exit_{call}");
            if !probes.has("syscalls", &enter) || !probes.has("syscalls", &exit) {
                continue;
            }
            let filename = probes.field("syscalls", &enter, "filename")?;
            let how = if call == "openat2" {
                How::OpenHow(probes.field("syscalls", &enter, "how")?)
            } else {
                How::Args {
                    flags: probes.field("syscalls", &enter, "flags")?,
                    mode: probes.field("syscalls", &enter, "mode")?,
                }
            };
            let ret = probes.field("syscalls", &exit, "ret")?;
            probes.attach(
                "syscalls",
                &enter,
                &enter_prog(options, &start, filename, how),
            )?;
            let maps = ExitMaps {
                start: &start,
                scratch: &scratch,
                events: &events,
            };
            probes.attach("syscalls", &exit, &exit_prog(options, &maps, ret))?;
        }
        Ok(Opensnoop {
            options: options.clone(),
            ring: RingBuf::new(&events)?,
            _probes: probes,
        })
    }
}

impl runtime::EventTool for Opensnoop {
    type Event = Event;

    /// Events that arrive within `timeout`, after the `-n` filter.
    fn poll(&mut self, timeout: Duration) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        if self.ring.poll(timeout)? {
            self.ring.consume(|r| events.push(Event::parse(r)))?;
        }
        if let Some(name) = &self.options.name {
            events.retain(|e| e.comm.contains(name.as_str()));
        }
        Ok(events)
    }

    /// The column header.
    fn header(&self) -> String {
        header(&self.options)
    }

    /// One event's line.
    fn line(&self, e: &Event) -> String {
        line(&self.options, e, &runtime::clock())
    }
}

/// libbpf-tools' header for `o`.
pub fn header(o: &Options) -> String {
    let mut s = String::new();
    if o.timestamp {
        s.push_str(&format!("{:<8} ", "TIME"));
    }
    if o.print_uid {
        s.push_str(&format!("{:<7} ", "UID"));
    }
    s.push_str(&format!(
        "{:<6} {:<16} {:>3} {:>3} ",
        "PID", "COMM", "FD", "ERR"
    ));
    if o.extended {
        s.push_str(&format!("{:<8} {:<5} ", "FLAGS", "MODE"));
    }
    s.push_str("PATH");
    s
}

/// libbpf-tools' line for `e`, stamped `clock` under `-T`.
pub fn line(o: &Options, e: &Event, clock: &str) -> String {
    let mut s = String::new();
    if o.timestamp {
        s.push_str(&format!("{clock:<8} "));
    }
    if o.print_uid {
        s.push_str(&format!("{:<7} ", e.uid));
    }
    s.push_str(&format!(
        "{:<6} {:<16} {:>3} {:>3} ",
        e.pid,
        e.comm,
        e.fd(),
        e.err()
    ));
    if o.extended {
        if e.mode == 0 && e.flags & O_CREAT == 0 && e.flags & O_TMPFILE != O_TMPFILE {
            s.push_str(&format!("{:08o} n/a  ", e.flags));
        } else {
            s.push_str(&format!("{:08o} {:04o} ", e.flags, e.mode));
        }
    }
    s.push_str(&e.path);
    s
}

/// `opensnoop ARGS`, printing to `out` until Ctrl-C or `-d`.
pub fn main(args: &[String], out: &mut dyn Write) -> Result<i32> {
    let Some(options) = crate::args::options_or_help(parse(args)?, HELP, out)? else {
        return Ok(0);
    };
    let mut tracer = Opensnoop::start(&options)?;
    runtime::print_events(&mut tracer, out, options.duration)
}

/// Where an enter tracepoint has the flags and mode.
#[derive(Debug, Clone, Copy)]
enum How {
    /// As arguments (`open`, `openat`).
    Args {
        flags: probe::Field,
        mode: probe::Field,
    },
    /// In a user `struct open_how { u64 flags; u64 mode; u64 resolve; }`.
    OpenHow(probe::Field),
}

struct ExitMaps<'a> {
    start: &'a Map,
    scratch: &'a Map,
    events: &'a Map,
}

const TID: i16 = -8;
const ZERO: i16 = -12;
/// The per-thread start value: filename pointer, flags, mode.
const START: i16 = -16 - START_LEN as i16;

/// Filters by pid, tid and uid, then keeps filename pointer, flags and
/// mode under the thread id.
fn enter_prog(o: &Options, start: &Map, filename: probe::Field, how: How) -> Vec<Insn> {
    let mut a = Asm::new();
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1))
        .i(Insn::call(Helper::GetCurrentPidTgid))
        .i(Insn::mov64_reg(Reg::R7, Reg::R0))
        .i(Insn::stx(Size::W, Reg::R10, TID, Reg::R7));
    if let Some(tid) = o.tid {
        a.i(Insn::mov32_reg(Reg::R1, Reg::R7))
            .jump(Insn::jmp32_imm(JmpOp::Ne, Reg::R1, tid as i32, 0), "out");
    }
    if let Some(pid) = o.pid {
        a.i(Insn::mov64_reg(Reg::R1, Reg::R7))
            .i(Insn::alu64_imm(AluOp::Rsh, Reg::R1, 32))
            .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R1, pid as i32, 0), "out");
    }
    if let Some(uid) = o.uid {
        a.i(Insn::call(Helper::GetCurrentUidGid))
            .jump(Insn::jmp32_imm(JmpOp::Ne, Reg::R0, uid as i32, 0), "out");
    }
    a.i(Insn::ldx(filename.size, Reg::R1, Reg::R6, filename.offset))
        .i(Insn::stx(Size::DW, Reg::R10, START, Reg::R1));
    match how {
        How::Args { flags, mode } => {
            a.i(Insn::ldx(flags.size, Reg::R1, Reg::R6, flags.offset))
                .i(Insn::stx(Size::DW, Reg::R10, START + 8, Reg::R1))
                .i(Insn::ldx(mode.size, Reg::R1, Reg::R6, mode.offset))
                .i(Insn::stx(Size::DW, Reg::R10, START + 16, Reg::R1));
        }
        How::OpenHow(ptr) => {
            // Zeroed on a failed read by the helper as well.
            a.zero_stack(START + 8, 16)
                .stack_ptr(Reg::R1, START + 8)
                .i(Insn::mov64_imm(Reg::R2, 16))
                .i(Insn::ldx(ptr.size, Reg::R3, Reg::R6, ptr.offset))
                .i(Insn::call(Helper::ProbeReadUser));
        }
    }
    a.update(start, TID, START, 0).exit_label("out");
    a.finish()
}

/// Completes the thread's open with its result, comm and path, and sends
/// it (unless `-x` and it succeeded).
fn exit_prog(o: &Options, m: &ExitMaps, ret: probe::Field) -> Vec<Insn> {
    let mut a = Asm::new();
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1))
        .i(Insn::call(Helper::GetCurrentPidTgid))
        .i(Insn::mov64_reg(Reg::R9, Reg::R0))
        .i(Insn::stx(Size::W, Reg::R10, TID, Reg::R9))
        .lookup(m.start, TID)
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "out")
        .i(Insn::mov64_reg(Reg::R7, Reg::R0))
        .i(Insn::ldx(ret.size, Reg::R8, Reg::R6, ret.offset));
    if o.failed {
        a.jump(Insn::jmp_imm(JmpOp::Sge, Reg::R8, 0, 0), "cleanup");
    }
    // r6: the event being filled.
    a.i(Insn::st(Size::W, Reg::R10, ZERO, 0))
        .lookup(m.scratch, ZERO)
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "cleanup")
        .i(Insn::mov64_reg(Reg::R6, Reg::R0))
        .i(Insn::stx(Size::W, Reg::R6, 4, Reg::R9))
        .i(Insn::alu64_imm(AluOp::Rsh, Reg::R9, 32))
        .i(Insn::stx(Size::W, Reg::R6, 0, Reg::R9))
        .i(Insn::stx(Size::W, Reg::R6, 12, Reg::R8))
        .i(Insn::ldx(Size::DW, Reg::R1, Reg::R7, 8))
        .i(Insn::stx(Size::W, Reg::R6, 16, Reg::R1))
        .i(Insn::ldx(Size::DW, Reg::R1, Reg::R7, 16))
        .i(Insn::stx(Size::W, Reg::R6, 20, Reg::R1))
        .i(Insn::call(Helper::GetCurrentUidGid))
        .i(Insn::stx(Size::W, Reg::R6, 8, Reg::R0))
        .i(Insn::mov64_reg(Reg::R1, Reg::R6))
        .i(Insn::alu64_imm(AluOp::Add, Reg::R1, COMM_AT as i32))
        .i(Insn::mov64_imm(Reg::R2, 16))
        .i(Insn::call(Helper::GetCurrentComm))
        .i(Insn::mov64_reg(Reg::R1, Reg::R6))
        .i(Insn::alu64_imm(AluOp::Add, Reg::R1, PATH_AT as i32))
        .i(Insn::mov64_imm(Reg::R2, PATH_LEN as i32))
        .i(Insn::ldx(Size::DW, Reg::R3, Reg::R7, 0))
        .i(Insn::call(Helper::ProbeReadUserStr))
        .wide(Insn::ld_map_fd(Reg::R1, m.events.fd()))
        .i(Insn::mov64_reg(Reg::R2, Reg::R6))
        .i(Insn::mov64_imm(Reg::R3, EVENT_LEN as i32))
        .i(Insn::mov64_imm(Reg::R4, 0))
        .i(Insn::call(Helper::RingbufOutput))
        .label("cleanup")
        .delete(m.start, TID)
        .exit_label("out");
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::strings as args;

    #[test]
    fn parses_options() {
        let parsed = parse(&args(&[
            "-TUxe", "-p", "181", "-t123", "-u", "1000", "-d", "10", "-n", "main",
        ]));
        let Parsed::Run(o) = parsed.expect("ok") else {
            panic!("help")
        };
        assert_eq!(
            o,
            Options {
                pid: Some(181),
                tid: Some(123),
                uid: Some(1000),
                failed: true,
                name: Some("main".into()),
                duration: Some(10),
                timestamp: true,
                print_uid: true,
                extended: true,
            }
        );
        assert_eq!(parse(&args(&["--help"])).expect("ok"), Parsed::Help);
        assert!(parse(&args(&["-p", "0"])).is_err());
        assert!(parse(&args(&["-d", "0"])).is_err());
        assert!(parse(&args(&["-n"])).is_err());
        assert!(parse(&args(&["extra"])).is_err());
    }

    #[test]
    fn libbpf_tools_columns() {
        let o = Options::default();
        assert_eq!(header(&o), "PID    COMM              FD ERR PATH");
        let mut bytes = vec![0u8; EVENT_LEN];
        bytes[0..4].copy_from_slice(&42u32.to_le_bytes());
        bytes[12..16].copy_from_slice(&(-2i32).to_le_bytes());
        bytes[16..20].copy_from_slice(&0o2000000u32.to_le_bytes());
        bytes[COMM_AT..COMM_AT + 3].copy_from_slice(b"cat");
        bytes[PATH_AT..PATH_AT + 8].copy_from_slice(b"/nothere");
        let e = Event::parse(&bytes);
        assert_eq!((e.fd(), e.err()), (-1, 2));
        assert_eq!(
            line(&o, &e, "12:00:00"),
            "42     cat               -1   2 /nothere"
        );
        let all = Options {
            timestamp: true,
            print_uid: true,
            extended: true,
            ..Options::default()
        };
        assert_eq!(
            header(&all),
            "TIME     UID     PID    COMM              FD ERR FLAGS    MODE  PATH"
        );
        assert_eq!(
            line(&all, &e, "12:00:00"),
            "12:00:00 0       42     cat               -1   2 02000000 n/a  /nothere"
        );
        let created = Event {
            ret: 3,
            flags: 0o101,
            mode: 0o644,
            ..e
        };
        assert!(line(&all, &created, "12:00:00").ends_with("  3   0 00000101 0644 /nothere"));
        // A short record gives zeros, not a panic.
        assert_eq!(Event::parse(&bytes[..10]).path, "");
    }
}
