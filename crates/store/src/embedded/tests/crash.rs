//! Crash safety under a real `kill -9`: the test binary re-executes itself
//! as a writer that prints each acknowledged batch, is killed at a random
//! point, and every printed batch must be readable after reopening.

use super::config;
use crate::embedded::testdata::{sample_spans, trace_id};
use crate::embedded::EmbeddedStore;
use crate::SpanStore;
use model::Span;

/// Env var that turns the test binary into the crash-test writer.
const CRASH_CHILD_DIR: &str = "WHYSLOW_STORE_CRASH_CHILD_DIR";

/// The child: writes batches forever, printing `acked N` after each ack.
#[test]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CRASH_CHILD_DIR) else {
        return; // only runs when re-executed by the crash test
    };
    use std::io::Write;
    let store = EmbeddedStore::open(config(std::path::Path::new(&dir))).unwrap();
    let start: u64 = std::env::var("WHYSLOW_STORE_CRASH_START")
        .unwrap()
        .parse()
        .unwrap();
    let mut out = std::io::stdout().lock();
    for n in start.. {
        let spans: Vec<Span> = sample_spans(1, 4)
            .into_iter()
            .map(|mut s| {
                s.trace_id = trace_id(n);
                s
            })
            .collect();
        store
            .write(spans)
            .unwrap()
            .blocking_recv()
            .unwrap()
            .unwrap();
        writeln!(out, "acked {n}").unwrap();
        out.flush().unwrap();
        if n % 50 == 49 {
            store.flush().unwrap();
        }
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<u64> = Vec::new();
    let mut next = 0u64;
    for _ in 0..20 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "embedded::tests::crash::crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_CHILD_DIR, dir.path())
            .env("WHYSLOW_STORE_CRASH_START", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let kill_after = fastrand::u64(5..120);
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = 0;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("acked ") {
                acked.push(n.parse().unwrap());
                seen += 1;
                if seen >= kill_after {
                    break;
                }
            }
        }
        // SIGKILL: no destructors, no flush.
        unsafe_free_kill(child.id());
        // Acks printed before the kill landed are durable too.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("acked ") {
                acked.push(n.parse().unwrap());
            }
        }
        let _ = child.wait();
        next = acked.iter().max().map_or(0, |m| m + 1);
        let store = EmbeddedStore::open(config(dir.path())).unwrap();
        for n in &acked {
            let t = store.trace(trace_id(*n)).unwrap();
            assert_eq!(t.map(|t| t.len()), Some(4), "acked batch {n} lost");
        }
    }
    assert!(acked.len() >= 20 * 5);
}

/// Sends SIGKILL via the `kill` command (keeps the test free of `unsafe`).
fn unsafe_free_kill(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
