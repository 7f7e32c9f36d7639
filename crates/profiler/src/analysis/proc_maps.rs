//! Reads what `/proc` says about a process that was running before recording
//! started: its executable mappings (`/proc/PID/maps`, with file offsets) and
//! the names of the process and its threads (`comm`).
//!
//! A process that vanished meanwhile is not an error: it yields nothing.
//! Written by hand: `maps` is one whitespace-separated line per mapping, not
//! worth the `procfs` crate's dependencies.

use crate::event::MmapEvent;

/// What `/proc/PID` told about one process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProcSnapshot {
    /// `/proc/PID/comm`.
    pub name: Option<String>,
    /// `(tid, comm)` of every thread in `/proc/PID/task`.
    pub threads: Vec<(u32, String)>,
    /// Executable mappings, as synthesized MMAP records.
    pub mappings: Vec<MmapEvent>,
}

/// Reads `/proc/PID`; `None` when the process does not exist (any more).
pub(crate) fn read_process(pid: u32) -> Option<ProcSnapshot> {
    let dir = format!("/proc/{pid}");
    let maps = std::fs::read_to_string(format!("{dir}/maps"));
    let name = read_comm(&format!("{dir}/comm"));
    if maps.is_err() && name.is_none() {
        return None;
    }
    let mut threads = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("{dir}/task")) {
        for task in tasks.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some(comm) = read_comm(&format!("{dir}/task/{tid}/comm")) {
                threads.push((tid, comm));
            }
        }
    }
    threads.sort_unstable();
    Some(ProcSnapshot {
        name,
        threads,
        mappings: maps.map(|m| parse_maps(pid, &m)).unwrap_or_default(),
    })
}

fn read_comm(path: &str) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    Some(s.trim_end_matches('\n').to_string())
}

/// Parses `/proc/PID/maps` text into MMAP records of its executable mappings.
/// Lines that do not parse are skipped.
pub(crate) fn parse_maps(pid: u32, text: &str) -> Vec<MmapEvent> {
    text.lines()
        .filter_map(|line| parse_line(pid, line))
        .collect()
}

/// `START-END PERMS OFFSET DEV INODE [PATH]`; the path may contain spaces.
fn parse_line(pid: u32, line: &str) -> Option<MmapEvent> {
    let mut rest = line;
    let mut field = || -> Option<&str> {
        let trimmed = rest.trim_start();
        let end = trimmed.find(' ').unwrap_or(trimmed.len());
        let (f, r) = trimmed.split_at(end);
        rest = r;
        (!f.is_empty()).then_some(f)
    };
    let range = field()?;
    let perms = field()?;
    let offset = field()?;
    let _dev = field()?;
    let _inode = field()?;
    let path = rest.trim();
    if perms.as_bytes().get(2) != Some(&b'x') {
        return None;
    }
    let (start, end) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    let file_offset = u64::from_str_radix(offset, 16).ok()?;
    Some(MmapEvent {
        pid,
        tid: pid,
        start,
        len: end.checked_sub(start)?,
        file_offset,
        path: if path.is_empty() { "//anon" } else { path }.to_string(),
        executable: true,
        build_id: None,
        time_ns: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0c8a00000-55d0c8a05000 r--p 00000000 08:01 1234   /usr/bin/my prog
55d0c8a05000-55d0c8a20000 r-xp 00005000 08:01 1234   /usr/bin/my prog
7f0000000000-7f0000001000 rwxp 00000000 00:00 0 
7f1000000000-7f1000100000 r-xp 00028000 08:01 99     /tmp/victim (deleted)
7ffc1e5f0000-7ffc1e5f2000 r-xp 00000000 00:00 0      [vdso]
garbage line
";

    #[test]
    fn keeps_executable_mappings_with_offsets() {
        let m = parse_maps(7, MAPS);
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].path, "/usr/bin/my prog");
        assert_eq!(m[0].start, 0x55d0c8a05000);
        assert_eq!(m[0].len, 0x1b000);
        assert_eq!(m[0].file_offset, 0x5000);
        assert_eq!(m[1].path, "//anon");
        assert_eq!(m[2].path, "/tmp/victim (deleted)");
        assert_eq!(m[3].path, "[vdso]");
        assert!(m.iter().all(|e| e.pid == 7 && e.executable));
    }

    #[test]
    fn reads_ourselves_and_not_a_missing_pid() {
        let me = read_process(std::process::id()).expect("our own /proc entry");
        assert!(me.name.is_some());
        assert!(!me.threads.is_empty());
        assert!(me.mappings.iter().any(|m| m.path.starts_with('/')));
        assert!(read_process(u32::MAX - 1).is_none());
    }
}
