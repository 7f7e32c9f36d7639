//! `syscount`: system calls counted per syscall or per process, optionally
//! with their total latency, like libbpf-tools' syscount, from
//! `raw_syscalls:sys_exit` (and `sys_enter` for `-L`). Names come from the
//! x86_64 table in [`crate::syscalls`].

use crate::args::{Arg, Lexer, Parsed};
use crate::asm::Asm;
use crate::error::Result;
use crate::probe::{self, Probes};
use crate::runtime;
use crate::syscalls;
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};
use bpf::map::{Map, MapType};
use std::io::Write;
use std::time::Duration;

pub const USAGE: &str =
    "USAGE: syscount [-h] [-x] [-L] [-m] [-P] [-p PID] [-i INTERVAL] [-d DURATION] [-T TOP]";

const HELP: &str = "syscount: summarize syscall counts and latencies

USAGE: syscount [-h] [-x] [-L] [-m] [-P] [-p PID] [-i INTERVAL] [-d DURATION] [-T TOP]

EXAMPLES:
    syscount                 # print top 10 syscalls by count at Ctrl-C
    syscount -p $(pidof dd)  # look only at a particular process
    syscount -L              # measure and sort output by latency
    syscount -P              # group statistics by pid, not by syscall
    syscount -x -i 5         # count only failed syscalls, every 5 seconds

  -p, --pid=PID            Process PID to trace
  -i, --interval=INTERVAL  Print summary at this interval (seconds), 0 for infinite wait (default)
  -d, --duration=DURATION  Total tracing duration (seconds)
  -T, --top=TOP            Print only the top syscalls (default 10)
  -x, --failures           Trace only failed syscalls
  -L, --latency            Collect syscall latency
  -m, --milliseconds       Display latency in milliseconds (default: microseconds)
  -P, --process            Count by process and not by syscall
  -h, --help               Show this help
";

/// Value: count, total ns, comm.
const VALUE_LEN: i16 = 32;

/// What `syscount` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub pid: Option<u32>,
    /// Seconds between summaries; 0 prints once at the end.
    pub interval: u64,
    /// Seconds to trace; `None` until Ctrl-C.
    pub duration: Option<u64>,
    pub top: usize,
    pub failures: bool,
    pub latency: bool,
    pub milliseconds: bool,
    pub per_process: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            pid: None,
            interval: 0,
            duration: None,
            top: 10,
            failures: false,
            latency: false,
            milliseconds: false,
            per_process: false,
        }
    }
}

/// Parses `syscount`'s arguments.
pub fn parse(args: &[String]) -> Result<Parsed<Options>> {
    let mut lx = Lexer::new("syscount", USAGE, args);
    let mut o = Options::default();
    let max = i32::MAX as u64;
    while let Some(arg) = lx.next() {
        let long = arg.long_name();
        match (&arg, long) {
            (Arg::Short('h'), _) | (_, "help") => return Ok(Parsed::Help),
            (Arg::Short('x'), _) | (_, "failures") => o.failures = true,
            (Arg::Short('L'), _) | (_, "latency") => o.latency = true,
            (Arg::Short('m'), _) | (_, "milliseconds") => o.milliseconds = true,
            (Arg::Short('P'), _) | (_, "process") => o.per_process = true,
            (Arg::Short('p'), _) | (_, "pid") => o.pid = Some(lx.number("PID", 1, max)? as u32),
            (Arg::Short('i'), _) | (_, "interval") => o.interval = lx.number("INTERVAL", 0, max)?,
            (Arg::Short('d'), _) | (_, "duration") => {
                o.duration = Some(lx.number("DURATION", 1, max)?)
            }
            (Arg::Short('T'), _) | (_, "top") => o.top = lx.number("TOP", 1, max)? as usize,
            _ => return Err(lx.unknown(&arg)),
        }
    }
    Ok(Parsed::Run(o))
}

/// One row: a syscall number or a pid, with its count and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: u32,
    pub count: u64,
    pub total_ns: u64,
    pub comm: String,
}

/// The attached tracer.
#[derive(Debug)]
pub struct Syscount {
    options: Options,
    data: Map,
    _probes: Probes,
}

impl Syscount {
    /// Loads and attaches the programs.
    pub fn start(options: &Options) -> Result<Syscount> {
        let mut probes = Probes::new()?;
        let data = probe::map(MapType::Hash, "syscount_data", 4, VALUE_LEN as u32, 10240)?;
        let id = probes.field("raw_syscalls", "sys_exit", "id")?;
        let ret = probes.field("raw_syscalls", "sys_exit", "ret")?;
        let start = if options.latency {
            let start = probe::map(MapType::Hash, "syscount_start", 4, 8, 10240)?;
            probes.attach("raw_syscalls", "sys_enter", &enter_prog(options, &start))?;
            Some(start)
        } else {
            None
        };
        let insns = exit_prog(options, id, ret, &data, start.as_ref());
        probes.attach("raw_syscalls", "sys_exit", &insns)?;
        Ok(Syscount {
            options: options.clone(),
            data,
            _probes: probes,
        })
    }

    /// The rows so far (unsorted) and clears them.
    pub fn take(&self) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        for key in self.data.keys()? {
            if let Some(v) = self.data.lookup(&key)? {
                rows.push(Row {
                    key: runtime::u32_at(&key, 0),
                    count: runtime::u64_at(&v, 0),
                    total_ns: runtime::u64_at(&v, 8),
                    comm: runtime::c_str(v.get(16..).unwrap_or(&[])),
                });
            }
            self.data.delete(&key)?;
        }
        Ok(rows)
    }

    /// Rows printed like libbpf-tools.
    pub fn render(&self, rows: Vec<Row>) -> String {
        render(&self.options, rows)
    }
}

/// The top rows, sorted by count (or time with `-L`), in libbpf-tools'
/// columns.
pub fn render(o: &Options, mut rows: Vec<Row>) -> String {
    if o.latency {
        rows.sort_by_key(|r| std::cmp::Reverse(r.total_ns));
    } else {
        rows.sort_by_key(|r| std::cmp::Reverse(r.count));
    }
    let agg = if o.per_process {
        "PID    COMM"
    } else {
        "SYSCALL"
    };
    let mut out = String::new();
    if o.latency {
        let unit = if o.milliseconds {
            "TIME (ms)"
        } else {
            "TIME (us)"
        };
        out.push_str(&format!("{agg:<22} {:>8} {unit:>16}\n", "COUNT"));
    } else {
        out.push_str(&format!("{agg:<22} {:>8}\n", "COUNT"));
    }
    let div = if o.milliseconds { 1e6 } else { 1e3 };
    for r in rows.iter().take(o.top) {
        let name = if o.per_process {
            format!("{:<6} {:<15}", r.key, r.comm)
        } else {
            syscalls::name(r.key).map_or_else(|| format!("[unknown: {}]", r.key), str::to_string)
        };
        if o.latency {
            let time = r.total_ns as f64 / div;
            out.push_str(&format!("{name:<22} {:>8} {time:>16.3}\n", r.count));
        } else {
            out.push_str(&format!("{name:<22} {:>8}\n", r.count));
        }
    }
    out.push('\n');
    out
}

/// `syscount ARGS`, printing to `out`.
pub fn main(args: &[String], out: &mut dyn Write) -> Result<i32> {
    let Some(options) = crate::args::options_or_help(parse(args)?, HELP, out)? else {
        return Ok(0);
    };
    let tracer = Syscount::start(&options)?;
    runtime::catch_ctrl_c();
    writeln!(
        out,
        "Tracing syscalls, printing top {}... Ctrl+C to quit.",
        options.top
    )?;
    out.flush()?;
    let step = options.interval.max(1);
    let mut seconds = 0;
    loop {
        let mut stop = runtime::sleep(Duration::from_secs(step));
        seconds += step;
        if options.duration.is_some_and(|d| seconds >= d) {
            stop = true;
        }
        if !stop && options.interval == 0 {
            continue;
        }
        let rows = tracer.take()?;
        if !rows.is_empty() {
            writeln!(out, "[{}]", runtime::clock())?;
            write!(out, "{}", tracer.render(rows))?;
            out.flush()?;
        }
        if stop {
            return Ok(0);
        }
    }
}

const KEY: i16 = -8;
const TS: i16 = -16;
const AGG_KEY: i16 = -24;
const SCRATCH: i16 = -24 - VALUE_LEN;

/// `-p` filter: to `out` unless the current tgid is the target; clobbers
/// r0-r5, leaves pid_tgid in r7.
fn pid_filter(a: &mut Asm, o: &Options) {
    a.i(Insn::call(Helper::GetCurrentPidTgid))
        .i(Insn::mov64_reg(Reg::R7, Reg::R0));
    if let Some(pid) = o.pid {
        a.i(Insn::alu64_imm(AluOp::Rsh, Reg::R0, 32))
            .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R0, pid as i32, 0), "out");
    }
}

/// `start[tid] = now`.
fn enter_prog(o: &Options, start: &Map) -> Vec<Insn> {
    let mut a = Asm::new();
    pid_filter(&mut a, o);
    a.i(Insn::stx(Size::W, Reg::R10, KEY, Reg::R7))
        .i(Insn::call(Helper::KtimeGetNs))
        .i(Insn::stx(Size::DW, Reg::R10, TS, Reg::R0))
        .update(start, KEY, TS, 0)
        .exit_label("out");
    a.finish()
}

/// Counts (and times) the finished call under its number or its process.
fn exit_prog(
    o: &Options,
    id: probe::Field,
    ret: probe::Field,
    data: &Map,
    start: Option<&Map>,
) -> Vec<Insn> {
    let mut a = Asm::new();
    a.i(Insn::mov64_reg(Reg::R6, Reg::R1));
    pid_filter(&mut a, o);
    a.i(Insn::ldx(id.size, Reg::R8, Reg::R6, id.offset))
        .jump(Insn::jmp_imm(JmpOp::Slt, Reg::R8, 0, 0), "out");
    if o.failures {
        a.i(Insn::ldx(ret.size, Reg::R1, Reg::R6, ret.offset))
            .jump(Insn::jmp_imm(JmpOp::Sge, Reg::R1, 0, 0), "out");
    }
    a.i(Insn::mov64_imm(Reg::R9, 0));
    if let Some(start) = start {
        a.i(Insn::stx(Size::W, Reg::R10, KEY, Reg::R7))
            .lookup(start, KEY)
            .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "out")
            .i(Insn::ldx(Size::DW, Reg::R9, Reg::R0, 0))
            .delete(start, KEY)
            .i(Insn::call(Helper::KtimeGetNs))
            .i(Insn::alu64_reg(AluOp::Sub, Reg::R0, Reg::R9))
            .i(Insn::mov64_reg(Reg::R9, Reg::R0));
    }
    if o.per_process {
        a.i(Insn::alu64_imm(AluOp::Rsh, Reg::R7, 32)).i(Insn::stx(
            Size::W,
            Reg::R10,
            AGG_KEY,
            Reg::R7,
        ));
    } else {
        a.i(Insn::stx(Size::W, Reg::R10, AGG_KEY, Reg::R8));
    }
    a.lookup_or_init(data, AGG_KEY, SCRATCH, VALUE_LEN, "out");
    if o.per_process {
        a.i(Insn::mov64_reg(Reg::R8, Reg::R0))
            .i(Insn::mov64_reg(Reg::R1, Reg::R0))
            .i(Insn::alu64_imm(AluOp::Add, Reg::R1, 16))
            .i(Insn::mov64_imm(Reg::R2, 16))
            .i(Insn::call(Helper::GetCurrentComm))
            .i(Insn::mov64_reg(Reg::R0, Reg::R8));
    }
    a.i(Insn::mov64_imm(Reg::R1, 1))
        .i(Insn::atomic_add(Size::DW, Reg::R0, 0, Reg::R1))
        .i(Insn::atomic_add(Size::DW, Reg::R0, 8, Reg::R9))
        .exit_label("out");
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::strings as args;

    #[test]
    fn parses_options() {
        let Parsed::Run(o) =
            parse(&args(&["-LmP", "-p", "9", "-i", "2", "-d5", "-T", "3"])).expect("ok")
        else {
            panic!("help")
        };
        assert!(o.latency && o.milliseconds && o.per_process && !o.failures);
        assert_eq!(
            (o.pid, o.interval, o.duration, o.top),
            (Some(9), 2, Some(5), 3)
        );
        assert_eq!(parse(&args(&["--help"])).expect("ok"), Parsed::Help);
        assert!(parse(&args(&["-T", "0"])).is_err());
        assert!(parse(&args(&["5"])).is_err());
    }

    #[test]
    fn renders_libbpf_tools_columns() {
        let rows = vec![
            Row {
                key: 0,
                count: 5,
                total_ns: 9_000,
                comm: String::new(),
            },
            Row {
                key: 110,
                count: 1000,
                total_ns: 1_500,
                comm: String::new(),
            },
            Row {
                key: 999,
                count: 1,
                total_ns: 0,
                comm: String::new(),
            },
        ];
        let text = render(&Options::default(), rows.clone());
        assert_eq!(
            text,
            "SYSCALL                   COUNT\n\
             getppid                    1000\n\
             read                          5\n\
             [unknown: 999]                1\n\n"
        );
        let o = Options {
            latency: true,
            top: 1,
            ..Options::default()
        };
        assert_eq!(
            render(&o, rows),
            "SYSCALL                   COUNT        TIME (us)\n\
             read                          5            9.000\n\n"
        );
        let o = Options {
            per_process: true,
            ..Options::default()
        };
        let row = Row {
            key: 42,
            count: 7,
            total_ns: 0,
            comm: "bash".into(),
        };
        assert_eq!(
            render(&o, vec![row]),
            "PID    COMM               COUNT\n42     bash                   7\n\n"
        );
    }
}
