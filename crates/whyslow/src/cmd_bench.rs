//! `whyslow bench CMD…`: statistical benchmarking of commands (hyperfine's
//! job) with the `bench` crate — progress bars, the terminal summary, exports,
//! the HTML report, the `--baseline` gate (exit code 3 on a regression) and,
//! with `--profile`, one profiled run per command after its timed runs.

use anyhow::{bail, Context, Result};
use bench::export::{AsciiDoc, Csv, Exporter, Json, Markdown, OrgMode};
use bench::params::ParameterScan;
use bench::run::{Phase, RunCount, RunOptions, Tick};
use bench::{BenchmarkResult, CommandSpec, Report, Shell};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Exit code when `--baseline` finds a significant regression beyond `--threshold`.
pub const EXIT_REGRESSION: u8 = 3;

/// Help text after the options.
pub const AFTER_HELP: &str = "Examples:\n  whyslow bench 'sleep 0.05' 'sleep 0.1'\n  whyslow bench -N --runs 20 --warmup 3 './app --fast' './app'\n  whyslow bench -P threads 1 8 'make -j{threads}' --prepare 'make clean'\n  whyslow bench -L alg gzip,xz '{alg} -k -f data' --export-json base.json\n  whyslow bench './app' --baseline base.json --threshold 5%   # exit 3 on a regression\n  whyslow bench './a' './b' --report bench.html --profile\n  whyslow bench --reference './old' -n new './new' -u millisecond --export-markdown cmp.md\n\nTimes are wall-clock from spawn to exit with the shell's own spawn time (measured\nwith an empty command) subtracted; -N runs commands without a shell and subtracts\nnothing. Exit codes: 0 ok, 1 error (e.g. a command failed without -i), 3 regression.";

/// `whyslow bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Commands to benchmark (each one shell command line; quote it).
    #[arg(required = true, value_name = "CMD")]
    pub commands: Vec<String>,
    /// Untimed runs before the timed ones (fill caches).
    #[arg(short = 'w', long, default_value_t = 0, value_name = "N")]
    pub warmup: u64,
    /// Exactly this many timed runs (overrides --min-runs/--max-runs/--min-time).
    #[arg(short = 'r', long, value_name = "N")]
    pub runs: Option<u64>,
    /// At least this many timed runs.
    #[arg(short = 'm', long, default_value_t = 10, value_name = "N")]
    pub min_runs: u64,
    /// At most this many timed runs.
    #[arg(short = 'M', long, value_name = "N")]
    pub max_runs: Option<u64>,
    /// Without --runs: run until this much time is spent (at least --min-runs).
    #[arg(long, default_value = "3s", value_parser = crate::cli::parse_duration, value_name = "DURATION")]
    pub min_time: Duration,
    /// Run before every run (also warmups); give once for all commands or once per command.
    #[arg(short = 'p', long, value_name = "CMD")]
    pub prepare: Vec<String>,
    /// Run once before each command's runs.
    #[arg(short = 's', long, value_name = "CMD")]
    pub setup: Option<String>,
    /// Run after every run (also warmups), e.g. to stop a server --prepare started; once for all
    /// commands or once per command.
    #[arg(short = 'C', long, value_name = "CMD")]
    pub conclude: Vec<String>,
    /// Run once after each command's runs.
    #[arg(short = 'c', long, value_name = "CMD")]
    pub cleanup: Option<String>,
    /// Name of a command in the output and exports, in order (placeholders are replaced).
    #[arg(short = 'n', long = "command-name", value_name = "NAME")]
    pub command_names: Vec<String>,
    /// Benchmark this command first and compare every other against it (not the fastest).
    #[arg(long, value_name = "CMD")]
    pub reference: Option<String>,
    /// Name of the --reference command in the output.
    #[arg(long, value_name = "NAME", requires = "reference")]
    pub reference_name: Option<String>,
    /// Scan a numeric parameter: `{NAME}` in the commands takes MIN, MIN+STEP, … MAX.
    #[arg(short = 'P', long = "parameter-scan", num_args = 3, value_names = ["NAME", "MIN", "MAX"])]
    pub parameter_scan: Vec<String>,
    /// Step of -P scans (default 1; decimals allowed, e.g. 0.1).
    #[arg(short = 'D', long = "parameter-step-size", value_name = "STEP")]
    pub parameter_step: Option<String>,
    /// Scan a list parameter: `{NAME}` takes each comma-separated value.
    #[arg(short = 'L', long = "parameter-list", num_args = 2, value_names = ["NAME", "VALUES"])]
    pub parameter_list: Vec<String>,
    /// Shell that runs the commands (`PROGRAM -c CMD`), or `none` to split them into arguments.
    #[arg(short = 'S', long, default_value = "sh", value_name = "SHELL")]
    pub shell: String,
    /// No shell: same as --shell=none (nothing is subtracted).
    #[arg(short = 'N')]
    pub no_shell: bool,
    /// Keep benchmarking commands that exit non-zero.
    #[arg(short = 'i', long)]
    pub ignore_failure: bool,
    /// Show the commands' output (discarded by default); same as --output=inherit.
    #[arg(long, conflicts_with = "output")]
    pub show_output: bool,
    /// Where the commands' output goes: null (default), pipe (stdout read and discarded), inherit,
    /// or a FILE for stdout; once for all commands or once per command.
    #[arg(long, value_name = "WHERE")]
    pub output: Vec<String>,
    /// Standard input of the commands: null (default) or a FILE.
    #[arg(long, default_value = "null", value_name = "WHERE")]
    pub input: String,
    /// Unit of the times in the terminal and the Markdown, AsciiDoc and Org tables (default: chosen
    /// per command / table).
    #[arg(short = 'u', long, value_parser = bench::units::TimeUnit::parse, value_name = "UNIT")]
    pub time_unit: Option<bench::units::TimeUnit>,
    /// Order of the comparisons and table rows: auto (comparisons by time, tables as run),
    /// command, or mean-time.
    #[arg(long, default_value = "auto", value_parser = bench::result::SortOrder::parse, value_name = "METHOD")]
    pub sort: bench::result::SortOrder,
    /// Output style: auto (progress bars on a terminal), basic (no bars), full (bars even when not
    /// a terminal), nocolor, color, or none (no output but errors). whyslow prints no colors.
    #[arg(long, default_value = "auto", value_parser = Style::parse, value_name = "TYPE")]
    pub style: Style,
    /// Write every result and run time as JSON (usable as a --baseline later).
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// Write one CSV row per command.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,
    /// Write a Markdown table.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// Write an AsciiDoc table.
    #[arg(long, value_name = "FILE")]
    pub export_asciidoc: Option<PathBuf>,
    /// Write an Emacs Org mode table.
    #[arg(long, value_name = "FILE")]
    pub export_orgmode: Option<PathBuf>,
    /// Write a self-contained HTML report with distribution plots.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Compare with a saved --export-json (or hyperfine JSON); exit 3 on a regression.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Smallest slowdown vs --baseline that counts as a regression, in percent.
    #[arg(long, default_value = "5%", value_parser = parse_percent, value_name = "PERCENT")]
    pub threshold: f64,
    /// Seed of the bootstrap's random numbers (default: from the clock; the JSON records it).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Bootstrap resamples per confidence interval.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub bootstrap_resamples: usize,
    /// Also record a CPU profile of one extra run per command: flamegraphs and a diff of the first two.
    #[arg(long)]
    pub profile: bool,
    /// Where --profile writes its flamegraphs.
    #[arg(long, default_value = "whyslow-bench-profiles", value_name = "DIR")]
    pub profile_dir: PathBuf,
    /// Sampling frequency of --profile in Hz.
    #[arg(long, default_value_t = 999, value_name = "HZ")]
    pub profile_freq: u32,
}

/// hyperfine's `--style`; whyslow prints no colors, so `color` and `nocolor`
/// only choose whether progress bars are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Progress bars when standard error is a terminal.
    Auto,
    /// No progress bars.
    Basic,
    /// Progress bars even when standard error is not a terminal.
    Full,
    /// Nothing on standard output, no progress bars; errors still reach standard error.
    None,
}

impl Style {
    fn parse(text: &str) -> Result<Style, String> {
        match text {
            "auto" | "nocolor" => Ok(Style::Auto),
            "basic" | "color" => Ok(Style::Basic),
            "full" => Ok(Style::Full),
            "none" => Ok(Style::None),
            _ => Err(format!(
                "invalid style '{text}' (one of: auto, basic, full, nocolor, color, none)"
            )),
        }
    }

    fn progress_bars(self) -> bool {
        match self {
            Style::Auto => std::io::stderr().is_terminal(),
            Style::Full => true,
            Style::Basic | Style::None => false,
        }
    }
}

/// Parses `5%`, `5` (percent) or `0.5%` into a fraction.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value / 100.0),
        _ => Err(format!("invalid percentage '{text}' (example: 5%)")),
    }
}

/// Confidence level of every interval.
const CONFIDENCE: f64 = 0.95;

/// Runs `whyslow bench`: success, or [`EXIT_REGRESSION`] when `--baseline`
/// found a regression.
pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let specs = expand_commands(&args)?;
    let shell = if args.no_shell {
        Shell::None
    } else {
        Shell::parse(&args.shell)
    };
    let runs = match args.runs {
        Some(n) => RunCount::Exact(n),
        None => RunCount::Adaptive {
            min_runs: args.min_runs,
            max_runs: args.max_runs,
            min_time_s: args.min_time.as_secs_f64(),
        },
    };
    runs.validate()?;
    for (flag, count) in [
        ("--prepare", args.prepare.len()),
        ("--conclude", args.conclude.len()),
        ("--output", args.output.len()),
    ] {
        if count > 1 && count != specs.len() {
            bail!(
                "{count} {flag} values for {} benchmarked commands{}: give one for all, or one per command",
                specs.len(),
                if args.reference.is_some() { " (the --reference first)" } else { "" }
            );
        }
    }
    if args.bootstrap_resamples == 0 {
        bail!("--bootstrap-resamples must be at least 1");
    }
    // Read the baseline first, so a wrong path does not waste the runs.
    let baseline = match &args.baseline {
        Some(path) => Some(bench::baseline::load(path)?),
        None => None,
    };
    let options = RunOptions {
        warmup: args.warmup,
        runs,
        setup: args.setup.clone(),
        prepare: args.prepare.clone(),
        conclude: args.conclude.clone(),
        cleanup: args.cleanup.clone(),
        shell: shell.clone(),
        ignore_failure: args.ignore_failure,
        input: bench::exec::Input::parse(&args.input),
        output: if args.show_output {
            vec![bench::exec::Output::Show]
        } else {
            args.output
                .iter()
                .map(|o| bench::exec::Output::parse(o))
                .collect()
        },
    };
    let quiet = args.style == Style::None;
    let seed = args.seed.unwrap_or_else(clock_seed);
    let mut bootstrap =
        bench::bootstrap::Bootstrap::new(seed, args.bootstrap_resamples, CONFIDENCE);

    let overhead = bench::run::measure_overhead(&shell).with_context(|| {
        format!(
            "cannot measure the spawn time of the shell `{}` (use -N to run without one)",
            args.shell
        )
    })?;
    let mut results: Vec<BenchmarkResult> = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let bar = progress_bar(index, specs.len(), args.style);
        let measured = bench::run::run_command(spec, index, &options, &overhead, &mut |tick| {
            show_tick(&bar, tick)
        });
        bar.finish_and_clear();
        let measured = measured.with_context(|| format!("benchmark {} failed", index + 1))?;
        let mut result = BenchmarkResult::from_runs(spec, &measured, &mut bootstrap);
        result.peak_rss_is_upper_bound =
            bench::exec::own_peak_rss_bytes().is_some_and(|own| result.peak_rss_bytes <= own);
        if !quiet {
            println!(
                "{}",
                bench::summary::command_block(index + 1, &result, CONFIDENCE, args.time_unit)
            );
        }
        if !quiet && shell != Shell::None && result.mean < 0.005 {
            println!("  Note: under 5 ms per run, the subtracted shell overhead ({}) dominates; -N measures without a shell.\n", bench::units::format_seconds(overhead.wall_s));
        }
        results.push(result);
    }
    let reference = args.reference.is_some().then_some(0);
    let comparisons = Report::compare_all(&results, reference, args.sort, &mut bootstrap);
    if !quiet {
        print!(
            "{}",
            bench::summary::comparisons_block(&comparisons, CONFIDENCE)
        );
    }

    let mut regressed = false;
    let mut baseline_comparisons = Vec::new();
    if let Some(saved) = &baseline {
        let (found, unmatched) =
            bench::baseline::compare(&results, saved, args.threshold, &mut bootstrap);
        if !quiet {
            println!(
                "\nAgainst the baseline (regression = significant and > {:.1} % slower)",
                args.threshold * 100.0
            );
            for comparison in &found {
                println!("  {}", comparison.sentence());
            }
            for command in unmatched {
                println!("  `{command}` has no baseline (no result with this command line)");
            }
        }
        regressed = found
            .iter()
            .any(|c| c.verdict == bench::baseline::Verdict::Regressed);
        baseline_comparisons = found;
    }
    let report = Report {
        results,
        comparisons,
        baseline: baseline_comparisons,
        shell: match &shell {
            Shell::Program(program) => program.clone(),
            Shell::None => "none".to_string(),
        },
        shell_overhead_s: (shell != Shell::None).then_some(overhead.wall_s),
        confidence: CONFIDENCE,
        bootstrap_resamples: args.bootstrap_resamples,
        seed,
    };
    write_outputs(&args, &report)?;
    if args.profile {
        profile_commands(&args, &specs, &options)?;
    }
    if regressed {
        let baseline = args
            .baseline
            .as_deref()
            .unwrap_or(Path::new("the baseline"));
        eprintln!(
            "whyslow: regression against {}: exiting with status {EXIT_REGRESSION}",
            baseline.display()
        );
        return Ok(ExitCode::from(EXIT_REGRESSION));
    }
    Ok(ExitCode::SUCCESS)
}

/// The commands after parameter scans, the `--reference` first.
fn expand_commands(args: &BenchArgs) -> Result<Vec<CommandSpec>> {
    let mut scans = Vec::new();
    for scan in args.parameter_scan.chunks(3) {
        let [name, low, high] = scan else {
            bail!("-P takes three values: NAME MIN MAX");
        };
        scans.push(ParameterScan::range(
            name,
            low,
            high,
            args.parameter_step.as_deref(),
        )?);
    }
    if args.parameter_step.is_some() && args.parameter_scan.is_empty() {
        bail!("-D/--parameter-step-size needs a -P scan");
    }
    for scan in args.parameter_list.chunks(2) {
        let [name, values] = scan else {
            bail!("-L takes two values: NAME VALUES");
        };
        scans.push(ParameterScan::list(name, values)?);
    }
    let mut specs = Vec::new();
    if let Some(reference) = &args.reference {
        let mut spec = CommandSpec::plain(reference);
        spec.name = args.reference_name.clone();
        specs.push(spec);
    }
    specs.extend(bench::params::expand(
        &args.commands,
        &args.command_names,
        &scans,
    )?);
    Ok(specs)
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn progress_bar(index: usize, count: usize, style: Style) -> ProgressBar {
    if !style.progress_bars() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(1);
    if style == Style::Full && !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::term_like(Box::new(
            crate::ansi_stderr::AnsiStderr,
        )));
    }
    bar.set_style(
        ProgressStyle::with_template("{prefix} {bar:30.cyan/blue} {pos}/{len} {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(format!("Benchmark {}/{count}", index + 1));
    bar.set_message("starting");
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn show_tick(bar: &ProgressBar, tick: Tick) {
    bar.set_length(tick.total);
    bar.set_position(tick.done);
    match tick.phase {
        Phase::Warmup => bar.set_message("warmup"),
        Phase::Timed => bar.set_message(format!(
            "runs · current estimate {}",
            bench::units::format_seconds(tick.mean_so_far_s)
        )),
    }
}

/// Writes a file with `write`, naming it in errors and in the "wrote" line
/// (not printed with `--style none`).
fn write_file(
    path: &Path,
    what: &str,
    args: &BenchArgs,
    write: impl FnOnce(&mut dyn Write) -> Result<(), bench::BenchError>,
) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    write(&mut out).with_context(|| format!("cannot write {}", path.display()))?;
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    if args.style != Style::None {
        eprintln!("whyslow: wrote {} ({what})", path.display());
    }
    Ok(())
}

fn write_outputs(args: &BenchArgs, report: &Report) -> Result<()> {
    if let Some(path) = &args.export_json {
        write_file(
            path,
            "JSON with every run; usable as --baseline",
            args,
            |out| Json.write(report, out),
        )?;
    }
    // Tables list their rows in the --sort order; the JSON keeps the run order.
    let mut sorted = report.clone();
    sorted.results = report.results_in(args.sort).into_iter().cloned().collect();
    let unit = args.time_unit;
    let tables: [(&Option<PathBuf>, &dyn Exporter, &str); 4] = [
        (&args.export_csv, &Csv, "CSV"),
        (&args.export_markdown, &Markdown { unit }, "Markdown table"),
        (&args.export_asciidoc, &AsciiDoc { unit }, "AsciiDoc table"),
        (&args.export_orgmode, &OrgMode { unit }, "Org mode table"),
    ];
    for (path, exporter, what) in tables {
        if let Some(path) = path {
            write_file(path, what, args, |out| exporter.write(&sorted, out))?;
        }
    }
    if let Some(path) = &args.report {
        let title = format!(
            "whyslow bench: {}",
            report
                .results
                .iter()
                .map(|r| r.command.as_str())
                .collect::<Vec<_>>()
                .join(" vs ")
        );
        write_file(path, "HTML report", args, |out| {
            bench::report_html::write(report, &title, out)
        })?;
    }
    Ok(())
}

/// One profiled run per command (setup, prepare and cleanup around it, as
/// for timed runs), a flamegraph each and a differential flamegraph of the
/// first two.
fn profile_commands(args: &BenchArgs, specs: &[CommandSpec], options: &RunOptions) -> Result<()> {
    use std::sync::atomic::AtomicBool;
    std::fs::create_dir_all(&args.profile_dir)
        .with_context(|| format!("cannot create {}", args.profile_dir.display()))?;
    let stop = AtomicBool::new(false);
    let mut profiles = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let argv = options.shell.argv(&spec.command_line)?;
        if let Some(setup) = &options.setup {
            bench::run::helper("setup", &spec.substitute(setup), index, options)?;
        }
        if let Some(prepare) = options.prepare_for(spec, index) {
            bench::run::helper("prepare", &prepare, index, options)?;
        }
        let record_options = profiler::RecordOptions {
            target: profiler::Target::Command(argv),
            frequency_hz: args.profile_freq,
            ..profiler::RecordOptions::default()
        };
        let recording = profiler::record(&record_options, &stop, &mut |_| {})
            .map_err(|e| anyhow::anyhow!(e))
            .with_context(|| format!("cannot profile `{}` (--profile)", spec.command_line))?;
        if let Some(conclude) = options.conclude_for(spec, index) {
            bench::run::helper("conclude", &conclude, index, options)?;
        }
        if let Some(cleanup) = &options.cleanup {
            bench::run::helper("cleanup", &spec.substitute(cleanup), index, options)?;
        }
        let name = spec.display_name();
        let path = args
            .profile_dir
            .join(format!("{}-{}.html", index + 1, slug(name)));
        let view = query::ValueView::default_for(&recording.profile);
        crate::output::write_file(
            &recording.profile,
            &path,
            render::Format::FlamegraphHtml,
            view,
            name,
        )?;
        if args.style != Style::None {
            eprintln!(
                "whyslow: wrote {} (flamegraph of `{name}`, {} samples at {} Hz)",
                path.display(),
                recording.stats.samples,
                args.profile_freq
            );
        }
        profiles.push((name.to_string(), recording.profile, view));
    }
    if let [(name_a, a, view), (name_b, b, _), ..] = profiles.as_slice() {
        let path = args.profile_dir.join("diff-1-2.html");
        let title = format!("{name_a} → {name_b}");
        write_file(
            &path,
            "differential flamegraph: red = grew, blue = shrank",
            args,
            |out| {
                render::diff_html::write(a, b, *view, &title, out)
                    .map_err(|e| bench::BenchError::Io(std::io::Error::other(e)))
            },
        )?;
    }
    Ok(())
}

/// A file-name-safe short form of a command line: letters, digits, `.` and
/// `-`, with every other run of characters turned into one `_`.
fn slug(command_line: &str) -> String {
    let mut slug = String::new();
    for c in command_line.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('_');
    if slug.is_empty() {
        "command".to_string()
    } else {
        slug.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_slugs() {
        assert_eq!(parse_percent("5%"), Ok(0.05));
        assert_eq!(parse_percent("2.5"), Ok(0.025));
        assert!(parse_percent("-1%").is_err());
        assert_eq!(slug("sleep 0.1"), "sleep_0.1");
        assert_eq!(slug("/"), "command");
        assert_eq!(slug("i=0; while [ $i -lt 9 ]"), "i_0_while_i_-lt_9");
    }
}
