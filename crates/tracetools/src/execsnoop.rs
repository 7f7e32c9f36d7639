//! `execsnoop`: one line per exec, like libbpf-tools' execsnoop, from
//! `syscalls:sys_enter_execve`/`execveat` (pid, uid, filename and up to 20
//! arguments of 128 bytes, kept per thread) and `sys_exit_execve`/
//! `execveat` (return value, the new comm; the event then goes out through
//! a ring buffer).
//!
//! PPID: `sched:sched_process_fork` records each new process's parent in a
//! map the enter program reads; processes older than the tool fall back to
//! /proc/PID/status, read when the event arrives (0 if it is gone).

use crate::args::{Arg, Lexer, Parsed};
use crate::asm::Asm;
use crate::error::Result;
use crate::probe::{self, Probes};
use crate::runtime;
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};
use bpf::map::{Map, MapType};
use bpf::ringbuf::RingBuf;
use std::io::Write;
use std::time::{Duration, Instant};

pub const USAGE: &str = "USAGE: execsnoop [-h] [-T] [-t] [-x] [-u UID] [-U] [-q]";

const HELP: &str = "Trace exec syscalls

USAGE: execsnoop [-h] [-T] [-t] [-x] [-u UID] [-U] [-q]

EXAMPLES:
   ./execsnoop           # trace all exec() syscalls
   ./execsnoop -x        # include failed exec()s
   ./execsnoop -T        # include time (HH:MM:SS)
   ./execsnoop -U        # include UID
   ./execsnoop -u 1000   # only trace UID 1000
   ./execsnoop -t        # include timestamps
   ./execsnoop -q        # add \"quotemarks\" around arguments

  -T, --time           include time column on output (HH:MM:SS)
  -t, --timestamp      include timestamp on output
  -x, --fails          include failed exec()s
  -u, --uid=UID        trace this UID only
  -U, --print-uid      print UID column
  -q, --quote          Add quotemarks (\") around arguments
  -h, --help           Show this help
";

/// Arguments kept (the filename counts as the first).
pub const MAX_ARGS: usize = 20;
/// Bytes kept of each argument.
pub const ARG_SIZE: usize = 128;
const ARGS_AT: usize = 40;
const EVENT_LEN: usize = ARGS_AT + MAX_ARGS * ARG_SIZE;

/// What `execsnoop` was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    pub time: bool,
    pub timestamp: bool,
    /// Include failed execs (libbpf-tools' `-x`).
    pub fails: bool,
    pub uid: Option<u32>,
    pub print_uid: bool,
    pub quote: bool,
}

/// Parses `execsnoop`'s arguments.
pub fn parse(args: &[String]) -> Result<Parsed<Options>> {
    let mut lx = Lexer::new("execsnoop", USAGE, args);
    let mut o = Options::default();
    while let Some(arg) = lx.next() {
        let long = arg.long_name();
        match (&arg, long) {
            (Arg::Short('h'), _) | (_, "help") => return Ok(Parsed::Help),
            (Arg::Short('T'), _) | (_, "time") => o.time = true,
            (Arg::Short('t'), _) | (_, "timestamp") => o.timestamp = true,
            (Arg::Short('x'), _) | (_, "fails") => o.fails = true,
            (Arg::Short('U'), _) | (_, "print-uid") => o.print_uid = true,
            (Arg::Short('q'), _) | (_, "quote") => o.quote = true,
            (Arg::Short('u'), _) | (_, "uid") => {
                o.uid = Some(lx.number("UID", 0, u32::MAX as u64 - 1)? as u32)
            }
            _ => return Err(lx.unknown(&arg)),
        }
    }
    Ok(Parsed::Run(o))
}

/// One exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub ret: i32,
    pub comm: String,
    /// The filename, then argv[1..].
    pub args: Vec<String>,
    /// More arguments than were kept.
    pub truncated: bool,
    /// When it was read, since the tool started (`-t`).
    pub at: Duration,
}

impl Event {
    fn parse(bytes: &[u8]) -> Event {
        let count = (runtime::u32_at(bytes, 16) as usize).min(MAX_ARGS);
        let args = (0..count)
            .map(|i| {
                let at = ARGS_AT + i * ARG_SIZE;
                runtime::c_str(bytes.get(at..at + ARG_SIZE).unwrap_or(&[]))
            })
            .collect();
        Event {
            pid: runtime::u32_at(bytes, 0),
            ppid: runtime::u32_at(bytes, 4),
            uid: runtime::u32_at(bytes, 8),
            ret: runtime::u32_at(bytes, 12) as i32,
            comm: runtime::c_str(bytes.get(24..40).unwrap_or(&[])),
            args,
            truncated: runtime::u32_at(bytes, 20) != 0,
            at: Duration::ZERO,
        }
    }
}

/// The attached tracer.
#[derive(Debug)]
pub struct Execsnoop {
    options: Options,
    ring: RingBuf,
    started: Instant,
    _probes: Probes,
}

impl Execsnoop {
    /// Loads and attaches the programs.
    pub fn start(options: &Options) -> Result<Execsnoop> {
        let mut probes = Probes::new()?;
        let execs = probe::map(MapType::Hash, "exec_args", 4, EVENT_LEN as u32, 10240)?;
        let scratch = probe::map(MapType::PercpuArray, "exec_scratch", 4, EVENT_LEN as u32, 1)?;
        let parents = probe::map(MapType::LruHash, "exec_parents", 4, 4, 65536)?;
        let events = probe::map(MapType::RingBuf, "exec_events", 0, 0, 1 << 20)?;
        let child = probes.field("sched", "sched_process_fork", "child_pid")?;
        probes.attach("sched", "sched_process_fork", &fork_prog(&parents, child))?;
        for call in ["execve", "execveat"] {
            let enter = format!("sys_enter_{call}");
            let exit = format!("sys_exit_{call}");
            if !probes.has("syscalls", &enter) {
                continue;
            }
            let maps = Maps {
                execs: &execs,
                scratch: &scratch,
                parents: &parents,
                events: &events,
            };
            let filename = probes.field("syscalls", &enter, "filename")?;
            let argv = probes.field("syscalls", &enter, "argv")?;
            let ret = probes.field("syscalls", &exit, "ret")?;
            probes.attach(
                "syscalls",
                &enter,
                &enter_prog(options, &maps, filename, argv),
            )?;
            probes.attach("syscalls", &exit, &exit_prog(options, &maps, ret))?;
        }
        Ok(Execsnoop {
            options: options.clone(),
            ring: RingBuf::new(&events)?,
            started: Instant::now(),
            _probes: probes,
        })
    }
}

impl runtime::EventTool for Execsnoop {
    type Event = Event;

    /// Events that arrive within `timeout`.
    fn poll(&mut self, timeout: Duration) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        if self.ring.poll(timeout)? {
            self.ring.consume(|r| events.push(Event::parse(r)))?;
        }
        let at = self.started.elapsed();
        for e in &mut events {
            e.at = at;
            if e.ppid == 0 {
                e.ppid = proc_ppid(e.pid).unwrap_or(0);
            }
        }
        Ok(events)
    }

    /// The column header.
    fn header(&self) -> String {
        let o = &self.options;
        let mut s = String::new();
        if o.time {
            s.push_str(&format!("{:<8} ", "TIME"));
        }
        if o.timestamp {
            s.push_str(&format!("{:<8} ", "TIME(s)"));
        }
        if o.print_uid {
            s.push_str(&format!("{:<6} ", "UID"));
        }
        s.push_str(&format!(
            "{:<16} {:<6} {:<6} {:>3} {}",
            "PCOMM", "PID", "PPID", "RET", "ARGS"
        ));
        s
    }

    /// One event's line.
    fn line(&self, e: &Event) -> String {
        let o = &self.options;
        let mut s = String::new();
        if o.time {
            s.push_str(&format!("{:<8} ", runtime::clock()));
        }
        if o.timestamp {
            let t = e.at.as_secs_f64();
            s.push_str(&format!("{t:<8.3} "));
        }
        if o.print_uid {
            s.push_str(&format!("{:<6} ", e.uid));
        }
        s.push_str(&format!(
            "{:<16} {:<6} {:<6} {:>3} ",
            e.comm, e.pid, e.ppid, e.ret
        ));
        let args: Vec<String> = e
            .args
            .iter()
            .map(|a| {
                if o.quote {
                    format!("\"{}\"", a.replace('"', "\\\""))
                } else {
                    a.clone()
                }
            })
            .collect();
        s.push_str(&args.join(" "));
        if e.truncated {
            s.push_str(" ...");
        }
        s
    }
}

/// `execsnoop ARGS`, printing to `out` until Ctrl-C.
pub fn main(args: &[String], out: &mut dyn Write) -> Result<i32> {
    let Some(options) = crate::args::options_or_help(parse(args)?, HELP, out)? else {
        return Ok(0);
    };
    let mut tracer = Execsnoop::start(&options)?;
    runtime::print_events(&mut tracer, out, None)
}

/// The parent of `pid` from /proc.
fn proc_ppid(pid: u32) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
}

struct Maps<'a> {
    execs: &'a Map,
    scratch: &'a Map,
    parents: &'a Map,
    events: &'a Map,
}

const ZERO: i16 = -4;
const TGID: i16 = -8;
const ARGP: i16 = -16;
const TID: i16 = -24;

/// `parents[child] = current tgid` (the forking process).
fn fork_prog(parents: &Map, child: probe::Field) -> Vec<Insn> {
    let mut a = Asm::new();
    a.i(Insn::ldx(Size::W, Reg::R6, Reg::R1, child.offset))
        .i(Insn::stx(Size::W, Reg::R10, TID, Reg::R6))
        .current_tgid(Reg::R7)
        .i(Insn::stx(Size::W, Reg::R10, TGID, Reg::R7))
        .update(parents, TID, TGID, 0)
        .exit_label("out");
    a.finish()
}

/// Fills an event (pid, ppid, uid, filename, argv) and keeps it under the
/// thread id until the exit.
fn enter_prog(o: &Options, m: &Maps, filename: probe::Field, argv: probe::Field) -> Vec<Insn> {
    let mut a = Asm::new();
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1));
    if let Some(uid) = o.uid {
        // A 32-bit compare: the immediate of a 64-bit one is sign-extended,
        // so uids of 2^31 and above would never match.
        a.i(Insn::call(Helper::GetCurrentUidGid))
            .jump(Insn::jmp32_imm(JmpOp::Ne, Reg::R0, uid as i32, 0), "out");
    }
    a.i(Insn::st(Size::W, Reg::R10, ZERO, 0))
        .lookup(m.scratch, ZERO)
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "out")
        .i(Insn::mov64_reg(Reg::R7, Reg::R0))
        .i(Insn::call(Helper::GetCurrentPidTgid))
        .i(Insn::stx(Size::W, Reg::R10, TID, Reg::R0))
        .i(Insn::alu64_imm(AluOp::Rsh, Reg::R0, 32))
        .i(Insn::stx(Size::W, Reg::R10, TGID, Reg::R0))
        .i(Insn::stx(Size::W, Reg::R7, 0, Reg::R0))
        .i(Insn::st(Size::W, Reg::R7, 4, 0))
        .lookup(m.parents, TGID)
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "no_parent")
        .i(Insn::ldx(Size::W, Reg::R1, Reg::R0, 0))
        .i(Insn::stx(Size::W, Reg::R7, 4, Reg::R1))
        .label("no_parent")
        .i(Insn::call(Helper::GetCurrentUidGid))
        .i(Insn::stx(Size::W, Reg::R7, 8, Reg::R0))
        .i(Insn::st(Size::W, Reg::R7, 12, 0))
        .i(Insn::st(Size::W, Reg::R7, 16, 1))
        .i(Insn::st(Size::W, Reg::R7, 20, 0))
        .i(Insn::mov64_reg(Reg::R1, Reg::R7))
        .i(Insn::alu64_imm(AluOp::Add, Reg::R1, ARGS_AT as i32))
        .i(Insn::mov64_imm(Reg::R2, ARG_SIZE as i32))
        .i(Insn::ldx(Size::DW, Reg::R3, Reg::R6, filename.offset))
        .i(Insn::call(Helper::ProbeReadUserStr))
        .i(Insn::ldx(Size::DW, Reg::R8, Reg::R6, argv.offset));
    for i in 1..=MAX_ARGS {
        a.stack_ptr(Reg::R1, ARGP)
            .i(Insn::mov64_imm(Reg::R2, 8))
            .i(Insn::mov64_reg(Reg::R3, Reg::R8))
            .i(Insn::alu64_imm(AluOp::Add, Reg::R3, (i * 8) as i32))
            .i(Insn::call(Helper::ProbeReadUser))
            .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R0, 0, 0), "args_done")
            .i(Insn::ldx(Size::DW, Reg::R3, Reg::R10, ARGP))
            .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R3, 0, 0), "args_done");
        if i == MAX_ARGS {
            // A pointer past the last slot: the list is longer than we keep.
            a.i(Insn::st(Size::W, Reg::R7, 20, 1));
            break;
        }
        a.i(Insn::mov64_reg(Reg::R1, Reg::R7))
            .i(Insn::alu64_imm(
                AluOp::Add,
                Reg::R1,
                (ARGS_AT + i * ARG_SIZE) as i32,
            ))
            .i(Insn::mov64_imm(Reg::R2, ARG_SIZE as i32))
            .i(Insn::call(Helper::ProbeReadUserStr))
            .i(Insn::st(Size::W, Reg::R7, 16, (i + 1) as i32));
    }
    a.label("args_done")
        .wide(Insn::ld_map_fd(Reg::R1, m.execs.fd()))
        .stack_ptr(Reg::R2, TID)
        .i(Insn::mov64_reg(Reg::R3, Reg::R7))
        .i(Insn::mov64_imm(Reg::R4, 0))
        .i(Insn::call(Helper::MapUpdateElem))
        .exit_label("out");
    a.finish()
}

/// Completes the thread's event with the result and the new comm, sends it.
fn exit_prog(o: &Options, m: &Maps, ret: probe::Field) -> Vec<Insn> {
    let mut a = Asm::new();
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1))
        .i(Insn::call(Helper::GetCurrentPidTgid))
        .i(Insn::stx(Size::W, Reg::R10, TID, Reg::R0))
        .lookup(m.execs, TID)
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "out")
        .i(Insn::mov64_reg(Reg::R7, Reg::R0))
        .i(Insn::ldx(ret.size, Reg::R8, Reg::R6, ret.offset));
    if !o.fails {
        a.jump(Insn::jmp_imm(JmpOp::Slt, Reg::R8, 0, 0), "cleanup");
    }
    a.i(Insn::stx(Size::W, Reg::R7, 12, Reg::R8))
        .i(Insn::mov64_reg(Reg::R1, Reg::R7))
        .i(Insn::alu64_imm(AluOp::Add, Reg::R1, 24))
        .i(Insn::mov64_imm(Reg::R2, 16))
        .i(Insn::call(Helper::GetCurrentComm))
        .wide(Insn::ld_map_fd(Reg::R1, m.events.fd()))
        .i(Insn::mov64_reg(Reg::R2, Reg::R7))
        .i(Insn::mov64_imm(Reg::R3, EVENT_LEN as i32))
        .i(Insn::mov64_imm(Reg::R4, 0))
        .i(Insn::call(Helper::RingbufOutput))
        .label("cleanup")
        .delete(m.execs, TID)
        .exit_label("out");
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::strings as args;

    #[test]
    fn parses_options() {
        let Parsed::Run(o) = parse(&args(&["-Ttx", "-u", "1000", "-U"])).expect("ok") else {
            panic!("help")
        };
        assert!(o.time && o.timestamp && o.fails && o.print_uid && !o.quote);
        assert_eq!(o.uid, Some(1000));
        assert!(parse(&args(&["-u"])).is_err());
        assert!(parse(&args(&["extra"])).is_err());
    }

    #[test]
    fn parses_events() {
        let mut bytes = vec![0u8; EVENT_LEN];
        bytes[0..4].copy_from_slice(&42u32.to_le_bytes());
        bytes[4..8].copy_from_slice(&7u32.to_le_bytes());
        bytes[12..16].copy_from_slice(&(-2i32).to_le_bytes());
        bytes[16..20].copy_from_slice(&2u32.to_le_bytes());
        bytes[24..28].copy_from_slice(b"true");
        bytes[ARGS_AT..ARGS_AT + 9].copy_from_slice(b"/bin/true");
        bytes[ARGS_AT + ARG_SIZE..ARGS_AT + ARG_SIZE + 2].copy_from_slice(b"-x");
        let e = Event::parse(&bytes);
        assert_eq!(e.args, ["/bin/true", "-x"]);
        assert_eq!((e.pid, e.ppid, e.ret), (42, 7, -2));
        // A short record gives zeros, not a panic.
        assert_eq!(Event::parse(&bytes[..10]).args.len(), 0);
    }
}
