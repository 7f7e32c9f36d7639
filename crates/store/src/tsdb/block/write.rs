//! Writes a block directory from series sorted by labels: chunks of up to
//! [`BLOCK_CHUNK_SAMPLES`] samples each in their smallest encoding, then the
//! index and `meta.json`, each fsynced, in a `.tmp` directory renamed into
//! place (and the parent fsynced) so a crash leaves either no block or a
//! whole one.

use super::format::{BlockMeta, ChunkMeta, IndexFile, IndexSeries, VERSION};
use crate::embedded::wal::sync_dir;
use crate::tsdb::chunk;
use crate::StoreError;
use model::metrics::{Labels, Sample};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Most samples in one block chunk (bigger than the head's 120: fewer
/// first-sample headers and index entries on disk).
pub const BLOCK_CHUNK_SAMPLES: usize = 1024;

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(io_err(format!("creating {}", path.display())))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io_err(format!("writing {}", path.display())))
}

/// Writes `series` (sorted by labels, each with ascending samples in
/// `[min_t, max_t)`) as block directory `final_dir`; returns its meta.
pub fn write_block(
    final_dir: &Path,
    min_t: i64,
    max_t: i64,
    level: u32,
    series: &[(Labels, Vec<Sample>)],
) -> Result<BlockMeta, StoreError> {
    let tmp = PathBuf::from(format!("{}.tmp", final_dir.display()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io_err(format!("removing {}", tmp.display())))?;
    }
    fs::create_dir_all(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;

    let mut symbols: BTreeMap<&str, u32> = BTreeMap::new();
    for (labels, _) in series {
        for (n, v) in labels.iter() {
            symbols.insert(n, 0);
            symbols.insert(v, 0);
        }
    }
    for (i, id) in symbols.values_mut().enumerate() {
        *id = i as u32;
    }
    let chunks_path = tmp.join("chunks");
    let file = File::create(&chunks_path)
        .map_err(io_err(format!("creating {}", chunks_path.display())))?;
    let mut out = BufWriter::new(file);
    let mut offset = 0u64;
    let mut index = IndexFile {
        symbols: symbols.keys().map(|s| s.to_string()).collect(),
        ..IndexFile::default()
    };
    let mut postings: BTreeMap<(u32, u32), Vec<u32>> = BTreeMap::new();
    let mut meta = BlockMeta {
        version: VERSION,
        min_t,
        max_t,
        series: 0,
        samples: 0,
        chunks: 0,
        bytes: 0,
        level,
    };
    for (labels, samples) in series.iter().filter(|(_, s)| !s.is_empty()) {
        let id = index.series.len() as u32;
        let pairs: Vec<(u32, u32)> = labels
            .iter()
            .map(|(n, v)| (symbols[n], symbols[v]))
            .collect();
        for &pair in &pairs {
            postings.entry(pair).or_default().push(id);
        }
        let mut metas = Vec::new();
        for piece in samples.chunks(BLOCK_CHUNK_SAMPLES) {
            let (enc, data) = chunk::encode_best(piece);
            out.write_all(&data)
                .map_err(io_err(format!("writing {}", chunks_path.display())))?;
            metas.push(ChunkMeta {
                min_t: piece[0].timestamp_ms,
                max_t: piece[piece.len() - 1].timestamp_ms,
                count: piece.len() as u32,
                enc,
                offset,
                len: data.len() as u32,
            });
            offset += data.len() as u64;
        }
        meta.series += 1;
        meta.samples += samples.len() as u64;
        meta.chunks += metas.len() as u64;
        index.series.push(IndexSeries {
            labels: pairs,
            chunks: metas,
        });
    }
    let file = out
        .into_inner()
        .map_err(|e| io_err(format!("writing {}", chunks_path.display()))(e.into_error()))?;
    file.sync_all()
        .map_err(io_err(format!("syncing {}", chunks_path.display())))?;
    index.postings = postings
        .into_iter()
        .map(|((n, v), ids)| (n, v, ids))
        .collect();
    let index_bytes = postcard::to_stdvec(&index).map_err(|e| StoreError::Corrupt {
        what: tmp.join("index").display().to_string(),
        detail: format!("encoding the block index: {e}"),
    })?;
    write_file(&tmp.join("index"), &index_bytes)?;
    meta.bytes = offset + index_bytes.len() as u64;
    let meta_json = serde_json::to_vec_pretty(&meta).map_err(|e| StoreError::Corrupt {
        what: tmp.join("meta.json").display().to_string(),
        detail: e.to_string(),
    })?;
    write_file(&tmp.join("meta.json"), &meta_json)?;
    sync_dir(&tmp)?;
    fs::rename(&tmp, final_dir).map_err(io_err(format!(
        "renaming {} to {}",
        tmp.display(),
        final_dir.display()
    )))?;
    if let Some(parent) = final_dir.parent() {
        sync_dir(parent)?;
    }
    Ok(meta)
}
