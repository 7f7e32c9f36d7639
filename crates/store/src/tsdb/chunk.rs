//! Sample chunks: delta-of-delta timestamps and, for values, either
//! Gorilla's XOR encoding (Facebook VLDB 2015, as in Prometheus's XOR chunks)
//! or, when every value is an exact scaled integer, integer deltas or
//! delta-of-deltas (counters that grow by whole bytes or by hundredths of a
//! CPU second cost a few bits instead of XOR's ~40).
//!
//! Closed chunks ([`encode_best`]) take the smallest of: `ENC_CONST` (one
//! value, then only timestamps), `ENC_INT2` (`ints`: decimal forms up to
//! 10⁹, gcd, per-chunk bucket table) and `ENC_XOR2` (XOR values); all three
//! code timestamps with run-length zero delta-of-deltas (`times`). The older
//! `ENC_INT_DELTA`/`ENC_INT_DOD` (scale ≤ 6, fixed buckets) are still read.
//!
//! Hand-written: the maintained crates do not fit. `tsz-compress` packs
//! integer struct columns for embedded devices (no f64 bit patterns) and
//! `tsz` (Gorilla) is unmaintained and cannot resume appending to an open
//! chunk. The codec must also keep every NaN's bits (staleness markers),
//! which XOR does by construction and the integer forms refuse to encode.
//!
//! A chunk's first timestamp, sample count and encoding live beside its
//! bytes (head structs, block index), not in them. Streaming appends
//! ([`XorAppender`]) always use XOR; closed chunks are re-encoded with
//! [`encode_best`].

mod ints;
mod times;

use super::bits::{fits, sign_extend, BitReader, BitWriter};
use model::metrics::Sample;
use times::{RleTimeReader, RleTimeWriter};

/// Gorilla XOR values.
pub const ENC_XOR: u8 = 0;
/// Scaled integer deltas; low nibble = decimal scale.
const ENC_INT_DELTA: u8 = 0x10;
/// Scaled integer delta-of-deltas; low nibble = decimal scale.
const ENC_INT_DOD: u8 = 0x20;
/// Scaled integers in a decimal form, gcd, per-chunk bucket table (`ints`).
const ENC_INT2: u8 = 0x30;
/// One value (64 bits) for every sample.
const ENC_CONST: u8 = 0x40;
/// Gorilla XOR values with run-length coded timestamps.
const ENC_XOR2: u8 = 0x50;
/// Decimal scales of the older integer encodings (up to 10^6).
const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];

/// Timestamp delta-of-delta buckets: (prefix, prefix bits, value bits).
/// Narrower first bucket than Prometheus's 14 bits, as in the Gorilla paper:
/// scrape jitter of a few ms costs 9 bits, not 16.
const T_BUCKETS: [(u64, u32, u32); 3] = [(0b10, 2, 7), (0b110, 3, 12), (0b1110, 4, 20)];
/// Integer value buckets.
const I_BUCKETS: [(u64, u32, u32); 4] = [
    (0b10, 2, 7),
    (0b110, 3, 14),
    (0b1110, 4, 24),
    (0b11110, 5, 40),
];

fn write_bucketed(w: &mut BitWriter, v: i64, buckets: &[(u64, u32, u32)], escape_bits: u32) {
    if v == 0 {
        w.bit(false);
        return;
    }
    for &(prefix, pbits, vbits) in buckets {
        if fits(v, vbits) {
            w.write(prefix, pbits);
            w.write(v as u64, vbits);
            return;
        }
    }
    w.write((1 << escape_bits) - 1, escape_bits);
    w.write(v as u64, 64);
}

fn read_bucketed(r: &mut BitReader<'_>, buckets: &[(u64, u32, u32)]) -> Option<i64> {
    // Prefix: `ones` one-bits then a zero; all ones (no zero) is the escape.
    let mut ones = 0;
    while ones <= buckets.len() {
        if !r.bit()? {
            break;
        }
        ones += 1;
    }
    match ones {
        0 => Some(0),
        n if n > buckets.len() => r.read(64).map(|raw| raw as i64),
        n => {
            let vbits = buckets[n - 1].2;
            r.read(vbits).map(|raw| sign_extend(raw, vbits))
        }
    }
}

/// Writes timestamp deltas-of-deltas.
#[derive(Debug, Clone, Copy)]
struct TimeEnc {
    t: i64,
    delta: i64,
}

impl TimeEnc {
    fn push(&mut self, w: &mut BitWriter, t: i64) {
        let delta = t.wrapping_sub(self.t);
        write_bucketed(w, delta.wrapping_sub(self.delta), &T_BUCKETS, 4);
        self.t = t;
        self.delta = delta;
    }

    fn next(&mut self, r: &mut BitReader<'_>) -> Option<i64> {
        let dod = read_bucketed(r, &T_BUCKETS)?;
        self.delta = self.delta.wrapping_add(dod);
        self.t = self.t.wrapping_add(self.delta);
        Some(self.t)
    }
}

/// Gorilla XOR state for values.
#[derive(Debug, Clone, Copy)]
struct XorState {
    v: u64,
    leading: u8,
    trailing: u8,
}

impl XorState {
    const UNSET: u8 = 0xff;

    fn new(v: u64) -> Self {
        Self {
            v,
            leading: Self::UNSET,
            trailing: 0,
        }
    }

    fn push(&mut self, w: &mut BitWriter, v: u64) {
        let x = v ^ self.v;
        self.v = v;
        if x == 0 {
            w.bit(false);
            return;
        }
        let leading = (x.leading_zeros() as u8).min(31);
        let trailing = x.trailing_zeros() as u8;
        if self.leading != Self::UNSET && leading >= self.leading && trailing >= self.trailing {
            w.write(0b10, 2);
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            w.write(x >> self.trailing, sig);
        } else {
            self.leading = leading;
            self.trailing = trailing;
            let sig = 64 - u32::from(leading) - u32::from(trailing);
            w.write(0b11, 2);
            w.write(u64::from(leading), 5);
            w.write(u64::from(sig % 64), 6);
            w.write(x >> trailing, sig);
        }
    }

    fn next(&mut self, r: &mut BitReader<'_>) -> Option<u64> {
        if !r.bit()? {
            return Some(self.v);
        }
        if r.bit()? {
            self.leading = r.read(5)? as u8;
            let sig = match r.read(6)? as u8 {
                0 => 64,
                s => s,
            };
            self.trailing = 64u8.checked_sub(self.leading)?.checked_sub(sig)?;
        } else if self.leading == Self::UNSET {
            return None;
        }
        let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
        let bits = r.read(sig)?;
        self.v ^= bits.checked_shl(u32::from(self.trailing)).unwrap_or(0);
        Some(self.v)
    }
}

/// An open head chunk taking samples one at a time (XOR encoding).
#[derive(Debug, Clone)]
pub struct XorAppender {
    w: BitWriter,
    time: TimeEnc,
    value: XorState,
    /// First timestamp.
    pub min_t: i64,
    /// Samples held.
    pub count: u16,
}

impl XorAppender {
    /// A chunk starting with one sample.
    pub fn new(t: i64, v: f64) -> Self {
        let mut w = BitWriter::with_capacity(16);
        w.write(v.to_bits(), 64);
        Self {
            w,
            time: TimeEnc { t, delta: 0 },
            value: XorState::new(v.to_bits()),
            min_t: t,
            count: 1,
        }
    }

    /// Appends a sample (the caller checked `t` is newer than [`Self::last`]).
    pub fn push(&mut self, t: i64, v: f64) {
        self.time.push(&mut self.w, t);
        self.value.push(&mut self.w, v.to_bits());
        self.count += 1;
    }

    /// The newest sample's timestamp and value bits.
    pub fn last(&self) -> (i64, u64) {
        (self.time.t, self.value.v)
    }

    /// The encoded bytes so far.
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.w.capacity()
    }
}

/// Encodes samples (ascending, at least one) with whichever encoding is
/// smallest; returns the encoding and the bytes.
pub fn encode_best(samples: &[Sample]) -> (u8, Box<[u8]>) {
    let Some(first) = samples.first() else {
        return (ENC_XOR, Box::default());
    };
    let bits = first.value.to_bits();
    if samples.iter().all(|s| s.value.to_bits() == bits) {
        return (ENC_CONST, encode_const(samples));
    }
    let int = ints::encode(samples);
    match int {
        // At ≤ 2 bytes a sample XOR is not going to be smaller: skip trying
        // it (closing head chunks is on the ingest path).
        Some(int) if int.len() <= samples.len() * 2 => (ENC_INT2, int),
        Some(int) => {
            let xor = encode_xor2(samples);
            if int.len() <= xor.len() {
                (ENC_INT2, int)
            } else {
                (ENC_XOR2, xor)
            }
        }
        None => (ENC_XOR2, encode_xor2(samples)),
    }
}

fn encode_const(samples: &[Sample]) -> Box<[u8]> {
    let mut w = BitWriter::with_capacity(16);
    w.write(samples[0].value.to_bits(), 64);
    let mut times = RleTimeWriter::new(samples);
    for i in 1..samples.len() {
        times.push(&mut w, i);
    }
    w.into_boxed()
}

fn encode_xor2(samples: &[Sample]) -> Box<[u8]> {
    let mut w = BitWriter::with_capacity(samples.len() * 2 + 8);
    w.write(samples[0].value.to_bits(), 64);
    let mut value = XorState::new(samples[0].value.to_bits());
    let mut times = RleTimeWriter::new(samples);
    for (i, s) in samples.iter().enumerate().skip(1) {
        times.push(&mut w, i);
        value.push(&mut w, s.value.to_bits());
    }
    w.into_boxed()
}

/// Decodes `ENC_CONST` (`xor` false) or `ENC_XOR2` (`xor` true).
fn decode_rle(
    xor: bool,
    min_t: i64,
    count: usize,
    data: &[u8],
    lo: i64,
    hi: i64,
    out: &mut Vec<Sample>,
) -> Option<()> {
    let mut r = BitReader::new(data);
    let mut value = XorState::new(r.read(64)?);
    let mut times = RleTimeReader::new(min_t);
    for i in 0..count {
        let t = if i == 0 { min_t } else { times.next(&mut r)? };
        if xor && i > 0 {
            value.next(&mut r)?;
        }
        if t > hi {
            break;
        }
        if t >= lo {
            out.push(Sample {
                timestamp_ms: t,
                value: f64::from_bits(value.v),
            });
        }
    }
    Some(())
}

/// Decodes a chunk's samples within `[lo, hi]` onto `out`. `None` when the
/// bytes are damaged or the encoding unknown.
pub fn decode(
    enc: u8,
    min_t: i64,
    count: usize,
    data: &[u8],
    lo: i64,
    hi: i64,
    out: &mut Vec<Sample>,
) -> Option<()> {
    if count == 0 {
        return Some(());
    }
    let mut r = BitReader::new(data);
    let mut time = TimeEnc { t: min_t, delta: 0 };
    let keep = |t: i64, v: u64, out: &mut Vec<Sample>| {
        if t >= lo && t <= hi {
            out.push(Sample {
                timestamp_ms: t,
                value: f64::from_bits(v),
            });
        }
    };
    match enc & 0xf0 {
        ENC_INT2 if enc == ENC_INT2 => return ints::decode(min_t, count, data, lo, hi, out),
        ENC_CONST if enc == ENC_CONST => return decode_rle(false, min_t, count, data, lo, hi, out),
        ENC_XOR2 if enc == ENC_XOR2 => return decode_rle(true, min_t, count, data, lo, hi, out),
        0 if enc == ENC_XOR => {
            let mut value = XorState::new(r.read(64)?);
            keep(min_t, value.v, out);
            for _ in 1..count {
                let t = time.next(&mut r)?;
                let v = value.next(&mut r)?;
                if t > hi {
                    break;
                }
                keep(t, v, out);
            }
        }
        kind @ (ENC_INT_DELTA | ENC_INT_DOD) => {
            let scale = enc & 0x0f;
            let p = *POW10.get(usize::from(scale))?;
            let (mut prev, mut prev_delta) = (0i64, 0i64);
            for i in 0..count {
                let t = if i == 0 { min_t } else { time.next(&mut r)? };
                let raw = read_bucketed(&mut r, &I_BUCKETS)?;
                let delta = if kind == ENC_INT_DOD {
                    prev_delta.wrapping_add(raw)
                } else {
                    raw
                };
                prev = prev.wrapping_add(delta);
                prev_delta = delta;
                if t > hi {
                    break;
                }
                keep(t, (prev as f64 / p).to_bits(), out);
            }
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
/// The encoder before `ENC_INT2`/`ENC_CONST`/`ENC_XOR2`, kept to check
/// that chunks it wrote still decode (and to compare sizes in reports).
pub(crate) mod legacy {
    use super::*;

    const MAX_SCALE: u8 = 6;
    const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

    /// The value as `m / 10^scale` with `m` an exact integer, if it is one.
    fn scaled(v: f64, scale: u8) -> Option<i64> {
        let p = POW10[usize::from(scale)];
        let m = (v * p).round();
        if !m.is_finite() || m.abs() >= MAX_EXACT {
            return None;
        }
        let m = m as i64;
        // Compare what decoding computes: this also refuses -0.0 (m = 0).
        ((m as f64 / p).to_bits() == v.to_bits()).then_some(m)
    }

    pub(crate) fn encode_xor(samples: &[Sample]) -> Box<[u8]> {
        let mut w = BitWriter::with_capacity(samples.len() * 2 + 8);
        let Some(first) = samples.first() else {
            return w.into_boxed();
        };
        w.write(first.value.to_bits(), 64);
        let mut time = TimeEnc {
            t: first.timestamp_ms,
            delta: 0,
        };
        let mut value = XorState::new(first.value.to_bits());
        for s in &samples[1..] {
            time.push(&mut w, s.timestamp_ms);
            value.push(&mut w, s.value.to_bits());
        }
        w.into_boxed()
    }

    fn encode_int(samples: &[Sample], ints: &[i64], dod: bool) -> Box<[u8]> {
        let mut w = BitWriter::with_capacity(samples.len() + 8);
        let mut time = TimeEnc {
            t: samples.first().map_or(0, |s| s.timestamp_ms),
            delta: 0,
        };
        let (mut prev, mut prev_delta) = (0i64, 0i64);
        for (i, (s, &m)) in samples.iter().zip(ints).enumerate() {
            if i > 0 {
                time.push(&mut w, s.timestamp_ms);
            }
            let delta = m.wrapping_sub(prev);
            let out = if dod {
                delta.wrapping_sub(prev_delta)
            } else {
                delta
            };
            write_bucketed(&mut w, out, &I_BUCKETS, 5);
            prev = m;
            prev_delta = delta;
        }
        w.into_boxed()
    }

    pub(crate) fn encode(samples: &[Sample]) -> (u8, Box<[u8]>) {
        let mut best = (ENC_XOR, encode_xor(samples));
        let scale = (0..=MAX_SCALE).find(|&e| samples.iter().all(|s| scaled(s.value, e).is_some()));
        if let Some(scale) = scale {
            let ints: Vec<i64> = samples
                .iter()
                .filter_map(|s| scaled(s.value, scale))
                .collect();
            for (enc, dod) in [(ENC_INT_DELTA, false), (ENC_INT_DOD, true)] {
                let bytes = encode_int(samples, &ints, dod);
                if bytes.len() < best.1.len() {
                    best = (enc | scale, bytes);
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::metrics::stale_nan;

    fn series(values: impl IntoIterator<Item = f64>) -> Vec<Sample> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, value)| Sample {
                timestamp_ms: 1_700_000_000_000 + i as i64 * 15_000 + (i as i64 % 3),
                value,
            })
            .collect()
    }

    fn bits(samples: &[Sample]) -> Vec<(i64, u64)> {
        samples
            .iter()
            .map(|s| (s.timestamp_ms, s.value.to_bits()))
            .collect()
    }

    fn round_trip(samples: &[Sample]) -> usize {
        let (enc, bytes) = encode_best(samples);
        let mut out = Vec::new();
        decode(
            enc,
            samples[0].timestamp_ms,
            samples.len(),
            &bytes,
            i64::MIN,
            i64::MAX,
            &mut out,
        )
        .expect("decodes");
        assert_eq!(bits(&out), bits(samples), "encoding {enc:#x}");
        let (old, old_bytes) = legacy::encode(samples);
        let mut out = Vec::new();
        decode(
            old,
            samples[0].timestamp_ms,
            samples.len(),
            &old_bytes,
            i64::MIN,
            i64::MAX,
            &mut out,
        )
        .expect("decodes");
        assert_eq!(bits(&out), bits(samples), "legacy encoding {old:#x}");
        let mut app = XorAppender::new(samples[0].timestamp_ms, samples[0].value);
        for s in &samples[1..] {
            app.push(s.timestamp_ms, s.value);
        }
        let mut out = Vec::new();
        decode(
            ENC_XOR,
            app.min_t,
            usize::from(app.count),
            app.bytes(),
            i64::MIN,
            i64::MAX,
            &mut out,
        )
        .expect("decodes");
        assert_eq!(bits(&out), bits(samples));
        bytes.len()
    }

    #[test]
    fn every_kind_of_value_round_trips_bit_exactly() {
        let odd = [
            0.0,
            -0.0,
            f64::NAN,
            stale_nan(),
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            1e300,
            -3.25,
            0.1,
        ];
        round_trip(&series(odd));
        round_trip(&series((0..200).map(|i| f64::from(i) * 0.01)));
        round_trip(&series((0..200).map(|i| f64::from(i * i) * 4096.0)));
        round_trip(&series((0..200).map(|i| (f64::from(i) * 1.1).sin())));
        round_trip(&series([i64::MAX as f64, i64::MIN as f64, 1.0]));
        round_trip(&series([42.0]));
        round_trip(&series([-0.0, 1.0, 2.5]));
    }

    #[test]
    fn scaled_integers_beat_xor_on_counters() {
        let mut v = 1_234_567.0f64;
        let samples = series((0..120).map(|i| {
            v += f64::from((i * 7919) % 1000);
            v
        }));
        let bytes = round_trip(&samples);
        assert!(bytes < legacy::encode_xor(&samples).len(), "{bytes} bytes");
        let mut cpu = 98_765.43f64;
        let samples = series((0..120).map(|i| {
            cpu = ((cpu + 14.0 + f64::from(i % 100) / 100.0) * 100.0).round() / 100.0;
            cpu
        }));
        let bytes = round_trip(&samples);
        assert!(
            bytes * 3 < legacy::encode_xor(&samples).len() * 2,
            "{bytes} bytes"
        );
    }

    #[test]
    fn range_limits_and_damage() {
        let samples = series((0..50).map(f64::from));
        let (enc, bytes) = encode_best(&samples);
        let mut out = Vec::new();
        let (lo, hi) = (samples[10].timestamp_ms, samples[20].timestamp_ms);
        decode(enc, samples[0].timestamp_ms, 50, &bytes, lo, hi, &mut out).expect("decodes");
        assert_eq!(out.len(), 11);
        let mut out = Vec::new();
        assert!(decode(enc, 0, 50, &bytes[..2], i64::MIN, i64::MAX, &mut out).is_none());
        assert!(decode(0x7f, 0, 5, &bytes, i64::MIN, i64::MAX, &mut out).is_none());
    }

    #[test]
    fn constants_cost_a_header_and_keep_their_bits() {
        for v in [stale_nan(), f64::NAN, -0.0, 1.0, 1e300] {
            let samples = series(std::iter::repeat_n(v, 1024));
            let (enc, _) = encode_best(&samples);
            assert_eq!(enc, ENC_CONST);
            let bytes = round_trip(&samples);
            // 64-bit value, then the `i % 3` ms wobble of `series` per sample.
            assert!(bytes < 8 + 1024 * 12 / 8, "{bytes} bytes");
        }
        let regular: Vec<Sample> = (0..1024)
            .map(|i| Sample {
                timestamp_ms: 1_700_000_000_000 + i * 15_000,
                value: 1.0,
            })
            .collect();
        assert!(round_trip(&regular) <= 16);
    }

    #[test]
    fn staleness_markers_between_values_keep_their_bits() {
        let mut values: Vec<f64> = (0..300).map(|i| f64::from(i) * 0.25).collect();
        values[100] = stale_nan();
        values[200] = f64::NAN;
        let samples = series(values);
        let (enc, _) = encode_best(&samples);
        assert_eq!(enc, ENC_XOR2);
        round_trip(&samples);
    }

    #[test]
    fn exporter_forms_beat_the_legacy_encoder() {
        // node_exporter: collector durations in ns as seconds, disk ticks
        // times 0.001, pressure stall µs divided by 1000 twice.
        let mut rng = 99u64;
        let mut next = || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            rng >> 33
        };
        let durations = series((0..1024).map(|_| (50_000 + next() % 200_000) as f64 / 1e9));
        let (mut ticks, mut stall) = (3_675_604u64, 4_087_009_299u64);
        let disk = series((0..1024).map(|_| {
            ticks += next() % 40;
            ticks as f64 * 0.001
        }));
        let pressure = series((0..1024).map(|_| {
            stall += next() % 100_000;
            stall as f64 / 1000.0 / 1000.0
        }));
        for samples in [durations, disk, pressure] {
            let (enc, bytes) = encode_best(&samples);
            assert_eq!(enc, ENC_INT2);
            round_trip(&samples);
            let old = legacy::encode(&samples).1.len();
            assert!(
                bytes.len() * 2 < old,
                "{} vs legacy {old} bytes",
                bytes.len()
            );
        }
    }
}
