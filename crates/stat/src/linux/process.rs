//! Watching target processes end without busy polling (a pidfd per process,
//! readable once it exits) and reaping the command: `waitid(WNOWAIT)` keeps
//! the zombie (and its /proc/PID/schedstat) until `wait4` collects the exit
//! status and rusage.

use crate::real::Rusage;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// A process whose exit we wait for.
#[derive(Debug)]
pub struct Watched {
    pid: i32,
    pidfd: Option<OwnedFd>,
}

impl Watched {
    /// Watches `pid`; fails with ESRCH when it does not exist.
    pub fn new(pid: i32) -> io::Result<Self> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd >= 0 {
            // SAFETY: a new descriptor that nothing else owns.
            let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            return Ok(Watched {
                pid,
                pidfd: Some(pidfd),
            });
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Err(err);
        }
        // Kernels before 5.3: fall back to checking every few ms.
        Ok(Watched { pid, pidfd: None })
    }

    /// The pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }
}

/// Waits up to `timeout` for any of `watched` to exit (or a signal); returns
/// which have exited.
pub fn wait_any(watched: &[Watched], timeout: Duration) -> Vec<bool> {
    let pollable = watched.iter().all(|w| w.pidfd.is_some());
    let timeout = if pollable {
        timeout
    } else {
        timeout.min(Duration::from_millis(10))
    };
    let mut fds: Vec<libc::pollfd> = watched
        .iter()
        .filter_map(|w| w.pidfd.as_ref())
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    if pollable {
        // SAFETY: `fds` is a valid array of pollfd for the call's duration.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        return fds.iter().map(|p| p.revents != 0).collect();
    }
    std::thread::sleep(timeout);
    watched.iter().map(|w| !alive(w.pid)).collect()
}

/// Sleeps up to `timeout` or until a signal arrives.
pub fn sleep_interruptible(timeout: Duration) {
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: poll with no descriptors just sleeps; EINTR ends it early.
    unsafe { libc::poll(std::ptr::null_mut(), 0, ms) };
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Blocks until our child `pid` has exited, leaving it a zombie.
pub fn wait_exited_nowait(pid: i32) {
    // SAFETY: waitid writes one siginfo_t; WNOWAIT leaves the child waitable.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        while libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        ) < 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
    }
}

/// Reaps our child: its exit code (128 + signal when killed) and rusage.
pub fn reap(pid: i32) -> (i32, Option<Rusage>) {
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it and the status.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = loop {
        // SAFETY: waiting for our own child with valid out-pointers.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc >= 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break rc;
        }
    };
    if rc != pid {
        return (1, None);
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let rusage = Rusage {
        user_s: secs(usage.ru_utime),
        sys_s: secs(usage.ru_stime),
        voluntary_switches: usage.ru_nvcsw as u64,
        involuntary_switches: usage.ru_nivcsw as u64,
        minor_faults: usage.ru_minflt as u64,
        major_faults: usage.ru_majflt as u64,
        max_rss_kib: usage.ru_maxrss as u64,
    };
    (code, Some(rusage))
}

/// Sends SIGTERM to `pid` (the command, when `--duration` ends the count).
pub fn terminate(pid: i32) {
    // SAFETY: signalling our own, not yet reaped, child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::zombie_processes)] // reaped by `reap`, the code under test
    fn watches_and_reaps_a_child() {
        let child = std::process::Command::new("sh")
            .args(["-c", "sleep 0.05; exit 3"])
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let watched = [Watched::new(pid).unwrap()];
        let mut exited = false;
        for _ in 0..100 {
            if wait_any(&watched, Duration::from_millis(100))[0] {
                exited = true;
                break;
            }
        }
        assert!(exited);
        wait_exited_nowait(pid);
        assert!(std::fs::read_to_string(format!("/proc/{pid}/schedstat")).is_ok());
        let (code, usage) = reap(pid);
        assert_eq!(code, 3);
        assert!(usage.unwrap().max_rss_kib > 0);
        assert!(Watched::new(pid).is_err(), "reaped pid is gone");
    }
}
