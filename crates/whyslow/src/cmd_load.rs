//! `whyslow load`: turns the command line into a [`load::LoadConfig`], shows live
//! progress on a terminal, prints the summary, writes `--json` and `--report`,
//! and maps `--slo` verdicts to the exit code (0 pass, 3 a threshold failed,
//! 1 any other error; 2 stays clap's usage error). The load generator itself is the `load` crate.

use crate::cli::LoadArgs;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use load::{ArrivalSchedule, LoadConfig, Model, RequestTemplate, Target};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Exit code when the run finished but an `--slo` threshold failed.
pub const SLO_FAILED_EXIT_CODE: u8 = 3;

/// Help text after the options.
pub const AFTER_HELP: &str = "Examples:
  whyslow load http://127.0.0.1:8080/ --rate 2000 --duration 30s -c 50
  whyslow load http://127.0.0.1:8080/ --stages 30s:100,1m:1000,30s:0 -c 200 --report load.html
  whyslow load http://127.0.0.1:8080/ -c 64 --duration 10s            # closed model, as fast as possible
  whyslow load http://127.0.0.1:8080/api -m POST -H 'Content-Type: application/json' -d '{\"a\":1}' -n 1000
  whyslow load http://127.0.0.1:8080/ --rate 500 --slo 'p99<200ms,errors<1%,rps>450' --json result.json
  whyslow load http://127.0.0.1:8080/ --rate 100 --traceparent --server http://127.0.0.1:16686
  whyslow load http://127.0.0.1:8080/ --rate 500 --scenario mix.yaml   # weighted requests (or mix.toml)
  whyslow load https://localhost:8443/ --rate 100 --cacert test-ca.pem --http2

Open model (--rate, --stages): requests are sent on schedule whether or not earlier ones
finished, and 'corrected' latency counts from the intended send time (coordinated omission
corrected, as wrk2); 'uncorrected' counts from the actual send. Closed model (no --rate):
each connection sends its next request when the previous one finished.

Exit codes: 0 done (all --slo thresholds passed), 3 an --slo threshold failed, 1 error,
2 bad command-line usage (clap).
SLO metrics: pNN / pNN.N (corrected latency), pNNu (uncorrected), mean, max, errors (N or N%), rps.";

/// The request body from `-d` or `--body-file`, empty when neither is given.
fn read_body(data: Option<&str>, file: Option<&std::path::Path>) -> Result<Vec<u8>> {
    match (data, file) {
        (Some(data), _) => Ok(data.as_bytes().to_vec()),
        (None, Some(file)) => std::fs::read(file)
            .with_context(|| format!("cannot read --body-file {}", file.display())),
        (None, None) => Ok(Vec::new()),
    }
}

fn config_from(args: &LoadArgs) -> Result<LoadConfig> {
    let target = Target::resolve(&args.url, args.allow_remote)?;
    let requests = match &args.scenario {
        Some(path) => load::load_scenario(path, &target)?,
        None => {
            let body = read_body(args.body.as_deref(), args.body_file.as_deref())?;
            vec![RequestTemplate::new(
                &args.method,
                &target.path_and_query,
                &args.headers,
                body.into(),
                1,
            )?]
        }
    };
    let default_duration = Duration::from_secs(10);
    let (model, duration) = match (&args.stages, args.rate) {
        (Some(stages), _) => {
            let stages = load::parse_stages(stages)?;
            (
                Model::Open(ArrivalSchedule::from_stages(0.0, &stages)?),
                None,
            )
        }
        (None, Some(rate)) => {
            let duration = match (args.duration, args.requests) {
                (Some(duration), _) => duration,
                // -n at a rate: the schedule lasts as long as n arrivals take.
                (None, Some(n)) => Duration::from_secs_f64(n as f64 / rate.max(f64::MIN_POSITIVE)),
                (None, None) => default_duration,
            };
            (
                Model::Open(ArrivalSchedule::constant(rate, duration)?),
                None,
            )
        }
        (None, None) => {
            let duration = match (args.duration, args.requests) {
                (None, None) => Some(default_duration),
                (duration, _) => duration,
            };
            (Model::Closed, duration)
        }
    };
    let traceparent_fraction = match (args.traceparent_sample, args.traceparent) {
        (Some(fraction), _) => Some(fraction),
        (None, true) => Some(1.0),
        (None, false) => None,
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    Ok(LoadConfig {
        target,
        model,
        duration,
        max_requests: args.requests,
        threads,
        connections: args.connections,
        http2: args.http2,
        streams: args.streams,
        timeout: args.timeout,
        requests,
        traceparent_fraction,
        slowest: args.slowest,
        tls: load::TlsOptions {
            ca_file: args.cacert.clone(),
            insecure: args.insecure,
        },
    })
}

fn progress_line(progress: &load::Progress, last: &mut (Duration, u64)) -> String {
    let window = progress.elapsed.saturating_sub(last.0).as_secs_f64();
    let rate = if window > 0.0 {
        progress.responses.saturating_sub(last.1) as f64 / window
    } else {
        0.0
    };
    *last = (progress.elapsed, progress.responses);
    let target = progress
        .target_rps
        .map_or(String::new(), |t| format!(" (target {t:.0})"));
    let planned = progress
        .planned
        .map_or(String::new(), |p| format!("/{:.0}s", p.as_secs_f64()));
    format!(
        "{:.1}s{planned} · {} responses · {rate:.0} rps{target} · {} errors · p50 {} · p99 {}",
        progress.elapsed.as_secs_f64(),
        progress.responses,
        progress.errors,
        load::format_latency_us(progress.p50_us as f64),
        load::format_latency_us(progress.p99_us as f64),
    )
}

fn write_output(path: &std::path::Path, content: &str, what: &str) -> Result<()> {
    if path.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(content.as_bytes())?;
        stdout.write_all(b"\n")?;
        return Ok(());
    }
    std::fs::write(path, content)
        .with_context(|| format!("cannot write the {what} to {}", path.display()))
}

/// Runs `whyslow load`; the exit code says whether the SLO held.
pub fn run(args: LoadArgs) -> Result<ExitCode> {
    let thresholds = args
        .slo
        .as_deref()
        .map(load::parse_slo)
        .transpose()?
        .unwrap_or_default();
    let config = config_from(&args)?;

    let stop = crate::interrupt::stop_flag()?;

    let running = load::start(config).context("cannot start the load test")?;
    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} load {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut last = (Duration::ZERO, 0);
    let mut ticks = 0u32;
    while !running.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        if stop.load(Ordering::Relaxed) {
            running.stop();
        }
        ticks += 1;
        if !bar.is_hidden() && ticks.is_multiple_of(5) {
            bar.set_message(progress_line(&running.progress(), &mut last));
            bar.tick();
        }
    }
    bar.finish_and_clear();
    let mut result = running.wait();
    let passed = result.check_slo(&thresholds);

    let summary = load::summary(&result, args.server.as_deref());
    let json_to_stdout = args.json.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if json_to_stdout {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&load::to_json(&result))
            .context("cannot encode the JSON result")?;
        write_output(path, &json, "JSON result")?;
    }
    if let Some(path) = &args.report {
        let html = load::report_html(&result, args.server.as_deref());
        write_output(path, &html, "HTML report")?;
        if !json_to_stdout {
            println!("report: {}", path.display());
        }
    }
    if passed {
        Ok(ExitCode::SUCCESS)
    } else {
        for verdict in result.verdicts.iter().filter(|v| !v.passed) {
            eprintln!("whyslow: SLO failed: {}", verdict.describe());
        }
        Ok(ExitCode::from(SLO_FAILED_EXIT_CODE))
    }
}
