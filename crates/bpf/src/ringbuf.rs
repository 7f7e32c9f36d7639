//! Reading a BPF ring buffer map (`MapType::RingBuf`, kernel ≥ 5.8): the
//! one channel shared by all CPUs through which programs send events
//! (`printf`, `exit`, ...) with `bpf_ringbuf_output`. Records come out in
//! the order they were reserved; formatting them is the tracer's business.
//!
//! Each record has an 8-byte header (length with a busy bit 31 and a
//! discard bit 30, then a page offset) and is padded to 8 bytes.

use crate::error::{Error, Result};
use crate::map::{Map, MapType};
use crate::sys::{self, RingMmap};
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

/// Header flag: the producer has not committed the record yet.
const BUSY_BIT: u32 = 1 << 31;
/// Header flag: the producer discarded the record.
const DISCARD_BIT: u32 = 1 << 30;
/// Bytes of the record header.
const HEADER_LEN: u64 = 8;

/// A mapped ring buffer being consumed.
#[derive(Debug)]
pub struct RingBuf {
    fd: OwnedFd,
    ring: RingMmap,
    name: String,
    scratch: Vec<u8>,
}

impl RingBuf {
    /// Maps `map`, a [`MapType::RingBuf`]; it may be dropped afterwards.
    pub fn new(map: &Map) -> Result<RingBuf> {
        let name = map.spec().name.clone();
        if map.spec().kind != MapType::RingBuf {
            return Err(Error::Syscall {
                action: format!(
                    "reading map `{name}` as a ring buffer ({:?})",
                    map.spec().kind
                ),
                source: std::io::Error::from_raw_os_error(libc::EINVAL),
            });
        }
        let mapping = |source| Error::bpf(format!("mapping ring buffer `{name}`"), source);
        let fd = map.as_fd().try_clone_to_owned().map_err(mapping)?;
        let ring = RingMmap::new(fd.as_fd(), map.spec().max_entries as usize).map_err(mapping)?;
        Ok(RingBuf {
            fd,
            ring,
            name,
            scratch: Vec::new(),
        })
    }

    /// Waits up to `timeout` for records; true when some may be there.
    pub fn poll(&self, timeout: Duration) -> Result<bool> {
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        sys::poll_readable(self.fd.as_fd(), ms).map_err(|e| Error::Syscall {
            action: format!("polling ring buffer `{}`", self.name),
            source: e,
        })
    }

    /// Hands every committed record to `on_record`, oldest first, freeing
    /// its space; returns how many there were.
    pub fn consume(&mut self, mut on_record: impl FnMut(&[u8])) -> Result<usize> {
        let mut records = 0;
        let mut pos = self.ring.consumer_pos();
        while pos < self.ring.producer_pos() {
            let header = self.ring.header(pos);
            if header & BUSY_BIT != 0 {
                break; // reserved, not yet submitted
            }
            let len = header & !(BUSY_BIT | DISCARD_BIT);
            if header & DISCARD_BIT == 0 {
                self.ring
                    .read_record(pos, len as usize, &mut self.scratch)
                    .map_err(|e| Error::Syscall {
                        action: format!(
                            "reading a {len}-byte record of ring buffer `{}`",
                            self.name
                        ),
                        source: e,
                    })?;
                on_record(&self.scratch);
                records += 1;
            }
            pos += (u64::from(len) + HEADER_LEN).div_ceil(8) * 8;
            self.ring.set_consumer_pos(pos);
        }
        Ok(records)
    }
}
