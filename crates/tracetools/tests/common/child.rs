//! A forked child that waits for the go signal, runs a closure of raw
//! syscalls and `_exit`s: a workload whose pid we know before it starts.

/// A child process blocked until [`Child::go`].
pub struct Child {
    pub pid: u32,
    go: libc::c_int,
}

impl Child {
    /// Forks; the child waits, runs `work` and exits with status 0. `work`
    /// must only make raw syscalls (the parent has other threads).
    pub fn spawn(work: fn()) -> Child {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: fds has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
        // SAFETY: the child only calls async-signal-safe functions (read,
        // the raw syscalls of `work`, _exit).
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let mut byte = 0u8;
            // SAFETY: reading one byte into a live local.
            unsafe {
                libc::close(fds[1]);
                libc::read(fds[0], (&mut byte as *mut u8).cast(), 1);
            }
            work();
            // SAFETY: ends the child without running the parent's atexit.
            unsafe { libc::_exit(0) };
        }
        // SAFETY: closing our copy of the read end.
        unsafe { libc::close(fds[0]) };
        Child {
            pid: pid as u32,
            go: fds[1],
        }
    }

    /// Lets the child run and waits for it to exit.
    pub fn go_and_wait(self) {
        // SAFETY: writing one byte from a live local, then reaping our child.
        unsafe {
            assert_eq!(libc::write(self.go, b"x".as_ptr().cast(), 1), 1);
            libc::close(self.go);
            let mut status = 0;
            libc::waitpid(self.pid as libc::pid_t, &mut status, 0);
        }
    }
}
