//! Process tracking: which processes exist, what they and their threads are
//! called, and which executable mappings each has right now, following
//! MMAP/COMM/FORK/EXIT records (and `/proc` for processes that were already
//! running, see `proc_maps`).
//!
//! Exited processes are kept, so their samples still resolve at the end.
//! Unwinding and naming frames happen elsewhere.

use super::mappings::{kind_of_path, normalize_path, MappingIndex, MappingInfo, MappingRegistry};
use crate::event::MmapEvent;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Index of an interned name in [`Names`]; 0 is the empty (unknown) name.
pub(crate) type NameId = u32;

/// Interned process and thread names.
#[derive(Debug)]
pub(crate) struct Names {
    strings: Vec<Arc<str>>,
    ids: FxHashMap<Arc<str>, NameId>,
}

impl Default for Names {
    fn default() -> Self {
        let empty: Arc<str> = Arc::from("");
        let mut ids = FxHashMap::default();
        ids.insert(Arc::clone(&empty), 0);
        Self {
            strings: vec![empty],
            ids,
        }
    }
}

impl Names {
    /// Interns `name`.
    pub fn intern(&mut self, name: &str) -> NameId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = NameId::try_from(self.strings.len()).unwrap_or(0);
        let s: Arc<str> = Arc::from(name);
        self.strings.push(Arc::clone(&s));
        self.ids.insert(s, id);
        id
    }

    /// The name with id `id` (empty when unknown).
    pub fn get(&self, id: NameId) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }
}

/// One process: its name, its threads' names and its executable mappings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Process {
    /// Name of the process (its main thread's `comm`).
    pub name: NameId,
    /// Names of threads by tid.
    pub threads: FxHashMap<u32, NameId>,
    /// Executable mappings `(start, end, index)`, sorted by start, non-overlapping.
    pub mappings: Vec<(u64, u64, MappingIndex)>,
    /// Changes whenever `mappings` changes; unique across the table.
    pub generation: u64,
}

impl Process {
    /// The mapping containing `address`.
    pub fn mapping_at(&self, address: u64) -> Option<MappingIndex> {
        let i = self.mappings.partition_point(|m| m.0 <= address);
        let &(_, end, index) = self.mappings.get(i.checked_sub(1)?)?;
        (address < end).then_some(index)
    }
}

/// All processes of a recording, their mappings and names.
#[derive(Debug, Default)]
pub(crate) struct ProcessTable {
    processes: FxHashMap<u32, Process>,
    /// Every mapping ever seen.
    pub registry: MappingRegistry,
    /// Every process and thread name ever seen.
    pub names: Names,
    next_generation: u64,
}

impl ProcessTable {
    fn bump(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    /// Whether `pid` is known.
    pub fn contains(&self, pid: u32) -> bool {
        self.processes.contains_key(&pid)
    }

    /// The process `pid`, if known.
    pub fn get(&self, pid: u32) -> Option<&Process> {
        self.processes.get(&pid)
    }

    /// Drops what is known of `pid` (it exited); its mappings stay in the
    /// registry, which other processes share.
    pub fn forget(&mut self, pid: u32) {
        self.processes.remove(&pid);
    }

    /// The process `pid`, created empty when unknown.
    pub fn get_or_create(&mut self, pid: u32) -> &mut Process {
        if !self.processes.contains_key(&pid) {
            let generation = self.bump();
            self.processes.insert(
                pid,
                Process {
                    generation,
                    ..Process::default()
                },
            );
        }
        self.processes.entry(pid).or_default()
    }

    /// Adds an executable mapping to `pid` (non-executable ones are ignored).
    /// A new mapping replaces whatever part of older ones it overlaps.
    pub fn add_mapping(&mut self, event: &MmapEvent) {
        if !event.executable || event.len == 0 {
            return;
        }
        let path = normalize_path(&event.path);
        let info = MappingInfo {
            start: event.start,
            end: event.start.saturating_add(event.len),
            file_offset: event.file_offset,
            path: self.registry.path(path),
            build_id: event.build_id.as_deref().map(Arc::from),
            kind: kind_of_path(path),
        };
        let generation = self.bump();
        let Self {
            processes,
            registry,
            ..
        } = self;
        let process = processes.entry(event.pid).or_default();
        let mut kept = Vec::with_capacity(process.mappings.len() + 2);
        for &(start, end, index) in &process.mappings {
            if end <= info.start || start >= info.end {
                kept.push((start, end, index));
                continue;
            }
            let Some(old) = registry.get(index).cloned() else {
                continue;
            };
            if start < info.start {
                let left = MappingInfo {
                    end: info.start,
                    ..old.clone()
                };
                kept.push((start, info.start, registry.intern(left)));
            }
            if end > info.end {
                let right = MappingInfo {
                    start: info.end,
                    file_offset: old.file_offset + (info.end - start),
                    ..old
                };
                kept.push((info.end, end, registry.intern(right)));
            }
        }
        kept.push((info.start, info.end, registry.intern(info)));
        kept.sort_unstable_by_key(|m| m.0);
        process.mappings = kept;
        process.generation = generation;
    }

    /// A thread got a name; `exec` also replaces the process's address space.
    pub fn comm(&mut self, pid: u32, tid: u32, name: &str, exec: bool) {
        let name = self.names.intern(name);
        let generation = self.bump();
        let process = self.get_or_create(pid);
        if exec {
            process.mappings.clear();
            process.threads.clear();
            process.generation = generation;
            process.name = name;
        } else if tid == pid {
            process.name = name;
        }
        process.threads.insert(tid, name);
    }

    /// A process (`pid != ppid`) or thread (`pid == ppid`) was created. A new
    /// process starts as a copy of its parent.
    pub fn fork(&mut self, pid: u32, ppid: u32, tid: u32, ptid: u32) {
        let parent_thread_name = self.processes.get(&ppid).map(|p| {
            p.threads
                .get(&ptid)
                .copied()
                .filter(|&n| n != 0)
                .unwrap_or(p.name)
        });
        if pid != ppid {
            let generation = self.bump();
            let mut child = self.processes.get(&ppid).cloned().unwrap_or_default();
            child.threads.clear();
            child.generation = generation;
            self.processes.insert(pid, child);
        }
        let process = self.get_or_create(pid);
        let name = parent_thread_name.unwrap_or(process.name);
        process.threads.insert(tid, name);
    }

    /// The name of thread `tid` of `pid`, falling back to the process's name.
    pub fn thread_name(&self, pid: u32, tid: u32) -> NameId {
        self.processes.get(&pid).map_or(0, |p| {
            p.threads
                .get(&tid)
                .copied()
                .filter(|&n| n != 0)
                .unwrap_or(p.name)
        })
    }

    /// The name of process `pid`.
    pub fn process_name(&self, pid: u32) -> NameId {
        self.processes.get(&pid).map_or(0, |p| p.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mmap(pid: u32, start: u64, len: u64, path: &str) -> MmapEvent {
        MmapEvent {
            pid,
            tid: pid,
            start,
            len,
            file_offset: 0,
            path: path.to_string(),
            executable: true,
            build_id: None,
            time_ns: 0,
        }
    }

    fn path_at(t: &ProcessTable, pid: u32, address: u64) -> Option<String> {
        let index = t.get(pid)?.mapping_at(address)?;
        Some(t.registry.get(index)?.path.to_string())
    }

    #[test]
    fn fork_copies_mappings_and_name() {
        let mut t = ProcessTable::default();
        t.comm(100, 100, "parent", true);
        t.add_mapping(&mmap(100, 0x1000, 0x1000, "/bin/parent"));
        t.fork(200, 100, 200, 100);
        assert_eq!(path_at(&t, 200, 0x1800).as_deref(), Some("/bin/parent"));
        assert_eq!(t.names.get(t.process_name(200)), "parent");
        assert_eq!(t.names.get(t.thread_name(200, 200)), "parent");
        // The child's later mappings do not leak into the parent.
        t.add_mapping(&mmap(200, 0x9000, 0x1000, "/lib/child.so"));
        assert_eq!(path_at(&t, 100, 0x9000), None);
    }

    #[test]
    fn exec_clears_mappings_and_renames() {
        let mut t = ProcessTable::default();
        t.comm(100, 100, "sh", true);
        t.add_mapping(&mmap(100, 0x1000, 0x1000, "/bin/sh"));
        let before = t.get(100).unwrap().generation;
        t.comm(100, 100, "workload", true);
        assert_eq!(path_at(&t, 100, 0x1800), None);
        assert_ne!(t.get(100).unwrap().generation, before);
        assert_eq!(t.names.get(t.process_name(100)), "workload");
        t.add_mapping(&mmap(100, 0x1000, 0x1000, "/bin/workload"));
        assert_eq!(path_at(&t, 100, 0x1800).as_deref(), Some("/bin/workload"));
    }

    #[test]
    fn threads_get_their_own_names() {
        let mut t = ProcessTable::default();
        t.comm(100, 100, "app", true);
        t.fork(100, 100, 101, 100);
        assert_eq!(t.names.get(t.thread_name(100, 101)), "app");
        t.comm(100, 101, "worker", false);
        assert_eq!(t.names.get(t.thread_name(100, 101)), "worker");
        assert_eq!(t.names.get(t.process_name(100)), "app");
        assert_eq!(t.names.get(t.thread_name(100, 999)), "app");
    }

    #[test]
    fn new_mapping_splits_overlapped_ones() {
        let mut t = ProcessTable::default();
        t.add_mapping(&mmap(1, 0x10000, 0x10000, "/lib/a.so"));
        t.add_mapping(&mmap(1, 0x14000, 0x1000, "/lib/b.so"));
        assert_eq!(path_at(&t, 1, 0x13fff).as_deref(), Some("/lib/a.so"));
        assert_eq!(path_at(&t, 1, 0x14000).as_deref(), Some("/lib/b.so"));
        assert_eq!(path_at(&t, 1, 0x15000).as_deref(), Some("/lib/a.so"));
        let right = t.get(1).unwrap().mapping_at(0x15000).unwrap();
        assert_eq!(t.registry.get(right).unwrap().file_offset, 0x5000);
        assert_eq!(path_at(&t, 1, 0x20000), None);
        assert_eq!(path_at(&t, 1, 0xffff), None);
    }

    #[test]
    fn non_executable_and_deleted() {
        let mut t = ProcessTable::default();
        let mut data = mmap(1, 0x1000, 0x1000, "/lib/a.so");
        data.executable = false;
        t.add_mapping(&data);
        assert_eq!(path_at(&t, 1, 0x1000), None);
        t.add_mapping(&mmap(1, 0x1000, 0x1000, "/tmp/victim (deleted)"));
        assert_eq!(path_at(&t, 1, 0x1000).as_deref(), Some("/tmp/victim"));
    }
}
