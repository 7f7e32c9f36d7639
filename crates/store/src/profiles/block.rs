//! Profile blocks: one immutable file per cut of the head (or compaction of
//! blocks), `blocks/NNNNNNNNNNNNNNNN.wpb` in the profile store's directory.
//!
//! Layout: the magic `WSPROF02`, a little-endian `u32` length and a postcard
//! [`BlockMeta`] (time bounds, sample count, series labels: enough to skip
//! the block for a query without reading further), a `u64` length and the
//! body: a zstd-compressed postcard [`Body`] holding the block's own names
//! and call tree (only the nodes its samples reach, so retention deletes
//! symbols with the samples) and per series its columns; then the timed
//! samples, per series ([`super::block_ticks`]). Within a profile, samples
//! are sorted by leaf node and stored as node deltas; profile times are
//! deltas too, so postcard's varints and zstd leave a few bytes a sample.
//!
//! The body ends with the series' object files ([`ObjectFile`]); a body
//! written before them ends after the series and is read as such.
//! `WSPROF01` blocks, written before timed samples existed, are the same
//! without the body length and the timed samples, and are still read.
//!
//! Written to a temporary name, fsynced, renamed, and the directory fsynced:
//! a block either exists whole or not at all.

use super::block_ticks::{self, BodyTicks};
use super::tables::{Series, Tables, Ticks};
use super::ObjectFile;
use crate::embedded::wal;
use crate::StoreError;
use model::metrics::Labels;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"WSPROF02";
/// Blocks without timed samples.
const MAGIC_V1: &[u8; 8] = b"WSPROF01";
const ZSTD_LEVEL: i32 = 3;

/// What a block holds, readable without decoding its samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockMeta {
    /// Oldest profile start, Unix ns.
    pub min_t: i64,
    /// Newest profile end, Unix ns.
    pub max_t: i64,
    /// Samples in the block.
    pub samples: u64,
    /// WAL segments up to this number are covered by this block (or by
    /// older blocks) and are deleted on open.
    pub wal_through: u64,
    /// Blocks this one was compacted from (deleted on open if still there).
    pub sources: Vec<u64>,
    /// Series: labels, profile type, time bounds.
    pub series: Vec<SeriesMeta>,
}

/// One series of a block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesMeta {
    /// The series' labels.
    pub labels: Labels,
    /// Its `__profile_type__`.
    pub profile_type: String,
    /// Oldest profile start, Unix ns.
    pub min_t: i64,
    /// Newest profile end, Unix ns.
    pub max_t: i64,
}

#[derive(Serialize, Deserialize)]
struct Body {
    names: Vec<String>,
    nodes: Vec<(u32, u32)>,
    series: Vec<BodySeries>,
    /// `(series index, object file)`.
    objects: Vec<(u32, ObjectFile)>,
}

/// A body as written before object files were kept.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct BodyWithoutObjects {
    names: Vec<String>,
    nodes: Vec<(u32, u32)>,
    series: Vec<BodySeries>,
}

#[derive(Serialize, Deserialize)]
struct BodySeries {
    /// Profile start times, each a delta from the one before.
    times: Vec<i64>,
    durations: Vec<i64>,
    /// Samples per profile.
    counts: Vec<u32>,
    /// Leaf nodes, sorted within a profile, each a delta from the one
    /// before in the same profile (the first from 0).
    nodes: Vec<u32>,
    values: Vec<i64>,
    /// `(sample index in the series, span, trace)`.
    links: Vec<(u32, Option<u64>, Option<u128>)>,
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

fn corrupt(path: &Path, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: path.display().to_string(),
        detail: detail.into(),
    }
}

/// The file name of block `id`.
pub fn block_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:016}.wpb"))
}

/// Block ids in `dir`, ascending (temporary files of an interrupted write
/// are removed).
pub fn list_blocks(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut ids = Vec::new();
    let entries = fs::read_dir(dir).map_err(io_err(format!("listing {}", dir.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        } else if let Some(id) = name.strip_suffix(".wpb").and_then(|s| s.parse().ok()) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Writes `tables` as block `id`; returns its meta and size in bytes.
pub fn write(
    dir: &Path,
    id: u64,
    tables: &Tables,
    wal_through: u64,
    sources: &[u64],
) -> Result<(BlockMeta, u64), StoreError> {
    let (mut meta, body, ticks) = encode(tables, wal_through);
    meta.sources = sources.to_vec();
    let meta_bytes = postcard::to_allocvec(&meta).unwrap_or_default();
    let body_bytes = postcard::to_allocvec(&body).unwrap_or_default();
    let path = block_path(dir, id);
    let tmp = path.with_extension("tmp");
    let compressing = || io_err(format!("compressing profile block {}", path.display()));
    let compressed = zstd::bulk::compress(&body_bytes, ZSTD_LEVEL).map_err(compressing())?;
    let section = block_ticks::encode_section(&ticks).map_err(compressing())?;
    let mut out = Vec::with_capacity(20 + meta_bytes.len() + compressed.len() + section.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(meta_bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta_bytes);
    out.extend_from_slice(&(compressed.len() as u64).to_le_bytes());
    out.extend_from_slice(&compressed);
    out.extend_from_slice(&section);
    let mut file = fs::File::create(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
    file.write_all(&out)
        .and_then(|()| file.sync_all())
        .map_err(io_err(format!("writing {}", tmp.display())))?;
    fs::rename(&tmp, &path).map_err(io_err(format!("renaming {}", tmp.display())))?;
    wal::sync_dir(dir)?;
    Ok((meta, out.len() as u64))
}

/// Deletes block `id`'s file.
pub fn delete(dir: &Path, id: u64) -> Result<(), StoreError> {
    let path = block_path(dir, id);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Io {
            context: format!("deleting {}", path.display()),
            source: e,
        }),
    }
}

/// Reads block `id`'s meta (and its size in bytes).
pub fn read_meta(dir: &Path, id: u64) -> Result<(BlockMeta, u64), StoreError> {
    let path = block_path(dir, id);
    let bytes = fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
    let (meta, _, _) = split(&path, &bytes)?;
    Ok((meta, bytes.len() as u64))
}

/// A block's parts: meta, compressed body, ticks section (`None` in a
/// `WSPROF01` block).
type Parts<'a> = (BlockMeta, &'a [u8], Option<&'a [u8]>);

fn split<'a>(path: &Path, bytes: &'a [u8]) -> Result<Parts<'a>, StoreError> {
    let with_ticks = match bytes.get(..8) {
        Some(m) if m == MAGIC => true,
        Some(m) if m == MAGIC_V1 => false,
        _ => return Err(corrupt(path, "not a profile block (bad magic)")),
    };
    if bytes.len() < 12 {
        return Err(corrupt(path, "not a profile block (too short)"));
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&bytes[8..12]);
    let end = 12usize.saturating_add(u32::from_le_bytes(len) as usize);
    let meta_bytes = bytes
        .get(12..end)
        .ok_or_else(|| corrupt(path, "meta runs past the end"))?;
    let meta = postcard::from_bytes(meta_bytes)
        .map_err(|e| corrupt(path, format!("undecodable meta: {e}")))?;
    if !with_ticks {
        return Ok((meta, &bytes[end..], None));
    }
    let body_len = bytes
        .get(end..end.saturating_add(8))
        .map(|b| {
            let mut len = [0u8; 8];
            len.copy_from_slice(b);
            u64::from_le_bytes(len)
        })
        .ok_or_else(|| corrupt(path, "body length cut short"))?;
    let body_start = end + 8;
    let body_end = usize::try_from(body_len)
        .ok()
        .and_then(|l| body_start.checked_add(l))
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| corrupt(path, "body runs past the end"))?;
    Ok((meta, &bytes[body_start..body_end], Some(&bytes[body_end..])))
}

/// Reads block `id` and decodes its samples (no timed samples: see
/// [`read_tables_full`] and [`read_ticks`]).
pub fn read_tables(dir: &Path, id: u64) -> Result<Tables, StoreError> {
    let path = block_path(dir, id);
    let bytes = fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
    let (meta, compressed, _) = split(&path, &bytes)?;
    decode_body(&path, meta, compressed)
}

/// Reads block `id` whole: samples and timed samples.
pub fn read_tables_full(dir: &Path, id: u64) -> Result<Tables, StoreError> {
    let path = block_path(dir, id);
    let bytes = fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
    let (meta, compressed, section) = split(&path, &bytes)?;
    let mut tables = decode_body(&path, meta, compressed)?;
    if let Some(section) = section {
        let node_count = tables.nodes.len() as u64;
        block_ticks::attach_all(section, &mut tables.series, node_count)
            .map_err(|detail| corrupt(&path, detail))?;
    }
    Ok(tables)
}

/// The timed samples of the series at `indexes` of block `id`, whose
/// samples `tables` holds (from [`read_tables`]).
pub(super) fn read_ticks(
    dir: &Path,
    id: u64,
    tables: &Tables,
    indexes: &[usize],
) -> Result<Vec<Ticks>, StoreError> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let path = block_path(dir, id);
    let bytes = fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
    let (_, _, section) = split(&path, &bytes)?;
    let Some(section) = section else {
        return Ok(Vec::new());
    };
    block_ticks::columns(section, &tables.series, indexes, tables.nodes.len() as u64)
        .map_err(|detail| corrupt(&path, detail))
}

fn decode_body(path: &Path, meta: BlockMeta, compressed: &[u8]) -> Result<Tables, StoreError> {
    let raw = zstd::stream::decode_all(compressed)
        .map_err(|e| corrupt(path, format!("undecompressable body: {e}")))?;
    let body = match postcard::from_bytes::<Body>(&raw) {
        Ok(body) => body,
        Err(e) => match postcard::from_bytes::<BodyWithoutObjects>(&raw) {
            Ok(old) => Body {
                names: old.names,
                nodes: old.nodes,
                series: old.series,
                objects: Vec::new(),
            },
            Err(_) => return Err(corrupt(path, format!("undecodable body: {e}"))),
        },
    };
    decode(meta, body).map_err(|detail| corrupt(path, detail))
}

fn encode(tables: &Tables, wal_through: u64) -> (BlockMeta, Body, Vec<BodyTicks>) {
    // Only the stacks samples end in (and their ancestors) and their names.
    let mut keep = vec![false; tables.nodes.len()];
    for s in &tables.series {
        for &n in &s.nodes {
            keep[n as usize] = true;
        }
    }
    let pruned = tables.prune(keep);
    let node_map = pruned.node_map;
    let mut body = Body {
        names: pruned.names,
        nodes: pruned.nodes,
        series: Vec::new(),
        objects: Vec::new(),
    };
    let mut all_ticks = Vec::new();
    let mut meta = BlockMeta {
        min_t: i64::MAX,
        max_t: i64::MIN,
        samples: 0,
        wal_through,
        sources: Vec::new(),
        series: Vec::new(),
    };
    for s in &tables.series {
        if s.profiles.is_empty() {
            continue;
        }
        meta.min_t = meta.min_t.min(s.min_t);
        meta.max_t = meta.max_t.max(s.max_t);
        meta.samples += s.nodes.len() as u64;
        meta.series.push(SeriesMeta {
            labels: s.labels.clone(),
            profile_type: s.profile_type.clone(),
            min_t: s.min_t,
            max_t: s.max_t,
        });
        let index = body.series.len() as u32;
        body.objects
            .extend(s.objects.iter().map(|o| (index, o.clone())));
        let (series, ticks) = encode_series(s, &node_map);
        body.series.push(series);
        all_ticks.push(ticks);
    }
    (meta, body, all_ticks)
}

fn encode_series(s: &Series, node_map: &[u32]) -> (BodySeries, BodyTicks) {
    let mut order: Vec<usize> = (0..s.profiles.len()).collect();
    order.sort_by_key(|&i| s.profiles[i].time_ns);
    let mut out = BodySeries {
        times: Vec::with_capacity(order.len()),
        durations: Vec::with_capacity(order.len()),
        counts: Vec::with_capacity(order.len()),
        nodes: Vec::with_capacity(s.nodes.len()),
        values: Vec::with_capacity(s.nodes.len()),
        links: Vec::new(),
    };
    let mut ticks = BodyTicks::default();
    let mut leaves: Vec<u32> = Vec::new();
    let mut last_t = 0i64;
    let mut samples: Vec<(u32, usize)> = Vec::new();
    for i in order {
        let p = s.profiles[i];
        out.times.push(p.time_ns.wrapping_sub(last_t));
        last_t = p.time_ns;
        out.durations.push(p.duration_ns);
        out.counts.push(p.len);
        samples.clear();
        samples.extend(
            (p.first as usize..(p.first + p.len) as usize)
                .map(|j| (node_map[s.nodes[j] as usize], j)),
        );
        samples.sort_unstable();
        let mut last_node = 0u32;
        for &(node, j) in &samples {
            if let Some(&(span, trace)) = s.links.get(&(j as u32)) {
                out.links.push((out.nodes.len() as u32, span, trace));
            }
            out.nodes.push(node - last_node);
            last_node = node;
            out.values.push(s.values[j]);
        }
        // The profile's leaves as stored (sorted), for the ticks' indexes.
        let deltas = &out.nodes[out.nodes.len() - samples.len()..];
        leaves.clear();
        let mut at = 0u32;
        for &d in deltas {
            at += d;
            leaves.push(at);
        }
        ticks.push_profile(s, &p, &leaves, node_map);
    }
    (out, ticks)
}

fn decode(meta: BlockMeta, body: Body) -> Result<Tables, String> {
    if body.series.len() != meta.series.len() {
        return Err("series count differs between meta and body".into());
    }
    for (i, &(parent, name)) in body.nodes.iter().enumerate() {
        if parent as usize > i || name as usize >= body.names.len() {
            return Err(format!("node {i} refers ahead"));
        }
    }
    let mut tables = Tables {
        names: body.names,
        nodes: body.nodes,
        series: Vec::with_capacity(meta.series.len()),
        samples: 0,
    };
    let node_count = tables.nodes.len() as u64;
    for (m, b) in meta.series.into_iter().zip(body.series) {
        let total: u64 = b.counts.iter().map(|&c| u64::from(c)).sum();
        if b.times.len() != b.counts.len()
            || b.durations.len() != b.counts.len()
            || total != b.nodes.len() as u64
            || b.values.len() != b.nodes.len()
        {
            return Err("series columns of different lengths".into());
        }
        let mut series = Series::new(m.labels, m.profile_type);
        let mut links = b.links.into_iter().peekable();
        let (mut t, mut at) = (0i64, 0usize);
        let mut leafs = Vec::new();
        for ((dt, duration), count) in b.times.iter().zip(&b.durations).zip(&b.counts) {
            t = t.wrapping_add(*dt);
            let end = at + *count as usize;
            leafs.clear();
            let mut node = 0u64;
            for &d in &b.nodes[at..end] {
                node += u64::from(d);
                if node >= node_count {
                    return Err("sample refers to an unknown stack".into());
                }
                leafs.push(node as u32);
            }
            let mut mine = Vec::new();
            while let Some(&(i, span, trace)) = links.peek() {
                if (i as usize) >= end {
                    break;
                }
                if (i as usize) >= at {
                    mine.push((i - at as u32, span, trace));
                }
                links.next();
            }
            series.push_profile(t, *duration, &leafs, &b.values[at..end], mine, []);
            at = end;
        }
        // The meta's bounds hold the timed samples' times too.
        (series.min_t, series.max_t) = (m.min_t, m.max_t);
        tables.samples += at as u64;
        tables.series.push(series);
    }
    for (index, object) in body.objects {
        let series = tables
            .series
            .get_mut(index as usize)
            .ok_or("an object file of an unknown series")?;
        series.add_objects([&object]);
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::head::Head;
    use crate::profiles::{
        MergedStacks, ProfileQuery, ProfileWrite, StackSample, PROFILE_TYPE_LABEL,
    };

    fn write_of(service: &str, t: i64, stacks: &[(&[&str], i64, Option<u64>)]) -> ProfileWrite {
        ProfileWrite {
            labels: Labels::from_pairs([
                (PROFILE_TYPE_LABEL, "cpu:cpu:nanoseconds:cpu:nanoseconds"),
                ("service_name", service),
            ]),
            time_ns: t,
            duration_ns: 10,
            samples: stacks
                .iter()
                .map(|(frames, value, span)| StackSample {
                    frames: frames.iter().map(|f| f.to_string()).collect(),
                    value: *value,
                    span_id: *span,
                    trace_id: None,
                })
                .collect(),
            ticks: Vec::new(),
            objects: Vec::new(),
        }
    }

    #[test]
    fn object_files_come_back_with_their_series() {
        let dir = tempfile::tempdir().unwrap();
        let mut head = Head::default();
        let object = ObjectFile {
            path: "/opt/app/bin/server".into(),
            build_id: "4f1c".into(),
            offset: 0x2000,
            size: 0x10_0000,
        };
        let mut w = write_of("b", 5, &[(&["main", "server+0x2345"], 4, None)]);
        w.objects = vec![object.clone()];
        let r = head.intern(&[write_of("a", 5, &[(&["main"], 1, None)]), w]);
        head.apply(r).unwrap();
        write(dir.path(), 1, &head, 0, &[]).unwrap();
        for tables in [
            read_tables(dir.path(), 1).unwrap(),
            read_tables_full(dir.path(), 1).unwrap(),
        ] {
            assert!(tables.series[0].objects.is_empty());
            assert_eq!(tables.series[1].objects, std::slice::from_ref(&object));
        }
    }

    #[test]
    fn a_block_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut head = Head::default();
        let writes = [
            write_of(
                "a",
                2_000,
                &[(&["main", "b", "z"], 3, None), (&["main", "a"], 5, Some(9))],
            ),
            write_of("a", 1_000, &[(&["main", "a"], 1, None)]),
            write_of("b", 1_500, &[(&["other"], 4, Some(7))]),
        ];
        let r = head.intern(&writes);
        head.apply(r).unwrap();
        let (meta, bytes) = write(dir.path(), 1, &head, 42, &[]).unwrap();
        assert!(bytes > 12);
        assert_eq!((meta.min_t, meta.max_t, meta.samples), (1_000, 2_010, 4));
        assert_eq!(read_meta(dir.path(), 1).unwrap().0, meta);
        let tables = read_tables(dir.path(), 1).unwrap();
        let query = ProfileQuery {
            profile_type: "cpu:cpu:nanoseconds:cpu:nanoseconds".into(),
            start_ns: 0,
            end_ns: i64::MAX,
            ..ProfileQuery::default()
        };
        assert_eq!(tables.merge(&query), head.merge(&query));
        let mut q = query.clone();
        q.span_ids = vec![9, 7];
        assert_eq!(tables.merge(&q).total(), 9);
        assert_eq!(
            tables.totals(&query, 1_000_000, &[]),
            head.totals(&query, 1_000_000, &[])
        );
        assert_eq!(list_blocks(dir.path()).unwrap(), vec![1]);
    }

    #[test]
    fn timed_samples_come_back_to_the_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        let mut head = Head::default();
        let mut w = write_of(
            "a",
            10_000_000_000,
            &[(&["main", "b"], 3, None), (&["main", "a"], 5, Some(9))],
        );
        let tick = |sample, thread_id, time_ns, value| crate::profiles::Tick {
            sample,
            thread_id,
            time_ns,
            value,
        };
        w.ticks = vec![
            tick(1, 4, 10_052_631_578, 52),
            tick(0, 4, 10_000_000_001, 52),
            tick(1, 5, 9_999_000_000, 7),
        ];
        let r = head.intern(&[w]);
        head.apply(r).unwrap();
        write(dir.path(), 1, &head, 0, &[]).unwrap();
        let tables = read_tables_full(dir.path(), 1).unwrap();
        assert!(read_tables(dir.path(), 1).unwrap().series[0]
            .ticks
            .times
            .is_empty());
        let rows = |t: &Tables| -> Vec<(Vec<String>, u32, i64, i64)> {
            let s = &t.series[0];
            let mut rows: Vec<_> = s
                .ticks_of(&s.profiles[0])
                .map(|(node, thread, time, value)| {
                    let frames = MergedStacks {
                        names: t.names.clone(),
                        nodes: t.nodes.clone(),
                        self_values: vec![0; t.nodes.len()],
                    };
                    let frames = frames
                        .frames(node as usize)
                        .iter()
                        .map(|f| f.to_string())
                        .collect();
                    (frames, thread, time, value)
                })
                .collect();
            rows.sort();
            rows
        };
        let main_a = vec!["main".to_string(), "a".to_string()];
        let main_b = vec!["main".to_string(), "b".to_string()];
        assert_eq!(
            rows(&tables),
            vec![
                (main_a.clone(), 4, 10_052_000_000, 52),
                (main_a, 5, 9_999_000_000, 7),
                (main_b, 4, 10_000_000_000, 52),
            ]
        );
    }

    #[test]
    fn blocks_written_before_timed_samples_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut head = Head::default();
        let r = head.intern(&[write_of("a", 5, &[(&["main", "x"], 4, Some(1))])]);
        head.apply(r).unwrap();
        write(dir.path(), 1, &head, 0, &[]).unwrap();
        // Rewrite it the way a WSPROF01 block was: no tick columns.
        let path = block_path(dir.path(), 1);
        let bytes = fs::read(&path).unwrap();
        let (meta, compressed, _) = split(&path, &bytes).unwrap();
        let raw = zstd::stream::decode_all(compressed).unwrap();
        let body: Body = postcard::from_bytes(&raw).unwrap();
        let old = postcard::to_allocvec(&(body.names, body.nodes, body.series)).unwrap();
        let meta_bytes = postcard::to_allocvec(&meta).unwrap();
        let mut out = MAGIC_V1.to_vec();
        out.extend_from_slice(&(meta_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&meta_bytes);
        out.extend_from_slice(&zstd::bulk::compress(&old, 3).unwrap());
        fs::write(&path, out).unwrap();
        let tables = read_tables(dir.path(), 1).unwrap();
        let query = ProfileQuery {
            profile_type: "cpu:cpu:nanoseconds:cpu:nanoseconds".into(),
            start_ns: 0,
            end_ns: i64::MAX,
            ..ProfileQuery::default()
        };
        assert_eq!(tables.merge(&query), head.merge(&query));
    }

    #[test]
    fn damaged_blocks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut head = Head::default();
        let r = head.intern(&[write_of("a", 1, &[(&["x"], 1, None)])]);
        head.apply(r).unwrap();
        write(dir.path(), 3, &head, 0, &[]).unwrap();
        let path = block_path(dir.path(), 3);
        let mut bytes = fs::read(&path).unwrap();
        let n = bytes.len();
        bytes.truncate(n - 3);
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            read_tables_full(dir.path(), 3),
            Err(StoreError::Corrupt { .. })
        ));
        fs::write(&path, b"nonsense").unwrap();
        assert!(read_meta(dir.path(), 3).is_err());
    }
}
