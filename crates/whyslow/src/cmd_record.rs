//! `whyslow record`: sample, then write the requested outputs and a top table.

use crate::cli::RecordArgs;
use crate::output;
use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use profiler::{Progress, RecordOptions, SamplingEvent, Target};
use std::path::PathBuf;
use std::time::Duration;

/// Default output when no `-o` is given.
const DEFAULT_OUTPUT: &str = "whyslow-profile.html";

/// Runs `whyslow record`.
pub fn run(args: RecordArgs) -> Result<()> {
    let target = target_of(&args)?;
    let outputs: Vec<PathBuf> = if args.output.outputs.is_empty() {
        vec![PathBuf::from(DEFAULT_OUTPUT)]
    } else {
        args.output.outputs.clone()
    };
    // Validate output formats before recording, so a typo does not waste a run.
    let formats = outputs
        .iter()
        .map(|p| output::format_for(p, args.output.format.as_deref()))
        .collect::<Result<Vec<_>>>()?;
    if args.frequency_hz == 0 || args.frequency_hz > 100_000 {
        bail!(
            "-F {} is out of range: use 1..=100000 Hz",
            args.frequency_hz
        );
    }
    if args.stack_size == 0 || args.stack_size > 65528 {
        bail!(
            "--stack-size {} is out of range: use 8..=65528 bytes",
            args.stack_size
        );
    }

    let stop = crate::interrupt::stop_flag()?;

    let options = RecordOptions {
        target: target.clone(),
        frequency_hz: args.frequency_hz,
        duration: args.duration,
        off_cpu: args.off_cpu,
        user_stack_bytes: args.stack_size & !7,
        force_cpu_clock: args.cpu_clock,
        ..RecordOptions::default()
    };

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} recording {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut on_progress = |p: Progress| {
        bar.set_message(format!(
            "{:.1}s · {} samples · {} lost",
            p.elapsed.as_secs_f64(),
            p.samples,
            p.lost
        ));
    };
    let recording = profiler::record(&options, &stop, &mut on_progress);
    bar.finish_and_clear();
    let recording = recording.map_err(|e| anyhow::anyhow!(e))?;

    if !args.quiet {
        match recording.event {
            Some(SamplingEvent::CpuClock) if !args.cpu_clock => eprintln!(
                "whyslow: sampled software cpu-clock at {} Hz (no hardware PMU on this machine)",
                args.frequency_hz
            ),
            Some(SamplingEvent::CpuClock) => eprintln!(
                "whyslow: sampled software cpu-clock at {} Hz",
                args.frequency_hz
            ),
            Some(SamplingEvent::Cycles) => {
                eprintln!("whyslow: sampled cycles at {} Hz", args.frequency_hz)
            }
            None => {}
        }
        for note in recording
            .profile
            .comments
            .iter()
            .filter(|c| c.starts_with("note:"))
        {
            eprintln!("whyslow: {note}");
        }
    }
    let stats = &recording.stats;
    let profile = &recording.profile;
    let view = output::choose_view(profile, args.output.view.as_deref())?;
    let title = args
        .output
        .title
        .clone()
        .unwrap_or_else(|| title_of(&target));
    for (path, format) in outputs.iter().zip(&formats) {
        output::write_file(profile, path, *format, view, &title)?;
        if !args.quiet {
            eprintln!(
                "whyslow: wrote {} ({})",
                path.display(),
                output::describe(*format)
            );
        }
    }
    if !args.quiet {
        eprintln!(
            "whyslow: {} samples{}, {} lost, {:.2}s{}",
            stats.samples,
            if args.off_cpu {
                format!(" + {} switch-outs", stats.switch_samples)
            } else {
                String::new()
            },
            stats.lost,
            stats.duration.as_secs_f64(),
            match stats.exit_code {
                Some(0) | None => String::new(),
                Some(code) => format!(", command exited with status {code}"),
            }
        );
        if stats.samples == 0 && stats.switch_samples == 0 {
            eprintln!("whyslow: no samples: the target ran for less than one sampling period ({} Hz); raise -F or profile longer", args.frequency_hz);
        }
        if args.output.top > 0 && !profile.samples.is_empty() {
            println!("{}", render::top_table(profile, view, args.output.top));
        }
    }
    Ok(())
}

fn target_of(args: &RecordArgs) -> Result<Target> {
    let chosen = [
        !args.command.is_empty(),
        !args.pids.is_empty(),
        args.all_cpus,
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if chosen > 1 {
        bail!("choose one target: a command after `--`, -p PID, or -a");
    }
    if !args.command.is_empty() {
        Ok(Target::Command(args.command.clone()))
    } else if !args.pids.is_empty() {
        Ok(Target::Pids(args.pids.clone()))
    } else if args.all_cpus {
        Ok(Target::AllCpus)
    } else {
        bail!("nothing to record: give a command (`whyslow record -- CMD ARGS`), -p PID, or -a for the whole system")
    }
}

fn title_of(target: &Target) -> String {
    match target {
        Target::Command(argv) => argv.join(" "),
        Target::Pids(pids) => {
            let list: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
            format!("pid {}", list.join(","))
        }
        Target::AllCpus => "all CPUs".to_string(),
    }
}
