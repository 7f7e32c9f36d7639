//! Memory: used share (1 − MemAvailable/MemTotal), PSI memory some/full,
//! major faults/s, swap-in/out pages/s and OOM kills in the interval
//! (/proc/meminfo, /proc/pressure/memory, /proc/vmstat).

use super::metrics::{bytes, grade, pct, Pair, Verdict};
use super::thresholds as t;
use super::{Cell, Row, Status};

pub(crate) fn row(pair: &Pair) -> Row {
    let mut row = Row::new("memory", None);
    let total = pair.now("node_memory_MemTotal_bytes", &[]);
    let available = pair.now("node_memory_MemAvailable_bytes", &[]);
    row.utilisation = Some(match (total, available) {
        (Some(total), Some(available)) if total > 0.0 => {
            let used = (1.0 - available / total).clamp(0.0, 1.0);
            row.metric("used_ratio", Some(used));
            row.metric("available_bytes", Some(available));
            row.metric("total_bytes", Some(total));
            let mut verdict = Verdict::new();
            verdict.check(
                grade(used, t::MEMORY_USED_WARN, None),
                || {
                    format!(
                        "{} used, {} available: little room before reclaim and swapping",
                        pct(used),
                        bytes(available)
                    )
                },
                t::NEXT_MEMORY,
            );
            verdict.cell(format!(
                "{} used, {} of {} available",
                pct(used),
                bytes(available),
                bytes(total)
            ))
        }
        _ => Cell::unavailable(pair.why_missing(
            "meminfo",
            "no MemTotal/MemAvailable in /proc/meminfo (MemAvailable: Linux 3.14+)",
        )),
    });

    let some = pair
        .delta("node_pressure_memory_waiting_seconds_total", &[])
        .map(|s| (s / pair.secs).clamp(0.0, 1.0));
    let full = pair
        .delta("node_pressure_memory_stalled_seconds_total", &[])
        .map(|s| (s / pair.secs).clamp(0.0, 1.0));
    let faults = pair.rate("node_vmstat_pgmajfault", &[]);
    let swap_in = pair.rate("node_vmstat_pswpin", &[]);
    let swap_out = pair.rate("node_vmstat_pswpout", &[]);
    row.metric("psi_some_ratio", some);
    row.metric("psi_full_ratio", full);
    row.metric("major_faults_per_second", faults);
    row.metric("swap_in_pages_per_second", swap_in);
    row.metric("swap_out_pages_per_second", swap_out);
    let mut verdict = Verdict::new();
    let mut parts = Vec::new();
    match (some, full) {
        (Some(some), Some(full)) => {
            parts.push(format!("PSI some {} full {}", pct(some), pct(full)));
            verdict.check(
                grade(some, t::PSI_MEMORY_SOME_WARN, None),
                || {
                    format!(
                        "some task waited for memory {} of the time (PSI memory some)",
                        pct(some)
                    )
                },
                t::NEXT_MEMORY,
            );
            verdict.check(
                grade(
                    full,
                    t::PSI_MEMORY_FULL_WARN,
                    Some(t::PSI_MEMORY_FULL_SATURATED),
                ),
                || {
                    format!(
                        "every task stalled on memory {} of the time (PSI memory full)",
                        pct(full)
                    )
                },
                t::NEXT_MEMORY,
            );
        }
        _ => parts.push("PSI unavailable".into()),
    }
    if let Some(faults) = faults {
        parts.push(format!("{faults:.0} major faults/s"));
        verdict.check(
            grade(
                faults,
                t::MAJOR_FAULTS_WARN,
                Some(t::MAJOR_FAULTS_SATURATED),
            ),
            || {
                format!(
                    "{faults:.0} major page faults/s: pages are read back from disk (sort by RSS)"
                )
            },
            t::NEXT_MEMORY,
        );
    }
    if let (Some(si), Some(so)) = (swap_in, swap_out) {
        parts.push(format!("swap {si:.0} in {so:.0} out pages/s"));
        verdict.check(
            grade(si + so, t::SWAP_PAGES_WARN, Some(t::SWAP_PAGES_SATURATED)),
            || {
                format!(
                    "swapping {si:.0} pages/s in and {so:.0} out: memory is short (sort by RSS)"
                )
            },
            t::NEXT_MEMORY,
        );
    }
    row.saturation = Some(if some.is_none() && faults.is_none() && swap_in.is_none() {
        Cell::unavailable(format!(
            "no PSI ({}) and no /proc/vmstat",
            pair.why_missing("pressure", "no /proc/pressure/memory")
        ))
    } else {
        verdict.cell(parts.join(", "))
    });

    let oom = pair.delta("node_vmstat_oom_kill", &[]);
    row.metric("oom_kills", oom);
    row.errors = Some(match oom {
        Some(kills) if kills > 0.0 => Cell {
            value: format!("{kills:.0} OOM kills"),
            status: Status::Saturated,
            why: Some(format!(
                "the kernel killed {kills:.0} process(es) to free memory (oom_kill in /proc/vmstat)"
            )),
            next: Some(t::NEXT_MEMORY.into()),
        },
        Some(_) => Cell::ok("0 OOM kills"),
        None => Cell::unavailable(
            pair.why_missing("vmstat", "no oom_kill in /proc/vmstat (Linux 4.13+)"),
        ),
    });
    row
}
