//! Starts the command to profile: forked and held before `execve` until the
//! perf events are attached (they enable on exec), the way `perf record CMD`
//! does. `std::process::Command` cannot do this: `spawn` waits for the exec.

use crate::error::ProfilerError;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A forked child blocked before exec.
#[derive(Debug)]
pub struct HeldChild {
    pid: i32,
    go: OwnedFd,
    exec_error: OwnedFd,
    program: String,
}

/// A running child.
#[derive(Debug)]
pub struct Child {
    pid: i32,
    status: Option<i32>,
}

/// Finds `program` like a shell would (PATH search unless it has a slash).
pub fn resolve(program: &str) -> Option<PathBuf> {
    let is_exec = |p: &Path| {
        let Ok(c) = CString::new(p.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: valid NUL-terminated path.
        p.is_file() && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_exec(&p).then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_exec(p))
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are new and owned by us from here on.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Forks a child that waits for [`HeldChild::release`] and then execs `argv`.
pub fn spawn_held(argv: &[String]) -> Result<HeldChild, ProfilerError> {
    let program = argv.first().cloned().unwrap_or_default();
    let path = resolve(&program).ok_or_else(|| ProfilerError::CommandNotFound {
        command: program.clone(),
    })?;
    let io_err = |context: &str, source| ProfilerError::Io {
        context: context.to_string(),
        source,
    };
    let c_path =
        CString::new(path.as_os_str().as_bytes()).map_err(|_| ProfilerError::CommandNotFound {
            command: program.clone(),
        })?;
    let c_args: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| ProfilerError::CommandFailed {
            command: program.clone(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "argument contains a NUL byte"),
        })?;
    let mut c_argv: Vec<*const libc::c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
    c_argv.push(std::ptr::null());
    let (go_read, go_write) = pipe().map_err(|e| io_err("cannot create a pipe", e))?;
    let (err_read, err_write) = pipe().map_err(|e| io_err("cannot create a pipe", e))?;

    // SAFETY: after fork the child only calls async-signal-safe functions
    // (read, execv, write, _exit) on data prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io_err("cannot fork", io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: see above; this branch never returns.
        unsafe {
            let mut byte = 0u8;
            let n = libc::read(go_read.as_raw_fd(), (&mut byte as *mut u8).cast(), 1);
            if n == 1 {
                libc::execv(c_path.as_ptr(), c_argv.as_ptr());
                let errno = *libc::__errno_location();
                libc::write(err_write.as_raw_fd(), (&errno as *const i32).cast(), 4);
            }
            libc::_exit(127);
        }
    }
    drop(go_read);
    drop(err_write);
    Ok(HeldChild {
        pid,
        go: go_write,
        exec_error: err_read,
        program,
    })
}

impl HeldChild {
    /// The child's pid (attach perf events to it before releasing).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Lets the child exec; reports an exec failure as an error.
    pub fn release(self) -> Result<Child, ProfilerError> {
        let byte = 1u8;
        // SAFETY: writing one byte from a valid buffer to our pipe.
        unsafe { libc::write(self.go.as_raw_fd(), (&byte as *const u8).cast(), 1) };
        let mut errno = 0i32;
        // Blocks until exec succeeds (CLOEXEC closes the pipe) or fails.
        // SAFETY: reading up to 4 bytes into a valid i32.
        let n = unsafe {
            libc::read(
                self.exec_error.as_raw_fd(),
                (&mut errno as *mut i32).cast(),
                4,
            )
        };
        let mut child = Child {
            pid: self.pid,
            status: None,
        };
        if n == 4 {
            child.wait();
            return Err(ProfilerError::CommandFailed {
                command: self.program,
                source: io::Error::from_raw_os_error(errno),
            });
        }
        Ok(child)
    }

    /// Gives up on the child (events could not be opened).
    pub fn abandon(self) {
        // SAFETY: the child is ours; closing `go` without writing makes it _exit.
        drop(self.go);
        let mut child = Child {
            pid: self.pid,
            status: None,
        };
        child.wait();
    }
}

impl Child {
    /// The child's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The exit code if the child has exited (128 + signal when killed).
    pub fn try_wait(&mut self) -> Option<i32> {
        self.reap(libc::WNOHANG)
    }

    /// Waits for the child to exit.
    pub fn wait(&mut self) -> Option<i32> {
        self.reap(0)
    }

    fn reap(&mut self, flags: i32) -> Option<i32> {
        if self.status.is_some() {
            return self.status;
        }
        let mut status = 0;
        // SAFETY: waiting on our own child.
        let rc = unsafe { libc::waitpid(self.pid, &mut status, flags) };
        if rc == self.pid {
            self.status = Some(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else if libc::WIFSIGNALED(status) {
                128 + libc::WTERMSIG(status)
            } else {
                1
            });
        } else if rc < 0 {
            self.status = Some(1);
        }
        self.status
    }

    /// Asks the child to stop (SIGTERM), then waits up to `grace` before SIGKILL.
    pub fn terminate(&mut self, grace: std::time::Duration) -> Option<i32> {
        if self.try_wait().is_some() {
            return self.status;
        }
        // SAFETY: signalling our own, not yet reaped, child.
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if self.try_wait().is_some() {
                return self.status;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // SAFETY: as above.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        self.wait()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_and_runs() {
        assert!(resolve("sh").is_some());
        assert!(resolve("definitely-not-a-command-xyz").is_none());
        let held = spawn_held(&["sh".into(), "-c".into(), "exit 3".into()]).unwrap();
        let mut child = held.release().unwrap();
        assert_eq!(child.wait(), Some(3));
        assert!(matches!(
            spawn_held(&["definitely-not-a-command-xyz".into()]),
            Err(ProfilerError::CommandNotFound { .. })
        ));
    }

    #[test]
    fn terminate_kills() {
        let mut child = spawn_held(&["sleep".into(), "10".into()])
            .unwrap()
            .release()
            .unwrap();
        assert_eq!(
            child.terminate(std::time::Duration::from_secs(2)),
            Some(128 + libc::SIGTERM)
        );
    }
}
