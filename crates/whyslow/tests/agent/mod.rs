//! Helpers for the `whyslow agent` end-to-end tests: child processes stopped
//! on drop, free ports, waiting for a listener, and a bounded HTTP GET.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

/// A child process SIGTERMed, then killed after 10 s, and reaped on drop.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.0.id()) {
            // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.0.try_wait(), Ok(None)) {
            if Instant::now() > deadline {
                let _ = self.0.kill();
                let _ = self.0.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding 127.0.0.1:0")
        .port()
}

/// Waits up to 30 s until `addr` accepts connections.
pub fn wait_listening(addr: &str, what: &str, child: &mut Running) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(addr).is_err() {
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("{what} exited with {status} before listening on {addr}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {addr} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET http://addr{path}`: the status line and the body (10 s timeout).
pub fn get(addr: &str, path: &str) -> (String, String) {
    let mut stream =
        TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response");
    let text = String::from_utf8(response).expect("UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP head");
    let status = head.lines().next().unwrap_or_default().to_string();
    (status, body.to_string())
}
