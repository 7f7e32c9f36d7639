//! The functions containing a batch of addresses of one ELF file, found in a
//! single pass over its `.symtab` and `.dynsym`, read with `pread` in chunks
//! and never mapped or indexed: the continuous profiler names a few hundred
//! new addresses of a file per cut, and a compiler's symbol tables (4 MB of
//! symbols, 20 MB of names in `librustc_driver`) mapped or sorted in memory
//! would count in its resident memory at every cut. Memory is proportional to
//! the addresses asked for, not to the file.
//!
//! Written by hand: blazesym and `object` both map or load the whole table,
//! and no crate answers a sorted batch of lookups by streaming it. Only
//! little-endian 64-bit ELF (x86-64, AArch64); anything else finds nothing.

use super::elf::ElfImage;
use rustc_hash::FxHashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Bytes of one `Elf64_Sym`.
const SYM_SIZE: usize = 24;
/// Symbols read per `pread`.
const SYMS_PER_READ: usize = 2048;
/// Longest name read (a Rust symbol with deep generics runs to kilobytes).
const MAX_NAME: usize = 64 * 1024;
/// Section headers read at most (a real file has dozens).
const MAX_SECTIONS: usize = 1 << 16;
/// `SHT_SYMTAB`, `SHT_DYNSYM`.
const SHT_SYMTAB: u32 = 2;
const SHT_DYNSYM: u32 = 11;
/// `STT_FUNC`, `STT_GNU_IFUNC`.
const STT_FUNC: u8 = 2;
const STT_GNU_IFUNC: u8 = 10;

/// The function around one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundFunction {
    /// Stated address of its first byte.
    pub start: u64,
    /// Its size in bytes (0 when the symbol has none).
    pub size: u64,
    /// Its symbol name as stored (mangled); empty when names were not asked for.
    pub name: String,
}

/// A function symbol seen in the pass: what the lookup keeps per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    start: u64,
    size: u64,
    /// File offset of the name and where its string table ends.
    name_at: u64,
    names_end: u64,
}

impl Candidate {
    /// Nearer to the addresses above it: a later start, then a sized alias.
    fn beats(&self, other: &Candidate) -> bool {
        (self.start, self.size) > (other.start, other.size)
    }
}

/// One section header, as far as the pass needs it.
#[derive(Debug, Clone, Copy)]
struct Section {
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
}

impl Section {
    /// The fields of one `Elf64_Shdr` (little-endian).
    fn parse(sh: &[u8]) -> Self {
        Self {
            kind: u32_at(sh, 4),
            offset: u64_at(sh, 24),
            size: u64_at(sh, 32),
            link: u32_at(sh, 40),
        }
    }
}

/// The functions containing `vaddrs` (stated addresses, any order) in the
/// file of `image`, by address; addresses in no function are left out.
/// The file is read with `pread` (see [`functions_containing`]): `path` is
/// where `image` was found, opened again when its handle was not kept.
pub(crate) fn functions_of(
    image: &ElfImage,
    path: &Path,
    vaddrs: impl IntoIterator<Item = u64>,
    names: bool,
) -> FxHashMap<u64, FoundFunction> {
    let mut sorted: Vec<u64> = vaddrs.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let found = image
        .with_file(path, |file| functions_containing(file, &sorted, names))
        .unwrap_or_default();
    sorted
        .into_iter()
        .zip(found)
        .filter_map(|(vaddr, function)| Some((vaddr, function?)))
        .collect()
}

/// For each of `vaddrs` (stated addresses, sorted ascending), the function
/// symbol containing it: the one starting nearest at or below it, if the
/// address is inside its size (a symbol without a size reaches to the next
/// one). With `names`, each found function's name is read too. Aligned with
/// `vaddrs`; all `None` when the file cannot be read.
pub(crate) fn functions_containing(
    file: &File,
    vaddrs: &[u64],
    names: bool,
) -> Vec<Option<FoundFunction>> {
    let mut found = vec![None; vaddrs.len()];
    if vaddrs.is_empty() || !vaddrs.is_sorted() {
        return found;
    }
    let Some(sections) = section_headers(file) else {
        return found;
    };
    // best[i]: the nearest function starting in (vaddrs[i-1], vaddrs[i]].
    let mut best: Vec<Option<Candidate>> = vec![None; vaddrs.len()];
    for table in sections
        .iter()
        .filter(|s| matches!(s.kind, SHT_SYMTAB | SHT_DYNSYM))
    {
        let strings = sections.get(table.link as usize).copied();
        scan_table(file, table, strings, vaddrs, &mut best);
    }
    let mut nearest: Option<Candidate> = None;
    let mut name_cache: Vec<(u64, String)> = Vec::new();
    for ((slot, &vaddr), candidate) in found.iter_mut().zip(vaddrs).zip(best) {
        if let Some(c) = candidate {
            if nearest.is_none_or(|n| c.beats(&n)) {
                nearest = Some(c);
            }
        }
        let Some(c) = nearest else { continue };
        if c.size != 0 && vaddr - c.start >= c.size {
            continue;
        }
        let name = if names {
            match name_cache.last() {
                Some((at, name)) if *at == c.name_at => name.clone(),
                _ => {
                    let name = read_name(file, c.name_at, c.names_end);
                    name_cache.push((c.name_at, name.clone()));
                    name
                }
            }
        } else {
            String::new()
        };
        *slot = Some(FoundFunction {
            start: c.start,
            size: c.size,
            name,
        });
    }
    found
}

/// Reads the function symbols of one table, keeping per address slot the
/// nearest function starting in it.
fn scan_table(
    file: &File,
    table: &Section,
    strings: Option<Section>,
    vaddrs: &[u64],
    best: &mut [Option<Candidate>],
) {
    let (names_at, names_end) =
        strings.map_or((0, 0), |s| (s.offset, s.offset.saturating_add(s.size)));
    let count = usize::try_from(table.size).unwrap_or(0) / SYM_SIZE;
    let mut chunk = vec![0u8; SYMS_PER_READ * SYM_SIZE];
    let mut done = 0usize;
    while done < count {
        let n = (count - done).min(SYMS_PER_READ);
        let bytes = &mut chunk[..n * SYM_SIZE];
        let at = table.offset + (done * SYM_SIZE) as u64;
        if file.read_exact_at(bytes, at).is_err() {
            return;
        }
        for sym in bytes.chunks_exact(SYM_SIZE) {
            let kind = sym[4] & 0xf;
            let section = u16_at(sym, 6);
            let start = u64_at(sym, 8);
            if !matches!(kind, STT_FUNC | STT_GNU_IFUNC) || section == 0 || start == 0 {
                continue;
            }
            let slot = vaddrs.partition_point(|&v| v < start);
            let Some(best) = best.get_mut(slot) else {
                continue;
            };
            let candidate = Candidate {
                start,
                size: u64_at(sym, 16),
                name_at: names_at.saturating_add(u64::from(u32_at(sym, 0))),
                names_end,
            };
            if best.is_none_or(|b| candidate.beats(&b)) {
                *best = Some(candidate);
            }
        }
        done += n;
    }
}

/// The section headers of a little-endian ELF64 file.
fn section_headers(file: &File) -> Option<Vec<Section>> {
    let mut header = [0u8; 64];
    file.read_exact_at(&mut header, 0).ok()?;
    // Magic, ELFCLASS64, ELFDATA2LSB.
    if header[..4] != *b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return None;
    }
    let shoff = u64_at(&header, 0x28);
    let entsize = usize::from(u16_at(&header, 0x3a));
    let mut count = usize::from(u16_at(&header, 0x3c));
    if shoff == 0 || entsize < 64 {
        return None;
    }
    let read = |index: usize| -> Option<Section> {
        let mut sh = [0u8; 64];
        file.read_exact_at(&mut sh, shoff.checked_add((index * entsize) as u64)?)
            .ok()?;
        Some(Section::parse(&sh))
    };
    if count == 0 {
        // More sections than e_shnum holds: the count is section 0's size.
        count = usize::try_from(read(0)?.size).ok()?;
    }
    let mut table = vec![0u8; count.min(MAX_SECTIONS) * entsize];
    file.read_exact_at(&mut table, shoff).ok()?;
    Some(table.chunks_exact(entsize).map(Section::parse).collect())
}

/// The NUL-terminated name at file offset `at`, ending by `end`.
fn read_name(file: &File, at: u64, end: u64) -> String {
    let mut want = 256usize;
    loop {
        let len = usize::try_from(end.saturating_sub(at))
            .unwrap_or(usize::MAX)
            .min(want);
        let mut bytes = vec![0u8; len];
        let Ok(got) = file.read_at(&mut bytes, at) else {
            return String::new();
        };
        bytes.truncate(got);
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            bytes.truncate(nul);
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        if got < len || len < want || want >= MAX_NAME {
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        want *= 4;
    }
}

/// A symbol name as people read it: Rust (legacy and v0, without the hash)
/// or C++ demangled, else as stored. The same choice blazesym makes for ELF
/// symbols, so both symbolizers name a function alike.
pub(crate) fn demangle(name: &str) -> String {
    if let Ok(rust) = rustc_demangle::try_demangle(name) {
        return format!("{rust:#}");
    }
    cpp_demangle::Symbol::new(name)
        .ok()
        .and_then(|symbol| symbol.demangle().ok())
        .unwrap_or_else(|| name.to_string())
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    bytes
        .get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u16::from_le_bytes)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::symtab::SymbolTable;

    /// Functions of our own binary are found as the mapped table finds
    /// them, from their first byte to their last, names included.
    #[test]
    fn agrees_with_the_mapped_symbol_table() {
        use object::{Object, ObjectSymbol, SymbolKind};
        let exe = std::env::current_exe().unwrap();
        let image = ElfImage::open(&exe).unwrap();
        let table = SymbolTable::of(&image);
        let elf = object::File::parse(image.bytes()).unwrap();
        let functions: Vec<(u64, u64, String)> = elf
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .map(|s| (s.address(), s.size(), s.name().unwrap_or("").to_string()))
            .collect();
        assert!(functions.len() > 100);
        let step = functions.len() / 100;
        let mut probes = vec![0x10, u64::MAX - 1];
        for (start, size, _) in functions.iter().step_by(step) {
            probes.extend([*start, start + size.saturating_sub(1), start + size]);
        }
        probes.sort_unstable();
        probes.dedup();
        let file = File::open(&exe).unwrap();
        let found = functions_containing(&file, &probes, true);
        for (probe, found) in probes.iter().zip(found) {
            let expected = table
                .containing(*probe)
                .map(|(start, size, _)| (start, size));
            assert_eq!(
                found.as_ref().map(|f| (f.start, f.size)),
                expected,
                "at {probe:#x}"
            );
            if let Some(found) = found {
                assert!(
                    functions
                        .iter()
                        .any(|f| f.0 == found.start && f.2 == found.name),
                    "{} is not a name at {:#x}",
                    found.name,
                    found.start
                );
            }
        }
        let main = functions
            .iter()
            .find(|f| f.2 == "main")
            .expect("a C main symbol");
        let unnamed = functions_containing(&file, &[main.0], false);
        assert_eq!(unnamed[0].as_ref().map(|f| f.name.as_str()), Some(""));
        let named = functions_containing(&file, &[main.0], true);
        assert_eq!(named[0].as_ref().map(|f| f.name.as_str()), Some("main"));
    }

    #[test]
    fn unsorted_input_or_a_non_elf_file_finds_nothing() {
        let exe = std::env::current_exe().unwrap();
        let file = File::open(&exe).unwrap();
        assert_eq!(functions_containing(&file, &[2, 1], true), vec![None, None]);
        let path = std::env::temp_dir().join(format!("whyslow-symscan-{}", std::process::id()));
        std::fs::write(&path, [b'x'; 128]).unwrap();
        let file = File::open(&path).unwrap();
        assert_eq!(functions_containing(&file, &[1], true), vec![None]);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn demangles_rust_and_cpp_like_blazesym() {
        assert_eq!(
            demangle("_ZN8workload5hot_a17h0123456789abcdefE"),
            "workload::hot_a"
        );
        assert_eq!(demangle("_ZN4llvm5Value4dumpEv"), "llvm::Value::dump()");
        assert_eq!(demangle("main"), "main");
    }
}
