//! What `offcputime` reports: one [`Entry`] per (thread, user stack, kernel
//! stack, comm) with its total time off CPU, read from the aggregate and
//! stack maps. Frames carry their addresses; names are filled in later by
//! [`super::symbolize`].

use super::program::KEY_LEN;
use crate::error::Result;
use crate::runtime;
use bpf::map::Map;

/// `get_stackid`'s error for "no such stack" (a kernel thread's user stack).
const EFAULT: i32 = 14;

/// One stack frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub addr: u64,
    /// The function, when symbolized.
    pub name: Option<String>,
    /// `addr` minus the function's start (0 when unknown).
    pub offset: u64,
}

impl Frame {
    /// An unsymbolized frame.
    pub fn at(addr: u64) -> Frame {
        Frame {
            addr,
            name: None,
            offset: 0,
        }
    }
}

/// A user or kernel stack of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stack {
    /// Not collected (`-U`/`-K`), or none exists (a kernel thread's user
    /// stack).
    Absent,
    /// Collection failed (stack map full, hash collision, or the stack
    /// already gone): the positive errno, 0 when the id had no stack.
    Missed(i32),
    /// Frames, innermost first.
    Frames(Vec<Frame>),
}

impl Stack {
    /// The frames, empty unless [`Stack::Frames`].
    pub fn frames(&self) -> &[Frame] {
        match self {
            Stack::Frames(f) => f,
            _ => &[],
        }
    }

    /// Whether any frame's name contains `text`.
    pub fn mentions(&self, text: &str) -> bool {
        self.frames()
            .iter()
            .any(|f| f.name.as_deref().is_some_and(|n| n.contains(text)))
    }
}

/// Time off CPU of one thread in one pair of stacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Thread id (0 for the idle tasks).
    pub pid: u32,
    /// Process id.
    pub tgid: u32,
    pub comm: String,
    pub user: Stack,
    pub kernel: Stack,
    /// Microseconds off CPU.
    pub total_us: u64,
}

/// Every entry with time, unsymbolized, smallest total first (ties by
/// thread id), as BCC sorts them.
pub fn read(counts: &Map, stacks: &Map, max_depth: u32) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for key in counts.keys()? {
        let Some(value) = counts.lookup(&key)? else {
            continue;
        };
        let total_us = runtime::u64_at(&value, 0);
        if total_us == 0 || key.len() < KEY_LEN as usize {
            continue;
        }
        entries.push(Entry {
            pid: runtime::u32_at(&key, 0),
            tgid: runtime::u32_at(&key, 4),
            user: stack(stacks, runtime::u32_at(&key, 8) as i32, max_depth)?,
            kernel: stack(stacks, runtime::u32_at(&key, 12) as i32, max_depth)?,
            comm: runtime::c_str(key.get(16..32).unwrap_or(&[])),
            total_us,
        });
    }
    entries.sort_by_key(|e| (e.total_us, e.pid));
    Ok(entries)
}

/// The stack of `id` from the stack map.
fn stack(stacks: &Map, id: i32, max_depth: u32) -> Result<Stack> {
    if id == -1 || id == -EFAULT {
        return Ok(Stack::Absent);
    }
    if id < 0 {
        return Ok(Stack::Missed(-id));
    }
    let Some(bytes) = stacks.lookup(&id.to_le_bytes())? else {
        return Ok(Stack::Missed(0));
    };
    Ok(Stack::Frames(frames(&bytes, max_depth)))
}

/// The instruction pointers of a stack-map value, up to the first 0.
pub fn frames(bytes: &[u8], max_depth: u32) -> Vec<Frame> {
    bytes
        .chunks_exact(8)
        .take(max_depth as usize)
        .map(|c| runtime::u64_at(c, 0))
        .take_while(|&ip| ip != 0)
        .map(Frame::at)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_stop_at_zero_and_depth() {
        let mut bytes = Vec::new();
        for ip in [0x10u64, 0x20, 0x30, 0, 0x50] {
            bytes.extend_from_slice(&ip.to_le_bytes());
        }
        let ips = |v: Vec<Frame>| v.iter().map(|f| f.addr).collect::<Vec<_>>();
        assert_eq!(ips(frames(&bytes, 127)), [0x10, 0x20, 0x30]);
        assert_eq!(ips(frames(&bytes, 2)), [0x10, 0x20]);
        assert!(frames(&bytes[..7], 127).is_empty());
    }

    #[test]
    fn stacks_mention_names() {
        let s = Stack::Frames(vec![
            Frame::at(1),
            Frame {
                addr: 2,
                name: Some("__schedule".into()),
                offset: 4,
            },
        ]);
        assert!(s.mentions("schedule"));
        assert!(!s.mentions("futex"));
        assert!(Stack::Missed(12).frames().is_empty());
    }
}
