//! The /proc files behind the real numbers: `/proc/PID/schedstat` (also of
//! every task), the `cpu` line of `/proc/stat` (steal) and
//! `/proc/pressure/{cpu,io,memory}` (PSI `some total`). Parsers are pure and
//! tested on canned text; readers return `None` where a file is missing.

use crate::real::{HostSample, SchedStat};
use std::path::Path;

/// Parses `174997532 130440046 33`.
pub fn parse_schedstat(text: &str) -> Option<SchedStat> {
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    Some(SchedStat {
        on_cpu_ns: fields.next()?.ok()?,
        run_queue_ns: fields.next()?.ok()?,
        timeslices: fields.next()?.ok()?,
    })
}

/// Parses the `some ... total=N` line of a PSI file (µs).
pub fn parse_psi_some_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("some "))?;
    line.split_whitespace()
        .find_map(|f| f.strip_prefix("total="))?
        .parse()
        .ok()
}

/// Parses the aggregate `cpu` line of /proc/stat into (steal, all) ticks.
pub fn parse_proc_stat_steal(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map_while(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is inside user).
    let steal = *values.get(7)?;
    Some((steal, values.iter().take(8).sum()))
}

/// `/proc/PID/schedstat` of one task (also of a zombie).
pub fn schedstat(pid: i32) -> Option<SchedStat> {
    parse_schedstat(&std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?)
}

/// The sum of `/proc/PID/task/*/schedstat` and how many tasks there were.
pub fn schedstat_of_tasks(pid: i32) -> Option<(SchedStat, usize)> {
    let mut total = SchedStat::default();
    let mut tasks = 0;
    for tid in tasks_of(pid) {
        let path = format!("/proc/{pid}/task/{tid}/schedstat");
        if let Some(s) = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| parse_schedstat(&t))
        {
            total.on_cpu_ns += s.on_cpu_ns;
            total.run_queue_ns += s.run_queue_ns;
            total.timeslices += s.timeslices;
            tasks += 1;
        }
    }
    (tasks > 0).then_some((total, tasks))
}

/// Thread ids of `pid` (`/proc/PID/task`), empty when it does not exist.
pub fn tasks_of(pid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut tids: Vec<i32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    tids
}

/// Steal ticks and PSI totals now.
pub fn host_sample() -> HostSample {
    let read = |p: &str| std::fs::read_to_string(Path::new(p)).ok();
    let psi =
        |name: &str| read(&format!("/proc/pressure/{name}")).and_then(|t| parse_psi_some_total(&t));
    HostSample {
        steal_ticks: read("/proc/stat").and_then(|t| parse_proc_stat_steal(&t)),
        psi_some_us: [psi("cpu"), psi("io"), psi("memory")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_canned_text() {
        assert_eq!(
            parse_schedstat("174997532 130440046 33\n"),
            Some(SchedStat {
                on_cpu_ns: 174997532,
                run_queue_ns: 130440046,
                timeslices: 33
            })
        );
        assert_eq!(parse_schedstat("1 2"), None);
        let psi = "some avg10=52.10 avg60=40.00 avg300=12.00 total=123456789\n\
                   full avg10=0.00 avg60=0.00 avg300=0.00 total=42\n";
        assert_eq!(parse_psi_some_total(psi), Some(123456789));
        assert_eq!(parse_psi_some_total("full total=1"), None);
        let stat = "cpu  100 5 50 1000 10 1 2 30 0 0\ncpu0 50 2 25 500 5 0 1 15 0 0\n";
        assert_eq!(parse_proc_stat_steal(stat), Some((30, 1198)));
        assert_eq!(parse_proc_stat_steal("cpu  1 2 3"), None);
    }

    #[test]
    fn reads_this_process() {
        let me = std::process::id() as i32;
        assert!(schedstat(me).is_some());
        let (_, tasks) = schedstat_of_tasks(me).unwrap();
        assert!(tasks >= 1);
        assert!(tasks_of(me).contains(&me));
        assert!(host_sample().steal_ticks.is_some());
    }
}
