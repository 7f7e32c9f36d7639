//! Tracepoint ids for `-e category:name`: read from tracefs
//! (`events/CATEGORY/NAME/id`), mounting tracefs first when it is not mounted
//! and we may (it is not mounted at boot on some machines, this one included).

use crate::error::StatError;
use std::path::{Path, PathBuf};

/// Where tracefs usually lives.
const TRACEFS_DIRS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// The perf event config of tracepoint `category:name`.
pub fn tracepoint_id(category: &str, name: &str) -> Result<u64, StatError> {
    let root = match tracefs_root() {
        Some(root) => root,
        None => {
            try_mount();
            tracefs_root().ok_or_else(|| StatError::Tracefs {
                message: "tracefs is not mounted and could not be mounted: run \
                          `sudo mount -t tracefs tracefs /sys/kernel/tracing`"
                    .to_string(),
            })?
        }
    };
    let path = root.join("events").join(category).join(name).join("id");
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => StatError::UnknownTracepoint {
            event: format!("{category}:{name}"),
            path: path.display().to_string(),
        },
        _ => StatError::Tracefs {
            message: format!(
                "cannot read {}: {e} (run as root or grant CAP_PERFMON)",
                path.display()
            ),
        },
    })?;
    text.trim().parse().map_err(|_| StatError::Tracefs {
        message: format!(
            "{} does not hold a number: {:?}",
            path.display(),
            text.trim()
        ),
    })
}

fn tracefs_root() -> Option<PathBuf> {
    TRACEFS_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|d| Path::new(d).join("events").is_dir())
}

fn try_mount() {
    let (Ok(source), Ok(target)) = (
        std::ffi::CString::new("tracefs"),
        std::ffi::CString::new(TRACEFS_DIRS[0]),
    ) else {
        return;
    };
    // SAFETY: valid NUL-terminated strings; a failure (not root, no tracefs)
    // leaves it unmounted and the caller reports that.
    unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            source.as_ptr(),
            0,
            std::ptr::null(),
        );
    }
}
