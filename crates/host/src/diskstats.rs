//! The diskstats collector: /proc/diskstats (parsed with `procfs-core`) as
//! node_exporter's `node_disk_*` families, sectors as 512-byte bytes and
//! milliseconds as seconds; the discard and flush families only where the
//! kernel has those columns (4.18+, 5.5+). `node_disk_info` carries the udev
//! properties node_exporter reads from /run/udev/data/b<major>:<minor> (empty
//! strings when udev has no database, as there), plus
//! `node_disk_device_mapper_info` and the `node_disk_ata_*` gauges where udev
//! knows them.
//!
//! Devices matching node_exporter 1.5.0's default `--collector.diskstats.
//! device-exclude` (partitions, ram, loop, fd) are left out; newer
//! node_exporters also exclude `zram`.

use crate::read::{parse_error, read};
use crate::{CollectError, Family, Kind, Paths};
use procfs_core::{DiskStat, DiskStats, FromBufRead};
use regex::Regex;
use std::collections::HashMap;

/// node_exporter 1.5.0's default device exclude.
pub const DEFAULT_DEVICE_EXCLUDE: &str = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$";

const MS: f64 = 0.001;
const SECTOR: f64 = 512.0;

type Get = fn(&DiskStat) -> Option<f64>;

/// (metric, HELP, TYPE, value) for each /proc/diskstats column node_exporter exports.
const COLUMNS: [(&str, &str, Kind, Get); 17] = [
    (
        "node_disk_reads_completed_total",
        "The total number of reads completed successfully.",
        Kind::Counter,
        |d| Some(d.reads as f64),
    ),
    (
        "node_disk_reads_merged_total",
        "The total number of reads merged.",
        Kind::Counter,
        |d| Some(d.merged as f64),
    ),
    (
        "node_disk_read_bytes_total",
        "The total number of bytes read successfully.",
        Kind::Counter,
        |d| Some(d.sectors_read as f64 * SECTOR),
    ),
    (
        "node_disk_read_time_seconds_total",
        "The total number of seconds spent by all reads.",
        Kind::Counter,
        |d| Some(d.time_reading as f64 * MS),
    ),
    (
        "node_disk_writes_completed_total",
        "The total number of writes completed successfully.",
        Kind::Counter,
        |d| Some(d.writes as f64),
    ),
    (
        "node_disk_writes_merged_total",
        "The number of writes merged.",
        Kind::Counter,
        |d| Some(d.writes_merged as f64),
    ),
    (
        "node_disk_written_bytes_total",
        "The total number of bytes written successfully.",
        Kind::Counter,
        |d| Some(d.sectors_written as f64 * SECTOR),
    ),
    (
        "node_disk_write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
        Kind::Counter,
        |d| Some(d.time_writing as f64 * MS),
    ),
    (
        "node_disk_io_now",
        "The number of I/Os currently in progress.",
        Kind::Gauge,
        |d| Some(d.in_progress as f64),
    ),
    (
        "node_disk_io_time_seconds_total",
        "Total seconds spent doing I/Os.",
        Kind::Counter,
        |d| Some(d.time_in_progress as f64 * MS),
    ),
    (
        "node_disk_io_time_weighted_seconds_total",
        "The weighted # of seconds spent doing I/Os.",
        Kind::Counter,
        |d| Some(d.weighted_time_in_progress as f64 * MS),
    ),
    (
        "node_disk_discards_completed_total",
        "The total number of discards completed successfully.",
        Kind::Counter,
        |d| d.discards.map(|v| v as f64),
    ),
    (
        "node_disk_discards_merged_total",
        "The total number of discards merged.",
        Kind::Counter,
        |d| d.discards_merged.map(|v| v as f64),
    ),
    (
        "node_disk_discarded_sectors_total",
        "The total number of sectors discarded successfully.",
        Kind::Counter,
        |d| d.sectors_discarded.map(|v| v as f64),
    ),
    (
        "node_disk_discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        Kind::Counter,
        |d| d.time_discarding.map(|v| v as f64 * MS),
    ),
    (
        "node_disk_flush_requests_total",
        "The total number of flush requests completed successfully",
        Kind::Counter,
        |d| d.flushes.map(|v| v as f64),
    ),
    (
        "node_disk_flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        Kind::Counter,
        |d| d.time_flushing.map(|v| v as f64 * MS),
    ),
];

pub(crate) struct Diskstats {
    exclude: Regex,
}

impl Diskstats {
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
        let path = paths.proc.join("diskstats");
        let text = read(&path)?;
        let DiskStats(disks) = DiskStats::from_buf_read(text.as_bytes())
            .map_err(|e| parse_error(&path, e.to_string()))?;
        let disks: Vec<DiskStat> = disks
            .into_iter()
            .filter(|d| !self.exclude.is_match(&d.name))
            .collect();
        for (name, help, kind, get) in COLUMNS {
            let mut family = Family::new(name, help, kind);
            for disk in &disks {
                if let Some(value) = get(disk) {
                    family.push(vec![("device", disk.name.clone())], value);
                }
            }
            out.push(family);
        }
        let mut info = Family::new(
            "node_disk_info",
            "Info of /sys/block/<block_device>.",
            Kind::Gauge,
        );
        let mut dm = Family::new(
            "node_disk_device_mapper_info",
            "Info about disk device mapper.",
            Kind::Gauge,
        );
        let mut ata = [
            (
                "node_disk_ata_write_cache",
                "ATA disk has a write cache.",
                "ID_ATA_WRITE_CACHE",
            ),
            (
                "node_disk_ata_write_cache_enabled",
                "ATA disk has its write cache enabled.",
                "ID_ATA_WRITE_CACHE_ENABLED",
            ),
            (
                "node_disk_ata_rotation_rate_rpm",
                "ATA disk rotation rate in RPMs (0 for SSDs).",
                "ID_ATA_ROTATION_RATE_RPM",
            ),
        ]
        .map(|(name, help, key)| (Family::new(name, help, Kind::Gauge), key));
        for disk in &disks {
            let udev = udev_properties(paths, disk.major, disk.minor);
            let get = |key: &str| udev.get(key).cloned().unwrap_or_default();
            let serial = Some(get("SCSI_IDENT_SERIAL"))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| get("ID_SERIAL_SHORT"));
            info.push(
                vec![
                    ("device", disk.name.clone()),
                    ("major", disk.major.to_string()),
                    ("minor", disk.minor.to_string()),
                    ("path", get("ID_PATH")),
                    ("wwn", get("ID_WWN")),
                    ("model", get("ID_MODEL")),
                    ("serial", serial),
                    ("revision", get("ID_REVISION")),
                ],
                1.0,
            );
            if udev.contains_key("DM_NAME") {
                dm.push(
                    vec![
                        ("device", disk.name.clone()),
                        ("name", get("DM_NAME")),
                        ("uuid", get("DM_UUID")),
                        ("vg_name", get("DM_VG_NAME")),
                        ("lv_name", get("DM_LV_NAME")),
                        ("lv_layer", get("DM_LV_LAYER")),
                    ],
                    1.0,
                );
            }
            if udev.contains_key("ID_ATA") {
                for (family, key) in &mut ata {
                    if let Some(value) = udev.get(*key).and_then(|v| v.parse::<f64>().ok()) {
                        family.push(vec![("device", disk.name.clone())], value);
                    }
                }
            }
        }
        out.push(info);
        out.push(dm);
        out.extend(ata.into_iter().map(|(family, _)| family));
        Ok(())
    }
}

/// The `E:KEY=value` lines of udev's database entry for a block device
/// (empty when udev has none, e.g. in containers and minimal VMs).
fn udev_properties(paths: &Paths, major: i32, minor: i32) -> HashMap<String, String> {
    let file = paths.udev_data.join(format!("b{major}:{minor}"));
    let Ok(text) = std::fs::read_to_string(file) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("E:")?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
