//! The benchmark loop of one command: setup once, warmup runs, timed runs
//! (each after `--prepare` and before `--conclude`), cleanup once; how many timed runs (fixed, or
//! enough to fill `--min-time` within `--min-runs`..`--max-runs`); and the
//! shell's spawn overhead, measured with an empty command and subtracted.
//! Statistics are not computed here.

use crate::command::{CommandSpec, Shell};
use crate::error::BenchError;
use crate::exec::{self, Input, Measurement, Output};
use crate::stats;

/// How many timed runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunCount {
    /// Exactly this many (`--runs`).
    Exact(u64),
    /// As many as fit in `min_time_s` after timing the first, within the bounds.
    Adaptive {
        /// At least this many.
        min_runs: u64,
        /// At most this many, if bounded.
        max_runs: Option<u64>,
        /// Seconds of timed runs to aim for.
        min_time_s: f64,
    },
}

impl RunCount {
    /// Checks bounds: at least one run (two for a standard deviation is advised, not required).
    pub fn validate(&self) -> Result<(), BenchError> {
        match *self {
            RunCount::Exact(0) => Err(BenchError::Options("--runs must be at least 1".into())),
            RunCount::Adaptive {
                min_runs,
                max_runs: Some(max),
                ..
            } if max < min_runs => Err(BenchError::Options(format!(
                "--max-runs {max} is below --min-runs {min_runs}"
            ))),
            RunCount::Adaptive { min_runs: 0, .. } => {
                Err(BenchError::Options("--min-runs must be at least 1".into()))
            }
            _ => Ok(()),
        }
    }

    /// Total timed runs once the first took `first_wall_s`.
    pub fn total_after_first(&self, first_wall_s: f64) -> u64 {
        match *self {
            RunCount::Exact(n) => n,
            RunCount::Adaptive {
                min_runs,
                max_runs,
                min_time_s,
            } => {
                let wanted = (min_time_s / first_wall_s.max(1e-6)).ceil();
                let wanted = if wanted.is_finite() {
                    wanted.min(1e9) as u64
                } else {
                    min_runs
                };
                wanted
                    .max(min_runs)
                    .min(max_runs.unwrap_or(u64::MAX))
                    .max(1)
            }
        }
    }
}

/// Everything about how each command is run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Untimed runs before the timed ones.
    pub warmup: u64,
    /// How many timed runs.
    pub runs: RunCount,
    /// Run once before a command's first run (placeholders substituted).
    pub setup: Option<String>,
    /// Run before every run; one for all commands, or one per command.
    pub prepare: Vec<String>,
    /// Run after every run (also warmups); one for all commands, or one per command.
    pub conclude: Vec<String>,
    /// Run once after a command's last run.
    pub cleanup: Option<String>,
    /// How command lines become processes.
    pub shell: Shell,
    /// Keep going when a command exits non-zero.
    pub ignore_failure: bool,
    /// Where the commands' standard input comes from.
    pub input: Input,
    /// Where the commands' output goes: one for all commands, or one per
    /// command; discarded when empty.
    pub output: Vec<Output>,
}

impl RunOptions {
    /// The prepare command of command number `index`, placeholders substituted.
    pub fn prepare_for(&self, spec: &CommandSpec, index: usize) -> Option<String> {
        one_for_all_or_each(&self.prepare, index).map(|p| spec.substitute(p))
    }

    /// The conclude command of command number `index`, placeholders substituted.
    pub fn conclude_for(&self, spec: &CommandSpec, index: usize) -> Option<String> {
        one_for_all_or_each(&self.conclude, index).map(|c| spec.substitute(c))
    }

    /// Where the output of command number `index` goes.
    pub fn output_for(&self, index: usize) -> Output {
        one_for_all_or_each(&self.output, index)
            .cloned()
            .unwrap_or_default()
    }

    /// Where the output of setup, prepare, conclude and cleanup commands
    /// goes: shown when the benchmarked command's is, else discarded.
    fn helper_output(&self, index: usize) -> Output {
        match self.output_for(index) {
            Output::Show => Output::Show,
            _ => Output::Discard,
        }
    }
}

/// The item of `list` for command number `index`: the only one, the
/// `index`-th, or none.
fn one_for_all_or_each<T>(list: &[T], index: usize) -> Option<&T> {
    match list {
        [] => None,
        [only] => Some(only),
        each => each.get(index),
    }
}

/// The cost of spawning the shell itself, subtracted from every run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Overhead {
    /// Mean wall seconds of an empty command.
    pub wall_s: f64,
    /// Mean user seconds of an empty command.
    pub user_s: f64,
    /// Mean system seconds of an empty command.
    pub system_s: f64,
}

/// Runs of the empty command used to measure the shell's overhead.
pub const OVERHEAD_RUNS: usize = 30;

/// Measures the shell's spawn overhead: the mean of [`OVERHEAD_RUNS`] runs of
/// an empty command (after 3 untimed ones). Zero for `--shell=none`.
pub fn measure_overhead(shell: &Shell) -> Result<Overhead, BenchError> {
    if *shell == Shell::None {
        return Ok(Overhead::default());
    }
    let argv = shell.argv("")?;
    for _ in 0..3 {
        exec::execute(&argv, &Input::Null, &Output::Discard)?;
    }
    let runs = (0..OVERHEAD_RUNS)
        .map(|_| exec::execute(&argv, &Input::Null, &Output::Discard))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(failed) = runs.iter().find(|m| !m.succeeded()) {
        return Err(BenchError::HelperFailed {
            role: "empty shell",
            command: shell_words::join(&argv),
            status: failed.status_text(),
        });
    }
    let of = |f: fn(&Measurement) -> f64| stats::mean(&runs.iter().map(f).collect::<Vec<_>>());
    Ok(Overhead {
        wall_s: of(|m| m.wall_s),
        user_s: of(|m| m.user_s),
        system_s: of(|m| m.system_s),
    })
}

/// Which part of a command's benchmark a progress tick belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Untimed warmup runs.
    Warmup,
    /// Timed runs.
    Timed,
}

/// Progress after each run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    /// Warmup or timed.
    pub phase: Phase,
    /// Runs done in this phase.
    pub done: u64,
    /// Runs this phase will do (known after the first timed run when adaptive).
    pub total: u64,
    /// Mean wall seconds of the timed runs so far (0 during warmup).
    pub mean_so_far_s: f64,
}

/// Benchmarks command number `index` of the benchmark: returns its timed
/// runs with `overhead` subtracted. Fails on a non-zero exit unless
/// `ignore_failure`, and always when setup, prepare or cleanup fail.
pub fn run_command(
    spec: &CommandSpec,
    index: usize,
    options: &RunOptions,
    overhead: &Overhead,
    on_tick: &mut dyn FnMut(Tick),
) -> Result<Vec<Measurement>, BenchError> {
    options.runs.validate()?;
    let argv = options.shell.argv(&spec.command_line)?;
    if let Some(setup) = &options.setup {
        helper("setup", &spec.substitute(setup), index, options)?;
    }
    let timed = timed_runs(spec, index, &argv, options, overhead, on_tick);
    // Clean up even after a failed run, then report the first failure.
    let cleaned = match &options.cleanup {
        Some(cleanup) => helper("cleanup", &spec.substitute(cleanup), index, options),
        None => Ok(()),
    };
    let runs = timed?;
    cleaned?;
    Ok(runs)
}

fn timed_runs(
    spec: &CommandSpec,
    index: usize,
    argv: &[String],
    options: &RunOptions,
    overhead: &Overhead,
    on_tick: &mut dyn FnMut(Tick),
) -> Result<Vec<Measurement>, BenchError> {
    let prepare = options.prepare_for(spec, index);
    let conclude = options.conclude_for(spec, index);
    let output = options.output_for(index);
    let once = || -> Result<Measurement, BenchError> {
        if let Some(prepare) = &prepare {
            helper("prepare", prepare, index, options)?;
        }
        let m = exec::execute(argv, &options.input, &output)?;
        if let Some(conclude) = &conclude {
            helper("conclude", conclude, index, options)?;
        }
        if !m.succeeded() && !options.ignore_failure {
            return Err(BenchError::CommandFailed {
                command: spec.command_line.clone(),
                status: m.status_text(),
            });
        }
        Ok(subtract(m, overhead))
    };
    for done in 1..=options.warmup {
        once()?;
        on_tick(Tick {
            phase: Phase::Warmup,
            done,
            total: options.warmup,
            mean_so_far_s: 0.0,
        });
    }
    let first = once()?;
    let total = options.runs.total_after_first(first.wall_s);
    let mut runs = Vec::with_capacity(usize::try_from(total).unwrap_or(0).min(1 << 20));
    let mut sum = first.wall_s;
    runs.push(first);
    on_tick(Tick {
        phase: Phase::Timed,
        done: 1,
        total,
        mean_so_far_s: sum,
    });
    for done in 2..=total {
        let m = once()?;
        sum += m.wall_s;
        runs.push(m);
        on_tick(Tick {
            phase: Phase::Timed,
            done,
            total,
            mean_so_far_s: sum / done as f64,
        });
    }
    Ok(runs)
}

fn subtract(m: Measurement, overhead: &Overhead) -> Measurement {
    Measurement {
        wall_s: (m.wall_s - overhead.wall_s).max(0.0),
        user_s: (m.user_s - overhead.user_s).max(0.0),
        system_s: (m.system_s - overhead.system_s).max(0.0),
        ..m
    }
}

/// Runs a `--setup`, `--prepare`, `--conclude` or `--cleanup` command
/// (`role`) of command number `index` under the benchmark's shell; fails
/// when it exits non-zero.
pub fn helper(
    role: &'static str,
    command_line: &str,
    index: usize,
    options: &RunOptions,
) -> Result<(), BenchError> {
    let argv = options.shell.argv(command_line)?;
    let m = exec::execute(&argv, &Input::Null, &options.helper_output(index))?;
    if m.succeeded() {
        Ok(())
    } else {
        Err(BenchError::HelperFailed {
            role,
            command: command_line.to_string(),
            status: m.status_text(),
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn options(runs: RunCount) -> RunOptions {
        RunOptions {
            warmup: 1,
            runs,
            setup: None,
            prepare: Vec::new(),
            conclude: Vec::new(),
            cleanup: None,
            shell: Shell::default(),
            ignore_failure: false,
            input: Input::Null,
            output: Vec::new(),
        }
    }

    #[test]
    fn adaptive_count_fills_the_minimum_time() {
        let adaptive = RunCount::Adaptive {
            min_runs: 10,
            max_runs: Some(50),
            min_time_s: 3.0,
        };
        assert_eq!(adaptive.total_after_first(0.1), 30);
        assert_eq!(adaptive.total_after_first(1.0), 10);
        assert_eq!(adaptive.total_after_first(0.0001), 50);
        assert!(RunCount::Exact(0).validate().is_err());
    }

    #[test]
    fn runs_prepare_setup_and_cleanup_in_order() {
        let dir = std::env::temp_dir().join(format!("whyslow-bench-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let log = dir.join("log");
        let log = log.display();
        let mut o = options(RunCount::Exact(2));
        o.setup = Some(format!("echo setup-{{n}} >> {log}"));
        o.prepare = vec![format!("echo prepare >> {log}")];
        o.conclude = vec![format!("echo conclude >> {log}")];
        o.cleanup = Some(format!("echo cleanup >> {log}"));
        let mut spec = CommandSpec::plain(&format!("echo run-{{n}} >> {log}"));
        spec.parameters.insert("n".into(), "7".into());
        spec.command_line = spec.substitute(&spec.command_line);
        let mut ticks = Vec::new();
        let runs =
            run_command(&spec, 0, &o, &Overhead::default(), &mut |t| ticks.push(t)).expect("runs");
        assert_eq!(runs.len(), 2);
        let text = std::fs::read_to_string(dir.join("log")).expect("log written");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "setup-7", "prepare", "run-7", "conclude", "prepare", "run-7", "conclude",
                "prepare", "run-7", "conclude", "cleanup"
            ]
        );
        assert_eq!(
            ticks.last().map(|t| (t.phase, t.done, t.total)),
            Some((Phase::Timed, 2, 2))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn failures_stop_unless_ignored() {
        let spec = CommandSpec::plain("exit 4");
        let mut o = options(RunCount::Exact(2));
        let error = run_command(&spec, 0, &o, &Overhead::default(), &mut |_| {});
        assert!(
            matches!(error, Err(BenchError::CommandFailed { .. })),
            "{error:?}"
        );
        o.ignore_failure = true;
        let runs = run_command(&spec, 0, &o, &Overhead::default(), &mut |_| {}).expect("ignored");
        assert_eq!(runs[0].exit_code, Some(4));
    }

    #[test]
    fn shell_overhead_is_small_and_positive() {
        let overhead = measure_overhead(&Shell::default()).expect("sh runs");
        assert!(
            overhead.wall_s > 0.0 && overhead.wall_s < 0.1,
            "{overhead:?}"
        );
        assert_eq!(
            measure_overhead(&Shell::None).expect("none"),
            Overhead::default()
        );
    }
}
