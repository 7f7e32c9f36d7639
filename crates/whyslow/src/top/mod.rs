//! `whyslow top`: a live view of the host, htop-like, built on ratatui with
//! the crossterm backend. Steps: refuse without a terminal (exit 2, pointing
//! at `whyslow use`), take a baseline sample, enter the alternate screen in
//! raw mode, then loop: sample every `--interval` into the [`model::Model`],
//! apply keys, redraw. The terminal is restored on `q`/Ctrl-C, on SIGTERM/SIGHUP,
//! on errors and on panic (ratatui's `try_init` panic hook plus a drop guard).
//!
//! Files: `sample` reads /proc (via the `host` crate; `counters` picks the
//! families, `rates` divides by time), `summary` judges each
//! resource, `model` holds what is shown, `input` maps keys, `render` draws
//! (`table` the process table, `format` the numbers).

mod counters;
mod format;
mod input;
mod model;
mod rates;
mod render;
#[cfg(test)]
mod render_tests;
mod sample;
mod summary;
mod table;

use crate::cli::TopArgs;
use anyhow::{Context, Result};
use model::Model;
use ratatui::crossterm::event::{self, Event};
use ratatui::DefaultTerminal;
use sample::Sampler;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const AFTER_HELP: &str = "Keys:\n  c m i p   sort by CPU %, memory (RSS), I/O bytes/s, PID (F6: next)\n  /         filter by name or command line (Enter keeps, Esc clears)\n  q Ctrl-C  quit\n\nExamples:\n  whyslow top\n  whyslow top --interval 2s\n\nNeeds a terminal; for a one-shot report (scripts, CI) use `whyslow use`.";

/// How often the loop wakes without input, to notice SIGTERM.
const POLL: Duration = Duration::from_millis(200);

/// Runs the live view until the user quits.
pub fn run(args: TopArgs) -> Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "whyslow top: needs a terminal (stdin and stdout must be a tty); \
             for a one-shot report use `whyslow use`"
        );
        return Ok(ExitCode::from(2));
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the SIGTERM/SIGHUP handler")?;
    }
    watchdog(Arc::clone(&stop));
    let mut sampler = Sampler::new(host::Paths::default());
    sampler
        .sample()
        .context("reading /proc for the first sample (is /proc mounted?)")?;
    let mut model = Model::new(host::hostname(), args.interval);

    let mut terminal =
        ratatui::try_init().context("cannot set up the terminal (raw mode, alternate screen)")?;
    let _restore = Restore;
    event_loop(&mut terminal, &mut sampler, &mut model, &stop)?;
    Ok(ExitCode::SUCCESS)
}

/// Exits the process when a stop signal or a hung-up terminal is not acted
/// on within a second: crossterm's input reader can spin without returning
/// once its terminal is gone (window closed, tmux session killed), and the
/// loop would never see the flag.
fn watchdog(stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut since: Option<Instant> = None;
        loop {
            std::thread::sleep(POLL);
            if stop.load(Ordering::Relaxed) || terminal_hung_up() {
                let first = *since.get_or_insert_with(Instant::now);
                if first.elapsed() >= Duration::from_secs(1) {
                    ratatui::restore();
                    std::process::exit(0);
                }
            }
        }
    });
}

/// Whether the terminal on stdin has hung up (its other end closed).
fn terminal_hung_up() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, a zero timeout.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    ready > 0 && fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

/// Leaves raw mode and the alternate screen and shows the cursor, however `run` ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
        let _ = ratatui::crossterm::execute!(std::io::stdout(), ratatui::crossterm::cursor::Show);
    }
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    sampler: &mut Sampler,
    model: &mut Model,
    stop: &AtomicBool,
) -> Result<()> {
    let interval = model.interval;
    // The first frame with rates comes sooner than a whole interval.
    let mut next = Instant::now() + interval.min(Duration::from_millis(500));
    let mut dirty = true;
    loop {
        if dirty {
            terminal
                .draw(|frame| render::draw(frame, model))
                .context("drawing to the terminal")?;
            dirty = false;
        }
        if model.quit || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let now = Instant::now();
        if now >= next {
            match sampler.sample() {
                Ok(Some(tick)) => model.update(&tick),
                Ok(None) => {}
                Err(error) => model.error = Some(format!("reading /proc: {error}")),
            }
            next += interval;
            if next <= now {
                next = now + interval;
            }
            dirty = true;
            continue;
        }
        let wait = next.saturating_duration_since(now).min(POLL);
        if event::poll(wait).context("reading terminal input")? {
            // A closed terminal (window closed, tmux session killed) reads
            // as always ready; crossterm's read would then spin at full CPU
            // without returning, so look before reading.
            if stop.load(Ordering::Relaxed) || terminal_hung_up() {
                return Ok(());
            }
            match event::read().context("reading terminal input")? {
                Event::Key(key) => input::apply(model, key),
                Event::Resize(..) => {}
                _ => continue,
            }
            dirty = true;
        }
    }
}
