//! Disks: per device, busy share (iostat `%util` = Δio_time/Δt), average
//! queue size (aqu-sz = Δweighted io time/Δt), await (Δ(read+write time)/Δops)
//! and I/O errors from /sys/block/*/device/ioerr_cnt; plus PSI io for all
//! disks together.
//!
//! Busy alone never marks a disk saturated: NVMe, RAID and virtio devices
//! serve many requests at once, so 100 % busy can be far from full (research
//! note §6). The queue and await do.

use super::metrics::{bytes, grade, pct, Pair, Verdict};
use super::thresholds as t;
use super::{Cell, Row};

pub(crate) fn rows(pair: &Pair) -> Vec<Row> {
    let devices = super::metrics::label_values(
        &pair.after.families,
        "node_disk_io_time_seconds_total",
        "device",
    );
    devices.iter().filter_map(|d| device_row(pair, d)).collect()
}

fn device_row(pair: &Pair, device: &str) -> Option<Row> {
    let l = [("device", device)];
    let reads = pair.delta("node_disk_reads_completed_total", &l)?;
    let writes = pair.delta("node_disk_writes_completed_total", &l)?;
    let ever = pair
        .now("node_disk_reads_completed_total", &l)
        .unwrap_or(0.0)
        + pair
            .now("node_disk_writes_completed_total", &l)
            .unwrap_or(0.0);
    if ever == 0.0 {
        return None; // never used since boot (an empty zram, an unused drive)
    }
    let mut row = Row::new("disk", Some(device.to_string()));
    let busy = pair
        .rate("node_disk_io_time_seconds_total", &l)
        .map(|b| b.clamp(0.0, 1.0));
    let queue = pair.rate("node_disk_io_time_weighted_seconds_total", &l);
    let ops = reads + writes;
    let wait = pair
        .delta("node_disk_read_time_seconds_total", &l)
        .unwrap_or(0.0)
        + pair
            .delta("node_disk_write_time_seconds_total", &l)
            .unwrap_or(0.0);
    let await_ms = (ops > 0.0).then(|| wait / ops * 1000.0);
    let read_bps = pair.rate("node_disk_read_bytes_total", &l);
    let write_bps = pair.rate("node_disk_written_bytes_total", &l);
    row.metric("busy_ratio", busy);
    row.metric("queue_size", queue);
    row.metric("await_ms", await_ms);
    row.metric("ops_per_second", Some(ops / pair.secs));
    row.metric("read_bytes_per_second", read_bps);
    row.metric("write_bytes_per_second", write_bps);
    let rotational = pair.after.sys.disk_rotational.get(device).copied();

    row.utilisation = Some(match busy {
        Some(busy) => {
            let mut verdict = Verdict::new();
            verdict.check(
                grade(busy, t::DISK_BUSY_WARN, None),
                || {
                    format!(
                        "{device} busy {} of the time{}",
                        pct(busy),
                        if rotational == Some(true) {
                            ": a spinning disk serves one request at a time"
                        } else {
                            " (not saturation by itself on SSD/NVMe/virtio: see aqu-sz)"
                        }
                    )
                },
                t::NEXT_DISK,
            );
            verdict.cell(format!(
                "{} busy, r {}/s w {}/s",
                pct(busy),
                bytes(read_bps.unwrap_or(0.0)),
                bytes(write_bps.unwrap_or(0.0))
            ))
        }
        None => Cell::unavailable("no io_time in /proc/diskstats"),
    });

    let mut verdict = Verdict::new();
    let mut parts = Vec::new();
    if let Some(q) = queue {
        parts.push(format!("aqu-sz {q:.2}"));
        // A non-rotational device serves its queue in parallel: a deep queue whose
        // requests still complete fast is busy, not saturated.
        let fast =
            rotational == Some(false) && await_ms.is_some_and(|ms| ms <= t::DISK_AWAIT_MS_WARN);
        let mut status = grade(q, t::DISK_QUEUE_WARN, Some(t::DISK_QUEUE_SATURATED));
        if fast {
            status = status.min(super::Status::Warn);
        }
        verdict.check(
            status,
            || {
                let mut why =
                    format!("{q:.1} requests queued or in flight on average on {device} (aqu-sz)");
                if fast && q > t::DISK_QUEUE_SATURATED {
                    why.push_str(&format!(
                        ", but they complete in {:.1} ms: a parallel device keeping up",
                        await_ms.unwrap_or(0.0)
                    ));
                }
                why
            },
            t::NEXT_DISK,
        );
    }
    if let Some(ms) = await_ms {
        parts.push(format!("await {ms:.1} ms"));
        if ops >= t::DISK_AWAIT_MIN_OPS {
            verdict.check(
                grade(ms, t::DISK_AWAIT_MS_WARN, Some(t::DISK_AWAIT_MS_SATURATED)),
                || format!("{device} took {ms:.0} ms per request on average (await)"),
                t::NEXT_DISK,
            );
        }
    } else {
        parts.push("no requests".into());
    }
    row.saturation = Some(verdict.cell(parts.join(", ")));

    let errors_before = pair.before.sys.disk_io_errors.get(device);
    let errors_after = pair.after.sys.disk_io_errors.get(device);
    row.errors = Some(match (errors_before, errors_after) {
        (Some(&b), Some(&a)) => {
            let new = a.saturating_sub(b);
            row.metric("io_errors", Some(new as f64));
            let mut verdict = Verdict::new();
            verdict.check(
                grade(new as f64, 0.0, None),
                || format!("{new} new I/O errors on {device} (device/ioerr_cnt, {a} since boot): check dmesg"),
                t::NEXT_DISK,
            );
            verdict.cell(format!("{new} new ({a} since boot)"))
        }
        _ => Cell::unavailable(format!(
            "no /sys/block/{device}/device/ioerr_cnt (the driver does not count errors: virtio, NVMe)"
        )),
    });
    Some(row)
}

/// PSI io: the share of time some (or every) task waited for I/O, all disks together.
pub(crate) fn pressure_row(pair: &Pair) -> Row {
    let mut row = Row::new("io", None);
    let some = pair
        .delta("node_pressure_io_waiting_seconds_total", &[])
        .map(|s| (s / pair.secs).clamp(0.0, 1.0));
    let full = pair
        .delta("node_pressure_io_stalled_seconds_total", &[])
        .map(|s| (s / pair.secs).clamp(0.0, 1.0));
    row.metric("psi_some_ratio", some);
    row.metric("psi_full_ratio", full);
    row.saturation = Some(match (some, full) {
        (Some(some), Some(full)) => {
            let mut verdict = Verdict::new();
            verdict.check(
                grade(some, t::PSI_IO_SOME_WARN, None),
                || {
                    format!(
                        "some task waited for I/O {} of the time (PSI io some)",
                        pct(some)
                    )
                },
                t::NEXT_DISK,
            );
            verdict.check(
                grade(full, t::PSI_IO_FULL_WARN, Some(t::PSI_IO_FULL_SATURATED)),
                || {
                    format!(
                        "every task stalled on I/O {} of the time (PSI io full)",
                        pct(full)
                    )
                },
                t::NEXT_DISK,
            );
            verdict.cell(format!("PSI some {} full {}", pct(some), pct(full)))
        }
        _ => Cell::unavailable(pair.why_missing(
            "pressure",
            "no /proc/pressure/io (Linux 4.20+ with CONFIG_PSI)",
        )),
    });
    row
}
