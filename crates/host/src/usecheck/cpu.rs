//! CPU: utilisation per CPU and in total (1 − idle − iowait − steal, as
//! kube-prometheus' `instance:node_cpu_utilisation:rate5m`), steal, the run
//! queue against the CPU count and PSI cpu `some`. No CPU error source
//! (MCE/EDAC) is read: the errors cell says so.

use super::metrics::{grade, pct, Pair, Verdict};
use super::thresholds as t;
use super::{Cell, CpuUtil, Row, Status};

const TIME: &str = "node_cpu_seconds_total";

pub(crate) fn row(pair: &Pair, run_queue: &[f64]) -> (Row, Vec<CpuUtil>) {
    let mut row = Row::new("cpu", None);
    let cpus = super::metrics::label_values(&pair.after.families, TIME, "cpu");
    let mut per_cpu = Vec::new();
    let (mut busy_sum, mut steal_sum, mut total_sum) = (0.0, 0.0, 0.0);
    for cpu in &cpus {
        let mode = |m: &str| pair.delta(TIME, &[("cpu", cpu), ("mode", m)]);
        let modes = [
            "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
        ];
        let total: f64 = modes.iter().filter_map(|m| mode(m)).sum();
        if total <= 0.0 {
            continue; // no ticks counted: the CPU went offline or the interval was too short
        }
        let idle = mode("idle").unwrap_or(0.0) + mode("iowait").unwrap_or(0.0);
        let steal = mode("steal").unwrap_or(0.0);
        per_cpu.push(CpuUtil {
            cpu: cpu.clone(),
            utilisation: ((total - idle - steal) / total).clamp(0.0, 1.0),
        });
        busy_sum += total - idle - steal;
        steal_sum += steal;
        total_sum += total;
    }
    let n = cpus.len().max(1) as f64;
    row.utilisation = Some(if total_sum > 0.0 {
        let util = (busy_sum / total_sum).clamp(0.0, 1.0);
        let steal = steal_sum / total_sum;
        row.metric("utilisation_ratio", Some(util));
        row.metric("steal_ratio", Some(steal));
        let hottest = per_cpu
            .iter()
            .max_by(|a, b| a.utilisation.total_cmp(&b.utilisation));
        let mut verdict = Verdict::new();
        verdict.check(
            grade(util, t::CPU_BUSY_WARN, None),
            || {
                format!(
                    "CPUs {} busy (> {}): find where the time goes",
                    pct(util),
                    pct(t::CPU_BUSY_WARN)
                )
            },
            t::NEXT_CPU_BUSY,
        );
        if let Some(hot) = hottest.filter(|_| per_cpu.len() > 1) {
            verdict.check(
                grade(hot.utilisation, t::ONE_CPU_PEGGED_WARN, None),
                || {
                    format!(
                        "cpu{} {} busy while the total is {}: a single-threaded bottleneck?",
                        hot.cpu,
                        pct(hot.utilisation),
                        pct(util)
                    )
                },
                t::NEXT_CPU_BUSY,
            );
        }
        verdict.check(
            grade(steal, t::CPU_STEAL_WARN, None),
            || format!("the hypervisor took {} of CPU time (steal)", pct(steal)),
            t::NEXT_CPU_BUSY,
        );
        let mut value = format!("{} of {} CPUs", pct(util), cpus.len());
        if let Some(hot) = hottest.filter(|_| per_cpu.len() > 1) {
            value.push_str(&format!(", max cpu{} {}", hot.cpu, pct(hot.utilisation)));
        }
        value.push_str(&format!(", steal {}", pct(steal)));
        verdict.cell(value)
    } else {
        Cell::unavailable(pair.why_missing("cpu", "no cpuN lines in /proc/stat"))
    });

    // Saturation: run queue per CPU and PSI cpu some.
    let queue = if run_queue.is_empty() {
        pair.now("node_procs_running", &[])
            .map(|r| (r - 1.0).max(0.0))
    } else {
        Some(run_queue.iter().sum::<f64>() / run_queue.len() as f64)
    };
    let psi = pair
        .delta("node_pressure_cpu_waiting_seconds_total", &[])
        .map(|s| (s / pair.secs).clamp(0.0, 1.0));
    row.metric("run_queue", queue);
    row.metric("run_queue_per_cpu", queue.map(|q| q / n));
    row.metric("psi_some_ratio", psi);
    let mut verdict = Verdict::new();
    let mut parts = Vec::new();
    match queue {
        Some(q) => {
            let per_cpu = q / n;
            parts.push(format!("run queue {q:.1} for {} CPUs", cpus.len()));
            verdict.check(
                grade(per_cpu, t::RUN_QUEUE_PER_CPU_WARN, Some(t::RUN_QUEUE_PER_CPU_SATURATED)),
                || {
                    format!(
                        "{q:.1} tasks runnable on average for {} CPUs ({per_cpu:.1}× > {}×): tasks wait for a CPU",
                        cpus.len(),
                        if per_cpu > t::RUN_QUEUE_PER_CPU_SATURATED { t::RUN_QUEUE_PER_CPU_SATURATED } else { t::RUN_QUEUE_PER_CPU_WARN }
                    )
                },
                t::NEXT_CPU_SATURATED,
            );
        }
        None => parts.push("run queue unavailable".into()),
    }
    match psi {
        Some(p) => {
            parts.push(format!("PSI some {}", pct(p)));
            verdict.check(
                grade(p, t::PSI_CPU_SOME_WARN, Some(t::PSI_CPU_SOME_SATURATED)),
                || {
                    format!(
                        "some task waited for a CPU {} of the time (PSI cpu some)",
                        pct(p)
                    )
                },
                t::NEXT_CPU_SATURATED,
            );
        }
        None => parts.push("PSI unavailable".into()),
    }
    row.saturation = Some(if queue.is_none() && psi.is_none() {
        Cell::unavailable(format!(
            "no run queue (/proc/stat procs_running) and no PSI ({})",
            pair.why_missing("pressure", "no /proc/pressure/cpu")
        ))
    } else {
        verdict.cell(parts.join(", "))
    });
    row.errors = Some(Cell {
        value: "not read".into(),
        status: Status::Unavailable,
        why: Some("CPU errors (machine checks, EDAC) are not read".into()),
        next: None,
    });
    (row, per_cpu)
}
