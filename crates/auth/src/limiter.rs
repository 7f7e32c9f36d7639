//! The failed-attempt limiter: an address that fails authentication
//! `max_failures` times within `window` is refused for `block` (429 with
//! Retry-After) without its credentials being looked at, which also spares
//! the CPU an argon2 verification per guess.
//!
//! IPv6 clients count per /64 (one host usually owns a whole /64), IPv4 per
//! address. Memory is bounded: at most `max_addresses` are tracked; when full,
//! records with nothing left to remember go first, then the unblocked one with
//! the oldest window; if every slot holds a blocked address, a new address is
//! not tracked (each of its guesses still costs a slow hash).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// How many failures an address may have and what follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Failures within `window` that block the address (0: never block).
    pub max_failures: u32,
    /// The window failures are counted in.
    pub window: Duration,
    /// How long a blocked address is refused.
    pub block: Duration,
    /// Most addresses tracked at once.
    pub max_addresses: usize,
}

impl Default for RateLimit {
    /// 10 failures a minute block an address for 5 minutes; 10 000 addresses tracked (~1 MiB).
    fn default() -> Self {
        RateLimit {
            max_failures: 10,
            window: Duration::from_secs(60),
            block: Duration::from_secs(300),
            max_addresses: 10_000,
        }
    }
}

/// One address's failures.
#[derive(Debug, Clone, Copy)]
struct Record {
    window_start: Instant,
    failures: u32,
    blocked_at: Option<Instant>,
}

/// Failure counts per client address.
#[derive(Debug)]
pub(crate) struct FailureLimiter {
    limit: RateLimit,
    records: HashMap<IpAddr, Record>,
}

impl FailureLimiter {
    pub(crate) fn new(limit: RateLimit) -> FailureLimiter {
        FailureLimiter {
            limit,
            records: HashMap::new(),
        }
    }

    /// How long `client` is still refused, if it is.
    pub(crate) fn blocked(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        let record = self.records.get(&client_key(client))?;
        self.remaining_block(record, now)
    }

    /// Counts one failure of `client`; blocks it at `max_failures`.
    pub(crate) fn record_failure(&mut self, client: IpAddr, now: Instant) {
        if self.limit.max_failures == 0 || self.limit.max_addresses == 0 {
            return;
        }
        let key = client_key(client);
        if !self.records.contains_key(&key) && !self.make_room(now) {
            return;
        }
        let fresh = Record {
            window_start: now,
            failures: 0,
            blocked_at: None,
        };
        let limit = self.limit;
        let record = self.records.entry(key).or_insert(fresh);
        if let Some(blocked_at) = record.blocked_at {
            if now.saturating_duration_since(blocked_at) < limit.block {
                return;
            }
            *record = fresh;
        }
        if now.saturating_duration_since(record.window_start) >= limit.window {
            *record = fresh;
        }
        record.failures = record.failures.saturating_add(1);
        if record.failures >= limit.max_failures {
            record.blocked_at = Some(now);
        }
    }

    /// Addresses tracked.
    pub(crate) fn tracked(&self) -> usize {
        self.records.len()
    }

    fn remaining_block(&self, record: &Record, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(record.blocked_at?);
        self.limit
            .block
            .checked_sub(elapsed)
            .filter(|d| !d.is_zero())
    }

    /// Frees a slot for a new address; false when every slot is a blocked address.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.records.len() < self.limit.max_addresses {
            return true;
        }
        let window = self.limit.window;
        let block = self.limit.block;
        self.records.retain(|_, record| {
            let blocked = record
                .blocked_at
                .is_some_and(|at| now.saturating_duration_since(at) < block);
            blocked || now.saturating_duration_since(record.window_start) < window
        });
        if self.records.len() < self.limit.max_addresses {
            return true;
        }
        let oldest_unblocked = self
            .records
            .iter()
            .filter(|(_, record)| self.remaining_block(record, now).is_none())
            .min_by_key(|(_, record)| record.window_start)
            .map(|(key, _)| *key);
        match oldest_unblocked {
            Some(key) => {
                self.records.remove(&key);
                true
            }
            None => false,
        }
    }
}

/// The unit failures are counted per: the IPv4 address (also when mapped into
/// IPv6), or the /64 of an IPv6 address.
fn client_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn limit() -> RateLimit {
        RateLimit {
            max_failures: 3,
            window: Duration::from_secs(60),
            block: Duration::from_secs(300),
            max_addresses: 4,
        }
    }

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    #[test]
    fn failures_within_the_window_block_then_the_block_expires() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let mut limiter = FailureLimiter::new(limit());
        limiter.record_failure(v4(1), at(0));
        limiter.record_failure(v4(1), at(10));
        assert_eq!(limiter.blocked(v4(1), at(10)), None);
        limiter.record_failure(v4(1), at(20));
        assert_eq!(
            limiter.blocked(v4(1), at(20)),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            limiter.blocked(v4(1), at(319)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(limiter.blocked(v4(2), at(20)), None);
        assert_eq!(limiter.blocked(v4(1), at(320)), None);
        // After the block, counting starts afresh.
        limiter.record_failure(v4(1), at(321));
        assert_eq!(limiter.blocked(v4(1), at(321)), None);
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_block() {
        let start = Instant::now();
        let mut limiter = FailureLimiter::new(limit());
        for minute in 0..10 {
            let now = start + Duration::from_secs(31 * minute);
            limiter.record_failure(v4(1), now);
            assert_eq!(limiter.blocked(v4(1), now), None, "minute {minute}");
        }
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let start = Instant::now();
        let mut limiter = FailureLimiter::new(limit());
        for host in 1..=3u16 {
            let address = Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, host);
            limiter.record_failure(IpAddr::V6(address), start);
        }
        let neighbour = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9));
        let other_64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
        assert!(limiter.blocked(neighbour, start).is_some());
        assert!(limiter.blocked(other_64, start).is_none());
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped());
        assert_eq!(client_key(mapped), v4(7));
    }

    #[test]
    fn memory_is_bounded_and_blocked_addresses_are_kept() {
        let start = Instant::now();
        let mut limiter = FailureLimiter::new(limit());
        for _ in 0..3 {
            limiter.record_failure(v4(1), start);
        }
        for last in 2..=200 {
            limiter.record_failure(v4(last), start);
            assert!(limiter.tracked() <= 4);
        }
        assert!(limiter.blocked(v4(1), start).is_some());
        // Every slot blocked: a new address is not tracked, the blocked stay.
        let mut full = FailureLimiter::new(limit());
        for last in 1..=4 {
            for _ in 0..3 {
                full.record_failure(v4(last), start);
            }
        }
        full.record_failure(v4(99), start);
        assert_eq!(full.tracked(), 4);
        assert!((1..=4).all(|last| full.blocked(v4(last), start).is_some()));
        // Once blocks and windows expire, their slots are reused.
        let later = start + Duration::from_secs(400);
        full.record_failure(v4(99), later);
        assert_eq!(full.tracked(), 1);
    }
}
