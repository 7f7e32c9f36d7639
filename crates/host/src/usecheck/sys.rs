//! The few /sys files `whyslow use` needs that the node_exporter-named
//! collectors do not export: disk I/O error counts and rotational flags, link
//! speeds and operational states. A file the driver lacks leaves its entry
//! out (reported as unavailable), never zero.

use super::metrics;
use crate::{Family, Paths};
use std::collections::BTreeMap;

/// /sys facts the collectors do not export, per device.
#[derive(Debug, Clone, Default)]
pub struct SysFacts {
    /// `/sys/block/<dev>/device/ioerr_cnt` where the driver has it (SCSI, SATA).
    pub disk_io_errors: BTreeMap<String, u64>,
    /// `/sys/block/<dev>/queue/rotational`.
    pub disk_rotational: BTreeMap<String, bool>,
    /// `/sys/class/net/<if>/speed` in Mb/s, where the driver knows it.
    pub link_speed_mbps: BTreeMap<String, f64>,
    /// `/sys/class/net/<if>/operstate`.
    pub link_state: BTreeMap<String, String>,
}

/// Reads the facts for the disks and links the collectors found.
pub(crate) fn read(paths: &Paths, families: &[Family]) -> SysFacts {
    let mut facts = SysFacts::default();
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).ok();
    for disk in metrics::label_values(families, "node_disk_io_time_seconds_total", "device") {
        let block = paths.sys.join("block").join(&disk);
        if let Some(count) = read(block.join("device/ioerr_cnt")).and_then(|t| parse_count(&t)) {
            facts.disk_io_errors.insert(disk.clone(), count);
        }
        if let Some(rot) = read(block.join("queue/rotational")) {
            facts.disk_rotational.insert(disk, rot.trim() == "1");
        }
    }
    for link in metrics::label_values(families, "node_network_receive_bytes_total", "device") {
        let class = paths.sys.join("class/net").join(&link);
        // Reading `speed` of a link that is down or virtual fails with EINVAL or gives -1.
        if let Some(speed) = read(class.join("speed"))
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|s| *s > 0.0)
        {
            facts.link_speed_mbps.insert(link.clone(), speed);
        }
        if let Some(state) = read(class.join("operstate")) {
            facts.link_state.insert(link, state.trim().to_string());
        }
    }
    facts
}

/// `ioerr_cnt` is hexadecimal (`0x1a`) on SCSI; accept decimal too.
fn parse_count(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}
