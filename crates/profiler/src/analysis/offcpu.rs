//! Off-CPU intervals: a blocking switch-out of a thread opens one, the thread's
//! next switch-in (or its next on-CPU sample) closes it, and the time between is
//! the off-CPU weight of the stack captured at the switch-out.
//!
//! Events of different CPUs may arrive out of time order, so a switch-in that
//! comes before its switch-out is remembered for a while and paired when the
//! switch-out shows up. Preempted switch-outs never reach this file.

use rustc_hash::FxHashMap;

/// Switch-ins remembered per thread while waiting for a late switch-out.
const PENDING_SWITCH_INS: usize = 8;

/// Pairs switch-outs with switch-ins per thread; `K` is what the caller wants
/// back with a closed interval (the stack key).
#[derive(Debug)]
pub(crate) struct OffCpuTracker<K> {
    /// Open interval per tid: switch-out time (ns) and key.
    open: FxHashMap<u32, (u64, K)>,
    /// Switch-in times (ns) not matched to an open interval yet, per tid.
    pending: FxHashMap<u32, Vec<u64>>,
}

impl<K> Default for OffCpuTracker<K> {
    fn default() -> Self {
        Self {
            open: FxHashMap::default(),
            pending: FxHashMap::default(),
        }
    }
}

impl<K: Copy> OffCpuTracker<K> {
    /// Thread `tid` blocked at `time_ns` with stack `key`. Returns a closed
    /// interval `(key, off_cpu_ns)` when its switch-in was already seen.
    pub fn switch_out(&mut self, tid: u32, time_ns: u64, key: K) -> Option<(K, u64)> {
        if let Some(pending) = self.pending.get_mut(&tid) {
            let earliest_after = pending
                .iter()
                .enumerate()
                .filter(|(_, &t)| t >= time_ns)
                .min_by_key(|(_, &t)| t)
                .map(|(i, &t)| (i, t));
            if let Some((i, switch_in)) = earliest_after {
                pending.swap_remove(i);
                return Some((key, switch_in - time_ns));
            }
        }
        // A still-open older interval lost its switch-in (lost records): drop it.
        self.open.insert(tid, (time_ns, key));
        None
    }

    /// Thread `tid` was switched in at `time_ns`.
    pub fn switch_in(&mut self, tid: u32, time_ns: u64) -> Option<(K, u64)> {
        if let Some(closed) = self.close(tid, time_ns) {
            return Some(closed);
        }
        let pending = self.pending.entry(tid).or_default();
        if pending.len() >= PENDING_SWITCH_INS {
            if let Some(oldest) = pending.iter().enumerate().min_by_key(|(_, &t)| t) {
                let i = oldest.0;
                pending.swap_remove(i);
            }
        }
        pending.push(time_ns);
        None
    }

    /// Thread `tid` was seen running at `time_ns` (an on-CPU sample), so any
    /// interval opened before then is over.
    pub fn on_cpu(&mut self, tid: u32, time_ns: u64) -> Option<(K, u64)> {
        self.close(tid, time_ns)
    }

    fn close(&mut self, tid: u32, time_ns: u64) -> Option<(K, u64)> {
        let &(start, key) = self.open.get(&tid)?;
        if time_ns < start {
            return None;
        }
        self.open.remove(&tid);
        Some((key, time_ns - start))
    }

    /// Intervals still open (dropped at the end of a recording).
    pub fn open_count(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_in_closes_the_interval() {
        let mut t = OffCpuTracker::default();
        assert_eq!(t.switch_out(7, 1_000, 'a'), None);
        assert_eq!(t.switch_in(8, 1_500), None, "another thread");
        assert_eq!(t.switch_in(7, 5_000), Some(('a', 4_000)));
        assert_eq!(t.switch_in(7, 6_000), None, "already closed");
        assert_eq!(t.open_count(), 0);
    }

    #[test]
    fn on_cpu_sample_closes_first() {
        let mut t = OffCpuTracker::default();
        t.switch_out(7, 1_000, 'a');
        assert_eq!(
            t.on_cpu(7, 500),
            None,
            "a sample from before the switch-out"
        );
        assert_eq!(t.on_cpu(7, 3_000), Some(('a', 2_000)));
        assert_eq!(t.switch_in(7, 4_000), None);
    }

    #[test]
    fn late_switch_out_pairs_with_earlier_seen_switch_in() {
        let mut t = OffCpuTracker::default();
        // CPU 1's buffer (switch-ins) was read before CPU 0's (switch-outs).
        assert_eq!(t.switch_in(7, 5_000), None);
        assert_eq!(t.switch_in(7, 20_000), None);
        assert_eq!(t.switch_out(7, 3_000, 'a'), Some(('a', 2_000)));
        assert_eq!(t.switch_out(7, 15_000, 'b'), Some(('b', 5_000)));
        // A switch-in from before a switch-out never closes it.
        assert_eq!(t.switch_in(7, 21_000), None);
        assert_eq!(t.switch_out(7, 30_000, 'c'), None);
        assert_eq!(t.switch_in(7, 31_000), Some(('c', 1_000)));
    }

    #[test]
    fn unclosed_intervals_stay_open() {
        let mut t = OffCpuTracker::default();
        t.switch_out(1, 10, 'x');
        t.switch_out(1, 20, 'y');
        assert_eq!(t.open_count(), 1);
        assert_eq!(t.switch_in(1, 25), Some(('y', 5)));
    }
}
