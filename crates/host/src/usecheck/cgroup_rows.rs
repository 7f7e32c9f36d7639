//! The cgroup rows of the USE table: CPU use against the quota and
//! throttling (cpu.stat nr_throttled/nr_periods, cgroup cpu.pressure), memory
//! against the limit, limit hits and cgroup memory.pressure, OOM kills in the
//! cgroup; from two [`CgroupSample`]s.

use super::cgroup::CgroupSample;
use super::metrics::{bytes, grade, pct, Verdict};
use super::thresholds as t;
use super::{Cell, Row};

fn delta(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    let (b, a) = (before?, after?);
    (a >= b).then_some(a - b)
}

/// The cgroup cpu and memory rows.
pub(crate) fn rows(
    before: &CgroupSample,
    after: &CgroupSample,
    secs: f64,
    cpus: usize,
) -> Vec<Row> {
    if let Some(why) = &after.unavailable {
        let mut row = Row::new("cgroup", None);
        row.utilisation = Some(Cell::unavailable(why.clone()));
        return vec![row];
    }
    let version = after.version.unwrap_or("v2");
    vec![
        cpu_row(before, after, secs, cpus, version),
        memory_row(before, after, secs, version),
    ]
}

fn cpu_row(b: &CgroupSample, a: &CgroupSample, secs: f64, cpus: usize, version: &str) -> Row {
    let mut row = Row::new("cgroup_cpu", a.cpu_path.clone());
    let used = delta(b.cpu_usage_us, a.cpu_usage_us).map(|us| us / 1e6 / secs);
    row.metric("cpus_used", used);
    row.utilisation = Some(match (used, a.cpu_quota) {
        (Some(used), Some(Some(quota))) => {
            let ratio = used / quota;
            row.metric("quota_cpus", Some(quota));
            row.metric("quota_ratio", Some(ratio));
            let mut v = Verdict::new();
            v.check(
                grade(ratio, t::CGROUP_QUOTA_WARN, None),
                || format!("the cgroup used {used:.2} of its {quota:.2}-CPU quota ({version})"),
                t::NEXT_CPU_BUSY,
            );
            v.cell(format!(
                "{used:.2} of {quota:.2} CPUs quota ({})",
                pct(ratio)
            ))
        }
        (Some(used), Some(None)) => {
            Cell::ok(format!("{used:.2} CPUs used, no quota ({cpus} CPUs)"))
        }
        _ => Cell::unavailable(format!("no cgroup CPU usage or quota files ({version})")),
    });
    let periods = delta(b.nr_periods, a.nr_periods);
    let throttled = delta(b.nr_throttled, a.nr_throttled);
    let throttled_s = delta(b.throttled_us, a.throttled_us).map(|us| us / 1e6);
    let psi_some = delta(b.psi_cpu_some_us, a.psi_cpu_some_us).map(|us| (us / 1e6 / secs).min(1.0));
    row.metric("throttled_periods", throttled);
    row.metric("throttled_seconds", throttled_s);
    row.metric("psi_some_ratio", psi_some);
    let mut v = Verdict::new();
    let mut parts = Vec::new();
    if let (Some(p), Some(th)) = (periods, throttled) {
        let ratio = if p > 0.0 { th / p } else { 0.0 };
        row.metric("throttled_ratio", Some(ratio));
        parts.push(format!(
            "throttled {th:.0}/{p:.0} periods ({:.2} s)",
            throttled_s.unwrap_or(0.0)
        ));
        v.check(
            grade(
                ratio,
                t::CGROUP_THROTTLED_WARN,
                Some(t::CGROUP_THROTTLED_SATURATED),
            ),
            || {
                format!(
                    "the CPU quota stopped the cgroup in {} of its periods (nr_throttled)",
                    pct(ratio)
                )
            },
            t::NEXT_CPU_SATURATED,
        );
    }
    if let Some(p) = psi_some {
        parts.push(format!("PSI some {}", pct(p)));
        v.check(
            grade(p, t::PSI_CPU_SOME_WARN, Some(t::PSI_CPU_SOME_SATURATED)),
            || {
                format!(
                    "a task of the cgroup waited for a CPU {} of the time (cpu.pressure)",
                    pct(p)
                )
            },
            t::NEXT_CPU_SATURATED,
        );
    }
    row.saturation = Some(if parts.is_empty() {
        Cell::unavailable(format!(
            "no cpu.stat throttling counters or cpu.pressure ({version})"
        ))
    } else {
        v.cell(parts.join(", "))
    });
    row
}

fn memory_row(b: &CgroupSample, a: &CgroupSample, secs: f64, version: &str) -> Row {
    let mut row = Row::new("cgroup_memory", a.memory_path.clone());
    row.metric("usage_bytes", a.memory_usage);
    row.utilisation = Some(match (a.memory_usage, a.memory_limit) {
        (Some(usage), Some(Some(limit))) if limit > 0.0 => {
            let ratio = usage / limit;
            row.metric("limit_bytes", Some(limit));
            row.metric("limit_ratio", Some(ratio));
            let mut v = Verdict::new();
            v.check(
                grade(ratio, t::CGROUP_MEMORY_WARN, None),
                || {
                    format!(
                        "the cgroup uses {} of its {} limit: reclaim, then OOM kills",
                        pct(ratio),
                        bytes(limit)
                    )
                },
                t::NEXT_MEMORY,
            );
            v.cell(format!(
                "{} of {} limit ({})",
                bytes(usage),
                bytes(limit),
                pct(ratio)
            ))
        }
        (Some(usage), Some(None)) => Cell::ok(format!("{}, no limit", bytes(usage))),
        _ => Cell::unavailable(format!("no cgroup memory usage or limit files ({version})")),
    });
    let some =
        delta(b.psi_memory_some_us, a.psi_memory_some_us).map(|us| (us / 1e6 / secs).min(1.0));
    let full =
        delta(b.psi_memory_full_us, a.psi_memory_full_us).map(|us| (us / 1e6 / secs).min(1.0));
    let hits = delta(b.memory_limit_hits, a.memory_limit_hits);
    row.metric("psi_some_ratio", some);
    row.metric("psi_full_ratio", full);
    row.metric("limit_hits", hits);
    let mut v = Verdict::new();
    let mut parts = Vec::new();
    if let (Some(s), Some(f)) = (some, full) {
        parts.push(format!("PSI some {} full {}", pct(s), pct(f)));
        v.check(
            grade(s, t::PSI_MEMORY_SOME_WARN, None),
            || {
                format!(
                    "a task of the cgroup waited for memory {} of the time",
                    pct(s)
                )
            },
            t::NEXT_MEMORY,
        );
        v.check(
            grade(
                f,
                t::PSI_MEMORY_FULL_WARN,
                Some(t::PSI_MEMORY_FULL_SATURATED),
            ),
            || {
                format!(
                    "every task of the cgroup stalled on memory {} of the time",
                    pct(f)
                )
            },
            t::NEXT_MEMORY,
        );
    }
    if let Some(h) = hits {
        parts.push(format!("{h:.0} limit hits"));
        v.check(
            grade(h, 0.0, None),
            || format!("the cgroup hit memory.high/max {h:.0} times: reclaim was forced"),
            t::NEXT_MEMORY,
        );
    }
    row.saturation = Some(if parts.is_empty() {
        Cell::unavailable(format!(
            "no memory.pressure or memory.events ({version}: PSI per cgroup needs v2)"
        ))
    } else {
        v.cell(parts.join(", "))
    });
    let kills = delta(b.oom_kills, a.oom_kills);
    row.metric("oom_kills", kills);
    row.errors = Some(match kills {
        Some(k) => {
            let mut v = Verdict::new();
            v.check(
                grade(k, 0.0, Some(0.0)),
                || format!("the kernel OOM-killed {k:.0} process(es) in the cgroup at its limit"),
                t::NEXT_MEMORY,
            );
            v.cell(format!("{k:.0} OOM kills"))
        }
        None => Cell::unavailable(format!(
            "no oom_kill in memory.events / memory.oom_control ({version})"
        )),
    });
    row
}
