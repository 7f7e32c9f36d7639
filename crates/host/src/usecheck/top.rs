//! The top processes of the interval: five each by CPU, by resident memory
//! and by storage I/O (read + write bytes/s). A process whose /proc/PID/io is
//! not readable (another user's, without ptrace rights) is left out of the
//! I/O ranking rather than counted as zero, and the count of such processes
//! is reported.

use crate::process::{ProcessRates, ProcessTable};
use serde::Serialize;

/// How many processes each ranking keeps.
pub const TOP: usize = 5;

/// One process in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopProcess {
    pub pid: u32,
    pub comm: String,
    pub state: char,
    pub threads: u64,
    /// 100 = one CPU for the whole interval.
    pub cpu_percent: f64,
    pub rss_bytes: u64,
    pub read_bytes_per_second: Option<f64>,
    pub write_bytes_per_second: Option<f64>,
    pub major_faults_per_second: f64,
    /// Share of the interval spent runnable but waiting for a CPU (None: no schedstat).
    pub run_delay_ratio: Option<f64>,
}

/// The rankings.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TopProcesses {
    pub by_cpu: Vec<TopProcess>,
    pub by_memory: Vec<TopProcess>,
    pub by_io: Vec<TopProcess>,
    /// Processes whose I/O counters could not be read.
    pub io_unreadable: usize,
    /// Why there are no rankings (the process table could not be read).
    pub unavailable: Option<String>,
}

impl TopProcess {
    fn from(r: &ProcessRates) -> Self {
        Self {
            pid: r.process.pid,
            comm: r.process.comm.clone(),
            state: r.process.state,
            threads: r.process.threads,
            cpu_percent: r.cpu_percent,
            rss_bytes: r.process.rss_bytes,
            read_bytes_per_second: r.read_bytes_per_s,
            write_bytes_per_second: r.write_bytes_per_s,
            major_faults_per_second: r.major_faults_per_s,
            run_delay_ratio: r.run_delay_ratio,
        }
    }

    /// Read + write bytes/s (`None`: unreadable).
    pub fn io_bytes_per_second(&self) -> Option<f64> {
        Some(self.read_bytes_per_second? + self.write_bytes_per_second?)
    }
}

pub(crate) fn top(
    before: &Result<ProcessTable, String>,
    after: &Result<ProcessTable, String>,
) -> TopProcesses {
    let (before, after) = match (before, after) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(e), _) | (_, Err(e)) => {
            return TopProcesses {
                unavailable: Some(e.clone()),
                ..TopProcesses::default()
            }
        }
    };
    let all: Vec<TopProcess> = after.rates(before).iter().map(TopProcess::from).collect();
    let ranked = |key: &dyn Fn(&TopProcess) -> Option<f64>| {
        let mut list: Vec<&TopProcess> = all.iter().filter(|p| key(p).is_some()).collect();
        list.sort_by(|a, b| {
            key(b)
                .unwrap_or(0.0)
                .total_cmp(&key(a).unwrap_or(0.0))
                .then(a.pid.cmp(&b.pid))
        });
        list.into_iter().take(TOP).cloned().collect::<Vec<_>>()
    };
    TopProcesses {
        by_cpu: ranked(&|p| Some(p.cpu_percent)),
        by_memory: ranked(&|p| Some(p.rss_bytes as f64)),
        by_io: ranked(&TopProcess::io_bytes_per_second),
        io_unreadable: all
            .iter()
            .filter(|p| p.io_bytes_per_second().is_none())
            .count(),
        unavailable: None,
    }
}
