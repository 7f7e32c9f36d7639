//! Block chunks of values that are exact scaled integers (`ENC_INT2`): each
//! value is `m` put through one of a few decimal forms, the way exporters
//! compute them — `m / 10^s` (a printed decimal), `m * 10^-s` (node_exporter's
//! `ticks * 0.001`), `m / 1000 / 1000 [/ 1000]` (its pressure stall µs) —
//! and the chunk keeps the integers `m` as deltas or delta-of-deltas,
//! divided by their greatest common divisor (memory in KiB × 1024, blocks
//! of 4096 bytes), in the bucket table that makes the chunk smallest.
//!
//! Layout (bits, after nothing else): form (8: op << 4 | scale), mode (1:
//! delta or delta-of-delta), table (3), gcd (Elias gamma), first `m`
//! (6-bit length, then zigzag bits); then per later sample its timestamp
//! (`times`) and its bucketed value.

use super::times::{read_gamma, write_gamma, RleTimeReader, RleTimeWriter};
use super::{read_bucketed, write_bucketed};
use crate::tsdb::bits::{BitReader, BitWriter};
use model::metrics::Sample;

/// Largest decimal scale (10^9: nanoseconds as seconds).
const MAX_SCALE: u8 = 9;
const POW10: [f64; 10] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
const NEG_POW10: [f64; 10] = [1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9];
/// Integers beyond this lose precision as f64.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// How `m` becomes the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form {
    op: u8,
    scale: u8,
}

const OP_DIV: u8 = 0;
const OP_MUL: u8 = 1;
const OP_DIV1000S: u8 = 2;

impl Form {
    fn apply(self, m: i64) -> f64 {
        let s = usize::from(self.scale);
        match self.op {
            OP_MUL => m as f64 * NEG_POW10[s],
            OP_DIV1000S => (0..self.scale / 3).fold(m as f64, |v, _| v / 1000.0),
            _ => m as f64 / POW10[s],
        }
    }

    /// `m` with `apply(m)` bit-identical to `v`, if there is one.
    fn invert(self, v: f64) -> Option<i64> {
        let m = (v * POW10[usize::from(self.scale)]).round();
        if !m.is_finite() || m.abs() >= MAX_EXACT {
            return None;
        }
        let m = m as i64;
        // Comparing bits also refuses -0.0 (m = 0 gives +0.0).
        (self.apply(m).to_bits() == v.to_bits()).then_some(m)
    }

    fn byte(self) -> u64 {
        u64::from(self.op << 4 | self.scale)
    }

    fn from_byte(b: u64) -> Option<Self> {
        let (op, scale) = ((b >> 4) as u8, (b & 0xf) as u8);
        (op <= OP_DIV1000S && scale <= MAX_SCALE && (op != OP_DIV1000S || scale % 3 == 0))
            .then_some(Self { op, scale })
    }
}

/// The first form (smallest scale) that makes every value an exact integer,
/// and the integers.
fn find_form(samples: &[Sample]) -> Option<(Form, Vec<i64>)> {
    let first = samples.first()?.value;
    for scale in 0..=MAX_SCALE {
        for op in [OP_DIV, OP_MUL, OP_DIV1000S] {
            if op != OP_DIV && scale == 0 || op == OP_DIV1000S && scale % 3 != 0 {
                continue;
            }
            let form = Form { op, scale };
            if form.invert(first).is_none() {
                continue;
            }
            if let Some(ms) = samples.iter().map(|s| form.invert(s.value)).collect() {
                return Some((form, ms));
            }
        }
    }
    None
}

/// Bucket widths per table; bucket `k` has prefix `k + 1` ones and a zero,
/// all four ones then 64 raw bits is the escape.
const TABLES: [[u32; 4]; 8] = [
    [3, 7, 14, 24],
    [5, 10, 16, 28],
    [7, 14, 24, 40],
    [9, 13, 20, 32],
    [12, 16, 22, 34],
    [15, 19, 26, 40],
    [18, 22, 30, 44],
    [22, 28, 36, 52],
];

fn buckets(table: usize) -> [(u64, u32, u32); 4] {
    let w = TABLES[table % TABLES.len()];
    [
        (0b10, 2, w[0]),
        (0b110, 3, w[1]),
        (0b1110, 4, w[2]),
        (0b11110, 5, w[3]),
    ]
}

/// Signed bits `v` needs (0 for 0).
fn needed_bits(v: i64) -> usize {
    if v == 0 {
        0
    } else {
        let magnitude = if v < 0 { !v } else { v };
        65 - magnitude.leading_zeros() as usize
    }
}

/// Bits the codes cost in `table`, from a histogram of needed bits.
fn table_cost(hist: &[u64; 66], table: usize) -> u64 {
    let w = TABLES[table];
    hist.iter()
        .enumerate()
        .map(|(bits, &n)| {
            let each = if bits == 0 {
                1
            } else {
                match w.iter().position(|&wk| bits as u32 <= wk) {
                    Some(k) => k as u64 + 2 + u64::from(w[k]),
                    None => 5 + 64,
                }
            };
            n * each
        })
        .sum()
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The codes (deltas or delta-of-deltas of `ms`, divided by their gcd) for
/// `mode`, the gcd, and the smallest table with its cost in bits.
fn plan(ms: &[i64], dod: bool) -> (Vec<i64>, u64, usize, u64) {
    let (mut prev, mut prev_delta) = (ms[0], 0i64);
    let mut codes: Vec<i64> = ms[1..]
        .iter()
        .map(|&m| {
            let delta = m.wrapping_sub(prev);
            let out = if dod {
                delta.wrapping_sub(prev_delta)
            } else {
                delta
            };
            prev = m;
            prev_delta = delta;
            out
        })
        .collect();
    let mut g = 0u64;
    for &c in &codes {
        g = gcd(g, c.unsigned_abs());
        if g == 1 {
            break;
        }
    }
    let g = g.max(1);
    // i64::MIN's magnitude does not fit back: keep such chunks undivided.
    let g = if g > i64::MAX as u64 { 1 } else { g };
    if g > 1 {
        codes.iter_mut().for_each(|c| *c /= g as i64);
    }
    let mut hist = [0u64; 66];
    for &c in &codes {
        hist[needed_bits(c)] += 1;
    }
    let (table, cost) = (0..TABLES.len())
        .map(|t| (t, table_cost(&hist, t)))
        .min_by_key(|&(_, cost)| cost)
        .unwrap_or((0, 0));
    (codes, g, table, cost)
}

/// Encodes `samples` as `ENC_INT2` if every value has an integer form.
pub fn encode(samples: &[Sample]) -> Option<Box<[u8]>> {
    let (form, ms) = find_form(samples)?;
    let (dod, (codes, g, table, _)) = [false, true]
        .into_iter()
        .map(|dod| (dod, plan(&ms, dod)))
        .min_by_key(|(_, p)| p.3)?;
    let mut w = BitWriter::with_capacity(samples.len() + 16);
    w.write(form.byte(), 8);
    w.bit(dod);
    w.write(table as u64, 3);
    write_gamma(&mut w, g);
    let zz = ((ms[0] << 1) ^ (ms[0] >> 63)) as u64;
    let len = 64 - zz.leading_zeros();
    w.write(u64::from(len), 6);
    w.write(zz, len);
    let b = buckets(table);
    let mut times = RleTimeWriter::new(samples);
    for (i, &code) in codes.iter().enumerate() {
        times.push(&mut w, i + 1);
        write_bucketed(&mut w, code, &b, 5);
    }
    Some(w.into_boxed())
}

/// Decodes an `ENC_INT2` chunk's samples within `[lo, hi]` onto `out`.
pub fn decode(
    min_t: i64,
    count: usize,
    data: &[u8],
    lo: i64,
    hi: i64,
    out: &mut Vec<Sample>,
) -> Option<()> {
    let mut r = BitReader::new(data);
    let form = Form::from_byte(r.read(8)?)?;
    let dod = r.bit()?;
    let b = buckets(r.read(3)? as usize);
    let g = i64::try_from(read_gamma(&mut r)?).ok()?;
    let len = r.read(6)? as u32;
    let zz = r.read(len)?;
    let mut m = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
    let mut delta = 0i64;
    let mut times = RleTimeReader::new(min_t);
    for i in 0..count {
        let t = if i == 0 {
            min_t
        } else {
            let t = times.next(&mut r)?;
            let code = read_bucketed(&mut r, &b)?.wrapping_mul(g);
            delta = if dod { delta.wrapping_add(code) } else { code };
            m = m.wrapping_add(delta);
            t
        };
        if t > hi {
            break;
        }
        if t >= lo {
            out.push(Sample {
                timestamp_ms: t,
                value: form.apply(m),
            });
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_match_what_exporters_compute() {
        let check = |v: f64, op: u8, scale: u8| {
            let samples = [Sample {
                timestamp_ms: 0,
                value: v,
            }];
            let (form, ms) = find_form(&samples).expect("has a form");
            assert_eq!((form.op, form.scale), (op, scale), "{v}");
            assert_eq!(form.apply(ms[0]).to_bits(), v.to_bits());
        };
        check(2647.73, OP_DIV, 2);
        check(0.000152777, OP_DIV, 9);
        check(3675604.0 * 0.001, OP_MUL, 3);
        check(4087009299.0 / 1000.0 / 1000.0, OP_DIV1000S, 6);
        check(-12.0, OP_DIV, 0);
        assert!(find_form(&[Sample {
            timestamp_ms: 0,
            value: -0.0
        }])
        .is_none());
    }

    #[test]
    fn gcd_and_tables_shrink_page_sized_gauges() {
        let mut rng = 12345u64;
        let samples: Vec<Sample> = (0..1024)
            .map(|i| {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
                Sample {
                    timestamp_ms: i * 15_000,
                    value: 8e9 + ((rng >> 40) % 5000) as f64 * 4096.0,
                }
            })
            .collect();
        let bytes = encode(&samples).expect("integers");
        // 13-bit deltas of pages in the 16-bit bucket of table 4: ~20 bits.
        assert!(bytes.len() < 1024 * 21 / 8, "{} bytes", bytes.len());
        let mut out = Vec::new();
        decode(0, 1024, &bytes, i64::MIN, i64::MAX, &mut out).expect("decodes");
        assert!(out.iter().zip(&samples).all(
            |(a, b)| a.value.to_bits() == b.value.to_bits() && a.timestamp_ms == b.timestamp_ms
        ));
    }
}
