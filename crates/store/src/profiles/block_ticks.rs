//! The timed samples of a profile block ([`super::block`]): after the
//! block's body, one zstd-compressed postcard [`BodyTicks`] per series
//! (same order as the meta's series), preceded by their compressed lengths,
//! so a query for one process's timed samples decompresses that series'
//! only, and sample queries never touch them.
//!
//! Within a profile, ticks are sorted by time: time as a delta in whole
//! milliseconds (a block keeps tick times to the millisecond; the head has
//! them to the nanosecond), the stack as the index of the profile's sample
//! with that leaf (in the block's sorted order), thread and value as deltas,
//! so a column of one thread or one period is all zeros.

use super::tables::{Profile, Series, TickRow, Ticks};
use serde::{Deserialize, Serialize};

const NS_PER_MS: i64 = 1_000_000;
const ZSTD_LEVEL: i32 = 3;

/// Timed samples of one series.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct BodyTicks {
    /// Timed samples per profile (profiles in the block's stored order).
    counts: Vec<u32>,
    /// Index of the sample (in the profile's stored order) with the tick's
    /// leaf; a tick whose leaf no sample has: the profile's sample count
    /// plus the leaf node.
    samples: Vec<u32>,
    /// Thread ids, each a delta from the one before in the profile.
    threads: Vec<i64>,
    /// Milliseconds, each a delta from the one before (the first from the
    /// profile's start).
    times: Vec<i64>,
    /// Values, each a delta from the one before in the profile.
    values: Vec<i64>,
}

impl BodyTicks {
    /// Appends profile `p`'s ticks; `leaves` are its samples' leaves in the
    /// block's stored order (sorted), `node_map` the block's node ids.
    pub(super) fn push_profile(
        &mut self,
        s: &Series,
        p: &Profile,
        leaves: &[u32],
        node_map: &[u32],
    ) {
        let mut rows: Vec<(i64, u32, u32, i64)> = s
            .ticks_of(p)
            .map(|(node, thread, time, value)| {
                let ms = time.wrapping_sub(p.time_ns).div_euclid(NS_PER_MS);
                (ms, node_map[node as usize], thread, value)
            })
            .collect();
        rows.sort_unstable();
        self.counts.push(rows.len() as u32);
        let (mut ms, mut thread, mut value) = (0i64, 0i64, 0i64);
        for &(t, leaf, th, v) in &rows {
            let index = match leaves.binary_search(&leaf) {
                Ok(i) => i as u32,
                Err(_) => leaves.len() as u32 + leaf,
            };
            self.samples.push(index);
            self.times.push(t.wrapping_sub(ms));
            self.threads.push(i64::from(th) - thread);
            self.values.push(v.wrapping_sub(value));
            (ms, thread, value) = (t, i64::from(th), v);
        }
    }

    /// The ticks of each profile of `series` (decoded from the same block),
    /// as rows.
    fn rows(&self, series: &Series, node_count: u64) -> Result<Vec<Vec<TickRow>>, String> {
        let n = self.samples.len();
        let total: u64 = self.counts.iter().map(|&c| u64::from(c)).sum();
        if self.counts.is_empty() {
            return Ok(vec![Vec::new(); series.profiles.len()]);
        }
        if self.counts.len() != series.profiles.len()
            || total != n as u64
            || self.threads.len() != n
            || self.times.len() != n
            || self.values.len() != n
        {
            return Err("timed sample columns of different lengths".into());
        }
        let mut out = Vec::with_capacity(series.profiles.len());
        let mut at = 0usize;
        for (p, &count) in series.profiles.iter().zip(&self.counts) {
            let leaves = &series.nodes[p.first as usize..(p.first + p.len) as usize];
            let end = at + count as usize;
            let mut rows = Vec::with_capacity(count as usize);
            let (mut ms, mut thread, mut value) = (0i64, 0i64, 0i64);
            for i in at..end {
                ms = ms.wrapping_add(self.times[i]);
                thread = thread.wrapping_add(self.threads[i]);
                value = value.wrapping_add(self.values[i]);
                let index = self.samples[i] as usize;
                let leaf = match leaves.get(index) {
                    Some(&leaf) => leaf,
                    None => u32::try_from(index - leaves.len())
                        .ok()
                        .filter(|&n| u64::from(n) < node_count)
                        .ok_or("a timed sample refers to an unknown stack")?,
                };
                let thread =
                    u32::try_from(thread).map_err(|_| "a timed sample's thread is out of range")?;
                let time = p.time_ns.wrapping_add(ms.wrapping_mul(NS_PER_MS));
                rows.push((leaf, thread, time, value));
            }
            out.push(rows);
            at = end;
        }
        Ok(out)
    }
}

/// The ticks section: the number of series (`u32` LE), each one's
/// compressed length (`u64` LE), then the compressed series.
pub(super) fn encode_section(ticks: &[BodyTicks]) -> std::io::Result<Vec<u8>> {
    let mut blobs = Vec::with_capacity(ticks.len());
    for t in ticks {
        let raw = postcard::to_allocvec(t).unwrap_or_default();
        blobs.push(zstd::bulk::compress(&raw, ZSTD_LEVEL)?);
    }
    let mut out =
        Vec::with_capacity(4 + 8 * blobs.len() + blobs.iter().map(Vec::len).sum::<usize>());
    out.extend_from_slice(&(blobs.len() as u32).to_le_bytes());
    for b in &blobs {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    }
    for b in &blobs {
        out.extend_from_slice(b);
    }
    Ok(out)
}

/// The compressed series of a ticks section.
fn blobs(section: &[u8]) -> Result<Vec<&[u8]>, String> {
    let count = section
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("the ticks section is cut short")?;
    let mut at = 4usize.saturating_add(count.saturating_mul(8));
    let lengths = section
        .get(4..at)
        .ok_or("the ticks section's lengths are cut short")?;
    let mut out = Vec::with_capacity(count);
    for len in lengths.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(len);
        let end = usize::try_from(u64::from_le_bytes(b))
            .ok()
            .and_then(|l| at.checked_add(l))
            .ok_or("a series' ticks run past the end")?;
        out.push(
            section
                .get(at..end)
                .ok_or("a series' ticks run past the end")?,
        );
        at = end;
    }
    Ok(out)
}

fn decode_blob(blob: &[u8]) -> Result<BodyTicks, String> {
    let raw = zstd::stream::decode_all(blob).map_err(|e| format!("undecompressable ticks: {e}"))?;
    postcard::from_bytes(&raw).map_err(|e| format!("undecodable ticks: {e}"))
}

/// Attaches every series' ticks to `series` (a block's decoded series).
pub(super) fn attach_all(
    section: &[u8],
    series: &mut [Series],
    node_count: u64,
) -> Result<(), String> {
    let blobs = blobs(section)?;
    if blobs.len() != series.len() {
        return Err("the ticks section's series count differs from the meta's".into());
    }
    for (s, blob) in series.iter_mut().zip(blobs) {
        let rows = decode_blob(blob)?.rows(s, node_count)?;
        s.attach_ticks(rows);
    }
    Ok(())
}

/// The ticks of the series at `indexes` of `series` (a block's decoded
/// series), as columns.
pub(super) fn columns(
    section: &[u8],
    series: &[Series],
    indexes: &[usize],
    node_count: u64,
) -> Result<Vec<Ticks>, String> {
    let blobs = blobs(section)?;
    if blobs.len() != series.len() {
        return Err("the ticks section's series count differs from the meta's".into());
    }
    let mut out = Vec::with_capacity(indexes.len());
    for &i in indexes {
        let (Some(s), Some(blob)) = (series.get(i), blobs.get(i)) else {
            continue;
        };
        let mut ticks = Ticks::default();
        for rows in decode_blob(blob)?.rows(s, node_count)? {
            for row in rows {
                ticks.push(row);
            }
        }
        out.push(ticks);
    }
    Ok(out)
}
