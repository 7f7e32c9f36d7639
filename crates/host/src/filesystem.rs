//! The filesystem collector: statfs(2) of each mount in /proc/1/mounts
//! (/proc/mounts when pid 1's is hidden), parsed with `procfs-core`, as
//! node_exporter's `node_filesystem_*{device,fstype,mountpoint}` gauges.
//! `readonly` comes from the `ro` mount option; a mount whose statfs fails
//! has only `node_filesystem_device_error 1`. Each statfs runs on its own
//! thread with node_exporter's 5 s `--collector.filesystem.mount-timeout`: a
//! hung (e.g. NFS) mount is reported as a device error, and skipped until
//! its statfs returns, instead of hanging the scrape.
//!
//! Mount points and filesystem types are filtered by the defaults of Debian's
//! node_exporter 1.5.0 build (upstream 1.5.0 does not exclude /run, /mnt and
//! /media, and excludes only /run/credentials).

use crate::read::{parse_error, read};
use crate::{CollectError, Family, Kind, Paths};
use procfs_core::{FromBufRead, MountEntry};
use regex::Regex;
use std::collections::HashSet;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt as _;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Debian node_exporter 1.5.0's `--collector.filesystem.mount-points-exclude`.
pub const DEFAULT_MOUNT_POINTS_EXCLUDE: &str =
    "^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
/// node_exporter 1.5.0's `--collector.filesystem.fs-types-exclude`.
pub const DEFAULT_FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$";

const MOUNT_TIMEOUT: Duration = Duration::from_secs(5);

/// statfs(2)'s numbers for one mount.
struct Statfs {
    size: f64,
    free: f64,
    avail: f64,
    files: f64,
    files_free: f64,
}

pub(crate) struct Filesystem {
    mount_points: Regex,
    fs_types: Regex,
    stuck: Arc<Mutex<HashSet<String>>>,
}

impl Filesystem {
    pub(crate) fn new() -> Self {
        Self {
            mount_points: Regex::new(DEFAULT_MOUNT_POINTS_EXCLUDE).expect("constant regex"),
            fs_types: Regex::new(DEFAULT_FS_TYPES_EXCLUDE).expect("constant regex"),
            stuck: Arc::default(),
        }
    }

    pub(crate) fn collect(
        &mut self,
        paths: &Paths,
        out: &mut Vec<Family>,
    ) -> Result<(), CollectError> {
        let mut path = paths.proc.join("1/mounts");
        let text = match read(&path) {
            Ok(text) => text,
            Err(_) => {
                path = paths.proc.join("mounts");
                read(&path)?
            }
        };
        let mounts = Vec::<MountEntry>::from_buf_read(text.as_bytes())
            .map_err(|e| parse_error(&path, e.to_string()))?;
        let gauge = |name: &'static str, help: &'static str| Family::new(name, help, Kind::Gauge);
        let mut error = gauge(
            "node_filesystem_device_error",
            "Whether an error occurred while getting statistics for the given device.",
        );
        let mut size = gauge("node_filesystem_size_bytes", "Filesystem size in bytes.");
        let mut free = gauge(
            "node_filesystem_free_bytes",
            "Filesystem free space in bytes.",
        );
        let mut avail = gauge(
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
        );
        let mut files = gauge("node_filesystem_files", "Filesystem total file nodes.");
        let mut files_free = gauge(
            "node_filesystem_files_free",
            "Filesystem total free file nodes.",
        );
        let mut readonly = gauge("node_filesystem_readonly", "Filesystem read-only status.");
        let mut seen = HashSet::new();
        for mount in mounts {
            if self.mount_points.is_match(&mount.fs_file)
                || self.fs_types.is_match(&mount.fs_vfstype)
            {
                continue;
            }
            let labels = vec![
                ("device", mount.fs_spec.clone()),
                ("fstype", mount.fs_vfstype.clone()),
                ("mountpoint", mount.fs_file.clone()),
            ];
            if !seen.insert(labels.clone()) {
                continue; // the same mount twice (node_exporter exposes it once)
            }
            let Some(stat) = self.statfs(&mount.fs_file) else {
                error.push(labels, 1.0);
                continue;
            };
            error.push(labels.clone(), 0.0);
            size.push(labels.clone(), stat.size);
            free.push(labels.clone(), stat.free);
            avail.push(labels.clone(), stat.avail);
            files.push(labels.clone(), stat.files);
            files_free.push(labels.clone(), stat.files_free);
            let ro = mount.fs_mntops.contains_key("ro");
            readonly.push(labels, if ro { 1.0 } else { 0.0 });
        }
        out.extend([error, size, free, avail, files, files_free, readonly]);
        Ok(())
    }

    /// statfs(2) on a thread, bounded by [`MOUNT_TIMEOUT`]; None on error,
    /// timeout, or while an earlier statfs of the mount is still hung.
    fn statfs(&self, mount_point: &str) -> Option<Statfs> {
        let mut stuck = self.stuck.lock().ok()?;
        if stuck.contains(mount_point) {
            return None;
        }
        let (send, receive) = mpsc::channel();
        let owned = mount_point.to_string();
        let stuck_set = Arc::clone(&self.stuck);
        std::thread::Builder::new()
            .name("statfs".into())
            .spawn(move || {
                let result = statfs(&owned);
                if let Ok(mut stuck) = stuck_set.lock() {
                    stuck.remove(&owned);
                }
                let _ = send.send(result);
            })
            .ok()?;
        // Mark it stuck first; the thread unmarks it when statfs returns.
        stuck.insert(mount_point.to_string());
        drop(stuck);
        receive.recv_timeout(MOUNT_TIMEOUT).ok().flatten()
    }
}

fn statfs(mount_point: &str) -> Option<Statfs> {
    let path = CString::new(std::path::Path::new(mount_point).as_os_str().as_bytes()).ok()?;
    // SAFETY: statfs is plain old data that statfs(2) fills.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: path is NUL-terminated and buf writable.
    if unsafe { libc::statfs(path.as_ptr(), &mut buf) } != 0 {
        return None;
    }
    let block = buf.f_bsize as f64;
    Some(Statfs {
        size: buf.f_blocks as f64 * block,
        free: buf.f_bfree as f64 * block,
        avail: buf.f_bavail as f64 * block,
        files: buf.f_files as f64,
        files_free: buf.f_ffree as f64,
    })
}
