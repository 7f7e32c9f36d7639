//! runqlat on the real kernel: four spinning threads on a 2-CPU box wait in
//! the run queue, and every involuntary switch they suffer shows up as a
//! latency in their per-thread histograms.

mod common;

use std::time::{Duration, Instant};
use tracetools::runqlat::{self, Options, Runqlat};

/// Spins for `d`, then reports (tid, involuntary switches so far).
fn spin(d: Duration) -> (u32, u64) {
    let end = Instant::now() + d;
    let mut x = 0u64;
    while Instant::now() < end {
        x = x.wrapping_mul(31).wrapping_add(7);
    }
    std::hint::black_box(x);
    (
        common::gettid(),
        common::thread_status("nonvoluntary_ctxt_switches"),
    )
}

#[test]
fn oversubscribed_threads_wait_in_the_run_queue() {
    let Some(_lock) = common::root_or_skip("oversubscribed_threads_wait_in_the_run_queue") else {
        return;
    };
    let options = Options {
        per_thread: true,
        ..Options::default()
    };
    let tracer = Runqlat::start(&options).expect("start");
    let threads: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| spin(Duration::from_millis(800))))
        .collect();
    let results: Vec<(u32, u64)> = threads
        .into_iter()
        .map(|t| t.join().expect("join"))
        .collect();
    let hists = tracer.take().expect("take");
    let mut nonzero = false;
    let mut ours = 0;
    for (tid, switches) in &results {
        let h = hists.iter().find(|h| h.key == *tid);
        let total = h.map_or(0, |h| h.total());
        eprintln!("tid {tid}: {switches} involuntary switches, {total} latencies");
        ours += total;
        if let Some(h) = h {
            nonzero |= h.slots[1..].iter().any(|&c| c > 0);
        }
    }
    let switches: u64 = results.iter().map(|r| r.1).sum();
    let all: u64 = hists.iter().map(|h| h.total()).sum();
    assert!(
        switches > 0,
        "4 spinning threads on this machine were never preempted"
    );
    // Every preemption is followed by a switch-in we time; the kernel may
    // skip a program run now and then (one BPF program per CPU at a time),
    // hence the 2% slack for our threads alone.
    assert!(all >= switches, "{all} latencies < {switches} switches");
    assert!(ours * 100 >= switches * 98, "{ours} of {switches}");
    assert!(nonzero, "no latency of 2 us or more");
    let text = tracer.render(&hists);
    assert!(text.contains("     usecs               : count    distribution"));
    eprintln!("{text}");
}

#[test]
fn pid_filter_keeps_only_our_process() {
    let Some(_lock) = common::root_or_skip("pid_filter_keeps_only_our_process") else {
        return;
    };
    let me = std::process::id();
    let options = Options {
        per_process: true,
        pid: Some(me),
        ..Options::default()
    };
    let tracer = Runqlat::start(&options).expect("start");
    let threads: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| spin(Duration::from_millis(400))))
        .collect();
    for t in threads {
        t.join().expect("join");
    }
    let hists = tracer.take().expect("take");
    let keys: Vec<u32> = hists.iter().map(|h| h.key).collect();
    assert!(keys.iter().all(|&k| k == me), "{keys:?}");
    assert!(hists.iter().map(|h| h.total()).sum::<u64>() > 0);
    let text = runqlat::render(&options, &hists);
    assert!(text.starts_with(&format!("\npid = {me} ")), "{text}");
}
