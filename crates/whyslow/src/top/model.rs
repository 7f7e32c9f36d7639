//! What `whyslow top` shows, as plain data: the latest [`Tick`] turned into
//! header facts, summary cells, CPU bars and process rows, plus the view
//! state the keys change (sort order, name filter). Rendering is a pure
//! function of a [`Model`]; sampling only calls [`Model::update`].

use super::sample::Tick;
use super::summary::{summarize, SummaryCell};
use std::time::Duration;

/// The process table's sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// CPU %, highest first.
    Cpu,
    /// RSS, largest first.
    Memory,
    /// Read + write bytes/s, highest first (unreadable I/O last).
    Io,
    /// PID, lowest first.
    Pid,
}

impl SortKey {
    /// The column title the sort follows.
    pub fn column(self) -> &'static str {
        match self {
            SortKey::Cpu => "CPU%",
            SortKey::Memory => "RSS",
            SortKey::Io => "IO/s",
            SortKey::Pid => "PID",
        }
    }
}

/// One process row, as measured over the last interval.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcRow {
    pub pid: u32,
    /// The effective user's name (its number when /etc/passwd lacks it).
    pub user: String,
    /// `R`, `S`, `D`, `Z`, ...
    pub state: char,
    pub threads: u64,
    /// 100 = one CPU for the whole interval.
    pub cpu_percent: f64,
    pub rss_bytes: u64,
    /// `None`: /proc/PID/io is not readable (another user's process).
    pub read_bps: Option<f64>,
    pub write_bps: Option<f64>,
    /// The command name (`comm`).
    pub name: String,
    /// The full command line; empty for kernel threads.
    pub cmdline: String,
}

impl ProcRow {
    /// What the COMMAND column shows: the command line with the program's
    /// directory left out (`/usr/lib/postgresql/15/bin/postgres -D x` →
    /// `postgres -D x`, the part that fits), or `[name]` for a kernel thread.
    pub fn command(&self) -> String {
        if self.cmdline.is_empty() {
            return format!("[{}]", self.name);
        }
        let (program, args) = self
            .cmdline
            .split_once(' ')
            .map_or((self.cmdline.as_str(), None), |(p, a)| (p, Some(a)));
        let program = program
            .rsplit('/')
            .next()
            .filter(|p| !p.is_empty())
            .unwrap_or(program);
        match args {
            Some(args) => format!("{program} {args}"),
            None => program.to_string(),
        }
    }

    fn io(&self) -> Option<f64> {
        match (self.read_bps, self.write_bps) {
            (None, None) => None,
            (r, w) => Some(r.unwrap_or(0.0) + w.unwrap_or(0.0)),
        }
    }
}

/// Everything the screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub hostname: String,
    pub interval: Duration,
    /// Seconds since boot; `None` until the first tick or without /proc/stat btime.
    pub uptime: Option<f64>,
    pub load: Option<[f64; 3]>,
    /// Utilisation of each CPU, 0..=1.
    pub cpus: Vec<f64>,
    pub summary: Vec<SummaryCell>,
    pub processes: Vec<ProcRow>,
    pub sort: SortKey,
    /// Case-insensitive substring of the name or command line; empty shows all.
    pub filter: String,
    /// The filter is being typed (keys go to it).
    pub editing_filter: bool,
    /// False until the first interval has been measured.
    pub sampled: bool,
    /// A problem with the last sample, shown in the help line.
    pub error: Option<String>,
    pub quit: bool,
    /// User names by uid, read from /etc/passwd at the first sample.
    users: Option<std::collections::HashMap<u32, String>>,
}

impl Model {
    pub fn new(hostname: String, interval: Duration) -> Self {
        Self {
            hostname,
            interval,
            uptime: None,
            load: None,
            cpus: Vec::new(),
            summary: Vec::new(),
            processes: Vec::new(),
            sort: SortKey::Cpu,
            filter: String::new(),
            editing_filter: false,
            sampled: false,
            error: None,
            quit: false,
            users: None,
        }
    }

    /// Takes one sampling step's measurements.
    pub fn update(&mut self, tick: &Tick) {
        self.uptime = tick.host.uptime;
        self.load = tick.host.load;
        self.cpus = tick.host.cpus.clone();
        self.summary = summarize(&tick.host);
        let users = self
            .users
            .get_or_insert_with(|| host::process::user_names(std::path::Path::new("/etc/passwd")));
        self.processes = tick
            .processes
            .iter()
            .map(|r| ProcRow {
                pid: r.process.pid,
                user: r.process.uid.map_or_else(
                    || "?".to_string(),
                    |uid| users.get(&uid).cloned().unwrap_or_else(|| uid.to_string()),
                ),
                state: r.process.state,
                threads: r.process.threads,
                cpu_percent: r.cpu_percent,
                rss_bytes: r.process.rss_bytes,
                read_bps: r.read_bytes_per_s,
                write_bps: r.write_bytes_per_s,
                name: r.process.comm.clone(),
                cmdline: tick
                    .cmdlines
                    .get(&r.process.pid)
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        self.sampled = true;
        self.error = None;
    }

    /// The rows the table shows: filtered by name, in sort order.
    pub fn visible(&self) -> Vec<&ProcRow> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<&ProcRow> = self
            .processes
            .iter()
            .filter(|p| {
                needle.is_empty()
                    || p.name.to_lowercase().contains(&needle)
                    || p.cmdline.to_lowercase().contains(&needle)
            })
            .collect();
        let desc = |a: f64, b: f64| b.total_cmp(&a);
        rows.sort_by(|a, b| {
            let order = match self.sort {
                SortKey::Cpu => desc(a.cpu_percent, b.cpu_percent),
                SortKey::Memory => b.rss_bytes.cmp(&a.rss_bytes),
                SortKey::Io => desc(a.io().unwrap_or(-1.0), b.io().unwrap_or(-1.0)),
                SortKey::Pid => std::cmp::Ordering::Equal,
            };
            order.then(a.pid.cmp(&b.pid))
        });
        rows
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn row(pid: u32, name: &str, cpu: f64, rss: u64, io: Option<f64>) -> ProcRow {
        ProcRow {
            pid,
            user: if pid == 880 {
                "www-data".into()
            } else {
                "root".into()
            },
            state: 'S',
            threads: 1,
            cpu_percent: cpu,
            rss_bytes: rss,
            read_bps: io,
            write_bps: io.map(|_| 0.0),
            name: name.to_string(),
            cmdline: if name.starts_with('k') {
                String::new()
            } else {
                format!("/usr/bin/{name} --flag")
            },
        }
    }

    #[test]
    fn sorts_by_each_key_and_filters_by_name_or_command_line() {
        let mut m = Model::new("h".into(), Duration::from_secs(1));
        m.processes = vec![
            row(30, "postgres", 5.0, 900, Some(10.0)),
            row(10, "kworker", 50.0, 0, None),
            row(20, "nginx", 1.0, 5000, Some(900.0)),
        ];
        let pids = |m: &Model| m.visible().iter().map(|r| r.pid).collect::<Vec<_>>();
        assert_eq!(pids(&m), [10, 30, 20]);
        m.sort = SortKey::Memory;
        assert_eq!(pids(&m), [20, 30, 10]);
        m.sort = SortKey::Io;
        assert_eq!(pids(&m), [20, 30, 10]);
        m.sort = SortKey::Pid;
        assert_eq!(pids(&m), [10, 20, 30]);
        m.filter = "GINX".into();
        assert_eq!(pids(&m), [20]);
        m.filter = "--flag".into();
        assert_eq!(pids(&m), [20, 30]);
        assert_eq!(m.processes[1].command(), "[kworker]");
        assert_eq!(m.processes[2].command(), "nginx --flag");
        m.processes[2].cmdline = "/opt/a b/x --c /d/e".into();
        assert_eq!(m.processes[2].command(), "a b/x --c /d/e");
        m.processes[2].cmdline = "/usr/sbin/sshd".into();
        assert_eq!(m.processes[2].command(), "sshd");
    }
}
