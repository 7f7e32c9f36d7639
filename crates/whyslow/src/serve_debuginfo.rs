//! `serve --debuginfo-dir`: the profile store's [`FrameNamer`] is the
//! profiler's [`DebugFiles`], which finds binaries and debug files by
//! build id and names file offsets from their symbol tables.

use profiler::debuginfo::DebugFiles;
use std::path::PathBuf;
use store::profiles::{FrameNamer, ObjectFile};

/// Names frames from the files in the `--debuginfo-dir` directories.
pub struct Namer(DebugFiles);

impl Namer {
    /// Looks in `dirs`.
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        Self(DebugFiles::new(dirs))
    }
}

impl FrameNamer for Namer {
    fn names(&self, object: &ObjectFile, offsets: &[u64]) -> Vec<Option<String>> {
        self.0.names(&object.build_id, object.basename(), offsets)
    }
}
