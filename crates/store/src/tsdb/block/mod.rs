//! Immutable blocks of the metrics store: one directory per time range under
//! `DATA_DIR/metrics/blocks/`, written once ([`write`]), opened with mmap
//! and queried through their postings index. The index is decoded into
//! memory on open (labels and chunk references: tens of bytes per series);
//! chunk bytes stay in the page cache.

mod format;
#[cfg(test)]
mod report;
mod write;

pub use format::BlockMeta;
pub use write::write_block;

use super::chunk;
use super::postings::{self, Postings};
use crate::series::Matcher;
use crate::StoreError;
use format::IndexFile;
use memmap2::Mmap;
use model::metrics::{Label, Labels, Sample};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// An open block.
pub struct Block {
    dir: PathBuf,
    seq: u64,
    meta: BlockMeta,
    index: IndexFile,
    chunks: Option<Mmap>,
}

impl Block {
    /// Opens block directory `dir` (numbered `seq`).
    pub fn open(dir: &Path, seq: u64) -> Result<Self, StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt {
            what: dir.display().to_string(),
            detail,
        };
        let meta_path = dir.join("meta.json");
        let meta_bytes =
            fs::read(&meta_path).map_err(io_err(format!("reading {}", meta_path.display())))?;
        let meta: BlockMeta =
            serde_json::from_slice(&meta_bytes).map_err(|e| corrupt(format!("meta.json: {e}")))?;
        let map = |name: &str| -> Result<Option<Mmap>, StoreError> {
            let path = dir.join(name);
            let file = File::open(&path).map_err(io_err(format!("opening {}", path.display())))?;
            let len = file
                .metadata()
                .map_err(io_err(format!("reading {}", path.display())))?
                .len();
            if len == 0 {
                return Ok(None);
            }
            // SAFETY: block files are written once, fsynced and renamed into
            // place before they are opened, and never modified afterwards;
            // deletion unlinks them, which keeps existing mappings valid.
            let mmap = unsafe { Mmap::map(&file) }
                .map_err(io_err(format!("mapping {}", path.display())))?;
            Ok(Some(mmap))
        };
        let index_map = map("index")?;
        let index: IndexFile = match &index_map {
            Some(bytes) => {
                postcard::from_bytes(bytes).map_err(|e| corrupt(format!("index: {e}")))?
            }
            None => IndexFile::default(),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            seq,
            meta,
            index,
            chunks: map("chunks")?,
        })
    }

    /// Its `meta.json`.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// Its sequence number (directory name).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Whether the block holds samples in `[lo, hi]`'s span.
    pub fn overlaps(&self, lo: i64, hi: i64) -> bool {
        self.meta.min_t <= hi && self.meta.max_t > lo
    }

    /// Number of series.
    pub fn series_count(&self) -> u32 {
        self.index.series.len() as u32
    }

    fn sym(&self, s: &str) -> Option<u32> {
        self.index
            .symbols
            .binary_search_by(|x| x.as_str().cmp(s))
            .ok()
            .map(|i| i as u32)
    }

    fn str(&self, id: u32) -> &str {
        self.index
            .symbols
            .get(id as usize)
            .map_or("", String::as_str)
    }

    /// Labels of series `id`.
    pub fn labels(&self, id: u32) -> Labels {
        let pairs = self
            .index
            .series
            .get(id as usize)
            .map_or(&[][..], |s| &s.labels[..]);
        Labels::from_sorted_unchecked(
            pairs
                .iter()
                .map(|&(n, v)| Label {
                    name: self.str(n).to_string(),
                    value: self.str(v).to_string(),
                })
                .collect(),
        )
    }

    /// Samples of series `id` in `[lo, hi]` onto `out`.
    pub fn samples(
        &self,
        id: u32,
        lo: i64,
        hi: i64,
        out: &mut Vec<Sample>,
    ) -> Result<(), StoreError> {
        let Some(series) = self.index.series.get(id as usize) else {
            return Ok(());
        };
        let bytes: &[u8] = self.chunks.as_deref().unwrap_or(&[]);
        for c in series
            .chunks
            .iter()
            .filter(|c| c.max_t >= lo && c.min_t <= hi)
        {
            let start = c.offset as usize;
            let data = bytes
                .get(start..start + c.len as usize)
                .ok_or_else(|| self.damaged("a chunk reference points past the end of chunks"))?;
            chunk::decode(c.enc, c.min_t, c.count as usize, data, lo, hi, out)
                .ok_or_else(|| self.damaged("a chunk does not decode"))?;
        }
        Ok(())
    }

    fn damaged(&self, detail: &str) -> StoreError {
        StoreError::Corrupt {
            what: self.dir.display().to_string(),
            detail: format!("{detail}; delete the block directory to drop its samples"),
        }
    }

    /// Whether series `id` has a sample in `[lo, hi]`.
    pub fn has_sample_in(&self, id: u32, lo: i64, hi: i64) -> Result<bool, StoreError> {
        let Some(series) = self.index.series.get(id as usize) else {
            return Ok(false);
        };
        for c in series
            .chunks
            .iter()
            .filter(|c| c.max_t >= lo && c.min_t <= hi)
        {
            if c.min_t >= lo && c.max_t <= hi {
                return Ok(true);
            }
            let mut out = Vec::new();
            self.samples(id, lo.max(c.min_t), hi.min(c.max_t), &mut out)?;
            if !out.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Ids matching every matcher.
    pub fn resolve(&self, matchers: &[Matcher]) -> Vec<u32> {
        postings::resolve(self, matchers)
    }

    /// Ids matching any matcher set.
    pub fn resolve_any(&self, sets: &[Vec<Matcher>]) -> Vec<u32> {
        postings::resolve_any(self, sets)
    }

    fn name_range(&self, n: u32) -> std::ops::Range<usize> {
        let p = &self.index.postings;
        p.partition_point(|x| x.0 < n)..p.partition_point(|x| x.0 <= n)
    }
}

impl Postings for Block {
    fn all(&self) -> Vec<u32> {
        (0..self.series_count()).collect()
    }

    fn equal(&self, name: &str, value: &str) -> Vec<u32> {
        let (Some(n), Some(v)) = (self.sym(name), self.sym(value)) else {
            return Vec::new();
        };
        self.index
            .postings
            .binary_search_by(|x| (x.0, x.1).cmp(&(n, v)))
            .map(|i| self.index.postings[i].2.clone())
            .unwrap_or_default()
    }

    fn matching(&self, name: &str, pred: &dyn Fn(&str) -> bool) -> Vec<u32> {
        let Some(n) = self.sym(name) else {
            return Vec::new();
        };
        postings::union(
            self.index.postings[self.name_range(n)]
                .iter()
                .filter(|x| pred(self.str(x.1)))
                .map(|x| x.2.as_slice())
                .collect(),
        )
    }
}

/// Path of block `seq`.
pub fn block_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:010}"))
}

/// Opens every block in `dir`, oldest range first; removes `.tmp` leftovers.
pub fn load_all(dir: &Path) -> Result<Vec<Block>, StoreError> {
    let mut blocks = Vec::new();
    let entries = fs::read_dir(dir).map_err(io_err(format!("listing {}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(io_err(format!("listing {}", dir.display())))?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".tmp") || name.ends_with(".deleting") {
            fs::remove_dir_all(&path).map_err(io_err(format!("removing {}", path.display())))?;
        } else if let Ok(seq) = name.parse::<u64>() {
            blocks.push(Block::open(&path, seq)?);
        }
    }
    blocks.sort_by_key(|b| (b.meta.min_t, b.seq));
    Ok(blocks)
}

/// Deletes a block directory (renamed first so a crash midway leaves no half block).
pub fn delete(block: &Block) -> Result<(), StoreError> {
    let doomed = PathBuf::from(format!("{}.deleting", block.dir.display()));
    fs::rename(&block.dir, &doomed).map_err(io_err(format!("renaming {}", block.dir.display())))?;
    fs::remove_dir_all(&doomed).map_err(io_err(format!("removing {}", doomed.display())))
}

impl Block {
    /// Label names present in the block.
    pub fn label_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .index
            .postings
            .iter()
            .map(|x| self.str(x.0).to_string())
            .collect();
        names.dedup();
        names
    }

    /// Values of label `name` in the block.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        let Some(n) = self.sym(name) else {
            return Vec::new();
        };
        self.index.postings[self.name_range(n)]
            .iter()
            .map(|x| self.str(x.1).to_string())
            .collect()
    }
}
