//! Bit-level writer and reader for the chunk codecs: most significant bit
//! first, as Gorilla and Prometheus's XOR chunks pack them. Reading past the
//! end returns `None` (a damaged chunk), never panics.

/// Appends bits to a byte buffer.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    buf: Vec<u8>,
    /// Bits written to the last byte (0 = the last byte is full or there is none).
    used: u8,
}

impl BitWriter {
    /// An empty writer with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(bytes),
            used: 0,
        }
    }

    /// Writes the low `n` bits of `value` (`n <= 64`), high bit first.
    pub fn write(&mut self, value: u64, n: u32) {
        if n == 0 {
            return;
        }
        let value = if n >= 64 {
            value
        } else {
            value & ((1u64 << n) - 1)
        };
        let mut n = n.min(64);
        // Top up the last, partly written byte.
        if self.used != 0 {
            let free = 8 - u32::from(self.used);
            let take = free.min(n);
            let chunk = ((value >> (n - take)) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.buf.last_mut() {
                *last |= chunk << (free - take);
            }
            self.used = ((u32::from(self.used) + take) % 8) as u8;
            n -= take;
        }
        while n >= 8 {
            n -= 8;
            self.buf.push((value >> n) as u8);
        }
        if n > 0 {
            self.buf.push((value << (8 - n)) as u8);
            self.used = n as u8;
        }
    }

    /// Writes one bit.
    pub fn bit(&mut self, bit: bool) {
        self.write(u64::from(bit), 1);
    }

    /// The bytes so far (the last one padded with zero bits).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Heap bytes held.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The bytes, trimmed to their length.
    pub fn into_boxed(self) -> Box<[u8]> {
        self.buf.into_boxed_slice()
    }
}

/// Reads bits from a byte slice.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// Reads `buf` from its first bit.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Reads `n` bits (`n <= 64`) as the low bits of the result.
    pub fn read(&mut self, mut n: u32) -> Option<u64> {
        let mut out = 0u64;
        while n > 0 {
            let byte = *self.buf.get(self.pos / 8)?;
            let used = (self.pos % 8) as u32;
            let avail = 8 - used;
            let take = avail.min(n);
            let chunk = (u64::from(byte) >> (avail - take)) & ((1u64 << take) - 1);
            out = if take == 64 {
                chunk
            } else {
                (out << take) | chunk
            };
            self.pos += take as usize;
            n -= take;
        }
        Some(out)
    }

    /// Reads one bit.
    pub fn bit(&mut self) -> Option<bool> {
        self.read(1).map(|b| b == 1)
    }
}

/// Sign-extends the low `n` bits of `raw`.
pub fn sign_extend(raw: u64, n: u32) -> i64 {
    if n >= 64 {
        return raw as i64;
    }
    let shift = 64 - n;
    ((raw << shift) as i64) >> shift
}

/// Whether `v` fits in `n` signed bits.
pub fn fits(v: i64, n: u32) -> bool {
    let half = 1i64 << (n - 1);
    (-half..half).contains(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip() {
        let mut w = BitWriter::default();
        let items: &[(u64, u32)] = &[(1, 1), (0b101, 3), (u64::MAX, 64), (0x1234, 14), (0, 7)];
        for &(v, n) in items {
            w.write(v, n);
        }
        let bytes = w.into_boxed();
        let mut r = BitReader::new(&bytes);
        for &(v, n) in items {
            let mask = if n == 64 { u64::MAX } else { (1 << n) - 1 };
            assert_eq!(r.read(n), Some(v & mask));
        }
        assert_eq!(r.read(8), None);
    }

    #[test]
    fn odd_widths_round_trip_at_every_offset() {
        for offset in 0..8u32 {
            let mut w = BitWriter::default();
            w.write(0b1010_1010, offset);
            let items: Vec<(u64, u32)> = (1..=64)
                .map(|n| (0x9e37_79b9_7f4a_7c15u64.rotate_left(n), n))
                .collect();
            for &(v, n) in &items {
                w.write(v, n);
            }
            let bytes = w.into_boxed();
            let mut r = BitReader::new(&bytes);
            r.read(offset).expect("offset bits");
            for &(v, n) in &items {
                let mask = if n == 64 { u64::MAX } else { (1 << n) - 1 };
                assert_eq!(r.read(n), Some(v & mask), "offset {offset} width {n}");
            }
        }
    }

    #[test]
    fn sign_extension() {
        assert_eq!(sign_extend(0b11, 2), -1);
        assert_eq!(sign_extend(0b01, 2), 1);
        assert!(fits(-8192, 14) && fits(8191, 14) && !fits(8192, 14));
    }
}
