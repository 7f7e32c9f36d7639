//! `offcputime`'s command line: libbpf-tools' options (`-p`, `-t`, `-u`,
//! `-k`, `-m`, `-M`, `--state`, `--stack-storage-size`,
//! `--perf-max-stack-depth`, `-v`, duration) plus BCC's stack and output
//! choices (`-U`, `-K`, `-d`, `-f`), parsed into [`Options`].

use crate::args::{Arg, Lexer, Parsed};
use crate::error::Result;

pub const USAGE: &str = "USAGE: offcputime [-h] [-p PID | -t TID | -u | -k] [-U | -K] [-d] [-f] \
[-m MIN-BLOCK-TIME] [-M MAX-BLOCK-TIME] [--state STATE] [--perf-max-stack-depth DEPTH] \
[--stack-storage-size SIZE] [-v] [duration]";

pub(super) const HELP: &str = "Summarize off-CPU time by stack trace.

USAGE: offcputime [-h] [-p PID | -t TID | -u | -k] [-U | -K] [-d] [-f] [-m MIN-BLOCK-TIME] [-M MAX-BLOCK-TIME] [--state STATE] [--perf-max-stack-depth DEPTH] [--stack-storage-size SIZE] [-v] [duration]

EXAMPLES:
    offcputime             # trace off-CPU stack time until Ctrl-C
    offcputime 5           # trace for 5 seconds only
    offcputime -f 5        # 5 seconds, and output in folded format
    offcputime -m 1000     # trace only events that last more than 1000 usec
    offcputime -M 10000    # trace only events that last less than 10000 usec
    offcputime -p 185,175  # only trace threads of PIDs 185 and 175
    offcputime -t 188      # only trace thread 188
    offcputime -u          # only trace user threads (no kernel)
    offcputime -k          # only trace kernel threads (no user)
    offcputime -U          # only show user space stacks (no kernel)
    offcputime -K          # only show kernel space stacks (no user)

  -p, --pid=PID                 Trace these PIDs only, comma-separated list
  -t, --tid=TID                 Trace these TIDs only, comma-separated list
  -u, --user-threads-only       User threads only (no kernel threads)
  -k, --kernel-threads-only     Kernel threads only (no user threads)
  -U, --user-stacks-only        Show stacks from user space only (no kernel space stacks)
  -K, --kernel-stacks-only      Show stacks from kernel space only (no user space stacks)
  -d, --delimited               Insert delimiter between kernel/user stacks
  -f, --folded                  Output folded format, one line per stack (for flame graphs)
      --stack-storage-size=STACK-STORAGE-SIZE
                                The number of unique stack traces that can be stored and displayed (default 1024)
      --perf-max-stack-depth=PERF-MAX-STACK-DEPTH
                                The limit for both kernel and user stack traces (default 127)
  -m, --min-block-time=MIN-BLOCK-TIME
                                The amount of time in microseconds over which we store traces (default 1)
  -M, --max-block-time=MAX-BLOCK-TIME
                                The amount of time in microseconds under which we store traces (default U64_MAX)
      --state=STATE             Filter on this thread state bitmask (eg, 2 == TASK_UNINTERRUPTIBLE), see include/linux/sched.h
  -v, --verbose                 Show raw addresses and symbol offsets
  -h, --help                    Show this help
";

/// Most ids `-p` or `-t` take (each is one compare in the program).
pub const MAX_IDS: usize = 30;

/// What `offcputime` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Processes (tgids) to trace; empty for all.
    pub pids: Vec<u32>,
    /// Threads to trace; empty for all.
    pub tids: Vec<u32>,
    pub user_threads_only: bool,
    pub kernel_threads_only: bool,
    pub user_stacks_only: bool,
    pub kernel_stacks_only: bool,
    /// `--` between the kernel and the user stack (`-` in folded output).
    pub delimited: bool,
    pub folded: bool,
    /// Distinct stacks the stack map holds.
    pub stack_storage_size: u32,
    /// Frames kept per stack.
    pub perf_max_stack_depth: u32,
    /// Blocked times kept: `min_block_us..=max_block_us`.
    pub min_block_us: u64,
    pub max_block_us: u64,
    /// Only threads switched out in this state (`sched_switch`'s
    /// `prev_state`: 0 runnable/preempted, else a bitmask of 1 S, 2 D, ...).
    pub state: Option<u32>,
    pub verbose: bool,
    /// Seconds to trace; `None` until Ctrl-C.
    pub duration: Option<u64>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            pids: Vec::new(),
            tids: Vec::new(),
            user_threads_only: false,
            kernel_threads_only: false,
            user_stacks_only: false,
            kernel_stacks_only: false,
            delimited: false,
            folded: false,
            stack_storage_size: 1024,
            perf_max_stack_depth: 127,
            min_block_us: 1,
            max_block_us: u64::MAX,
            state: None,
            verbose: false,
            duration: None,
        }
    }
}

impl Options {
    /// Whether the output separates kernel and user stacks (`-d` with both
    /// kinds shown).
    pub fn needs_delimiter(&self) -> bool {
        self.delimited && !self.user_stacks_only && !self.kernel_stacks_only
    }
}

/// Parses `offcputime`'s arguments.
pub fn parse(args: &[String]) -> Result<Parsed<Options>> {
    let mut lx = Lexer::new("offcputime", USAGE, args);
    let mut o = Options::default();
    let mut positionals = 0;
    while let Some(arg) = lx.next() {
        match (&arg, arg.long_name()) {
            (Arg::Short('h'), _) | (_, "help") => return Ok(Parsed::Help),
            (Arg::Short('p'), _) | (_, "pid") => o.pids = ids(&mut lx, "PID")?,
            (Arg::Short('t'), _) | (_, "tid") => o.tids = ids(&mut lx, "TID")?,
            (Arg::Short('u'), _) | (_, "user-threads-only") => o.user_threads_only = true,
            (Arg::Short('k'), _) | (_, "kernel-threads-only") => o.kernel_threads_only = true,
            (Arg::Short('U'), _) | (_, "user-stacks-only") => o.user_stacks_only = true,
            (Arg::Short('K'), _) | (_, "kernel-stacks-only") => o.kernel_stacks_only = true,
            (Arg::Short('d'), _) | (_, "delimited") => o.delimited = true,
            (Arg::Short('f'), _) | (_, "folded") => o.folded = true,
            (Arg::Short('v'), _) | (_, "verbose") => o.verbose = true,
            (_, "stack-storage-size") => {
                o.stack_storage_size = lx.number("stack storage size", 1, i32::MAX as u64)? as u32
            }
            (_, "perf-max-stack-depth") => {
                o.perf_max_stack_depth = lx.number("perf max stack depth", 1, 65_535)? as u32
            }
            (Arg::Short('m'), _) | (_, "min-block-time") => {
                o.min_block_us = lx.number("min block time (in us)", 0, u64::MAX)?
            }
            (Arg::Short('M'), _) | (_, "max-block-time") => {
                o.max_block_us = lx.number("max block time (in us)", 1, u64::MAX)?
            }
            (_, "state") => o.state = Some(lx.number("task state", 0, 0xffff)? as u32),
            (Arg::Positional(p), _) if positionals == 0 => {
                o.duration = Some(lx.parse_number("duration (in s)", p, 1, u32::MAX as u64)?);
                positionals += 1;
            }
            _ => return Err(lx.unknown(&arg)),
        }
    }
    let thread_filters = [
        !o.pids.is_empty(),
        !o.tids.is_empty(),
        o.user_threads_only,
        o.kernel_threads_only,
    ];
    if thread_filters.iter().filter(|&&f| f).count() > 1 {
        return Err(lx.error("-p, -t, -u and -k cannot be used together".to_string()));
    }
    if o.user_stacks_only && o.kernel_stacks_only {
        return Err(lx.error("-U and -K cannot be used together".to_string()));
    }
    if o.kernel_threads_only && o.user_stacks_only {
        return Err(
            lx.error("displaying user stacks for kernel threads doesn't make sense".to_string())
        );
    }
    if o.min_block_us >= o.max_block_us {
        return Err(lx.error("min_block_time should be smaller than max_block_time".to_string()));
    }
    Ok(Parsed::Run(o))
}

/// A comma-separated list of ids (`185,175`), each in `1..=i32::MAX`.
fn ids(lx: &mut Lexer<'_>, what: &str) -> Result<Vec<u32>> {
    let text = lx.value(what)?;
    let ids = text
        .split(',')
        .map(|id| {
            lx.parse_number(what, id.trim(), 1, i32::MAX as u64)
                .map(|n| n as u32)
        })
        .collect::<Result<Vec<u32>>>()?;
    if ids.len() > MAX_IDS {
        return Err(lx.error(format!("at most {MAX_IDS} {what}s")));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::strings as args;

    fn run(a: &[&str]) -> Options {
        match parse(&args(a)).expect("parses") {
            Parsed::Run(o) => o,
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn parses_libbpf_tools_and_bcc_options() {
        let o = run(&[
            "-p",
            "185,175",
            "-Kf",
            "--stack-storage-size=4096",
            "--perf-max-stack-depth",
            "64",
            "-m",
            "1000",
            "-M10000",
            "--state",
            "2",
            "-v",
            "5",
        ]);
        assert_eq!(
            o,
            Options {
                pids: vec![185, 175],
                kernel_stacks_only: true,
                folded: true,
                stack_storage_size: 4096,
                perf_max_stack_depth: 64,
                min_block_us: 1000,
                max_block_us: 10_000,
                state: Some(2),
                verbose: true,
                duration: Some(5),
                ..Options::default()
            }
        );
        assert_eq!(run(&[]), Options::default());
        let o = run(&["-t", "188", "-d", "-U"]);
        assert_eq!(
            (o.tids, o.delimited, o.user_stacks_only),
            (vec![188], true, true)
        );
        assert!(!run(&["-d", "-U"]).needs_delimiter());
        assert!(run(&["-d"]).needs_delimiter());
        assert_eq!(parse(&args(&["--help"])).expect("ok"), Parsed::Help);
    }

    #[test]
    fn bad_options_are_usage_errors() {
        for bad in [
            &["-x"][..],
            &["--bogus"],
            &["-p"],
            &["-p", "abc"],
            &["-p", "0"],
            &["-t", "1,,2"],
            &["-u", "-k"],
            &["-p", "1", "-t", "2"],
            &["-U", "-K"],
            &["-k", "-U"],
            &["-m", "10", "-M", "10"],
            &["0"],
            &["5", "6"],
            &["--state", "x"],
        ] {
            let e = parse(&args(bad)).expect_err(&format!("{bad:?} should fail"));
            let text = e.to_string();
            assert!(text.starts_with("offcputime: "), "{text}");
            assert!(text.ends_with(USAGE), "{text}");
        }
        let many: Vec<String> = (1..=31).map(|n| n.to_string()).collect();
        assert!(parse(&args(&["-p", &many.join(",")])).is_err());
    }
}
