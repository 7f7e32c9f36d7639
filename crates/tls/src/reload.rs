//! When to reload: on SIGHUP, and when the certificate or key file changes
//! (polled, every [`POLL_INTERVAL`] by default; cheaper and more portable
//! than inotify, and it follows a symlink switched to a new target as
//! Kubernetes secret mounts do). Each attempt is reported to the caller,
//! which logs it; a failed one leaves the served certificate as it was.

use crate::error::TlsError;
use crate::resolver::{Loaded, ReloadingResolver};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How often the files are checked for changes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Why a reload was attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The process got SIGHUP.
    Hangup,
    /// The certificate or key file changed.
    FileChanged,
}

/// One reload attempt.
#[derive(Debug)]
pub struct Reload<'a> {
    /// What prompted it.
    pub trigger: Trigger,
    /// The pair now served, or why the new files were refused.
    pub result: Result<Loaded, TlsError>,
    /// The resolver, for its file names.
    pub resolver: &'a ReloadingResolver,
}

/// Reloads `resolver` on SIGHUP and on file changes until `stop` resolves,
/// calling `report` after each attempt.
pub async fn watch(
    resolver: Arc<ReloadingResolver>,
    poll: Duration,
    stop: impl Future<Output = ()>,
    mut report: impl FnMut(Reload<'_>),
) {
    let mut hangups = hangup_signals();
    let mut ticker = tokio::time::interval(poll);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        let trigger = tokio::select! {
            _ = &mut stop => return,
            Some(()) = next_hangup(&mut hangups) => Trigger::Hangup,
            _ = ticker.tick() => Trigger::FileChanged,
        };
        let result = match trigger {
            Trigger::Hangup => Some(resolver.reload()),
            Trigger::FileChanged => resolver.reload_if_changed(),
        };
        if let Some(result) = result {
            report(Reload {
                trigger,
                result,
                resolver: &resolver,
            });
        }
    }
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

#[cfg(unix)]
fn hangup_signals() -> Hangups {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

#[cfg(not(unix))]
fn hangup_signals() -> Hangups {
    None
}

/// The next SIGHUP; never when signals could not be set up.
async fn next_hangup(hangups: &mut Hangups) -> Option<()> {
    #[cfg(unix)]
    if let Some(signal) = hangups {
        return signal.recv().await;
    }
    let _ = hangups;
    std::future::pending().await
}
