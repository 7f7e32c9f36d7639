//! Crash safety under a real `kill -9`: the test binary re-executes itself
//! as a writer that prints each acknowledged batch (while cutting blocks and
//! checkpointing the WAL every few batches), is killed at a random point,
//! and every acknowledged sample must be there after reopening.

use super::{config, labels};
use crate::series::{Select, SeriesBatch, SeriesStore};
use crate::tsdb::{Tsdb, TsdbConfig};
use model::metrics::{Sample, TimeSeries};
use std::path::Path;

/// Env var that turns the test binary into the crash-test writer.
const CHILD_DIR: &str = "WHYSLOW_TSDB_CRASH_CHILD_DIR";
const SERIES: usize = 8;
const BASE: i64 = 1_700_000_000_000;

fn crash_config(dir: &Path) -> TsdbConfig {
    let mut c = config(dir);
    c.block_range_ms = 60_000;
    c.max_block_range_ms = 60_000 * 9;
    c
}

fn batch_of(n: u64) -> SeriesBatch {
    SeriesBatch {
        series: (0..SERIES)
            .map(|s| TimeSeries {
                labels: labels(&[("__name__", "crash_total"), ("series", &s.to_string())]),
                samples: vec![Sample {
                    timestamp_ms: BASE + n as i64 * 1000,
                    value: n as f64,
                }],
                exemplars: Vec::new(),
            })
            .collect(),
        metadata: Vec::new(),
    }
}

/// The child: appends batches forever, printing `acked N` after each ack.
#[test]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return; // only runs when re-executed by the crash test
    };
    use std::io::Write;
    let store = Tsdb::open(crash_config(Path::new(&dir))).expect("open");
    let start: u64 = std::env::var("WHYSLOW_TSDB_CRASH_START")
        .expect("start given")
        .parse()
        .expect("start is a number");
    let mut out = std::io::stdout().lock();
    for n in start.. {
        let appended = store.append(batch_of(n)).expect("append");
        // After a restart the first batches may repeat durable but
        // unacknowledged ones: accepted or not, the ack must come.
        appended.ack.blocking_recv().expect("ack").expect("durable");
        writeln!(out, "acked {n}").expect("stdout");
        out.flush().expect("stdout");
        if n % 20 == 19 {
            store.maintain().expect("maintenance");
        }
    }
}

#[test]
fn acknowledged_samples_survive_kill_9() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut acked: Vec<u64> = Vec::new();
    let mut next = 0u64;
    for _ in 0..12 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "tsdb::tests::crash::crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env("WHYSLOW_TSDB_CRASH_START", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("piped");
        let kill_after = fastrand::u64(5..150);
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = 0;
        for line in lines.by_ref() {
            let line = line.expect("line");
            if let Some(n) = line.strip_prefix("acked ") {
                acked.push(n.parse().expect("number"));
                seen += 1;
                if seen >= kill_after {
                    break;
                }
            }
        }
        let status = Command::new("kill")
            .args(["-9", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        // Acks printed before the kill landed are durable too.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("acked ") {
                acked.push(n.parse().expect("number"));
            }
        }
        let _ = child.wait();
        next = acked.iter().max().map_or(0, |m| m + 1);
        let store = Tsdb::open(crash_config(dir.path())).expect("reopen");
        let got = store
            .select(&Select {
                matchers: Vec::new(),
                start_ms: i64::MIN,
                end_ms: i64::MAX,
                max_samples: 0,
            })
            .expect("select");
        assert_eq!(got.len(), SERIES, "every series is there");
        for series in &got {
            let times: std::collections::HashSet<i64> =
                series.samples.iter().map(|s| s.timestamp_ms).collect();
            for n in &acked {
                assert!(
                    times.contains(&(BASE + *n as i64 * 1000)),
                    "acked batch {n} lost from {}",
                    series.labels
                );
            }
        }
    }
    assert!(acked.len() >= 12 * 5);
    let store = Tsdb::open(crash_config(dir.path())).expect("reopen");
    assert!(
        !store.block_ranges().is_empty() || acked.len() < 200,
        "blocks were cut while writing"
    );
}
