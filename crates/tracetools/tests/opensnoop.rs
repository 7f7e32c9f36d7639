//! opensnoop on the real kernel: a child that opens a unique path exactly
//! N times shows up as exactly N events with that path, a descriptor and
//! no error; with `-x` a path that does not exist shows ERR 2 and the
//! successful opens of the same child are left out.

#[path = "common/child.rs"]
mod child;
mod common;

use std::ffi::CString;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tracetools::opensnoop::{Event, Opensnoop, Options};
use tracetools::runtime::EventTool;

const N: usize = 9;

/// Paths the children open, set before they fork (a `fn()` captures
/// nothing).
static PRESENT: OnceLock<CString> = OnceLock::new();
static MISSING: OnceLock<CString> = OnceLock::new();

fn unique(stem: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir();
    format!(
        "{}/whyslow-opensnoop-{stem}-{}-{nanos}",
        dir.display(),
        std::process::id()
    )
}

fn paths() -> (&'static CString, &'static CString) {
    let present = PRESENT.get_or_init(|| CString::new(unique("present")).expect("path"));
    let name = present.to_str().expect("utf-8");
    std::fs::write(name, b"x").expect("create the file to open");
    let missing = MISSING.get_or_init(|| CString::new(unique("missing")).expect("path"));
    (present, missing)
}

fn open_close(path: &CString) {
    // SAFETY: open/close raw syscalls on a NUL-terminated path.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd >= 0 {
            libc::close(fd);
        }
    }
}

fn open_present_n_times() {
    let present = PRESENT.get().expect("set before fork");
    for _ in 0..N {
        open_close(present);
    }
}

fn open_missing_and_present() {
    let present = PRESENT.get().expect("set before fork");
    let missing = MISSING.get().expect("set before fork");
    for _ in 0..N {
        open_close(missing);
        open_close(present);
    }
}

fn collect(tracer: &mut Opensnoop, pid: u32) -> Vec<Event> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        for e in tracer.poll(Duration::from_millis(100)).expect("poll") {
            if e.pid == pid {
                seen.push(e);
            }
        }
    }
    seen
}

#[test]
fn sees_exactly_n_opens_of_a_unique_path() {
    let Some(_lock) = common::root_or_skip("sees_exactly_n_opens_of_a_unique_path") else {
        return;
    };
    let (present, _) = paths();
    let present = present.to_str().expect("utf-8").to_string();
    let child = child::Child::spawn(open_present_n_times);
    let pid = child.pid;
    let options = Options {
        pid: Some(pid),
        extended: true,
        ..Options::default()
    };
    let mut tracer = Opensnoop::start(&options).expect("start");
    child.go_and_wait();
    let seen = collect(&mut tracer, pid);
    eprintln!("{}", tracer.header());
    for e in &seen {
        eprintln!("{}", tracer.line(e));
    }
    let ours: Vec<&Event> = seen.iter().filter(|e| e.path == present).collect();
    assert_eq!(ours.len(), N, "{seen:?}");
    for e in ours {
        assert!(e.fd() >= 0, "{e:?}");
        assert_eq!(e.err(), 0, "{e:?}");
        assert_eq!(e.tid, pid);
        assert_eq!(e.flags & libc::O_CLOEXEC as u32, libc::O_CLOEXEC as u32);
    }
    // -p: nothing from other processes.
    assert!(seen.iter().all(|e| e.pid == pid));
    let _ = std::fs::remove_file(&present);
}

#[test]
fn failed_only_shows_enoent() {
    let Some(_lock) = common::root_or_skip("failed_only_shows_enoent") else {
        return;
    };
    let (present, missing) = paths();
    let present = present.to_str().expect("utf-8").to_string();
    let missing = missing.to_str().expect("utf-8").to_string();
    let child = child::Child::spawn(open_missing_and_present);
    let pid = child.pid;
    let options = Options {
        failed: true,
        ..Options::default()
    };
    let mut tracer = Opensnoop::start(&options).expect("start");
    child.go_and_wait();
    let seen = collect(&mut tracer, pid);
    eprintln!("{}", tracer.header());
    for e in &seen {
        eprintln!("{}", tracer.line(e));
    }
    let failed: Vec<&Event> = seen.iter().filter(|e| e.path == missing).collect();
    assert_eq!(failed.len(), N, "{seen:?}");
    for e in failed {
        assert_eq!((e.fd(), e.err()), (-1, 2), "{e:?}");
        assert!(tracer.line(e).contains(&format!(" -1   2 {missing}")));
    }
    assert!(seen.iter().all(|e| e.path != present), "{seen:?}");
    let _ = std::fs::remove_file(&present);
}
