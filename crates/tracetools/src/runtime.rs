//! What the tools' main loops share: Ctrl-C as a flag rather than a kill
//! (so the final summary still prints), sleeping that wakes up on it, and
//! the wall-clock stamps libbpf-tools print (`HH:MM:SS` local time).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Makes SIGINT set the flag [`interrupted`] reads instead of killing us.
pub fn catch_ctrl_c() {
    INTERRUPTED.store(false, Ordering::SeqCst);
    let handler = on_sigint as extern "C" fn(libc::c_int);
    // SAFETY: installs an async-signal-safe handler (one atomic store).
    unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) };
}

/// Whether Ctrl-C was pressed since [`catch_ctrl_c`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Sleeps `total`, waking early on Ctrl-C; true when interrupted.
pub fn sleep(total: Duration) -> bool {
    let end = Instant::now() + total;
    loop {
        if interrupted() {
            return true;
        }
        let now = Instant::now();
        if now >= end {
            return false;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(100)));
    }
}

/// The local time as `HH:MM:SS`.
pub fn clock() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let t = libc::time_t::try_from(now).unwrap_or(0);
    // SAFETY: `tm` is plain old data; localtime_r only writes into it and
    // returns NULL on failure, which we check.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call.
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if !ok {
        let s = now % 86_400;
        return format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
    format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
}

/// A NUL-padded kernel string (comm, path) as text.
pub fn c_str(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Little-endian integers at `off`, 0 past the end (records are ours, but
/// never trust a length).
pub fn u32_at(bytes: &[u8], off: usize) -> u32 {
    bytes
        .get(off..off + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

/// See [`u32_at`].
pub fn u64_at(bytes: &[u8], off: usize) -> u64 {
    bytes
        .get(off..off + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

/// The histogram tools' main loop (libbpf-tools' runqlat and biolatency):
/// every `interval` seconds (forever when `None`, until Ctrl-C) a blank
/// line, the time with `timestamp`, and what `report` renders; stops after
/// `count` reports or at Ctrl-C (after one last report).
pub fn report_every(
    out: &mut dyn std::io::Write,
    interval: Option<u64>,
    count: Option<u64>,
    timestamp: bool,
    mut report: impl FnMut() -> crate::error::Result<String>,
) -> crate::error::Result<i32> {
    let interval = Duration::from_secs(interval.unwrap_or(99_999_999));
    let mut left = count;
    loop {
        let stopped = sleep(interval);
        writeln!(out)?;
        if timestamp {
            writeln!(out, "{:<8}", clock())?;
        }
        write!(out, "{}", report()?)?;
        out.flush()?;
        left = left.map(|n| n.saturating_sub(1));
        if stopped || left == Some(0) {
            return Ok(0);
        }
    }
}

/// A tool that prints a line per event (execsnoop, opensnoop, tcplife).
pub trait EventTool {
    type Event;
    /// Events that arrive within `timeout`.
    fn poll(&mut self, timeout: Duration) -> crate::error::Result<Vec<Self::Event>>;
    /// The column header.
    fn header(&self) -> String;
    /// One event's line.
    fn line(&self, event: &Self::Event) -> String;
}

/// The event tools' main loop: the header, then a line per event as they
/// come, until Ctrl-C or after `duration` seconds.
pub fn print_events<T: EventTool>(
    tool: &mut T,
    out: &mut dyn std::io::Write,
    duration: Option<u64>,
) -> crate::error::Result<i32> {
    catch_ctrl_c();
    let end = duration.map(|d| Instant::now() + Duration::from_secs(d));
    writeln!(out, "{}", tool.header())?;
    out.flush()?;
    while !interrupted() && end.is_none_or(|end| Instant::now() < end) {
        for e in tool.poll(Duration::from_millis(100))? {
            writeln!(out, "{}", tool.line(&e))?;
        }
        out.flush()?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_bytes() {
        let c = clock();
        assert_eq!(c.len(), 8);
        assert_eq!(&c[2..3], ":");
        assert_eq!(c_str(b"bash\0\0x"), "bash");
        assert_eq!(u32_at(&[1, 0, 0, 0, 2], 0), 1);
        assert_eq!(u32_at(&[1, 0], 0), 0);
        assert_eq!(u64_at(&[0; 16], 8), 0);
    }
}
