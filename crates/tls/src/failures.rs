//! The log of failed handshakes: one line per failure, at most one every
//! [`LOG_EVERY`] per listener (scanners and misconfigured clients can fail
//! many per second), with how many went unlogged in between. A client that
//! connects and closes without a byte (a port probe) is not logged.

use crate::handshake::HandshakeError;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Shortest gap between two logged failures of one listener.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// One listener's failure log.
#[derive(Debug)]
pub struct FailureLog {
    name: String,
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl FailureLog {
    /// A log whose lines name the listener `name` ("OTLP/gRPC").
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            last_logged: None,
            unlogged: 0,
        }
    }

    /// Notes a failure; prints it unless one was printed within [`LOG_EVERY`].
    pub fn note(&mut self, peer: SocketAddr, error: &HandshakeError) {
        if let Some(line) = self.line(peer, error, Instant::now()) {
            eprintln!("{line}");
        }
    }

    fn line(&mut self, peer: SocketAddr, error: &HandshakeError, now: Instant) -> Option<String> {
        if matches!(error, HandshakeError::Closed) {
            return None;
        }
        if self
            .last_logged
            .is_some_and(|last| now.duration_since(last) < LOG_EVERY)
        {
            self.unlogged += 1;
            return None;
        }
        let more = match self.unlogged {
            0 => String::new(),
            n => format!(" ({n} more failed since the last one logged)"),
        };
        self.last_logged = Some(now);
        self.unlogged = 0;
        Some(format!(
            "whyslow: {}: TLS handshake with {peer} failed: {error}{more}",
            self.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_logged_at_most_once_per_interval_and_counted() {
        let mut log = FailureLog::new("OTLP/gRPC");
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let start = Instant::now();
        let first = log.line(peer, &HandshakeError::PlainHttp, start);
        assert!(first
            .as_deref()
            .is_some_and(|l| l.starts_with("whyslow: OTLP/gRPC: TLS handshake with 127.0.0.1:5000 failed: the client sent plain HTTP")));
        let timed_out = HandshakeError::TimedOut(Duration::from_secs(10));
        assert_eq!(
            log.line(peer, &timed_out, start + Duration::from_secs(1)),
            None
        );
        assert_eq!(
            log.line(peer, &timed_out, start + Duration::from_secs(2)),
            None
        );
        let later = log.line(peer, &timed_out, start + LOG_EVERY);
        assert!(later
            .as_deref()
            .is_some_and(|l| l
                .ends_with("no handshake within 10 s (2 more failed since the last one logged)")));
    }

    #[test]
    fn a_silent_close_is_not_a_failure_worth_a_line() {
        let mut log = FailureLog::new("UI");
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        assert_eq!(
            log.line(peer, &HandshakeError::Closed, Instant::now()),
            None
        );
        assert_eq!(log.unlogged, 0);
    }
}
