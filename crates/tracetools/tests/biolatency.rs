//! biolatency on the real kernel: O_DIRECT overwrites of a synced file plus fsync in
//! the temp directory, on a filesystem backed by a block device, land in
//! that disk's histogram (`-D`), and again with `-Q`. When the temp
//! directory has no backing block device (tmpfs, overlay) or the writes do
//! not reach the disk (its /proc/diskstats write count does not move), the
//! test says so and skips.

mod common;

use std::ffi::CString;
use std::os::unix::fs::MetadataExt;
use tracetools::biolatency::{self, Biolatency, Options};

const WRITES: u64 = 32;
const BLOCK: usize = 4096;

/// The whole disk under `path`: its name and kernel dev_t, or why not.
fn backing_disk(path: &std::path::Path) -> Result<(String, u32), String> {
    let dev = std::fs::metadata(path).map_err(|e| e.to_string())?.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let sys = format!("/sys/dev/block/{major}:{minor}");
    let mut node = std::fs::canonicalize(&sys).map_err(|_| {
        format!(
            "{} is on {major}:{minor}, not a block device",
            path.display()
        )
    })?;
    if node.join("partition").exists() {
        node.pop();
    }
    let name = node
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("no disk name")?
        .to_string();
    let text = std::fs::read_to_string(node.join("dev")).map_err(|e| e.to_string())?;
    let dev = biolatency::parse_dev(&text).ok_or("bad dev file")?;
    Ok((name, dev))
}

/// Writes completed on `disk` so far (/proc/diskstats field 8).
fn writes_completed(disk: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/diskstats").unwrap_or_default();
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&disk))
        .and_then(|f| f.get(7)?.parse().ok())
        .unwrap_or(0)
}

/// A file of WRITES blocks in `dir`, written and synced, so that the direct
/// writes that follow overwrite allocated blocks: allocating direct writes
/// may fall back to the page cache and reach the disk merged.
fn prepared_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join(format!("whyslow-biolatency-{}", std::process::id()));
    let file = std::fs::File::create(&path).expect("create");
    std::io::Write::write_all(&mut &file, &vec![0u8; WRITES as usize * BLOCK]).expect("write");
    file.sync_all().expect("fsync");
    path
}

/// WRITES direct 4 KiB overwrites of `path` and an fsync; false when the
/// filesystem refuses O_DIRECT. Each write waits for its I/O, so none merge.
fn direct_writes(path: &std::path::Path) -> bool {
    let c = CString::new(path.to_str().expect("utf-8")).expect("path");
    let layout = std::alloc::Layout::from_size_align(BLOCK, BLOCK).expect("layout");
    // SAFETY: an aligned buffer we free below; open/pwrite/fsync/close on
    // our own file.
    unsafe {
        let buf = std::alloc::alloc_zeroed(layout);
        assert!(!buf.is_null());
        let fd = libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_DIRECT);
        let ok = fd >= 0;
        if ok {
            for i in 0..WRITES {
                buf.write_bytes(i as u8 + 1, BLOCK);
                let n = libc::pwrite(fd, buf.cast(), BLOCK, (i as usize * BLOCK) as libc::off_t);
                assert_eq!(n, BLOCK as isize, "pwrite");
            }
            assert_eq!(libc::fsync(fd), 0, "fsync");
            libc::close(fd);
        }
        std::alloc::dealloc(buf, layout);
        ok
    }
}

fn run(test: &str, queued: bool) {
    let Some(_lock) = common::root_or_skip(test) else {
        return;
    };
    let dir = std::env::temp_dir();
    let (disk, dev) = match backing_disk(&dir) {
        Ok(d) => d,
        Err(why) => {
            eprintln!("{test}: skipped: {why}");
            return;
        }
    };
    let options = Options {
        per_disk: true,
        queued,
        ..Options::default()
    };
    let file = prepared_file(&dir);
    let tracer = Biolatency::start(&options).expect("start");
    let _ = tracer.take().expect("clear");
    let before = writes_completed(&disk);
    let written = direct_writes(&file);
    let _ = std::fs::remove_file(&file);
    if !written {
        eprintln!("{test}: skipped: {} refuses O_DIRECT", dir.display());
        return;
    }
    let delta = writes_completed(&disk) - before;
    if delta < WRITES {
        eprintln!(
            "{test}: skipped: {WRITES} direct writes completed only {delta} writes on {disk}"
        );
        return;
    }
    let hists = tracer.take().expect("take");
    let text = tracer.render(&hists);
    eprintln!("{text}");
    let ours = hists
        .iter()
        .find(|h| h.dev == dev)
        .expect("a histogram for the disk");
    assert!(
        ours.total() >= WRITES,
        "{} < {WRITES}\n{text}",
        ours.total()
    );
    assert_eq!(tracer.disk_name(dev), Some(disk.as_str()));
    assert!(text.contains(&format!(
        "\ndisk = {disk}\t\n     usecs               : count    distribution\n"
    )));
}

#[test]
fn direct_writes_land_in_the_disks_histogram() {
    run("direct_writes_land_in_the_disks_histogram", false);
}

#[test]
fn queued_time_counts_the_same_writes() {
    run("queued_time_counts_the_same_writes", true);
}
