//! The netdev collector: per-interface counters as node_exporter (netlink
//! mode, its default) names them, `node_network_{receive,transmit}_<stat>_total`
//! with a `device` label. /proc/net/dev (parsed with `procfs-core`) carries
//! the same sums node_exporter's netlink path builds from the link's
//! rtnl_link_stats64 (drop = dropped + missed, frame = length + over + crc +
//! frame errors, carrier = aborted + carrier + heartbeat + window errors);
//! `receive_nohandler` is not in /proc/net/dev and comes from
//! /sys/class/net/<dev>/statistics/rx_nohandler (absent when sysfs lacks it).
//!
//! Devices matching `^lo$` are left out: the default `--collector.netdev.
//! device-exclude` of Debian's node_exporter 1.5.0 build.

use crate::read::{parse_error, read};
use crate::{CollectError, Family, Kind, Paths};
use procfs_core::net::{DeviceStatus, InterfaceDeviceStatus};
use procfs_core::FromBufRead;
use regex::Regex;

/// Debian node_exporter 1.5.0's default device exclude.
pub const DEFAULT_DEVICE_EXCLUDE: &str = "^lo$";

/// Reads one counter of a device.
type Get = fn(&DeviceStatus) -> u64;

pub(crate) struct Netdev {
    exclude: Regex,
}

impl Netdev {
    pub(crate) fn new() -> Self {
        Self {
            exclude: Regex::new(DEFAULT_DEVICE_EXCLUDE).expect("constant regex"),
        }
    }

    pub(crate) fn collect(
        &mut self,
        paths: &Paths,
        out: &mut Vec<Family>,
    ) -> Result<(), CollectError> {
        let path = paths.proc.join("net/dev");
        let text = read(&path)?;
        let InterfaceDeviceStatus(devices) = InterfaceDeviceStatus::from_buf_read(text.as_bytes())
            .map_err(|e| parse_error(&path, e.to_string()))?;
        let mut devices: Vec<_> = devices
            .into_values()
            .filter(|d| !self.exclude.is_match(&d.name))
            .collect();
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        let stats: [(&str, Get); 16] = [
            ("receive_bytes", |d| d.recv_bytes),
            ("receive_compressed", |d| d.recv_compressed),
            ("receive_drop", |d| d.recv_drop),
            ("receive_errs", |d| d.recv_errs),
            ("receive_fifo", |d| d.recv_fifo),
            ("receive_frame", |d| d.recv_frame),
            ("receive_multicast", |d| d.recv_multicast),
            ("receive_packets", |d| d.recv_packets),
            ("transmit_bytes", |d| d.sent_bytes),
            ("transmit_carrier", |d| d.sent_carrier),
            ("transmit_colls", |d| d.sent_colls),
            ("transmit_compressed", |d| d.sent_compressed),
            ("transmit_drop", |d| d.sent_drop),
            ("transmit_errs", |d| d.sent_errs),
            ("transmit_fifo", |d| d.sent_fifo),
            ("transmit_packets", |d| d.sent_packets),
        ];
        for (stat, get) in stats {
            let mut family = family(stat);
            for device in &devices {
                family.push(vec![("device", device.name.clone())], get(device) as f64);
            }
            out.push(family);
        }
        let mut nohandler = family("receive_nohandler");
        for device in &devices {
            let file = paths
                .sys
                .join("class/net")
                .join(&device.name)
                .join("statistics/rx_nohandler");
            if let Some(value) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| t.trim().parse::<f64>().ok())
            {
                nohandler.push(vec![("device", device.name.clone())], value);
            }
        }
        out.push(nohandler);
        Ok(())
    }
}

fn family(stat: &str) -> Family {
    Family::new(
        format!("node_network_{stat}_total"),
        format!("Network device statistic {stat}."),
        Kind::Counter,
    )
}
