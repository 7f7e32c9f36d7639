//! WAL payloads of the metrics store. One payload per append (or per
//! checkpoint piece) is a sequence of entries, each opening with a kind
//! byte; the WAL framing around payloads (length, CRC32) is the span store's
//! ([`crate::embedded::wal`]). Series are logged once with their labels and
//! referred to by their head id afterwards, as Prometheus's WAL does.

use model::metrics::{Exemplar, Label, Labels, MetricMetadata, MetricType, Sample};

const SERIES: u8 = 1;
const SAMPLES: u8 = 2;
const EXEMPLAR: u8 = 3;
const METADATA: u8 = 4;
const CHUNK: u8 = 5;

/// One decoded entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A series and the id later entries use for it.
    Series {
        /// Head id.
        id: u32,
        /// Identity.
        labels: Labels,
    },
    /// Samples of one series, ascending.
    Samples {
        /// Head id.
        id: u32,
        /// The samples.
        samples: Vec<Sample>,
    },
    /// One exemplar of a series.
    Exemplar {
        /// Head id.
        id: u32,
        /// The exemplar.
        exemplar: Exemplar,
    },
    /// Family metadata.
    Metadata(MetricMetadata),
    /// An encoded chunk of a series (checkpoints).
    Chunk {
        /// Head id.
        id: u32,
        /// Chunk encoding.
        enc: u8,
        /// First timestamp.
        min_t: i64,
        /// Samples in it.
        count: u32,
        /// Encoded bytes.
        data: Vec<u8>,
    },
}

fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

fn put_labels<'a>(buf: &mut Vec<u8>, labels: impl Iterator<Item = (&'a str, &'a str)>) {
    let labels: Vec<(&str, &str)> = labels.collect();
    put_uvarint(buf, labels.len() as u64);
    for (name, value) in labels {
        put_str(buf, name);
        put_str(buf, value);
    }
}

/// Appends a series entry.
pub fn put_series<'a>(
    buf: &mut Vec<u8>,
    id: u32,
    labels: impl Iterator<Item = (&'a str, &'a str)>,
) {
    buf.push(SERIES);
    put_uvarint(buf, u64::from(id));
    put_labels(buf, labels);
}

/// An append's payload being built. Sample timestamps are deltas from the
/// previous sample in the payload (a scrape's samples share one timestamp,
/// so most cost one byte).
#[derive(Debug, Default)]
pub struct Payload {
    /// The entries so far.
    pub buf: Vec<u8>,
    prev_t: i64,
}

impl Payload {
    /// An empty payload with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(bytes),
            prev_t: 0,
        }
    }

    /// Appends a samples entry.
    pub fn samples(&mut self, id: u32, samples: &[Sample]) {
        let buf = &mut self.buf;
        buf.push(SAMPLES);
        put_uvarint(buf, u64::from(id));
        put_uvarint(buf, samples.len() as u64);
        for s in samples {
            put_varint(buf, s.timestamp_ms.wrapping_sub(self.prev_t));
            self.prev_t = s.timestamp_ms;
            buf.extend_from_slice(&s.value.to_bits().to_le_bytes());
        }
    }
}

/// Appends an exemplar entry.
pub fn put_exemplar(buf: &mut Vec<u8>, id: u32, e: &Exemplar) {
    buf.push(EXEMPLAR);
    put_uvarint(buf, u64::from(id));
    put_varint(buf, e.timestamp_ms);
    buf.extend_from_slice(&e.value.to_bits().to_le_bytes());
    put_labels(buf, e.labels.iter());
}

/// Appends a metadata entry.
pub fn put_metadata(buf: &mut Vec<u8>, m: &MetricMetadata) {
    buf.push(METADATA);
    put_str(buf, &m.metric_family_name);
    put_str(buf, m.metric_type.as_str());
    put_str(buf, &m.help);
    put_str(buf, &m.unit);
}

/// Appends a chunk entry.
pub fn put_chunk(buf: &mut Vec<u8>, id: u32, enc: u8, min_t: i64, count: u32, data: &[u8]) {
    buf.push(CHUNK);
    put_uvarint(buf, u64::from(id));
    buf.push(enc);
    put_varint(buf, min_t);
    put_uvarint(buf, u64::from(count));
    put_uvarint(buf, data.len() as u64);
    buf.extend_from_slice(data);
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
    /// The previous sample's timestamp in this payload.
    prev_t: i64,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.at)?;
        self.at += 1;
        Some(b)
    }
    fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    fn varint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.uvarint()?).ok()
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.buf.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    fn f64(&mut self) -> Option<f64> {
        let b = self.bytes(8)?;
        Some(f64::from_bits(u64::from_le_bytes(b.try_into().ok()?)))
    }
    fn str(&mut self) -> Option<String> {
        let n = usize::try_from(self.uvarint()?).ok()?;
        String::from_utf8(self.bytes(n)?.to_vec()).ok()
    }
    fn labels(&mut self) -> Option<Labels> {
        let n = self.uvarint()?;
        let mut out = Vec::new();
        for _ in 0..n {
            let name = self.str()?;
            let value = self.str()?;
            out.push(Label { name, value });
        }
        Some(Labels::new(out))
    }
    fn entry(&mut self) -> Option<Entry> {
        Some(match self.byte()? {
            SERIES => Entry::Series {
                id: self.u32()?,
                labels: self.labels()?,
            },
            SAMPLES => {
                let id = self.u32()?;
                let n = usize::try_from(self.uvarint()?).ok()?;
                let mut samples = Vec::with_capacity(n.min(self.buf.len() / 9 + 1));
                for _ in 0..n {
                    self.prev_t = self.prev_t.wrapping_add(self.varint()?);
                    samples.push(Sample {
                        timestamp_ms: self.prev_t,
                        value: self.f64()?,
                    });
                }
                Entry::Samples { id, samples }
            }
            EXEMPLAR => {
                let id = self.u32()?;
                let timestamp_ms = self.varint()?;
                let value = self.f64()?;
                let labels = self.labels()?;
                Entry::Exemplar {
                    id,
                    exemplar: Exemplar {
                        labels,
                        value,
                        timestamp_ms,
                    },
                }
            }
            METADATA => Entry::Metadata(MetricMetadata {
                metric_family_name: self.str()?,
                metric_type: MetricType::parse(&self.str()?)?,
                help: self.str()?,
                unit: self.str()?,
            }),
            CHUNK => {
                let id = self.u32()?;
                let enc = self.byte()?;
                let min_t = self.varint()?;
                let count = self.u32()?;
                let n = usize::try_from(self.uvarint()?).ok()?;
                Entry::Chunk {
                    id,
                    enc,
                    min_t,
                    count,
                    data: self.bytes(n)?.to_vec(),
                }
            }
            _ => return None,
        })
    }
}

/// Decodes a payload; `None` when it is damaged (the caller skips it).
pub fn decode(payload: &[u8]) -> Option<Vec<Entry>> {
    let mut r = Reader {
        buf: payload,
        at: 0,
        prev_t: 0,
    };
    let mut out = Vec::new();
    while r.at < payload.len() {
        out.push(r.entry()?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::metrics::stale_nan;

    #[test]
    fn entries_round_trip() {
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let samples = vec![
            Sample {
                timestamp_ms: -5,
                value: 1.5,
            },
            Sample {
                timestamp_ms: 1_700_000_000_000,
                value: stale_nan(),
            },
        ];
        let exemplar = Exemplar {
            labels: Labels::from_pairs([("trace_id", "abc")]),
            value: 0.25,
            timestamp_ms: 7,
        };
        let meta = MetricMetadata {
            metric_family_name: "up".into(),
            metric_type: MetricType::Gauge,
            help: "Up.".into(),
            unit: String::new(),
        };
        let mut p = Payload::default();
        put_series(&mut p.buf, 3, labels.iter());
        p.samples(3, &samples);
        p.samples(3, &samples[1..]);
        let mut buf = p.buf;
        put_exemplar(&mut buf, 3, &exemplar);
        put_metadata(&mut buf, &meta);
        put_chunk(&mut buf, 3, 0, 10, 2, &[1, 2, 3]);
        let got = decode(&buf).expect("decodes");
        assert_eq!(got.len(), 6);
        match &got[2] {
            Entry::Samples { samples: s, .. } => {
                assert_eq!(s.len(), 1);
                assert_eq!(s[0].timestamp_ms, 1_700_000_000_000);
                assert_eq!(s[0].value.to_bits(), stale_nan().to_bits());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(got[0], Entry::Series { id: 3, labels });
        match &got[1] {
            Entry::Samples { samples: s, .. } => {
                assert_eq!(s[1].value.to_bits(), stale_nan().to_bits());
                assert_eq!(s[0].timestamp_ms, -5);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(got[4], Entry::Metadata(meta));
        assert!(decode(&buf[..buf.len() - 1]).is_none());
    }
}
