//! Every mapping seen during a recording, interned once and referred to by a
//! small index, so frames recorded while a process ran keep pointing at the
//! right file after the process exits or execs.
//!
//! Which process has which mapping *now* is `process`'s business, not this file's.

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// Index of a [`MappingInfo`] in a [`MappingRegistry`].
pub(crate) type MappingIndex = u32;

/// What backs a mapping, which decides how its frames are unwound and named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum MappingKind {
    /// A file on disk (ELF executable or shared library).
    File,
    /// Anonymous memory (`//anon`, `[anon:…]`, memfd): JIT code named by a perf map.
    Anonymous,
    /// The kernel's vDSO.
    Vdso,
    /// Any other special mapping (`[vsyscall]`, `[uprobes]`).
    Special,
}

/// One executable mapping of one process at one time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct MappingInfo {
    /// First mapped address.
    pub start: u64,
    /// One past the last mapped address.
    pub end: u64,
    /// File offset of `start`.
    pub file_offset: u64,
    /// Path without a ` (deleted)` suffix.
    pub path: Arc<str>,
    /// GNU build id, when the kernel reported it.
    pub build_id: Option<Arc<[u8]>>,
    /// What backs the mapping.
    pub kind: MappingKind,
}

impl MappingInfo {
    /// File offset of a runtime address inside the mapping.
    pub fn file_offset_of(&self, address: u64) -> u64 {
        address
            .wrapping_sub(self.start)
            .wrapping_add(self.file_offset)
    }

    /// The last path component, used in `name+0xOFFSET` fallback names.
    pub fn basename(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// Strips the ` (deleted)` suffix the kernel appends to unlinked files.
pub(crate) fn normalize_path(path: &str) -> &str {
    path.strip_suffix(" (deleted)").unwrap_or(path)
}

/// Classifies a (normalized) mapping path.
pub(crate) fn kind_of_path(path: &str) -> MappingKind {
    match path {
        "[vdso]" => MappingKind::Vdso,
        "" | "//anon" | "[heap]" | "[stack]" | "/dev/zero" => MappingKind::Anonymous,
        p if p.starts_with("[anon") || p.starts_with("/memfd:") => MappingKind::Anonymous,
        p if p.starts_with('[') => MappingKind::Special,
        p if p.starts_with('/') => MappingKind::File,
        _ => MappingKind::Anonymous,
    }
}

/// Interned mappings and paths of a recording.
#[derive(Debug, Default)]
pub(crate) struct MappingRegistry {
    infos: Vec<MappingInfo>,
    ids: FxHashMap<MappingInfo, MappingIndex>,
    paths: FxHashSet<Arc<str>>,
}

impl MappingRegistry {
    /// The shared copy of a path.
    pub fn path(&mut self, path: &str) -> Arc<str> {
        if let Some(p) = self.paths.get(path) {
            return Arc::clone(p);
        }
        let p: Arc<str> = Arc::from(path);
        self.paths.insert(Arc::clone(&p));
        p
    }

    /// Interns a mapping and returns its index.
    pub fn intern(&mut self, info: MappingInfo) -> MappingIndex {
        if let Some(&id) = self.ids.get(&info) {
            return id;
        }
        let id = MappingIndex::try_from(self.infos.len()).unwrap_or(MappingIndex::MAX);
        self.infos.push(info.clone());
        self.ids.insert(info, id);
        id
    }

    /// The mapping at `index`.
    pub fn get(&self, index: MappingIndex) -> Option<&MappingInfo> {
        self.infos.get(index as usize)
    }

    /// How many mappings were interned.
    pub fn len(&self) -> usize {
        self.infos.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_classified() {
        assert_eq!(kind_of_path("/usr/lib/libc.so.6"), MappingKind::File);
        assert_eq!(kind_of_path("//anon"), MappingKind::Anonymous);
        assert_eq!(kind_of_path(""), MappingKind::Anonymous);
        assert_eq!(kind_of_path("[anon:v8]"), MappingKind::Anonymous);
        assert_eq!(kind_of_path("/memfd:jit (deleted)"), MappingKind::Anonymous);
        assert_eq!(kind_of_path("[vdso]"), MappingKind::Vdso);
        assert_eq!(kind_of_path("[vsyscall]"), MappingKind::Special);
        assert_eq!(normalize_path("/tmp/victim (deleted)"), "/tmp/victim");
    }

    #[test]
    fn interning_is_stable() {
        let mut r = MappingRegistry::default();
        let path = r.path("/bin/x");
        let info = MappingInfo {
            start: 0x1000,
            end: 0x2000,
            file_offset: 0,
            path,
            build_id: None,
            kind: MappingKind::File,
        };
        let a = r.intern(info.clone());
        assert_eq!(a, r.intern(info.clone()));
        assert_eq!(r.get(a).map(|m| m.basename()), Some("x"));
        assert_eq!(info.file_offset_of(0x1234), 0x234);
        assert_eq!(r.len(), 1);
    }
}
