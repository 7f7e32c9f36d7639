//! Finds the `sched:sched_switch` tracepoint in tracefs: its perf event id and
//! where `prev_state` sits in its raw record. Mounts tracefs when we may.

use super::records::PrevStateField;
use std::path::{Path, PathBuf};

/// Where tracefs usually lives.
const TRACEFS_DIRS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// The sched_switch tracepoint, ready to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedSwitch {
    /// perf event config (`events/sched/sched_switch/id`).
    pub id: u64,
    /// Location of `prev_state` in the raw data.
    pub prev_state: PrevStateField,
}

/// Why the tracepoint is unavailable, as a sentence for the user.
pub fn find_sched_switch() -> Result<SchedSwitch, String> {
    let dir = match event_dir() {
        Some(dir) => dir,
        None => {
            try_mount();
            event_dir().ok_or_else(|| {
                "--off-cpu needs the sched:sched_switch tracepoint, but tracefs is not mounted: \
                 run `sudo mount -t tracefs tracefs /sys/kernel/tracing`"
                    .to_string()
            })?
        }
    };
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).map_err(|e| {
            format!(
                "--off-cpu: cannot read {}: {e} (run as root or grant CAP_PERFMON)",
                dir.join(name).display()
            )
        })
    };
    let id = read("id")?
        .trim()
        .parse::<u64>()
        .map_err(|e| format!("--off-cpu: bad tracepoint id in {}: {e}", dir.display()))?;
    let prev_state = parse_prev_state(&read("format")?).ok_or_else(|| {
        "--off-cpu: sched_switch has no prev_state field on this kernel".to_string()
    })?;
    Ok(SchedSwitch { id, prev_state })
}

fn event_dir() -> Option<PathBuf> {
    TRACEFS_DIRS
        .iter()
        .map(|d| Path::new(d).join("events/sched/sched_switch"))
        .find(|d| d.join("id").exists())
}

fn try_mount() {
    let (Ok(src), Ok(target), Ok(fstype)) = (
        std::ffi::CString::new("tracefs"),
        std::ffi::CString::new(TRACEFS_DIRS[0]),
        std::ffi::CString::new("tracefs"),
    ) else {
        return;
    };
    // SAFETY: all pointers are valid NUL-terminated strings; failure (not root,
    // no tracefs) just leaves it unmounted and the caller reports it.
    unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        );
    }
}

/// Parses `field:long prev_state;\toffset:24;\tsize:8;\tsigned:1;` from a format file.
pub fn parse_prev_state(format: &str) -> Option<PrevStateField> {
    let line = format
        .lines()
        .find(|l| l.contains("field:") && l.contains(" prev_state;"))?;
    let value = |key: &str| -> Option<usize> {
        let rest = &line[line.find(key)? + key.len()..];
        rest.split(';').next()?.trim().parse().ok()
    };
    let field = PrevStateField {
        offset: value("offset:")?,
        size: value("size:")?,
    };
    matches!(field.size, 4 | 8).then_some(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_format() {
        let f = "name: sched_switch\nID: 316\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
                 \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
                 \tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n\
                 \tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n\
                 \tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n";
        assert_eq!(
            parse_prev_state(f),
            Some(PrevStateField {
                offset: 32,
                size: 8
            })
        );
        assert_eq!(parse_prev_state("nothing"), None);
    }
}
