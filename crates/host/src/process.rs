//! The process table, sampled: what `whyslow use` ranks and `whyslow top`
//! shows. One [`ProcessTable`] is a snapshot of every /proc/PID (stat,
//! schedstat, io); [`ProcessTable::rates`] turns two snapshots into CPU %,
//! I/O bytes/s, major faults/s and run-queue delay per process, matching
//! processes by pid *and* start time so a reused pid is not mistaken for
//! the old process.
//!
//! Parsing uses `procfs-core` (`Stat`, `Io`, `Schedstat`). /proc/PID/io needs
//! ptrace access to other users' processes: without it the I/O columns are
//! `None` ("unavailable"), never zero.

use procfs_core::process::{Io, Schedstat, Stat};
use procfs_core::FromRead;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

/// One process at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    /// The owner of /proc/PID: the process's effective user id.
    pub uid: Option<u32>,
    /// The command name (`comm`, 15 bytes at most).
    pub comm: String,
    /// `R` running, `S` sleeping, `D` uninterruptible (usually I/O), `Z`, …
    pub state: char,
    pub threads: u64,
    /// User + system CPU time, in clock ticks.
    pub cpu_ticks: u64,
    pub rss_bytes: u64,
    pub major_faults: u64,
    /// Start time after boot, in clock ticks (tells reused pids apart).
    pub start_ticks: u64,
    /// Bytes read from / written to storage (`None`: /proc/PID/io not readable).
    pub read_bytes: Option<u64>,
    pub write_bytes: Option<u64>,
    /// Nanoseconds spent runnable but waiting for a CPU (`None`: no schedstat).
    pub run_delay_ns: Option<u64>,
}

/// Every process at one moment.
#[derive(Debug, Clone)]
pub struct ProcessTable {
    pub at: Instant,
    pub processes: HashMap<u32, Process>,
}

/// One process over the interval between two snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRates {
    /// The process as of the later snapshot.
    pub process: Process,
    /// CPU used, 100 = one CPU for the whole interval.
    pub cpu_percent: f64,
    pub read_bytes_per_s: Option<f64>,
    pub write_bytes_per_s: Option<f64>,
    pub major_faults_per_s: f64,
    /// Share of the interval spent waiting for a CPU (1.0 = the whole time, summed over threads).
    pub run_delay_ratio: Option<f64>,
}

impl ProcessTable {
    /// Reads every numeric entry of `proc` (normally /proc). Processes that
    /// exit while being read are skipped.
    pub fn read(proc: &Path) -> std::io::Result<Self> {
        let at = Instant::now();
        let page_size = page_size();
        let mut processes = HashMap::new();
        for entry in std::fs::read_dir(proc)?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(p) = read_process(&entry.path(), pid, page_size) {
                processes.insert(pid, p);
            }
        }
        Ok(Self { at, processes })
    }

    /// Rates from `earlier` to this snapshot, for processes present in both
    /// (same pid and start time); processes started in between are measured
    /// from their start (CPU ticks and bytes since 0).
    pub fn rates(&self, earlier: &ProcessTable) -> Vec<ProcessRates> {
        let secs = self.at.duration_since(earlier.at).as_secs_f64().max(1e-3);
        let hz = clock_ticks_per_second();
        self.processes
            .values()
            .map(|now| {
                let before = earlier
                    .processes
                    .get(&now.pid)
                    .filter(|b| b.start_ticks == now.start_ticks);
                let delta = |f: fn(&Process) -> u64| now_minus(f(now), before.map(f));
                let opt_delta = |f: fn(&Process) -> Option<u64>| {
                    let n = f(now)?;
                    match before {
                        Some(b) => Some(n.saturating_sub(f(b)?)),
                        None => Some(n),
                    }
                };
                ProcessRates {
                    cpu_percent: delta(|p| p.cpu_ticks) as f64 / hz / secs * 100.0,
                    read_bytes_per_s: opt_delta(|p| p.read_bytes).map(|b| b as f64 / secs),
                    write_bytes_per_s: opt_delta(|p| p.write_bytes).map(|b| b as f64 / secs),
                    major_faults_per_s: delta(|p| p.major_faults) as f64 / secs,
                    run_delay_ratio: opt_delta(|p| p.run_delay_ns).map(|ns| ns as f64 / 1e9 / secs),
                    process: now.clone(),
                }
            })
            .collect()
    }
}

fn now_minus(now: u64, before: Option<u64>) -> u64 {
    before.map_or(now, |b| now.saturating_sub(b))
}

fn read_process(dir: &Path, pid: u32, page_size: u64) -> Option<Process> {
    let stat = Stat::from_read(std::fs::File::open(dir.join("stat")).ok()?).ok()?;
    let io = std::fs::File::open(dir.join("io"))
        .ok()
        .and_then(|f| Io::from_read(f).ok());
    let sched = std::fs::File::open(dir.join("schedstat"))
        .ok()
        .and_then(|f| Schedstat::from_read(f).ok());
    Some(Process {
        pid,
        ppid: u32::try_from(stat.ppid).unwrap_or(0),
        uid: std::fs::metadata(dir).ok().map(|m| m.uid()),
        comm: stat.comm,
        state: stat.state,
        threads: u64::try_from(stat.num_threads).unwrap_or(0),
        cpu_ticks: stat.utime + stat.stime,
        rss_bytes: stat.rss * page_size,
        major_faults: stat.majflt,
        start_ticks: stat.starttime,
        read_bytes: io.as_ref().map(|io| io.read_bytes),
        write_bytes: io.as_ref().map(|io| io.write_bytes),
        run_delay_ns: sched.map(|s| s.run_delay),
    })
}

/// User names by uid from a passwd(5) file (normally /etc/passwd); empty
/// when it cannot be read (callers show the number).
pub fn user_names(passwd: &Path) -> HashMap<u32, String> {
    let text = std::fs::read_to_string(passwd).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let uid = fields.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

/// `sysconf(_SC_CLK_TCK)`: the unit of /proc's CPU times (100 on Linux).
pub fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

pub(crate) fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn cpu_percent_follows_the_ticks_used_and_pids_are_matched_by_start_time() {
        let proc = Path::new("/proc");
        let before = ProcessTable::read(proc).expect("read /proc");
        let me = std::process::id();
        assert!(before.processes.contains_key(&me));
        // Spin until this process has used 200 ms of CPU (at most 5 s: the
        // machine may be busy with other work).
        let start_ticks = before.processes[&me].cpu_ticks;
        let until = Instant::now() + Duration::from_secs(5);
        let mut spins = 0u64;
        while Instant::now() < until {
            for _ in 0..100_000 {
                spins = std::hint::black_box(spins.wrapping_add(1));
            }
            let now = ProcessTable::read(proc).expect("read /proc");
            if now.processes[&me].cpu_ticks >= start_ticks + 20 {
                break;
            }
        }
        let after = ProcessTable::read(proc).expect("read /proc");
        let rates = after.rates(&before);
        let mine = rates
            .iter()
            .find(|r| r.process.pid == me)
            .expect("this test's process");
        let secs = after.at.duration_since(before.at).as_secs_f64();
        let ticks = after.processes[&me].cpu_ticks - start_ticks;
        assert!(ticks >= 20, "{ticks}");
        let expected = ticks as f64 / clock_ticks_per_second() / secs * 100.0;
        assert!(
            (mine.cpu_percent - expected).abs() < 1e-6 && mine.cpu_percent > 3.0,
            "{} vs {expected}",
            mine.cpu_percent
        );
        assert!(mine.process.rss_bytes > 0 && mine.process.threads >= 1);
        assert!(
            mine.read_bytes_per_s.is_some(),
            "own /proc/self/io is readable"
        );

        // A pid whose start time changed is a new process: measured from 0.
        let mut reused = before.clone();
        if let Some(p) = reused.processes.get_mut(&me) {
            p.start_ticks += 1;
            p.cpu_ticks = u64::MAX / 2;
        }
        let rates = after.rates(&reused);
        let mine = rates.iter().find(|r| r.process.pid == me).expect("me");
        assert!(mine.cpu_percent > 0.0);
    }
}
