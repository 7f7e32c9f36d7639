//! The lines after perf's block: why hardware rows are `<not supported>` and
//! top-down is unavailable (one line each), then what is real (wall-time
//! breakdown, rusage, host steal and PSI). Compact and labelled; text mode only.

use crate::real::{HostDelta, RealStats, SchedScope};

/// ` hardware counters: not supported: REASON`.
pub fn hardware_line(reason: &str) -> String {
    format!(" hardware counters: not supported: {reason}\n")
}

/// ` top-down level 1: unavailable: REASON`.
pub fn topdown_line(reason: &str) -> String {
    format!(" top-down level 1: unavailable: {reason}\n")
}

fn pct(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

/// The real-numbers lines; `note` labels a `-r` summary (e.g. "last of 3 runs").
pub fn real_lines(real: &RealStats, note: Option<&str>) -> String {
    let mut out = String::new();
    let wall_s = real.wall_ns as f64 / 1e9;
    let note = note.map(|n| format!("; {n}")).unwrap_or_default();
    if let Some((s, scope)) = real.sched {
        let on = s.on_cpu_ns as f64 / 1e9;
        let rq = s.run_queue_ns as f64 / 1e9;
        let label = match scope {
            SchedScope::MainThread => Some("main thread, /proc/PID/schedstat"),
            SchedScope::Threads(1) => Some("its one thread, /proc/PID/task/*/schedstat"),
            SchedScope::Threads(_) => None,
        };
        match (scope, label) {
            (_, Some(label)) => {
                let rest = (wall_s - on - rq).max(0.0);
                out.push_str(&format!(
                    " wall {wall_s:.6} s: on-CPU {on:.6} s ({:.1}%), run-queue wait {rq:.6} s ({:.1}%), \
                     blocked/sleeping {rest:.6} s ({:.1}%)  [{label}{note}]\n",
                    pct(on, wall_s),
                    pct(rq, wall_s),
                    pct(rest, wall_s)
                ));
            }
            (SchedScope::Threads(n), None) => out.push_str(&format!(
                " wall {wall_s:.6} s: threads on-CPU {on:.6} s, waiting in the run queue {rq:.6} s  \
                 [{n} threads, /proc/PID/task/*/schedstat{note}]\n"
            )),
            (SchedScope::MainThread, None) => {}
        }
    }
    if let Some(r) = real.rusage {
        out.push_str(&format!(
            " rusage: user {:.6} s, sys {:.6} s; context switches {} voluntary, {} involuntary; \
             page faults {} minor, {} major; peak RSS {:.1} MiB\n",
            r.user_s,
            r.sys_s,
            r.voluntary_switches,
            r.involuntary_switches,
            r.minor_faults,
            r.major_faults,
            r.max_rss_kib as f64 / 1024.0
        ));
    }
    out.push_str(&host_line(&real.host, wall_s));
    out
}

/// ` host over the run: steal x.x%; PSI some: cpu … ms (…%), io …, memory …`.
fn host_line(host: &HostDelta, wall_s: f64) -> String {
    let mut parts = Vec::new();
    if let Some(steal) = host.steal_pct {
        parts.push(format!("steal {steal:.1}%"));
    }
    let psi: Vec<String> = ["cpu", "io", "memory"]
        .iter()
        .zip(host.psi_some_us)
        .filter_map(|(name, us)| {
            let ms = us? as f64 / 1e3;
            Some(format!("{name} {ms:.1} ms ({:.1}%)", pct(ms / 1e3, wall_s)))
        })
        .collect();
    if !psi.is_empty() {
        parts.push(format!("PSI some: {}", psi.join(", ")));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(" host over the run: {}\n", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real::{Rusage, SchedStat};

    #[test]
    fn labelled_lines() {
        let real = RealStats {
            wall_ns: 500_000_000,
            rusage: Some(Rusage {
                user_s: 0.17,
                sys_s: 0.004,
                voluntary_switches: 2,
                involuntary_switches: 31,
                minor_faults: 80,
                major_faults: 0,
                max_rss_kib: 2048,
            }),
            sched: Some((
                SchedStat {
                    on_cpu_ns: 175_000_000,
                    run_queue_ns: 130_000_000,
                    timeslices: 33,
                },
                SchedScope::MainThread,
            )),
            host: HostDelta {
                steal_pct: Some(1.25),
                psi_some_us: [Some(250_000), Some(0), None],
            },
        };
        let text = real_lines(&real, None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            " wall 0.500000 s: on-CPU 0.175000 s (35.0%), run-queue wait 0.130000 s (26.0%), \
             blocked/sleeping 0.195000 s (39.0%)  [main thread, /proc/PID/schedstat]"
        );
        assert!(lines[1].contains("31 involuntary") && lines[1].contains("peak RSS 2.0 MiB"));
        assert_eq!(
            lines[2],
            " host over the run: steal 1.2%; PSI some: cpu 250.0 ms (50.0%), io 0.0 ms (0.0%)"
        );
        assert_eq!(
            hardware_line("no hardware PMU"),
            " hardware counters: not supported: no hardware PMU\n"
        );
    }
}
