//! ClickHouse's RowBinary format, the one both 18.16 and current servers
//! read and write over HTTP: little-endian fixed-width numbers, `String` as
//! a LEB128 length and its bytes, `FixedString(N)` as N bytes, `Array(T)` as
//! a LEB128 count and its items, `Date` as days since 1970 (UInt16).
//! `LowCardinality(String)` travels as `String`, so both schema tiers take
//! the same rows. Written by hand: the official `clickhouse` crate's row
//! validation fails on 18.16 (see the research notes), and these few
//! encodings are all the stores need.

use crate::ClickHouseError;

/// Appends rows to an insert body.
#[derive(Debug, Default)]
pub struct RowWriter {
    buf: Vec<u8>,
    rows: usize,
}

impl RowWriter {
    /// An empty body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the end of one row (for [`Self::rows`]).
    pub fn end_row(&mut self) {
        self.rows += 1;
    }

    /// Rows written.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Moves `other`'s rows to the end of these.
    pub fn extend_rows(&mut self, other: RowWriter) {
        self.buf.extend_from_slice(&other.buf);
        self.rows += other.rows;
    }

    /// The body.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// `UInt8`.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// `UInt16` (and `Date`).
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// `UInt32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// `UInt64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// `Int64`.
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// `Float64`.
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// `Date` of a Unix time in nanoseconds.
    pub fn date_of_ns(&mut self, unix_ns: u64) {
        self.u16(day_of_ns(unix_ns));
    }

    /// A LEB128 length or count.
    pub fn len_prefix(&mut self, mut n: usize) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }

    /// `String`.
    pub fn bytes(&mut self, v: &[u8]) {
        self.len_prefix(v.len());
        self.buf.extend_from_slice(v);
    }

    /// `String` of text.
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    /// `FixedString(N)`: exactly `v.len()` bytes.
    pub fn fixed(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// `Array(String)`.
    pub fn strings<S: AsRef<str>>(&mut self, items: &[S]) {
        self.len_prefix(items.len());
        for item in items {
            self.str(item.as_ref());
        }
    }
}

/// Days since 1970-01-01 of a Unix time in nanoseconds (ClickHouse `Date`,
/// which ends in 2149).
pub fn day_of_ns(unix_ns: u64) -> u16 {
    u16::try_from(unix_ns / 86_400_000_000_000).unwrap_or(u16::MAX)
}

/// Days since 1970-01-01 of a Unix time in milliseconds (times before
/// 1970 count as day 0).
pub fn day_of_ms(unix_ms: i64) -> u16 {
    day_of_ns(
        u64::try_from(unix_ms)
            .unwrap_or(0)
            .saturating_mul(1_000_000),
    )
}

/// Reads the rows of a RowBinary answer.
#[derive(Debug)]
pub struct RowReader<'a> {
    buf: &'a [u8],
}

impl<'a> RowReader<'a> {
    /// Reads `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Whether every byte was read.
    pub fn is_done(&self) -> bool {
        self.buf.is_empty()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ClickHouseError> {
        if self.buf.len() < n {
            return Err(ClickHouseError::Decode(format!(
                "RowBinary answer ends {} bytes early",
                n - self.buf.len()
            )));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ClickHouseError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// `UInt8`.
    pub fn u8(&mut self) -> Result<u8, ClickHouseError> {
        Ok(self.array::<1>()?[0])
    }

    /// `UInt16` (and `Date`).
    pub fn u16(&mut self) -> Result<u16, ClickHouseError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// `UInt64`.
    pub fn u64(&mut self) -> Result<u64, ClickHouseError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// `Int64`.
    pub fn i64(&mut self) -> Result<i64, ClickHouseError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// `Float64`.
    pub fn f64(&mut self) -> Result<f64, ClickHouseError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// A LEB128 length or count.
    pub fn len_prefix(&mut self) -> Result<usize, ClickHouseError> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            n |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(ClickHouseError::Decode(
            "RowBinary length runs past 64 bits".into(),
        ))
    }

    /// `String` as bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8], ClickHouseError> {
        let n = self.len_prefix()?;
        self.take(n)
    }

    /// `String` as text (invalid UTF-8 replaced).
    pub fn string(&mut self) -> Result<String, ClickHouseError> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }

    /// `FixedString(N)`.
    pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], ClickHouseError> {
        self.array()
    }

    /// `Array(String)`.
    pub fn strings(&mut self) -> Result<Vec<String>, ClickHouseError> {
        let n = self.len_prefix()?;
        // Each item takes at least one byte: a bad count fails before allocating.
        if n > self.buf.len() {
            return Err(ClickHouseError::Decode(format!(
                "RowBinary array of {n} strings in {} bytes",
                self.buf.len()
            )));
        }
        (0..n).map(|_| self.string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_type() {
        let mut w = RowWriter::new();
        w.u8(7);
        w.u16(513);
        w.u64(u64::MAX - 1);
        w.i64(-5);
        w.f64(1.5);
        w.str(&"x".repeat(300));
        w.fixed(&[1, 2, 3, 4]);
        w.strings(&["a", "bc"]);
        w.end_row();
        assert_eq!(w.rows(), 1);
        let body = w.into_bytes();
        let mut r = RowReader::new(&body);
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.u16().unwrap(), 513);
        assert_eq!(r.u64().unwrap(), u64::MAX - 1);
        assert_eq!(r.i64().unwrap(), -5);
        assert_eq!(r.f64().unwrap(), 1.5);
        assert_eq!(r.string().unwrap().len(), 300);
        assert_eq!(r.fixed::<4>().unwrap(), [1, 2, 3, 4]);
        assert_eq!(r.strings().unwrap(), ["a", "bc"]);
        assert!(r.is_done());
        assert!(r.u8().is_err(), "reading past the end is an error");
    }

    #[test]
    fn lengths_are_leb128() {
        let mut w = RowWriter::new();
        w.len_prefix(300);
        assert_eq!(w.into_bytes(), vec![0xac, 0x02]);
    }

    #[test]
    fn dates_are_days_since_1970() {
        assert_eq!(day_of_ns(0), 0);
        assert_eq!(day_of_ns(86_400_000_000_000 * 3 + 5), 3);
    }
}
