//! Login sessions of the UI: a random id (the cookie's value) → who logged in
//! and until when. Server-side, so logging out or restarting ends them; a
//! session grants only reading, whatever the token's role.
//!
//! Ids are [`auth::new_token`]s: 32 bytes from the OS RNG, base64url. The
//! table holds at most `max` sessions; when full, expired ones go first, then
//! the one closest to expiry.

use auth::{Clock, Identity, RandomError};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One login.
#[derive(Debug, Clone)]
struct Session {
    identity: Identity,
    expires: Instant,
}

/// The session table.
pub(crate) struct Sessions {
    lifetime: Duration,
    max: usize,
    clock: Arc<dyn Clock>,
    table: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// An empty table of sessions lasting `lifetime`, at most `max` at once.
    pub(crate) fn new(lifetime: Duration, max: usize, clock: Arc<dyn Clock>) -> Sessions {
        Sessions {
            lifetime,
            max: max.max(1),
            clock,
            table: Mutex::new(HashMap::new()),
        }
    }

    /// How long a session lasts (the cookie's `Max-Age`).
    pub(crate) fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Opens a session for `identity`; returns its id.
    pub(crate) fn open(&self, identity: Identity) -> Result<String, RandomError> {
        let id = auth::new_token()?;
        let now = self.clock.now();
        let mut table = self.lock();
        if table.len() >= self.max {
            table.retain(|_, session| session.expires > now);
        }
        if table.len() >= self.max {
            let soonest = table
                .iter()
                .min_by_key(|(_, session)| session.expires)
                .map(|(id, _)| id.clone());
            if let Some(soonest) = soonest {
                table.remove(&soonest);
            }
        }
        table.insert(
            id.clone(),
            Session {
                identity,
                expires: now + self.lifetime,
            },
        );
        Ok(id)
    }

    /// Who holds the session `id`, if it is open and not expired.
    pub(crate) fn identity(&self, id: &str) -> Option<Identity> {
        let now = self.clock.now();
        let mut table = self.lock();
        let session = table.get(id)?;
        if session.expires > now {
            return Some(session.identity.clone());
        }
        table.remove(id);
        None
    }

    /// Ends the session `id` (nothing if there is none).
    pub(crate) fn close(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Sessions in the table (expired ones not yet dropped included).
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Never prints the ids.
impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("open", &self.len())
            .field("max", &self.max)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth::{ManualClock, Role};

    fn someone(line: usize) -> Identity {
        Identity {
            name: Some("alice".into()),
            role: Role::Read,
            line,
        }
    }

    #[test]
    fn a_session_lasts_its_lifetime_until_closed() {
        let clock = Arc::new(ManualClock::new());
        let sessions = Sessions::new(Duration::from_secs(60), 10, clock.clone());
        let id = sessions.open(someone(1)).unwrap();
        assert_eq!(id.len(), 43, "32 random bytes, base64url");
        assert_eq!(sessions.identity(&id), Some(someone(1)));
        assert_eq!(sessions.identity("not-a-session"), None);
        clock.advance(Duration::from_secs(59));
        assert!(sessions.identity(&id).is_some());
        clock.advance(Duration::from_secs(1));
        assert_eq!(sessions.identity(&id), None);
        assert_eq!(sessions.len(), 0, "expired sessions are dropped when seen");

        let id = sessions.open(someone(2)).unwrap();
        sessions.close(&id);
        assert_eq!(sessions.identity(&id), None);
    }

    #[test]
    fn the_table_is_bounded_and_drops_the_session_closest_to_expiry() {
        let clock = Arc::new(ManualClock::new());
        let sessions = Sessions::new(Duration::from_secs(60), 3, clock.clone());
        let first = sessions.open(someone(1)).unwrap();
        clock.advance(Duration::from_secs(1));
        let rest: Vec<String> = (2..=3)
            .map(|n| sessions.open(someone(n)).unwrap())
            .collect();
        let newest = sessions.open(someone(4)).unwrap();
        assert_eq!(sessions.len(), 3);
        assert_eq!(sessions.identity(&first), None, "the oldest went");
        assert!(rest
            .iter()
            .chain([&newest])
            .all(|id| sessions.identity(id).is_some()));
        let ids: std::collections::HashSet<String> = (0..100)
            .map(|n| sessions.open(someone(n)).unwrap())
            .collect();
        assert_eq!(ids.len(), 100, "ids do not repeat");
        assert_eq!(sessions.len(), 3);
    }
}
