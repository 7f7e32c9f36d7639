//! Names frames that were stored without a name, `FILE+0xOFFSET` in an
//! object file of a known build id, from binaries and debug files kept in
//! directories (`whyslow serve --debuginfo-dir DIR`, like pprof's
//! `PPROF_BINARY_PATH` or a debuginfod tree). A file is used only when its
//! GNU build id is the one the frame was recorded with; it is looked for as
//! `DIR/.build-id/AB/CDEF….debug`, in `DIR/BUILD_ID/`, as `DIR/FILE`, and
//! among the files directly in `DIR` (listed again at most once a minute,
//! so files added later are found).
//!
//! Names come from the file's symbol table, as the agent names frames
//! (blazesym, demangled, Rust hashes removed).

use crate::analysis::elf::ElfImage;
use crate::analysis::resolve::hex;
use crate::analysis::symbolize::ElfSymbolizer;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often the directories are listed again for build ids not found.
const RELIST: Duration = Duration::from_secs(60);
/// Names remembered; past this the memo starts over.
const MAX_NAMES: usize = 1 << 20;
/// Files read per directory listing.
const MAX_LISTED: usize = 10_000;

/// Binaries and debug files by build id, and the names found in them.
pub struct DebugFiles {
    dirs: Vec<PathBuf>,
    state: Mutex<State>,
}

struct State {
    /// The file of each build id asked about (`None`: not found).
    files: HashMap<String, Option<PathBuf>>,
    /// Build ids of the files directly in the directories, when listed.
    listing: HashMap<String, PathBuf>,
    listed_at: Option<Instant>,
    /// `(build id, file offset)` → name.
    names: HashMap<(String, u64), Option<String>>,
}

impl std::fmt::Debug for DebugFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DebugFiles")
            .field("dirs", &self.dirs)
            .finish_non_exhaustive()
    }
}

impl DebugFiles {
    /// Looks for files in `dirs`.
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        Self {
            dirs,
            state: Mutex::new(State {
                files: HashMap::new(),
                listing: HashMap::new(),
                listed_at: None,
                names: HashMap::new(),
            }),
        }
    }

    /// The function names at `offsets` (file offsets) of the build
    /// `build_id` (lowercase hex) of the file named `file_name`, aligned
    /// with `offsets`; `None` where no file of that build is at hand or it
    /// has no symbol there.
    pub fn names(&self, build_id: &str, file_name: &str, offsets: &[u64]) -> Vec<Option<String>> {
        if build_id.is_empty() || offsets.is_empty() {
            return vec![None; offsets.len()];
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let missing: Vec<u64> = offsets
            .iter()
            .copied()
            .filter(|&o| !state.names.contains_key(&(build_id.to_string(), o)))
            .collect();
        if !missing.is_empty() {
            let found = match self.file_of(&mut state, build_id, file_name) {
                // blazesym's symbolizer is not Send: one per lookup of new
                // offsets (names are remembered, so this is rare).
                Some(path) => ElfSymbolizer::new(true)
                    .symbolize(&path, &missing)
                    .into_iter()
                    .map(|frames| frames.and_then(|f| f.last().map(|outer| outer.name.clone())))
                    .collect(),
                None => vec![None; missing.len()],
            };
            if state.names.len() + missing.len() > MAX_NAMES {
                state.names.clear();
            }
            for (offset, name) in missing.into_iter().zip(found) {
                state.names.insert((build_id.to_string(), offset), name);
            }
        }
        offsets
            .iter()
            .map(|&o| {
                state
                    .names
                    .get(&(build_id.to_string(), o))
                    .cloned()
                    .flatten()
            })
            .collect()
    }

    /// The file with build id `build_id`, remembered once found; a build id
    /// not found is looked for again after [`RELIST`].
    fn file_of(&self, state: &mut State, build_id: &str, file_name: &str) -> Option<PathBuf> {
        if let Some(Some(path)) = state.files.get(build_id) {
            return Some(path.clone());
        }
        let stale = state.listed_at.is_none_or(|at| at.elapsed() >= RELIST);
        if state.files.contains_key(build_id) && !stale {
            return None;
        }
        let found = self
            .candidates(build_id, file_name)
            .into_iter()
            .find(|p| has_build_id(p, build_id));
        let found = found.or_else(|| {
            if stale {
                state.listing = self.list();
                state.listed_at = Some(Instant::now());
            }
            state.listing.get(build_id).cloned()
        });
        state.files.insert(build_id.to_string(), found.clone());
        found
    }

    /// Where a file of `build_id` named `file_name` would be by convention.
    fn candidates(&self, build_id: &str, file_name: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let safe_name = !file_name.is_empty() && !file_name.contains('/') && file_name != "..";
        for dir in &self.dirs {
            if build_id.len() > 2 && build_id.bytes().all(|b| b.is_ascii_hexdigit()) {
                let (head, tail) = build_id.split_at(2);
                out.push(
                    dir.join(".build-id")
                        .join(head)
                        .join(format!("{tail}.debug")),
                );
                if let Ok(entries) = std::fs::read_dir(dir.join(build_id)) {
                    out.extend(entries.flatten().map(|e| e.path()));
                }
            }
            if safe_name {
                out.push(dir.join(file_name));
            }
        }
        out
    }

    /// Build ids of the files directly in the directories.
    fn list(&self) -> HashMap<String, PathBuf> {
        let mut out = HashMap::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten().take(MAX_LISTED) {
                let path = entry.path();
                if let Some(id) = build_id_of(&path) {
                    out.entry(id).or_insert(path);
                }
            }
        }
        out
    }
}

fn has_build_id(path: &Path, build_id: &str) -> bool {
    build_id_of(path).is_some_and(|id| id == build_id)
}

/// The GNU build id of the ELF file at `path`, lowercase hex.
fn build_id_of(path: &Path) -> Option<String> {
    Some(hex(ElfImage::open(path)?.build_id.as_deref()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This test binary: its own build id and a file offset inside this function.
    fn me() -> (PathBuf, String) {
        let exe = std::env::current_exe().unwrap();
        let id = build_id_of(&exe).expect("test binaries have a build id");
        (exe, id)
    }

    #[test]
    fn files_are_found_by_build_id_and_never_by_name_alone() {
        let (exe, id) = me();
        let dir = std::env::temp_dir().join(format!("ws-debuginfo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("by-name")).unwrap();
        let name = exe.file_name().unwrap().to_str().unwrap().to_string();
        std::fs::copy(&exe, dir.join("copy-of-me")).unwrap();
        let files = DebugFiles::new(vec![dir.clone()]);
        // Found by listing the directory, whatever its name.
        let mut state = files.state.lock().unwrap();
        assert_eq!(
            files.file_of(&mut state, &id, &name),
            Some(dir.join("copy-of-me"))
        );
        // A different build id is not this file, even by name.
        std::fs::copy(&exe, dir.join(&name)).unwrap();
        assert_eq!(files.file_of(&mut state, "00112233", &name), None);
        drop(state);
        // Unknown builds and empty ids name nothing.
        assert_eq!(files.names("00112233", &name, &[0x1000]), vec![None]);
        assert_eq!(files.names("", &name, &[0x1000]), vec![None]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
