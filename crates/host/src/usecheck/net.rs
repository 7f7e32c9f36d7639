//! Network interfaces (throughput against link speed, drops, errors), TCP
//! (retransmit share, listen queue overflows, bad segments) and the system's
//! file descriptors (allocated against fs.file-max).
//!
//! Interfaces that are administratively down are left out; loopback is left
//! out by the netdev collector, as node_exporter does.

use super::metrics::{bytes, grade, pct, Pair, Verdict};
use super::thresholds as t;
use super::{Cell, Row, Status};

pub(crate) fn interface_rows(pair: &Pair) -> Vec<Row> {
    let links = super::metrics::label_values(
        &pair.after.families,
        "node_network_receive_bytes_total",
        "device",
    );
    links
        .iter()
        .filter(|l| pair.after.sys.link_state.get(*l).map(String::as_str) != Some("down"))
        .filter_map(|l| interface_row(pair, l))
        .collect()
}

fn interface_row(pair: &Pair, link: &str) -> Option<Row> {
    let l = [("device", link)];
    let rx = pair.rate("node_network_receive_bytes_total", &l)?;
    let tx = pair.rate("node_network_transmit_bytes_total", &l)?;
    let mut row = Row::new("network", Some(link.to_string()));
    row.metric("receive_bytes_per_second", Some(rx));
    row.metric("transmit_bytes_per_second", Some(tx));
    let speed = pair.after.sys.link_speed_mbps.get(link).copied();
    row.utilisation = Some(match speed {
        Some(mbps) => {
            let ratio = rx.max(tx) * 8.0 / (mbps * 1e6);
            row.metric("link_ratio", Some(ratio));
            row.metric("speed_bits_per_second", Some(mbps * 1e6));
            let mut verdict = Verdict::new();
            verdict.check(
                grade(ratio, t::LINK_WARN, Some(t::LINK_SATURATED)),
                || format!("{link} carries {} of its {mbps:.0} Mb/s link", pct(ratio)),
                t::NEXT_NETWORK,
            );
            verdict.cell(format!(
                "rx {}/s tx {}/s, {} of {mbps:.0} Mb/s",
                bytes(rx),
                bytes(tx),
                pct(ratio)
            ))
        }
        None => Cell::ok(format!(
            "rx {}/s tx {}/s (link speed unknown)",
            bytes(rx),
            bytes(tx)
        )),
    });
    let sum = |names: &[&str]| -> Option<f64> {
        names
            .iter()
            .map(|n| pair.delta(n, &l))
            .try_fold(0.0, |acc, d| Some(acc + d?))
    };
    let drops = sum(&[
        "node_network_receive_drop_total",
        "node_network_transmit_drop_total",
        "node_network_receive_fifo_total",
        "node_network_transmit_fifo_total",
    ]);
    row.metric("drops", drops);
    row.saturation = Some(match drops {
        Some(drops) => {
            let mut verdict = Verdict::new();
            verdict.check(
                grade(drops, 0.0, None),
                || format!("{link} dropped {drops:.0} packets (queues full or no buffer)"),
                t::NEXT_NETWORK,
            );
            verdict.cell(format!("{drops:.0} drops"))
        }
        None => Cell::unavailable(format!("no drop counters for {link}")),
    });
    let errors = sum(&[
        "node_network_receive_errs_total",
        "node_network_transmit_errs_total",
    ]);
    row.metric("errors", errors);
    row.errors = Some(match errors {
        Some(errors) => {
            let mut verdict = Verdict::new();
            verdict.check(
                grade(errors, 0.0, None),
                || format!("{link} counted {errors:.0} errors (bad frames, carrier losses)"),
                t::NEXT_NETWORK,
            );
            verdict.cell(format!("{errors:.0} errors"))
        }
        None => Cell::unavailable(format!("no error counters for {link}")),
    });
    Some(row)
}

pub(crate) fn tcp_row(pair: &Pair) -> Row {
    let mut row = Row::new("tcp", None);
    let missing = || pair.why_missing("netstat", "no Tcp lines in /proc/net/snmp");
    let out = pair.delta("node_netstat_Tcp_OutSegs", &[]);
    let retrans = pair.delta("node_netstat_Tcp_RetransSegs", &[]);
    let established = pair.now("node_netstat_Tcp_CurrEstab", &[]);
    row.metric("established", established);
    row.metric("out_segments_per_second", out.map(|o| o / pair.secs));
    row.utilisation = Some(match (established, out) {
        (Some(e), Some(o)) => Cell::ok(format!(
            "{e:.0} established, {:.0} segs/s out",
            o / pair.secs
        )),
        _ => Cell::unavailable(missing()),
    });
    let overflows = pair.delta("node_netstat_TcpExt_ListenOverflows", &[]);
    let listen_drops = pair.delta("node_netstat_TcpExt_ListenDrops", &[]);
    row.metric("retransmits", retrans);
    row.metric("listen_overflows", overflows);
    row.metric("listen_drops", listen_drops);
    row.saturation = Some(match (out, retrans) {
        (Some(out), Some(retrans)) => {
            let ratio = if out > 0.0 { retrans / out } else { 0.0 };
            row.metric("retransmit_ratio", Some(ratio));
            let mut verdict = Verdict::new();
            if out >= t::TCP_RETRANS_MIN_SEGMENTS {
                verdict.check(
                    grade(ratio, t::TCP_RETRANS_WARN, Some(t::TCP_RETRANS_SATURATED)),
                    || {
                        format!(
                            "{} of TCP segments were retransmitted: loss or a full path",
                            pct(ratio)
                        )
                    },
                    t::NEXT_NETWORK,
                );
            }
            let mut value = format!("retrans {}", pct(ratio));
            if let Some(o) = overflows {
                let d = listen_drops.unwrap_or(0.0);
                value.push_str(&format!(", listen overflows {o:.0}"));
                verdict.check(
                    grade(o.max(d), 0.0, Some(0.0)),
                    || format!("{o:.0} connections overflowed a listen queue ({d:.0} dropped): an application accepts too slowly"),
                    t::NEXT_CPU_SATURATED,
                );
            }
            verdict.cell(value)
        }
        _ => Cell::unavailable(missing()),
    });
    let in_errs = pair.delta("node_netstat_Tcp_InErrs", &[]);
    row.metric("in_errors", in_errs);
    row.errors = Some(match in_errs {
        Some(e) => {
            let mut verdict = Verdict::new();
            verdict.check(
                grade(e, 0.0, None),
                || format!("{e:.0} TCP segments arrived with errors (bad checksum)"),
                t::NEXT_NETWORK,
            );
            verdict.cell(format!("{e:.0} bad segments"))
        }
        None => Cell::unavailable(missing()),
    });
    row
}

pub(crate) fn fd_row(pair: &Pair) -> Row {
    let mut row = Row::new("file_descriptors", None);
    let allocated = pair.now("node_filefd_allocated", &[]);
    let maximum = pair.now("node_filefd_maximum", &[]);
    row.metric("allocated", allocated);
    row.metric("maximum", maximum);
    row.utilisation = Some(match (allocated, maximum) {
        (Some(a), Some(m)) if m > 0.0 => {
            let ratio = a / m;
            row.metric("used_ratio", Some(ratio));
            let mut verdict = Verdict::new();
            verdict.check(
                grade(ratio, t::FD_WARN, Some(t::FD_SATURATED)),
                || format!("{a:.0} of {m:.0} file handles allocated: open() fails with ENFILE at the limit"),
                t::NEXT_FDS,
            );
            verdict.cell(format!("{a:.0} of {m:.0} ({})", pct(ratio)))
        }
        _ => Cell {
            value: "unavailable".into(),
            status: Status::Unavailable,
            why: Some(pair.why_missing("filefd", "no /proc/sys/fs/file-nr")),
            next: None,
        },
    });
    row
}
