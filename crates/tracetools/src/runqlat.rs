//! `runqlat`: run-queue (scheduler) latency as a log2 histogram, like
//! libbpf-tools' runqlat, from classic tracepoints only. A task is queued at
//! `sched_wakeup`/`sched_wakeup_new` and when `sched_switch` switches it out
//! still runnable (preempted); the delta is taken when `sched_switch`
//! switches it in.
//!
//! The tracepoints give thread ids only. For `-P` and `-p` the thread's
//! process comes from a tid→tgid map filled from /proc at start and from
//! every `sched_switch` (the task switching out is the current one); a
//! thread never seen switching out counts under its own id.

use crate::args::{Arg, Lexer, Parsed};
use crate::asm::Asm;
use crate::error::Result;
use crate::hist::{self, SLOTS};
use crate::probe::{self, Probes};
use crate::runtime;
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};
use bpf::map::{Map, MapType, UpdateFlag};
use std::io::Write;

pub const USAGE: &str = "USAGE: runqlat [-h] [-T] [-m] [-P] [-L] [-p PID] [interval] [count]";

const HELP: &str = "Summarize run queue (scheduler) latency as a histogram.

USAGE: runqlat [-h] [-T] [-m] [-P] [-L] [-p PID] [interval] [count]

EXAMPLES:
    runqlat         # summarize run queue latency as a histogram
    runqlat 1 10    # print 1 second summaries, 10 times
    runqlat -mT 1   # 1s summaries, milliseconds, and timestamps
    runqlat -P      # show each PID separately
    runqlat -p 185  # trace PID 185 only

  -m, --milliseconds   Millisecond histogram
  -p, --pid=PID        Trace this PID only
  -L, --tids           Print a histogram per thread ID
  -P, --pids           Print a histogram per process ID
  -T, --timestamp      Include timestamp on output
  -h, --help           Show this help
";

/// Bytes of a histogram value: the slots, then the comm.
const VALUE_LEN: i16 = (SLOTS * 8 + 16) as i16;
const COMM_AT: i16 = (SLOTS * 8) as i16;

/// What `runqlat` was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// Seconds between summaries (`None`: one summary at Ctrl-C).
    pub interval: Option<u64>,
    /// Summaries before exiting.
    pub count: Option<u64>,
    pub milliseconds: bool,
    pub per_process: bool,
    pub per_thread: bool,
    pub pid: Option<u32>,
    pub timestamp: bool,
}

/// Parses `runqlat`'s arguments.
pub fn parse(args: &[String]) -> Result<Parsed<Options>> {
    let mut lx = Lexer::new("runqlat", USAGE, args);
    let mut o = Options::default();
    let mut positionals = 0;
    while let Some(arg) = lx.next() {
        match &arg {
            Arg::Short('h') => return Ok(Parsed::Help),
            Arg::Long(l) if l == "help" => return Ok(Parsed::Help),
            Arg::Short('m') => o.milliseconds = true,
            Arg::Long(l) if l == "milliseconds" => o.milliseconds = true,
            Arg::Short('P') => o.per_process = true,
            Arg::Long(l) if l == "pids" => o.per_process = true,
            Arg::Short('L') => o.per_thread = true,
            Arg::Long(l) if l == "tids" => o.per_thread = true,
            Arg::Short('T') => o.timestamp = true,
            Arg::Long(l) if l == "timestamp" => o.timestamp = true,
            Arg::Short('p') => o.pid = Some(lx.number("PID", 1, i32::MAX as u64)? as u32),
            Arg::Long(l) if l == "pid" => {
                o.pid = Some(lx.number("PID", 1, i32::MAX as u64)? as u32)
            }
            Arg::Positional(p) if positionals == 0 => {
                o.interval = Some(lx.parse_number("interval", p, 1, u32::MAX as u64)?);
                positionals += 1;
            }
            Arg::Positional(p) if positionals == 1 => {
                o.count = Some(lx.parse_number("count", p, 1, u32::MAX as u64)?);
                positionals += 1;
            }
            _ => return Err(lx.unknown(&arg)),
        }
    }
    if o.per_process && o.per_thread {
        return Err(lx.error("-P and -L cannot be used together".to_string()));
    }
    Ok(Parsed::Run(o))
}

/// One histogram: its key (0, a pid or a tid), the last comm seen, counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hist {
    pub key: u32,
    pub comm: String,
    pub slots: [u64; SLOTS],
}

impl Hist {
    /// Latencies counted.
    pub fn total(&self) -> u64 {
        self.slots.iter().sum()
    }
}

/// The attached tracer.
#[derive(Debug)]
pub struct Runqlat {
    options: Options,
    hists: Map,
    _probes: Probes,
}

impl Runqlat {
    /// Loads and attaches the programs.
    pub fn start(options: &Options) -> Result<Runqlat> {
        let mut probes = Probes::new()?;
        let start = probe::map(MapType::Hash, "runq_start", 4, 8, 10240)?;
        let hists = probe::map(MapType::Hash, "runq_hists", 4, VALUE_LEN as u32, 10240)?;
        let needs_tgid = options.per_process || options.pid.is_some();
        let tgids = if needs_tgid {
            let map = probe::map(MapType::LruHash, "runq_tgids", 4, 4, 65536)?;
            fill_tgids(&map);
            Some(map)
        } else {
            None
        };
        for tp in ["sched_wakeup", "sched_wakeup_new"] {
            let pid = probes.field("sched", tp, "pid")?;
            probes.attach("sched", tp, &wakeup_prog(&start, pid.offset))?;
        }
        let fields = SwitchFields {
            prev_state: probes.field("sched", "sched_switch", "prev_state")?,
            prev_pid: probes.field("sched", "sched_switch", "prev_pid")?,
            next_pid: probes.field("sched", "sched_switch", "next_pid")?,
            next_comm: probes.field("sched", "sched_switch", "next_comm")?,
        };
        let insns = switch_prog(options, &fields, &start, &hists, tgids.as_ref());
        probes.attach("sched", "sched_switch", &insns)?;
        // The start map stays referenced by the programs; ours may go.
        Ok(Runqlat {
            options: options.clone(),
            hists,
            _probes: probes,
        })
    }

    /// The histograms so far, sorted by key, and clears them.
    pub fn take(&self) -> Result<Vec<Hist>> {
        let mut out = Vec::new();
        for key in self.hists.keys()? {
            if let Some(value) = self.hists.lookup(&key)? {
                let mut slots = [0u64; SLOTS];
                for (i, slot) in slots.iter_mut().enumerate() {
                    *slot = runtime::u64_at(&value, i * 8);
                }
                out.push(Hist {
                    key: runtime::u32_at(&key, 0),
                    comm: runtime::c_str(value.get(COMM_AT as usize..).unwrap_or(&[])),
                    slots,
                });
            }
            self.hists.delete(&key)?;
        }
        out.sort_by_key(|h| h.key);
        Ok(out)
    }

    /// `take` printed in libbpf-tools' layout.
    pub fn render(&self, hists: &[Hist]) -> String {
        render(&self.options, hists)
    }
}

/// The histograms as libbpf-tools prints them.
pub fn render(options: &Options, hists: &[Hist]) -> String {
    let unit = if options.milliseconds {
        "msecs"
    } else {
        "usecs"
    };
    let mut out = String::new();
    for h in hists {
        if options.per_process {
            out.push_str(&format!("\npid = {} {}\n", h.key, h.comm));
        } else if options.per_thread {
            out.push_str(&format!("\ntid = {} {}\n", h.key, h.comm));
        }
        out.push_str(&hist::log2_hist(&h.slots, unit));
    }
    out
}

/// `runqlat ARGS`, printing to `out`.
pub fn main(args: &[String], out: &mut dyn Write) -> Result<i32> {
    let Some(options) = crate::args::options_or_help(parse(args)?, HELP, out)? else {
        return Ok(0);
    };
    let tracer = Runqlat::start(&options)?;
    runtime::catch_ctrl_c();
    writeln!(out, "Tracing run queue latency... Hit Ctrl-C to end.")?;
    runtime::report_every(
        out,
        options.interval,
        options.count,
        options.timestamp,
        || Ok(tracer.render(&tracer.take()?)),
    )
}

/// Every thread's process from /proc (best effort: threads come and go).
fn fill_tgids(map: &Map) {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for tgid in procs
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
    {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{tgid}/task")) else {
            continue;
        };
        for tid in tasks
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        {
            let _ = map.update(&tid.to_le_bytes(), &tgid.to_le_bytes(), UpdateFlag::Any);
        }
    }
}

/// Stack slots.
const KEY: i16 = -8;
const TS: i16 = -16;
const HIST_KEY: i16 = -24;
const TGID: i16 = -32;
const SCRATCH: i16 = -32 - VALUE_LEN;

/// `start[pid] = now` for the woken task.
fn wakeup_prog(start: &Map, pid_off: i16) -> Vec<bpf::insn::Insn> {
    let mut a = Asm::new();
    a.i(Insn::ldx(Size::W, Reg::R7, Reg::R1, pid_off))
        .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R7, 0, 0), "out")
        .i(Insn::stx(Size::W, Reg::R10, KEY, Reg::R7))
        .i(Insn::st(Size::W, Reg::R10, KEY + 4, 0))
        .i(Insn::call(Helper::KtimeGetNs))
        .i(Insn::stx(Size::DW, Reg::R10, TS, Reg::R0))
        .update(start, KEY, TS, 0)
        .exit_label("out");
    a.finish()
}

struct SwitchFields {
    prev_state: probe::Field,
    prev_pid: probe::Field,
    next_pid: probe::Field,
    next_comm: probe::Field,
}

/// Re-queues a preempted prev; for next, the latency since it was queued
/// into its histogram bucket.
fn switch_prog(
    o: &Options,
    f: &SwitchFields,
    start: &Map,
    hists: &Map,
    tgids: Option<&Map>,
) -> Vec<bpf::insn::Insn> {
    let mut a = Asm::new();
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1));
    if let Some(tgids) = tgids {
        // The current task is prev: remember its process.
        a.i(Insn::call(Helper::GetCurrentPidTgid))
            .i(Insn::stx(Size::W, Reg::R10, KEY, Reg::R0))
            .i(Insn::alu64_imm(AluOp::Rsh, Reg::R0, 32))
            .i(Insn::stx(Size::W, Reg::R10, TGID, Reg::R0))
            .update(tgids, KEY, TGID, 0);
    }
    // prev still runnable (state index 0; preemption reports TASK_REPORT_MAX,
    // a bit above the low byte): it waits in the queue from now.
    a.i(Insn::ldx(
        f.prev_state.size,
        Reg::R7,
        Reg::R6,
        f.prev_state.offset,
    ))
    .i(Insn::alu64_imm(AluOp::And, Reg::R7, 0xff))
    .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R7, 0, 0), "switch_in")
    .i(Insn::ldx(Size::W, Reg::R7, Reg::R6, f.prev_pid.offset))
    .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R7, 0, 0), "switch_in")
    .i(Insn::stx(Size::W, Reg::R10, KEY, Reg::R7))
    .i(Insn::call(Helper::KtimeGetNs))
    .i(Insn::stx(Size::DW, Reg::R10, TS, Reg::R0))
    .update(start, KEY, TS, 0)
    .label("switch_in")
    .i(Insn::ldx(Size::W, Reg::R7, Reg::R6, f.next_pid.offset))
    .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R7, 0, 0), "out")
    .i(Insn::stx(Size::W, Reg::R10, KEY, Reg::R7))
    .lookup(start, KEY)
    .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "out")
    .i(Insn::ldx(Size::DW, Reg::R8, Reg::R0, 0))
    .delete(start, KEY)
    .i(Insn::call(Helper::KtimeGetNs))
    .i(Insn::alu64_reg(AluOp::Sub, Reg::R0, Reg::R8))
    .i(Insn::mov64_reg(Reg::R8, Reg::R0))
    .jump(Insn::jmp_imm(JmpOp::Slt, Reg::R8, 0, 0), "out")
    .i(Insn::alu64_imm(
        AluOp::Div,
        Reg::R8,
        if o.milliseconds { 1_000_000 } else { 1000 },
    ));
    // r9: the histogram key.
    if let Some(tgids) = tgids {
        a.i(Insn::mov64_reg(Reg::R9, Reg::R7))
            .lookup(tgids, KEY)
            .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "keyed")
            .i(Insn::ldx(Size::W, Reg::R9, Reg::R0, 0))
            .label("keyed");
        if let Some(pid) = o.pid {
            a.jump(Insn::jmp_imm(JmpOp::Ne, Reg::R9, pid as i32, 0), "out");
        }
        if o.per_thread {
            a.i(Insn::mov64_reg(Reg::R9, Reg::R7));
        } else if !o.per_process {
            a.i(Insn::mov64_imm(Reg::R9, 0));
        }
    } else if o.per_thread {
        a.i(Insn::mov64_reg(Reg::R9, Reg::R7));
    } else {
        a.i(Insn::mov64_imm(Reg::R9, 0));
    }
    a.i(Insn::stx(Size::W, Reg::R10, HIST_KEY, Reg::R9))
        .i(Insn::st(Size::W, Reg::R10, HIST_KEY + 4, 0))
        .log2(Reg::R8, Reg::R1, Reg::R2)
        .clamp(Reg::R8, SLOTS as i32 - 1)
        .lookup_or_init(hists, HIST_KEY, SCRATCH, VALUE_LEN, "out");
    for part in [0, 8] {
        a.i(Insn::ldx(
            Size::DW,
            Reg::R1,
            Reg::R6,
            f.next_comm.offset + part,
        ))
        .i(Insn::stx(Size::DW, Reg::R0, COMM_AT + part, Reg::R1));
    }
    a.count_slot(Reg::R0, Reg::R8, Reg::R1).exit_label("out");
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::strings as args;

    #[test]
    fn parses_libbpf_tools_options() {
        let Parsed::Run(o) = parse(&args(&["-mT", "-p", "185", "1", "5"])).expect("ok") else {
            panic!("help")
        };
        assert_eq!(
            o,
            Options {
                interval: Some(1),
                count: Some(5),
                milliseconds: true,
                per_process: false,
                per_thread: false,
                pid: Some(185),
                timestamp: true,
            }
        );
        assert_eq!(parse(&args(&["-h"])).expect("ok"), Parsed::Help);
        assert!(parse(&args(&["-P", "-L"])).is_err());
        assert!(parse(&args(&["1", "2", "3"])).is_err());
        assert!(parse(&args(&["-x"])).is_err());
        assert!(parse(&args(&["0"])).is_err());
    }

    #[test]
    fn renders_per_process_headers() {
        let mut slots = [0u64; SLOTS];
        slots[3] = 2;
        let h = Hist {
            key: 42,
            comm: "spin".into(),
            slots,
        };
        let o = Options {
            per_process: true,
            ..Options::default()
        };
        let text = render(&o, std::slice::from_ref(&h));
        assert!(
            text.starts_with("\npid = 42 spin\n     usecs               : count    distribution\n")
        );
        assert!(text.contains(
            "         8 -> 15         : 2        |****************************************|"
        ));
    }
}
