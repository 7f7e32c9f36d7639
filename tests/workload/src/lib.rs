//! A test program with a known profile shape, for whyslow's end-to-end tests.
//!
//! CPU phase: ~70 % of on-CPU time in `hot_a` (under `caller_a`) and ~30 % in
//! `hot_b` (under `caller_b` → `middle_b`); both loops do identical work per
//! iteration, so the split holds whatever the CPU speed. Blocked phase: the main
//! thread sleeps in `blocked_sleep` and then waits in `blocked_read` on a pipe
//! another thread writes to later. Built with and without frame pointers by the
//! tests. Usage: `workload [CPU_SECONDS] [BLOCKED_SECONDS] [PERCENT_A]` (defaults 2, 1, 70),
//! or `workload rounds=N` for a fixed amount of work (benchmarks).
//!
//! A library so `whyslow demo` can run the same program inside the whyslow
//! binary; `src/main.rs` is the standalone test program.

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Iterations per round; one round is roughly 0.1-0.2 ms of CPU.
const ROUND_ITERATIONS: u64 = 100_000;
/// Rounds per `caller_a` / `caller_b` pair in the CPU phase: 150 to 350,
/// varied pair by pair, so a pair is tens of milliseconds (about 50 ms on a
/// 2 GHz core) and its length never stays a multiple of a sampling period.
/// Pairs of one fixed length near a sampling period (2 ms at 499 Hz) lock
/// onto the sampler's phase and bias every profile's split.
const PHASE_ROUNDS: std::ops::RangeInclusive<u64> = 150..=350;

#[inline(never)]
fn hot_a(iterations: u64) -> u64 {
    let mut x = black_box(0x9e37_79b9_7f4a_7c15_u64);
    for i in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_add(black_box(i));
    }
    x
}

#[inline(never)]
fn hot_b(iterations: u64) -> u64 {
    let mut x = black_box(0x2545_f491_4f6c_dd1d_u64);
    for i in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_add(black_box(i));
    }
    x
}

#[inline(never)]
fn caller_a(rounds: u64, percent_a: u64) -> u64 {
    black_box(hot_a(percent_a * rounds * ROUND_ITERATIONS / 100))
}

#[inline(never)]
fn middle_b(rounds: u64, percent_a: u64) -> u64 {
    black_box(hot_b((100 - percent_a) * rounds * ROUND_ITERATIONS / 100))
}

#[inline(never)]
fn caller_b(rounds: u64, percent_a: u64) -> u64 {
    black_box(middle_b(rounds, percent_a))
}

#[inline(never)]
fn cpu_phase(seconds: f64, percent_a: u64) -> u64 {
    let start = Instant::now();
    let mut acc = 0u64;
    // A fixed-seed LCG (Knuth's MMIX constants): the same lengths every run.
    let mut state = 0x853c_49e6_748f_ea9b_u64;
    let span = PHASE_ROUNDS.end() - PHASE_ROUNDS.start() + 1;
    while start.elapsed().as_secs_f64() < seconds {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let rounds = PHASE_ROUNDS.start() + (state >> 33) % span;
        acc = acc.wrapping_add(caller_a(rounds, percent_a));
        acc = acc.wrapping_add(caller_b(rounds, percent_a));
    }
    acc
}

#[inline(never)]
fn blocked_sleep(seconds: f64) {
    std::thread::sleep(Duration::from_secs_f64(seconds));
}

#[inline(never)]
fn blocked_read(seconds: f64) -> std::io::Result<usize> {
    let (mut reader, mut writer) = std::io::pipe()?;
    let delay = Duration::from_secs_f64(seconds);
    let writer_thread = std::thread::spawn(move || {
        std::thread::sleep(delay);
        writer.write_all(b"x")
    });
    let mut buf = [0u8; 1];
    let n = reader.read(&mut buf)?;
    writer_thread
        .join()
        .map_err(|_| std::io::Error::other("writer thread panicked"))??;
    Ok(n)
}

#[inline(never)]
fn blocked_phase(seconds: f64) -> std::io::Result<usize> {
    blocked_sleep(seconds / 2.0);
    blocked_read(seconds / 2.0)
}

/// Fixed-work mode for overhead benchmarks: `workload rounds=N` runs N rounds of
/// the CPU phase and prints how long they took, in nanoseconds, on stdout.
#[inline(never)]
fn fixed_rounds(rounds: u64) -> u64 {
    let start = Instant::now();
    let mut acc = 0u64;
    for _ in 0..rounds {
        acc = acc.wrapping_add(caller_a(10, 70));
        acc = acc.wrapping_add(caller_b(10, 70));
    }
    println!("elapsed_ns={} acc={acc:x}", start.elapsed().as_nanos());
    acc
}

/// Runs the workload with its command-line arguments (without the program name).
#[inline(never)]
pub fn main(args: &[String]) -> std::io::Result<()> {
    if let Some(rounds) = args
        .first()
        .and_then(|a| a.strip_prefix("rounds=").and_then(|n| n.parse().ok()))
    {
        fixed_rounds(rounds);
        return Ok(());
    }
    let mut args = args.iter();
    let cpu_seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let blocked_seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let percent_a: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(70)
        .min(100);
    let acc = cpu_phase(cpu_seconds, percent_a);
    if blocked_seconds > 0.0 {
        blocked_phase(blocked_seconds)?;
    }
    println!("{acc:x}");
    Ok(())
}
