//! ELF files as unwinding and symbolization need them: mapped once per path and
//! shared by every process that maps them (ten processes using libc parse it
//! once), with the sections framehop reads, the PT_LOAD segments that turn
//! file offsets into addresses, and the GNU build id.
//!
//! Not a symbolizer (see `symbolize`) and not an unwinder (see `unwind`).

use object::elf::{PF_X, PT_LOAD};
use object::read::elf::{ElfFile64, ProgramHeader};
use object::{Object, ObjectSection};
use rustc_hash::{FxHashMap, FxHashSet};
use std::fs::File;
use std::ops::{Deref, Range};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many files the cache keeps open so a deleted binary can still be
/// symbolized through `/proc/self/fd/N` (each costs one file descriptor).
const MAX_OPEN_FILES: usize = 512;

/// The bytes of an ELF image: a read-only file mapping, or a copy (the vDSO).
enum ImageBytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

/// One PT_LOAD segment: where a run of file bytes lands in the image's address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoadSegment {
    /// File offset of the segment's first byte.
    pub file_offset: u64,
    /// Bytes of the segment present in the file.
    pub file_size: u64,
    /// Stated virtual address (SVMA) of the segment's first byte.
    pub vaddr: u64,
    /// Whether the segment is executable (PF_X).
    pub executable: bool,
}

/// A section's stated address range and where its bytes are in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SectionRange {
    /// Stated virtual addresses of the section.
    pub svma: Range<u64>,
    /// Byte range in the file, `None` for sections without file data (or compressed ones).
    pub file: Option<Range<usize>>,
}

/// A parsed ELF file.
pub(crate) struct ElfImage {
    bytes: ImageBytes,
    /// The open file, kept so a deleted binary stays reachable via `/proc/self/fd`.
    file: Option<File>,
    /// (device, inode) of the file, to tell whether its path still names it.
    identity: Option<(u64, u64)>,
    /// PT_LOAD segments in file order.
    pub segments: Vec<LoadSegment>,
    /// `.text`.
    pub text: Option<SectionRange>,
    /// `.eh_frame`.
    pub eh_frame: Option<SectionRange>,
    /// `.eh_frame_hdr`.
    pub eh_frame_hdr: Option<SectionRange>,
    /// `.debug_frame`.
    pub debug_frame: Option<SectionRange>,
    /// `.got`.
    pub got: Option<SectionRange>,
    /// GNU build id from `.note.gnu.build-id`.
    pub build_id: Option<Vec<u8>>,
}

impl std::fmt::Debug for ElfImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElfImage")
            .field("len", &self.bytes().len())
            .field("segments", &self.segments)
            .field("build_id", &self.build_id)
            .finish_non_exhaustive()
    }
}

impl ElfImage {
    /// Maps and parses the file at `path`; `None` when it is missing or not a 64-bit ELF.
    pub fn open(path: &Path) -> Option<Self> {
        let file = File::open(path).ok()?;
        let metadata = file.metadata().ok()?;
        if !metadata.is_file() || metadata.len() == 0 {
            return None;
        }
        // SAFETY: the mapping is read-only and private. If another process
        // truncates or rewrites the file while we hold it, reads may see the new
        // bytes or fault; that is the accepted risk of every profiler that maps
        // binaries (perf, samply), and the binaries are in use, so rarely rewritten.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        let mut image = Self::parse(ImageBytes::Mapped(map))?;
        image.identity = Some((metadata.dev(), metadata.ino()));
        image.file = Some(file);
        Some(image)
    }

    /// Parses an ELF image held in memory (the vDSO copied out of our own process).
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        Self::parse(ImageBytes::Owned(bytes))
    }

    fn parse(bytes: ImageBytes) -> Option<Self> {
        let data: &[u8] = match &bytes {
            ImageBytes::Mapped(m) => m,
            ImageBytes::Owned(v) => v,
        };
        let elf = ElfFile64::<object::Endianness>::parse(data).ok()?;
        let endian = elf.endian();
        let segments = elf
            .elf_program_headers()
            .iter()
            .filter(|ph| ph.p_type(endian) == PT_LOAD)
            .map(|ph| LoadSegment {
                file_offset: ph.p_offset(endian),
                file_size: ph.p_filesz(endian),
                vaddr: ph.p_vaddr(endian),
                executable: ph.p_flags(endian).0 & PF_X.0 != 0,
            })
            .collect();
        let section = |name: &str| -> Option<SectionRange> {
            let s = elf.section_by_name(name)?;
            let svma = s.address()..s.address().checked_add(s.size())?;
            let uncompressed = s
                .compressed_file_range()
                .is_ok_and(|r| r.format == object::CompressionFormat::None);
            let file = s
                .file_range()
                .filter(|_| uncompressed)
                .and_then(|(offset, size)| {
                    let start = usize::try_from(offset).ok()?;
                    let end = start.checked_add(usize::try_from(size).ok()?)?;
                    (end <= data.len()).then_some(start..end)
                });
            Some(SectionRange { svma, file })
        };
        let text = section(".text");
        let eh_frame = section(".eh_frame");
        let eh_frame_hdr = section(".eh_frame_hdr");
        let debug_frame = section(".debug_frame");
        let got = section(".got");
        let build_id = elf.build_id().ok().flatten().map(<[u8]>::to_vec);
        Some(Self {
            bytes,
            file: None,
            identity: None,
            segments,
            text,
            eh_frame,
            eh_frame_hdr,
            debug_frame,
            got,
            build_id,
        })
    }

    /// All bytes of the image.
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            ImageBytes::Mapped(m) => m,
            ImageBytes::Owned(v) => v,
        }
    }

    /// Drops the pages of a mapped image from this process's resident set
    /// (`MADV_DONTNEED`); they stay in the page cache and are faulted in
    /// again when read.
    fn release_pages(&self) {
        if let ImageBytes::Mapped(m) = &self.bytes {
            // SAFETY: the mapping is read-only and file-backed, so nothing
            // is discarded: a later read sees the file's bytes again, the
            // same bytes any slice of it held before.
            let _ = unsafe { m.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    /// The segment holding `file_offset`.
    fn segment_of(&self, file_offset: u64) -> Option<&LoadSegment> {
        self.segments
            .iter()
            .find(|s| (s.file_offset..s.file_offset + s.file_size).contains(&file_offset))
    }

    /// The runtime address where stated address 0 would be (framehop's
    /// `base_avma`, the load bias) for a mapping of `len` bytes of this file at
    /// `start` with file offset `file_offset`. The mapping starts at a page
    /// boundary, so it may begin before its segment's first byte: the segment
    /// is the one overlapping the mapping, executable ones first.
    pub fn base_avma(&self, start: u64, file_offset: u64, len: u64) -> u64 {
        let end = file_offset.saturating_add(len);
        let overlaps =
            |s: &&LoadSegment| s.file_offset < end && file_offset < s.file_offset + s.file_size;
        let segment = self
            .segments
            .iter()
            .filter(overlaps)
            .find(|s| s.executable)
            .or_else(|| self.segments.iter().find(overlaps));
        let (segment_offset, segment_vaddr) = segment.map_or((0, 0), |s| (s.file_offset, s.vaddr));
        start
            .wrapping_sub(file_offset)
            .wrapping_add(segment_offset)
            .wrapping_sub(segment_vaddr)
    }

    /// The stated virtual address of a file offset, if a PT_LOAD segment covers it.
    pub fn vaddr_of_file_offset(&self, file_offset: u64) -> Option<u64> {
        let s = self.segment_of(file_offset)?;
        Some(s.vaddr + (file_offset - s.file_offset))
    }

    /// Runs `read` on this very file opened for `pread`: our open handle,
    /// else the file at `original` if it still is the same one. Reading so
    /// instead of through the mapping keeps the pages read out of our
    /// resident memory. `None` for an in-memory image or a file gone.
    pub fn with_file<T>(&self, original: &Path, read: impl FnOnce(&File) -> T) -> Option<T> {
        if let Some(file) = &self.file {
            return Some(read(file));
        }
        let file = File::open(self.symbolization_path(original)?).ok()?;
        let same = file
            .metadata()
            .ok()
            .is_some_and(|m| Some((m.dev(), m.ino())) == self.identity);
        same.then(|| read(&file))
    }

    /// Copies the file bytes at `offset` into `buf` (with `pread` when the
    /// file is open, see [`Self::with_file`]); false past the end.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> bool {
        use std::os::unix::fs::FileExt;
        if let Some(file) = &self.file {
            return file.read_exact_at(buf, offset).is_ok();
        }
        let Ok(start) = usize::try_from(offset) else {
            return false;
        };
        match start
            .checked_add(buf.len())
            .and_then(|end| self.bytes().get(start..end))
        {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                true
            }
            None => false,
        }
    }

    /// A path through which a symbolizer can open exactly this file: `original`
    /// when it still names the same inode, else `/proc/self/fd/N` of our open
    /// handle (a deleted or replaced binary), else `None`.
    pub fn symbolization_path(&self, original: &Path) -> Option<PathBuf> {
        let same = std::fs::metadata(original)
            .ok()
            .is_some_and(|m| Some((m.dev(), m.ino())) == self.identity);
        if same {
            return Some(original.to_path_buf());
        }
        let file = self.file.as_ref()?;
        Some(PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd())))
    }

    /// The bytes of `section` as a shareable slice for framehop.
    pub fn section_bytes(self: &Arc<Self>, section: &Option<SectionRange>) -> Option<SectionBytes> {
        let range = section.as_ref()?.file.clone()?;
        Some(SectionBytes {
            image: Arc::clone(self),
            range,
        })
    }
}

/// A byte range inside an [`ElfImage`], kept alive by a reference to the image.
#[derive(Debug, Clone)]
pub(crate) struct SectionBytes {
    image: Arc<ElfImage>,
    range: Range<usize>,
}

impl Deref for SectionBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.image.bytes().get(self.range.clone()).unwrap_or(&[])
    }
}

/// Parsed ELF files by path, shared by every process of a recording.
#[derive(Debug, Default)]
pub(crate) struct ElfCache {
    images: FxHashMap<Arc<str>, Arc<ElfImage>>,
    /// Paths that could not be opened directly (a fallback may still work).
    missing: FxHashSet<Arc<str>>,
    open_files: usize,
}

impl ElfCache {
    /// Drops the resident pages of every cached image (see
    /// [`ElfImage::release_pages`]): a continuous profiler calls this after
    /// each cut, so the big binaries it unwound through (a compiler's
    /// hundreds of MB) do not keep counting in its RSS between cuts.
    pub fn release_pages(&self) {
        for image in self.images.values() {
            image.release_pages();
        }
    }

    /// The image of `path` as mapped at `start..end` in process `pid`. Tries the
    /// path itself, then `/proc/PID/map_files/START-END` (a deleted binary of a
    /// live process) and `/proc/PID/root/PATH` (a process in another mount
    /// namespace). `None` when the file cannot be read.
    pub fn get(
        &mut self,
        path: &Arc<str>,
        pid: u32,
        start: u64,
        end: u64,
    ) -> Option<Arc<ElfImage>> {
        if let Some(image) = self.images.get(path) {
            return Some(Arc::clone(image));
        }
        let mut image = None;
        if !self.missing.contains(path) {
            image = ElfImage::open(Path::new(&**path));
            if image.is_none() {
                self.missing.insert(Arc::clone(path));
            }
        }
        if image.is_none() && pid != 0 {
            let map_file = format!("/proc/{pid}/map_files/{start:x}-{end:x}");
            let in_root = format!("/proc/{pid}/root{path}");
            image = ElfImage::open(Path::new(&map_file)).or_else(|| {
                path.starts_with('/')
                    .then(|| ElfImage::open(Path::new(&in_root)))
                    .flatten()
            });
        }
        let mut image = image?;
        if self.open_files >= MAX_OPEN_FILES {
            image.file = None;
        } else {
            self.open_files += 1;
        }
        let image = Arc::new(image);
        self.images.insert(Arc::clone(path), Arc::clone(&image));
        Some(image)
    }

    /// An already loaded image, without trying to load it.
    pub fn loaded(&self, path: &str) -> Option<Arc<ElfImage>> {
        self.images.get(path).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_our_own_executable() {
        let exe = std::env::current_exe().unwrap();
        let image = ElfImage::open(&exe).expect("test binary is ELF");
        assert!(image
            .eh_frame
            .as_ref()
            .and_then(|s| s.file.clone())
            .is_some());
        assert!(image.text.is_some());
        assert!(image.segments.iter().any(|s| s.executable));
        assert_eq!(
            image.symbolization_path(&exe).as_deref(),
            Some(exe.as_path())
        );
    }

    #[test]
    fn base_avma_follows_the_segment() {
        let mut image = ElfImage::from_bytes(Vec::new());
        assert!(image.is_none(), "empty bytes are not ELF");
        let exe = std::env::current_exe().unwrap();
        image = ElfImage::open(&exe);
        let image = image.unwrap();
        let text = *image.segments.iter().find(|s| s.executable).unwrap();
        // A PIE mapped with its text segment at 0x5555_0000_1000 (page aligned offset).
        let page_offset = text.file_offset & !0xfff;
        let start = 0x5555_0000_0000 + (text.vaddr & !0xfff);
        let bias = image.base_avma(start, page_offset, text.file_size + 0x1000);
        assert_eq!(
            bias + text.vaddr,
            start + (text.file_offset - page_offset),
            "the segment's first byte lands where the mapping says"
        );
    }

    #[test]
    fn missing_file_is_none() {
        let mut cache = ElfCache::default();
        let path: Arc<str> = Arc::from("/nonexistent/whyslow/binary");
        assert!(cache.get(&path, 0, 0, 0).is_none());
        assert!(cache.get(&path, 0, 0, 0).is_none());
    }
}
