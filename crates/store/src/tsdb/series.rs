//! One series in the head: interned labels, closed chunks (re-encoded with
//! the smallest encoding when they close) and the open XOR chunk that takes
//! appends. Chunks close at 120 samples or when a sample crosses a block
//! range boundary, so a block cut never splits a chunk.

use super::chunk::{self, XorAppender, ENC_XOR};
use model::metrics::Sample;

/// Samples per head chunk (Prometheus's default).
pub const SAMPLES_PER_CHUNK: u16 = 120;

/// A closed, immutable head chunk.
pub struct HeadChunk {
    /// First timestamp.
    pub min_t: i64,
    /// Last timestamp.
    pub max_t: i64,
    /// Samples in it.
    pub count: u16,
    /// Encoding (see [`chunk`]).
    pub enc: u8,
    /// Encoded bytes.
    pub data: Box<[u8]>,
}

/// A live series.
pub struct MemSeries {
    /// `(name, value)` symbol ids, sorted by name.
    pub labels: Box<[(u32, u32)]>,
    /// Closed chunks, oldest first.
    pub chunks: Vec<HeadChunk>,
    /// The chunk taking appends (never empty).
    pub open: XorAppender,
}

impl MemSeries {
    /// A series starting with one sample.
    pub fn new(labels: Box<[(u32, u32)]>, s: Sample) -> Self {
        Self {
            labels,
            chunks: Vec::new(),
            open: XorAppender::new(s.timestamp_ms, s.value),
        }
    }

    /// Timestamp and value bits of the newest sample.
    pub fn last(&self) -> (i64, u64) {
        self.open.last()
    }

    /// First timestamp held.
    pub fn min_t(&self) -> i64 {
        self.chunks.first().map_or(self.open.min_t, |c| c.min_t)
    }

    /// Appends a sample newer than [`Self::last`]; returns how many heap
    /// bytes the series grew by (for the head's running memory count).
    pub fn push(&mut self, s: Sample, range_ms: i64) -> isize {
        let before = self.open.heap_bytes() + self.chunks_capacity_bytes();
        let open = &self.open;
        let mut closed_bytes = 0;
        if open.count >= SAMPLES_PER_CHUNK
            || s.timestamp_ms.div_euclid(range_ms) != open.min_t.div_euclid(range_ms)
        {
            let fresh = XorAppender::new(s.timestamp_ms, s.value);
            let closed = close(&std::mem::replace(&mut self.open, fresh));
            closed_bytes = closed.data.len();
            self.chunks.push(closed);
        } else {
            self.open.push(s.timestamp_ms, s.value);
        }
        // Negative when a closed chunk re-encodes smaller than the open
        // chunk's buffer it replaces.
        let after = self.open.heap_bytes() + self.chunks_capacity_bytes() + closed_bytes;
        after as isize - before as isize
    }

    fn chunks_capacity_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<HeadChunk>()
    }

    /// Samples in `[lo, hi]` onto `out`, ascending.
    pub fn samples(&self, lo: i64, hi: i64, out: &mut Vec<Sample>) {
        for c in self
            .chunks
            .iter()
            .filter(|c| c.max_t >= lo && c.min_t <= hi)
        {
            let _ = chunk::decode(c.enc, c.min_t, usize::from(c.count), &c.data, lo, hi, out);
        }
        let (last_t, _) = self.open.last();
        if last_t >= lo && self.open.min_t <= hi {
            let _ = chunk::decode(
                ENC_XOR,
                self.open.min_t,
                usize::from(self.open.count),
                self.open.bytes(),
                lo,
                hi,
                out,
            );
        }
    }

    /// Whether a sample lies in `[lo, hi]`.
    pub fn has_sample_in(&self, lo: i64, hi: i64) -> bool {
        let (last_t, _) = self.open.last();
        if self.min_t() > hi || last_t < lo {
            return false;
        }
        if self.min_t() >= lo && last_t <= hi {
            return true;
        }
        let mut buf = Vec::new();
        self.samples(lo, hi, &mut buf);
        !buf.is_empty()
    }

    /// Samples held.
    pub fn sample_count(&self) -> u64 {
        self.chunks.iter().map(|c| u64::from(c.count)).sum::<u64>() + u64::from(self.open.count)
    }

    /// Heap bytes outside the struct (labels, chunks); the head counts the
    /// struct itself in its series slots.
    pub fn heap_bytes(&self) -> usize {
        self.labels.len() * 8
            + self.chunks_capacity_bytes()
            + self.chunks.iter().map(|c| c.data.len()).sum::<usize>()
            + self.open.heap_bytes()
    }

    /// Drops samples before `boundary` (chunks never straddle it); returns
    /// whether samples remain.
    pub fn truncate(&mut self, boundary: i64) -> bool {
        self.chunks.retain(|c| c.max_t >= boundary);
        self.chunks.shrink_to_fit();
        self.open.last().0 >= boundary
    }
}

/// Re-encodes a full open chunk with its smallest encoding.
fn close(open: &XorAppender) -> HeadChunk {
    let mut samples = Vec::with_capacity(usize::from(open.count));
    let _ = chunk::decode(
        ENC_XOR,
        open.min_t,
        usize::from(open.count),
        open.bytes(),
        i64::MIN,
        i64::MAX,
        &mut samples,
    );
    let (enc, data) = chunk::encode_best(&samples);
    HeadChunk {
        min_t: open.min_t,
        max_t: open.last().0,
        count: samples.len() as u16,
        enc,
        data,
    }
}
