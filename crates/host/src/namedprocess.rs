//! Per-process metrics: process-exporter's `namedprocess_namegroup_*`
//! families (0.7.10, Debian bookworm's `prometheus-process-exporter`), with
//! its names, labels, HELP and TYPE, so its Grafana dashboards work on
//! `whyslow agent`'s output.
//!
//! Processes are grouped by command name (`/proc/PID/stat` comm), as
//! process-exporter groups them with the configuration
//! `process_names: [{name: "{{.Comm}}", cmdline: ['.+']}]`: every process
//! with a command line, so kernel threads are left out. A group's counters
//! behave as process-exporter's do:
//!
//! - a process already running at the first collection counts from then on
//!   (its CPU and I/O before the agent started are not the group's);
//! - a process started later counts from its start;
//! - an exited process's share stays in the group's counters, and a group
//!   whose processes all exited keeps its counters, with zero gauges and
//!   process-exporter's "no process" start time, Go's zero time
//!   (-62135596800).
//!
//! Thread states, context switches and wait channels are summed over the
//! process's threads (`/proc/PID/task/*`) when it has more than one, as
//! process-exporter does (it counts the process's own state too).
//!
//! The proportional memory types (smaps_rollup's Pss) are reported only when
//! asked for (see [`NamedProcess::new`]).
//!
//! Parsing uses `procfs-core` (`Stat`, `Status`, `Io`, `Limits`); the
//! `smaps_rollup` Pss lines and `wchan` are read by hand (one number, one word).

use crate::{Family, Kind};
use procfs_core::process::{Io, LimitValue, Limits, Stat, Status};
use procfs_core::FromRead;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// process-exporter's start time of a group with no process: Go's zero `time.Time`.
const NO_PROCESS_START: f64 = -62_135_596_800.0;

/// Counters of one process (or one group's accumulation).
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    user_ticks: u64,
    system_ticks: u64,
    read_bytes: u64,
    write_bytes: u64,
    major_faults: u64,
    minor_faults: u64,
    voluntary: u64,
    nonvoluntary: u64,
}

impl Counts {
    fn minus(self, earlier: Counts) -> Counts {
        Counts {
            user_ticks: self.user_ticks.saturating_sub(earlier.user_ticks),
            system_ticks: self.system_ticks.saturating_sub(earlier.system_ticks),
            read_bytes: self.read_bytes.saturating_sub(earlier.read_bytes),
            write_bytes: self.write_bytes.saturating_sub(earlier.write_bytes),
            major_faults: self.major_faults.saturating_sub(earlier.major_faults),
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            nonvoluntary: self.nonvoluntary.saturating_sub(earlier.nonvoluntary),
        }
    }

    fn add(&mut self, delta: Counts) {
        self.user_ticks += delta.user_ticks;
        self.system_ticks += delta.system_ticks;
        self.read_bytes += delta.read_bytes;
        self.write_bytes += delta.write_bytes;
        self.major_faults += delta.major_faults;
        self.minor_faults += delta.minor_faults;
        self.voluntary += delta.voluntary;
        self.nonvoluntary += delta.nonvoluntary;
    }
}

/// process-exporter's five state buckets.
const STATES: [&str; 5] = ["Running", "Sleeping", "Waiting", "Zombie", "Other"];

fn state_index(state: char) -> usize {
    match state {
        'R' => 0,
        'S' => 1,
        'D' => 2,
        'Z' => 3,
        _ => 4,
    }
}

/// A group's gauges at one collection.
#[derive(Debug, Default)]
struct Gauges {
    procs: u64,
    threads: u64,
    resident: u64,
    virtual_bytes: u64,
    swapped: u64,
    pss: u64,
    swap_pss: u64,
    open_fds: u64,
    worst_fd_ratio: f64,
    oldest_start: Option<f64>,
    states: [u64; 5],
    wchans: BTreeMap<String, u64>,
}

/// One process read at one collection.
struct Read {
    comm: String,
    start_ticks: u64,
    counts: Counts,
    gauges: Gauges,
}

/// The collector, with what it tracks between collections.
pub(crate) struct NamedProcess {
    /// When the first collection began (seconds since the epoch).
    first_at: Option<f64>,
    /// Tracked processes by (pid, start ticks): group and last counts.
    tracked: HashMap<(u32, u64), (String, Counts)>,
    /// Processes left out (no command line), by (pid, start ticks).
    ignored: HashSet<(u32, u64)>,
    /// Every group seen, with its accumulated counters.
    groups: BTreeMap<String, Counts>,
    read_errors: u64,
    partial_errors: u64,
    page_size: u64,
    ticks_per_second: f64,
    /// Read smaps_rollup for the proportional memory types.
    smaps: bool,
}

impl NamedProcess {
    /// `smaps`: also report `proportionalResident` and `proportionalSwapped`
    /// memory (process-exporter's `-gather-smaps`, on by default there). The
    /// kernel walks every page table for them: two thirds of this
    /// collector's cost, so the agent leaves them out unless asked.
    pub(crate) fn new(smaps: bool) -> Self {
        Self {
            smaps,
            first_at: None,
            tracked: HashMap::new(),
            ignored: HashSet::new(),
            groups: BTreeMap::new(),
            read_errors: 0,
            partial_errors: 0,
            page_size: crate::process::page_size(),
            ticks_per_second: crate::process::clock_ticks_per_second(),
        }
    }

    /// Reads every process under `proc` and appends the families.
    pub(crate) fn collect(&mut self, proc: &Path, out: &mut Vec<Family>) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let first_at = *self.first_at.get_or_insert(now);
        let boot_time = boot_time(proc);
        let mut gauges: BTreeMap<String, Gauges> = BTreeMap::new();
        let mut seen: HashSet<(u32, u64)> = HashSet::new();
        let entries = match std::fs::read_dir(proc) {
            Ok(entries) => entries,
            Err(_) => {
                self.read_errors += 1;
                return self.emit(gauges, out);
            }
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let dir = entry.path();
            let stat = match std::fs::File::open(dir.join("stat")).map(Stat::from_read) {
                Ok(Ok(stat)) => stat,
                Ok(Err(_)) => {
                    self.read_errors += 1;
                    continue;
                }
                Err(_) => continue, // exited
            };
            let id = (pid, stat.starttime);
            if self.ignored.contains(&id) {
                seen.insert(id);
                continue;
            }
            let (read, partial) = self.read(&dir, stat);
            self.partial_errors += partial;
            let delta = match self.tracked.get_mut(&id) {
                Some((_, last)) => {
                    let delta = read.counts.minus(*last);
                    *last = read.counts;
                    delta
                }
                None => {
                    if !has_command_line(&dir) {
                        self.ignored.insert(id);
                        seen.insert(id);
                        continue;
                    }
                    self.tracked.insert(id, (read.comm.clone(), read.counts));
                    let started = boot_time + read.start_ticks as f64 / self.ticks_per_second;
                    if started > first_at {
                        read.counts
                    } else {
                        Counts::default()
                    }
                }
            };
            seen.insert(id);
            let group_name = self
                .tracked
                .get(&id)
                .map_or_else(|| read.comm.clone(), |(g, _)| g.clone());
            self.groups
                .entry(group_name.clone())
                .or_default()
                .add(delta);
            let start = boot_time + (read.start_ticks as f64 / self.ticks_per_second).floor();
            merge(gauges.entry(group_name).or_default(), read.gauges, start);
        }
        self.tracked.retain(|id, _| seen.contains(id));
        self.ignored.retain(|id| seen.contains(id));
        self.emit(gauges, out);
    }

    /// Reads the rest of one process after its `stat`, with the count of
    /// parts that could not be read (I/O or fds without permission).
    fn read(&self, dir: &Path, stat: Stat) -> (Read, u64) {
        let mut partial = 0;
        let status = std::fs::File::open(dir.join("status"))
            .ok()
            .and_then(|f| Status::from_read(f).ok());
        let io = std::fs::File::open(dir.join("io"))
            .ok()
            .and_then(|f| Io::from_read(f).ok());
        if io.is_none() {
            partial += 1;
        }
        let open_fds = std::fs::read_dir(dir.join("fd")).map(|d| d.count() as u64);
        let limits = std::fs::File::open(dir.join("limits"))
            .ok()
            .and_then(|f| Limits::from_read(f).ok());
        let (pss, swap_pss) = if self.smaps {
            smaps_rollup(&dir.join("smaps_rollup")).unwrap_or((0, 0))
        } else {
            (0, 0)
        };
        let open_fds = open_fds.unwrap_or_else(|_| {
            partial += 1;
            0
        });
        let worst_fd_ratio = match limits.map(|l| l.max_open_files.soft_limit) {
            Some(LimitValue::Value(max)) if max > 0 => open_fds as f64 / max as f64,
            _ => 0.0,
        };
        let threads = u64::try_from(stat.num_threads).unwrap_or(0);
        let mut gauges = Gauges {
            procs: 1,
            threads,
            resident: stat.rss * self.page_size,
            virtual_bytes: stat.vsize,
            swapped: status.as_ref().and_then(|s| s.vmswap).unwrap_or(0) * 1024,
            pss,
            swap_pss,
            open_fds,
            worst_fd_ratio,
            oldest_start: None,
            states: [0; 5],
            wchans: BTreeMap::new(),
        };
        gauges.states[state_index(stat.state)] += 1;
        if let Some(wchan) = wchan(&dir.join("wchan")) {
            gauges.wchans.insert(wchan, 1);
        }
        let mut voluntary = status
            .as_ref()
            .and_then(|s| s.voluntary_ctxt_switches)
            .unwrap_or(0);
        let mut nonvoluntary = status
            .as_ref()
            .and_then(|s| s.nonvoluntary_ctxt_switches)
            .unwrap_or(0);
        if threads > 1 {
            if let Some((v, n)) = read_threads(&dir.join("task"), &mut gauges) {
                (voluntary, nonvoluntary) = (v, n);
            } else {
                partial += 1;
            }
        }
        let counts = Counts {
            user_ticks: stat.utime,
            system_ticks: stat.stime,
            read_bytes: io.as_ref().map_or(0, |io| io.read_bytes),
            write_bytes: io.as_ref().map_or(0, |io| io.write_bytes),
            major_faults: stat.majflt,
            minor_faults: stat.minflt,
            voluntary,
            nonvoluntary,
        };
        (
            Read {
                comm: stat.comm,
                start_ticks: stat.starttime,
                counts,
                gauges,
            },
            partial,
        )
    }

    fn emit(&self, gauges: BTreeMap<String, Gauges>, out: &mut Vec<Family>) {
        let family = |name: &'static str, help: &'static str, kind| Family::new(name, help, kind);
        let mut procs = family(
            "namedprocess_namegroup_num_procs",
            "number of processes in this group",
            Kind::Gauge,
        );
        let mut cpu = family(
            "namedprocess_namegroup_cpu_seconds_total",
            "Cpu user usage in seconds",
            Kind::Counter,
        );
        let mut read = family(
            "namedprocess_namegroup_read_bytes_total",
            "number of bytes read by this group",
            Kind::Counter,
        );
        let mut write = family(
            "namedprocess_namegroup_write_bytes_total",
            "number of bytes written by this group",
            Kind::Counter,
        );
        let mut major = family(
            "namedprocess_namegroup_major_page_faults_total",
            "Major page faults",
            Kind::Counter,
        );
        let mut minor = family(
            "namedprocess_namegroup_minor_page_faults_total",
            "Minor page faults",
            Kind::Counter,
        );
        let mut switches = family(
            "namedprocess_namegroup_context_switches_total",
            "Context switches",
            Kind::Counter,
        );
        let mut memory = family(
            "namedprocess_namegroup_memory_bytes",
            "number of bytes of memory in use",
            Kind::Gauge,
        );
        let mut fds = family(
            "namedprocess_namegroup_open_filedesc",
            "number of open file descriptors for this group",
            Kind::Gauge,
        );
        let mut fd_ratio = family(
            "namedprocess_namegroup_worst_fd_ratio",
            "the worst (closest to 1) ratio between open fds and max fds among all procs in this group",
            Kind::Gauge,
        );
        let mut start = family(
            "namedprocess_namegroup_oldest_start_time_seconds",
            "start time in seconds since 1970/01/01 of oldest process in group",
            Kind::Gauge,
        );
        let mut threads = family(
            "namedprocess_namegroup_num_threads",
            "Number of threads",
            Kind::Gauge,
        );
        let mut states = family(
            "namedprocess_namegroup_states",
            "Number of processes in states Running, Sleeping, Waiting, Zombie, or Other",
            Kind::Gauge,
        );
        let mut wchans = family(
            "namedprocess_namegroup_threads_wchan",
            "Number of threads in this group waiting on each wchan",
            Kind::Gauge,
        );
        let empty = Gauges::default();
        let hz = self.ticks_per_second;
        for (name, counts) in &self.groups {
            let g = gauges.get(name).unwrap_or(&empty);
            let label = || vec![("groupname", name.clone())];
            let with = |key: &'static str, value: &str| {
                vec![("groupname", name.clone()), (key, value.to_string())]
            };
            procs.push(label(), g.procs as f64);
            let proportional = [
                ("proportionalResident", g.pss),
                ("proportionalSwapped", g.swap_pss),
            ];
            for (memtype, value) in [
                ("resident", g.resident),
                ("virtual", g.virtual_bytes),
                ("swapped", g.swapped),
            ]
            .into_iter()
            .chain(proportional.into_iter().filter(|_| self.smaps))
            {
                memory.push(with("memtype", memtype), value as f64);
            }
            start.push(label(), g.oldest_start.unwrap_or(NO_PROCESS_START));
            fds.push(label(), g.open_fds as f64);
            fd_ratio.push(label(), g.worst_fd_ratio);
            cpu.push(with("mode", "user"), counts.user_ticks as f64 / hz);
            cpu.push(with("mode", "system"), counts.system_ticks as f64 / hz);
            read.push(label(), counts.read_bytes as f64);
            write.push(label(), counts.write_bytes as f64);
            major.push(label(), counts.major_faults as f64);
            minor.push(label(), counts.minor_faults as f64);
            switches.push(with("ctxswitchtype", "voluntary"), counts.voluntary as f64);
            switches.push(
                with("ctxswitchtype", "nonvoluntary"),
                counts.nonvoluntary as f64,
            );
            threads.push(label(), g.threads as f64);
            for (state, count) in STATES.iter().zip(g.states) {
                states.push(with("state", state), count as f64);
            }
            for (wchan, count) in &g.wchans {
                wchans.push(with("wchan", wchan), *count as f64);
            }
        }
        out.extend([
            procs, cpu, read, write, major, minor, switches, memory, fds, fd_ratio, start, threads,
            states, wchans,
        ]);
        out.push(Family::single(
            "namedprocess_scrape_errors",
            "general scrape errors: no proc metrics collected during a cycle",
            Kind::Counter,
            0.0,
        ));
        out.push(Family::single(
            "namedprocess_scrape_procread_errors",
            "incremented each time a proc's metrics collection fails",
            Kind::Counter,
            self.read_errors as f64,
        ));
        out.push(Family::single(
            "namedprocess_scrape_partial_errors",
            "incremented each time a tracked proc's metrics collection fails partially, e.g. unreadable I/O stats",
            Kind::Counter,
            self.partial_errors as f64,
        ));
    }
}

/// Adds one process's gauges to its group's.
fn merge(group: &mut Gauges, process: Gauges, start: f64) {
    group.procs += process.procs;
    group.threads += process.threads;
    group.resident += process.resident;
    group.virtual_bytes += process.virtual_bytes;
    group.swapped += process.swapped;
    group.pss += process.pss;
    group.swap_pss += process.swap_pss;
    group.open_fds += process.open_fds;
    group.worst_fd_ratio = group.worst_fd_ratio.max(process.worst_fd_ratio);
    group.oldest_start = Some(group.oldest_start.map_or(start, |s| s.min(start)));
    for (sum, n) in group.states.iter_mut().zip(process.states) {
        *sum += n;
    }
    for (wchan, n) in process.wchans {
        *group.wchans.entry(wchan).or_default() += n;
    }
}

/// Sums the threads' context switches and adds their states and wait
/// channels to `gauges`; `None` when the task directory cannot be read.
fn read_threads(task: &Path, gauges: &mut Gauges) -> Option<(u64, u64)> {
    let (mut voluntary, mut nonvoluntary) = (0, 0);
    for entry in std::fs::read_dir(task).ok()?.flatten() {
        let dir = entry.path();
        let Ok(Ok(stat)) = std::fs::File::open(dir.join("stat")).map(Stat::from_read) else {
            continue; // the thread exited
        };
        gauges.states[state_index(stat.state)] += 1;
        if let Some(status) = std::fs::File::open(dir.join("status"))
            .ok()
            .and_then(|f| Status::from_read(f).ok())
        {
            voluntary += status.voluntary_ctxt_switches.unwrap_or(0);
            nonvoluntary += status.nonvoluntary_ctxt_switches.unwrap_or(0);
        }
        if let Some(wchan) = wchan(&dir.join("wchan")) {
            *gauges.wchans.entry(wchan).or_default() += 1;
        }
    }
    Some((voluntary, nonvoluntary))
}

/// The kernel function a task sleeps in; `None` when running ("0") or unreadable.
fn wchan(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty() && text != "0").then(|| text.to_string())
}

/// `Pss:` and `SwapPss:` of smaps_rollup, in bytes.
fn smaps_rollup(path: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let kb = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    Some((kb("Pss:"), kb("SwapPss:")))
}

/// Kernel threads (and zombies) have an empty command line.
fn has_command_line(dir: &Path) -> bool {
    std::fs::read(dir.join("cmdline")).is_ok_and(|c| !c.is_empty())
}

/// `btime` of /proc/stat: boot time in seconds since the epoch.
fn boot_time(proc: &Path) -> f64 {
    std::fs::read_to_string(proc.join("stat"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("btime "))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(families: &[Family], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let family = families.iter().find(|f| f.name == name)?;
        family
            .samples
            .iter()
            .find(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(n, x)| n == k && x == v))
            })
            .map(|s| s.value)
    }

    #[test]
    fn this_test_process_is_in_its_group_and_counters_start_at_zero() {
        let mut collector = NamedProcess::new(false);
        let proc = Path::new("/proc");
        let mut first = Vec::new();
        collector.collect(proc, &mut first);
        let me = std::fs::read_to_string("/proc/self/comm").expect("comm");
        let me = me.trim();
        let group = [("groupname", me)];
        assert!(value(&first, "namedprocess_namegroup_num_procs", &group).unwrap_or(0.0) >= 1.0);
        assert!(value(&first, "namedprocess_namegroup_num_threads", &group).unwrap_or(0.0) >= 1.0);
        // Already running at the first collection: CPU counts from now on.
        let user = [("groupname", me), ("mode", "user")];
        assert_eq!(
            value(&first, "namedprocess_namegroup_cpu_seconds_total", &user),
            Some(0.0)
        );
        let start = value(
            &first,
            "namedprocess_namegroup_oldest_start_time_seconds",
            &group,
        )
        .expect("start time");
        assert!(start > 1e9, "{start}");
        // Burn some CPU; the group's counter follows.
        let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
        let mut x = 0u64;
        while std::time::Instant::now() < until {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let mut second = Vec::new();
        collector.collect(proc, &mut second);
        let cpu = value(&second, "namedprocess_namegroup_cpu_seconds_total", &user).expect("cpu");
        assert!(cpu >= 0.1, "{cpu}");
        // Kernel threads are not grouped.
        assert_eq!(
            value(
                &second,
                "namedprocess_namegroup_num_procs",
                &[("groupname", "kthreadd")]
            ),
            None
        );
    }

    #[test]
    fn smaps_and_wchan_parse() {
        let dir = std::env::temp_dir().join(format!("whyslow-np-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let smaps = dir.join("smaps_rollup");
        std::fs::write(
            &smaps,
            "00400000-7ffd [rollup]\nRss: 10 kB\nPss: 6 kB\nSwapPss: 2 kB\n",
        )
        .expect("write");
        assert_eq!(smaps_rollup(&smaps), Some((6144, 2048)));
        let w = dir.join("wchan");
        std::fs::write(&w, "0").expect("write");
        assert_eq!(wchan(&w), None);
        std::fs::write(&w, "do_wait").expect("write");
        assert_eq!(wchan(&w).as_deref(), Some("do_wait"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
