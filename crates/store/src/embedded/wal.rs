//! The write-ahead log: numbered segment files under `DATA_DIR/wal/`, each a
//! sequence of records `[payload length u32 LE][CRC32 of payload u32 LE]
//! [payload]`. Appends are made durable by the caller with [`WalWriter::sync`]
//! (one `fdatasync` per group commit). Replay returns every intact record,
//! skips a record whose checksum fails when later records follow it, and
//! truncates a torn or corrupt tail so new appends start on a clean boundary.
//! Hand-written because the framing is a dozen lines and must match our
//! recovery rules exactly; not a general-purpose log.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::StoreError;

/// Bytes of a record header.
pub const HEADER_BYTES: usize = 8;
/// Largest payload replay accepts; a longer length field means corruption.
const MAX_RECORD_BYTES: usize = 1 << 30;

fn io_err(context: String) -> impl FnOnce(io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// Path of segment `seq`.
pub fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.wal"))
}

/// Segment numbers present in `dir`, ascending.
pub fn list_segments(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut seqs = Vec::new();
    let entries =
        fs::read_dir(dir).map_err(io_err(format!("listing WAL directory {}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(io_err(format!("listing WAL directory {}", dir.display())))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(seq) = name.strip_suffix(".wal").and_then(|s| s.parse().ok()) {
            seqs.push(seq);
        }
    }
    seqs.sort_unstable();
    Ok(seqs)
}

/// Appends `payload` as one framed record to `buf`.
pub fn frame(payload: &[u8], buf: &mut Vec<u8>) {
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    buf.extend_from_slice(payload);
}

/// What replaying one segment found.
#[derive(Debug, Default)]
pub struct SegmentReplay {
    /// Intact payloads, in order.
    pub records: Vec<Vec<u8>>,
    /// Records skipped for a checksum mismatch.
    pub skipped: usize,
    /// Bytes cut off a torn or corrupt tail.
    pub truncated_bytes: u64,
}

/// Parses records of one segment's bytes; returns them and the length of the
/// valid prefix.
pub fn parse_records(bytes: &[u8]) -> (SegmentReplay, usize) {
    let mut out = SegmentReplay::default();
    let mut at = 0;
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + HEADER_BYTES) else {
            break; // torn header
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len == 0 || len > MAX_RECORD_BYTES {
            break; // zero fill or garbage length: nothing after it can be framed
        }
        let end = at + HEADER_BYTES + len;
        let Some(payload) = bytes.get(at + HEADER_BYTES..end) else {
            break; // torn payload
        };
        if crc32fast::hash(payload) != crc {
            if end == bytes.len() {
                break; // a bad last record is a torn write
            }
            out.skipped += 1;
        } else {
            out.records.push(payload.to_vec());
        }
        at = end;
    }
    (out, at)
}

/// Reads segment `path`, truncating it to its valid prefix.
pub fn replay_segment(path: &Path) -> Result<SegmentReplay, StoreError> {
    let bytes =
        fs::read(path).map_err(io_err(format!("reading WAL segment {}", path.display())))?;
    let (mut replay, valid) = parse_records(&bytes);
    if valid < bytes.len() {
        replay.truncated_bytes = (bytes.len() - valid) as u64;
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_err(format!(
                "opening WAL segment {} to truncate",
                path.display()
            )))?;
        file.set_len(valid as u64)
            .and_then(|()| file.sync_all())
            .map_err(io_err(format!(
                "truncating torn tail of WAL segment {}",
                path.display()
            )))?;
    }
    Ok(replay)
}

/// fsyncs a directory so a created or removed file name is durable.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(format!("syncing directory {}", dir.display())))
}

/// Appends to the newest segment.
#[derive(Debug)]
pub struct WalWriter {
    dir: PathBuf,
    seq: u64,
    file: File,
    bytes: u64,
}

impl WalWriter {
    /// Starts a new segment numbered `seq` in `dir`.
    pub fn create(dir: &Path, seq: u64) -> Result<Self, StoreError> {
        let path = segment_path(dir, seq);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(format!("creating WAL segment {}", path.display())))?;
        sync_dir(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            seq,
            file,
            bytes: 0,
        })
    }

    /// Appends already framed records (not yet durable).
    pub fn append(&mut self, framed: &[u8]) -> Result<(), StoreError> {
        self.file.write_all(framed).map_err(io_err(format!(
            "appending to WAL segment {}",
            segment_path(&self.dir, self.seq).display()
        )))?;
        self.bytes += framed.len() as u64;
        Ok(())
    }

    /// Makes every append so far durable (`fdatasync`).
    pub fn sync(&mut self) -> Result<(), StoreError> {
        self.file.sync_data().map_err(io_err(format!(
            "syncing WAL segment {}",
            segment_path(&self.dir, self.seq).display()
        )))
    }

    /// Closes the current segment and starts the next; returns the closed
    /// segment's number.
    pub fn rotate(&mut self) -> Result<u64, StoreError> {
        let closed = self.seq;
        *self = Self::create(&self.dir, closed + 1)?;
        Ok(closed)
    }
}

/// Deletes segments numbered `<= upto`.
pub fn remove_segments_upto(dir: &Path, upto: u64) -> Result<(), StoreError> {
    for seq in list_segments(dir)? {
        if seq <= upto {
            let path = segment_path(dir, seq);
            fs::remove_file(&path)
                .map_err(io_err(format!("removing WAL segment {}", path.display())))?;
        }
    }
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_records(dir: &Path, payloads: &[&[u8]]) -> PathBuf {
        let mut w = WalWriter::create(dir, 1).unwrap();
        let mut buf = Vec::new();
        for p in payloads {
            frame(p, &mut buf);
        }
        w.append(&buf).unwrap();
        w.sync().unwrap();
        segment_path(dir, 1)
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_records(dir.path(), &[b"one", b"two", b"three"]);
        let r = replay_segment(&path).unwrap();
        assert_eq!(
            r.records,
            vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
        );
        assert_eq!((r.skipped, r.truncated_bytes), (0, 0));
    }

    #[test]
    fn torn_tail_is_truncated_and_earlier_records_survive() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_records(
            dir.path(),
            &[b"first record", b"second record", b"third record"],
        );
        let len = fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
        let r = replay_segment(&path).unwrap();
        assert_eq!(
            r.records,
            vec![b"first record".to_vec(), b"second record".to_vec()]
        );
        assert_eq!(r.truncated_bytes, (HEADER_BYTES + 12 - 3) as u64);
        // The file now ends on a record boundary: appending works again.
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            2 * HEADER_BYTES as u64 + 12 + 13
        );
        let r2 = replay_segment(&path).unwrap();
        assert_eq!(r2.records.len(), 2);
        assert_eq!(r2.truncated_bytes, 0);
    }

    #[test]
    fn torn_header_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_records(dir.path(), &[b"aaaa"]);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[7, 0, 0]).unwrap();
        let r = replay_segment(&path).unwrap();
        assert_eq!(r.records, vec![b"aaaa".to_vec()]);
        assert_eq!(r.truncated_bytes, 3);
    }

    #[test]
    fn checksum_mismatch_in_the_middle_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_records(dir.path(), &[b"good one", b"flipped!", b"good two"]);
        let mut bytes = fs::read(&path).unwrap();
        let second_payload = 2 * HEADER_BYTES + 8;
        bytes[second_payload] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        let r = replay_segment(&path).unwrap();
        assert_eq!(r.records, vec![b"good one".to_vec(), b"good two".to_vec()]);
        assert_eq!(r.skipped, 1);
    }

    #[test]
    fn checksum_mismatch_at_the_end_is_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_records(dir.path(), &[b"good", b"bad!"]);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        let r = replay_segment(&path).unwrap();
        assert_eq!(r.records, vec![b"good".to_vec()]);
        assert_eq!(r.truncated_bytes, (HEADER_BYTES + 4) as u64);
    }

    #[test]
    fn zero_filled_tail_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_records(dir.path(), &[b"data"]);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0; 64]).unwrap();
        let r = replay_segment(&path).unwrap();
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.truncated_bytes, 64);
    }
}
