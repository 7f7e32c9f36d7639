//! Stacks as recorded while samples arrive, before anything is named: frames
//! interned to small ids, stacks interned to ids, and values summed per
//! (process, thread, names, stack) so a long recording stays small. A sample
//! whose stack was seen before costs no allocation.
//!
//! Turning frames into named locations happens at the end, in `resolve`.

use super::mappings::MappingIndex;
use super::process::NameId;
use rustc_hash::FxHashMap;

/// Id of an interned [`RawFrame`].
pub(crate) type FrameId = u32;
/// Id of an interned stack.
pub(crate) type StackId = u32;

/// One frame as sampled: an address and what it falls into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RawFrame {
    /// A kernel address.
    Kernel {
        /// The address.
        address: u64,
        /// Return address (look up at `address - 1`) rather than the sampled ip.
        is_return: bool,
    },
    /// A user address inside a known mapping. `pid` is only set for anonymous
    /// mappings (their names come from the process's perf map), else 0.
    User {
        /// The mapping the address was in when sampled.
        mapping: MappingIndex,
        /// The address.
        address: u64,
        /// Return address rather than the sampled ip.
        is_return: bool,
        /// Process id, for anonymous mappings only.
        pid: u32,
    },
    /// A user address outside every known mapping.
    Unmapped {
        /// The address.
        address: u64,
        /// Process id (its perf map may still name it).
        pid: u32,
    },
}

/// What a sample is aggregated by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SampleKey {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Thread name at the time of the sample.
    pub thread_name: NameId,
    /// Process name at the time of the sample.
    pub process_name: NameId,
    /// The stack.
    pub stack: StackId,
    /// CLOCK_MONOTONIC ns of the sample (of the switch-out for off-CPU
    /// time) when samples are kept apart in time, else 0.
    pub time_ns: u64,
}

/// Value columns of the assembler: samples, cpu (ns), off_cpu (ns).
pub(crate) type Values = [i64; 3];

/// Interned frames and stacks, and values summed per [`SampleKey`].
#[derive(Debug, Default)]
pub(crate) struct StackTable {
    frames: Vec<RawFrame>,
    frame_ids: FxHashMap<RawFrame, FrameId>,
    stack_ids: FxHashMap<Box<[FrameId]>, StackId>,
    totals: Vec<(SampleKey, Values)>,
    total_ids: FxHashMap<SampleKey, usize>,
}

impl StackTable {
    /// Interns a frame.
    pub fn frame(&mut self, frame: RawFrame) -> FrameId {
        if let Some(&id) = self.frame_ids.get(&frame) {
            return id;
        }
        let id = FrameId::try_from(self.frames.len()).unwrap_or(FrameId::MAX);
        self.frames.push(frame);
        self.frame_ids.insert(frame, id);
        id
    }

    /// Interns a stack of frame ids (leaf first); allocates only for new stacks.
    pub fn stack(&mut self, frames: &[FrameId]) -> StackId {
        if let Some(&id) = self.stack_ids.get(frames) {
            return id;
        }
        let id = StackId::try_from(self.stack_ids.len()).unwrap_or(StackId::MAX);
        self.stack_ids.insert(frames.into(), id);
        id
    }

    /// Adds `values` to the totals of `key`.
    pub fn add(&mut self, key: SampleKey, values: Values) {
        let index = *self.total_ids.entry(key).or_insert_with(|| {
            self.totals.push((key, [0; 3]));
            self.totals.len() - 1
        });
        if let Some((_, total)) = self.totals.get_mut(index) {
            for (t, v) in total.iter_mut().zip(values) {
                *t += v;
            }
        }
    }

    /// Every interned frame, indexed by [`FrameId`].
    pub fn frames(&self) -> &[RawFrame] {
        &self.frames
    }

    /// Every interned stack, indexed by [`StackId`].
    pub fn stacks(&self) -> Vec<&[FrameId]> {
        let mut stacks: Vec<&[FrameId]> = vec![&[]; self.stack_ids.len()];
        for (stack, &id) in &self.stack_ids {
            if let Some(slot) = stacks.get_mut(id as usize) {
                *slot = stack;
            }
        }
        stacks
    }

    /// Summed values per key, in first-seen order.
    pub fn len(&self) -> usize {
        self.totals.len()
    }

    /// Distinct keys summed.
    pub fn totals(&self) -> &[(SampleKey, Values)] {
        &self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_sums() {
        let mut t = StackTable::default();
        let a = t.frame(RawFrame::Kernel {
            address: 1,
            is_return: false,
        });
        let b = t.frame(RawFrame::Unmapped { address: 2, pid: 9 });
        assert_eq!(
            a,
            t.frame(RawFrame::Kernel {
                address: 1,
                is_return: false
            })
        );
        let s1 = t.stack(&[a, b]);
        let s2 = t.stack(&[b]);
        assert_eq!(s1, t.stack(&[a, b]));
        assert_ne!(s1, s2);
        let key = SampleKey {
            pid: 1,
            tid: 1,
            thread_name: 0,
            process_name: 0,
            stack: s1,
            time_ns: 0,
        };
        t.add(key, [1, 10, 0]);
        t.add(key, [1, 10, 0]);
        t.add(SampleKey { stack: s2, ..key }, [0, 0, 5]);
        assert_eq!(t.totals().len(), 2);
        assert_eq!(t.totals()[0].1, [2, 20, 0]);
        assert_eq!(t.stacks()[s1 as usize], &[a, b]);
        assert_eq!(t.frames().len(), 2);
    }
}
