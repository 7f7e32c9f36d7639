//! Names every recorded frame at the end of a recording and turns it into a
//! [`model::Location`]: ELF frames through `symbolize` (one batch per file,
//! unique offsets only), kernel frames through kallsyms, JIT frames through
//! perf maps, vDSO frames through its symbol table. A frame that cannot be
//! named is kept, as `FILE+0xOFFSET` or its hex address, never dropped.

use super::elf::{ElfCache, ElfImage};
use super::kernel::KernelSymbols;
use super::mappings::{MappingIndex, MappingInfo, MappingKind, MappingRegistry};
use super::perfmap::PerfMap;
use super::stacks::RawFrame;
use super::symbolize::{ElfSymbolizer, SymbolFrame};
use super::symscan::{demangle, functions_of};
use super::symtab::SymbolTable;
use model::{FrameKind, Function, Line, Location, LocationId, Mapping, MappingId, ProfileBuilder};
use rustc_hash::FxHashMap;
use std::path::Path;
use std::sync::Arc;

/// What resolving needs besides the frames.
pub(crate) struct ResolveSources<'a> {
    /// Every mapping of the recording.
    pub registry: &'a MappingRegistry,
    /// Parsed ELF files by path.
    pub elf_cache: &'a mut ElfCache,
    /// Our own vDSO image.
    pub vdso: Option<&'a Arc<ElfImage>>,
    /// What earlier passes symbolized (a continuous profiler resolves every
    /// few seconds; one-shot recordings start it empty).
    pub cache: &'a mut SymbolCache,
}

/// Symbolization results kept between resolution passes: the lines of every
/// (file, offset) looked up and kernel symbols, so a pass only symbolizes
/// what is new. The symbolizer with the files it parsed is kept too, per
/// thread (blazesym's is not `Send`, the assembler must be) and per cache:
/// dropping it after each pass halves the file-backed RSS but doubles the
/// CPU of a continuous profiler, whose processes keep reaching new offsets.
#[derive(Debug)]
pub(crate) struct SymbolCache {
    /// Names the symbolizer of this cache; a new id makes a new symbolizer.
    id: u64,
    /// When the current symbolizer was made.
    symbolizer_born: std::time::Instant,
    /// Symbol tables only ([`ElfSymbolizer::new`]).
    names_only: bool,
    lines: FxHashMap<(Arc<str>, u64), Option<Vec<SymbolFrame>>>,
    /// Estimated heap bytes of `lines`.
    lines_bytes: usize,
    kernel: Option<(KernelSymbols, std::time::Instant)>,
}

impl Default for SymbolCache {
    fn default() -> Self {
        Self::new(false)
    }
}

impl SymbolCache {
    /// An empty cache; `names_only` symbolizes from symbol tables alone.
    pub fn new(names_only: bool) -> Self {
        Self {
            id: NEXT_CACHE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            symbolizer_born: std::time::Instant::now(),
            names_only,
            lines: FxHashMap::default(),
            lines_bytes: 0,
            kernel: None,
        }
    }
}

static NEXT_CACHE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    /// The symbolizer of the cache whose id it carries.
    static SYMBOLIZER: std::cell::RefCell<Option<(u64, ElfSymbolizer)>> =
        const { std::cell::RefCell::new(None) };
}

/// Symbolizes with the cache's symbolizer on this thread (made on first use).
fn symbolize_with(
    cache: &SymbolCache,
    file: &Path,
    offsets: &[u64],
) -> Vec<Option<Vec<SymbolFrame>>> {
    let cache_id = cache.id;
    SYMBOLIZER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().map(|(id, _)| *id) != Some(cache_id) {
            *slot = Some((cache_id, ElfSymbolizer::new(cache.names_only)));
        }
        match slot.as_ref() {
            Some((_, symbolizer)) => symbolizer.symbolize(file, offsets),
            None => vec![None; offsets.len()],
        }
    })
}

/// Names file offsets of `image` from its symbol tables alone, read in one
/// pass without mapping them (`symscan`): the continuous profiler's way,
/// which keeps neither the tables nor an index of them between cuts.
fn names_from_symbol_tables(
    image: &ElfImage,
    path: &Path,
    offsets: &[u64],
) -> Vec<Option<Vec<SymbolFrame>>> {
    let vaddrs: Vec<Option<u64>> = offsets
        .iter()
        .map(|&o| image.vaddr_of_file_offset(o))
        .collect();
    let found = functions_of(image, path, vaddrs.iter().flatten().copied(), true);
    vaddrs
        .iter()
        .map(|vaddr| {
            let function = found.get(&(*vaddr)?)?;
            Some(vec![SymbolFrame {
                name: demangle(&function.name),
                file: String::new(),
                line: 0,
                start_line: 0,
            }])
        })
        .collect()
}

/// Estimated bytes of cached lookups past which the cache starts over
/// (bounds a continuous profiler's memory: a compiler's processes reach
/// new offsets all the time).
const MAX_CACHED_BYTES: usize = 8 << 20;
/// Estimated bytes of one cached lookup besides its strings.
const CACHED_LOOKUP_BYTES: usize = 96;
/// The symbolizer (with every file it opened and parsed) is replaced after
/// this long: the files of processes long gone, or reached once, stop
/// counting in a continuous profiler's memory, while the names it found stay
/// cached.
const SYMBOLIZER_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// Kernel symbols are read again after this long (modules come and go).
const KERNEL_SYMBOLS_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// The location of every frame (indexed like the frames) and notes for the user.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    /// `locations[frame_id]`.
    pub locations: Vec<LocationId>,
    /// Things the user should know (`note: …`).
    pub notes: Vec<String>,
}

/// The address to look up: return addresses point after the call, so one
/// byte back lands inside the call instruction (and its inlining context).
fn lookup_address(address: u64, is_return: bool) -> u64 {
    address.wrapping_sub(u64::from(is_return))
}

/// Resolves `frames` into locations interned in `builder`.
pub(crate) fn resolve(
    frames: &[RawFrame],
    sources: &mut ResolveSources<'_>,
    builder: &mut ProfileBuilder,
) -> Resolved {
    let mut names = Namer::new(sources, builder);
    names.symbolize_files(frames);
    let locations = frames.iter().map(|&f| names.location(f)).collect();
    let mut notes = Vec::new();
    if names.kernel_hidden {
        notes.push(
            "note: kernel addresses are hidden (kernel.kptr_restrict), kernel frames are \
             unnamed; run `sysctl kernel.kptr_restrict=0` to name them"
                .to_string(),
        );
    }
    Resolved { locations, notes }
}

/// State of one resolution pass.
struct Namer<'s, 'a, 'b> {
    sources: &'s mut ResolveSources<'a>,
    builder: &'b mut ProfileBuilder,
    /// Symbolized lines per (path, lookup offset); `None` when not symbolized.
    symbols: FxHashMap<(Arc<str>, u64), Option<Vec<Line>>>,
    mappings: FxHashMap<MappingIndex, MappingId>,
    /// Kernel frames were seen and kallsyms hides their addresses.
    kernel_hidden: bool,
    kernel_mapping: Option<MappingId>,
    perf_maps: FxHashMap<u32, PerfMap>,
    vdso_symbols: Option<SymbolTable>,
}

impl<'s, 'a, 'b> Namer<'s, 'a, 'b> {
    fn new(sources: &'s mut ResolveSources<'a>, builder: &'b mut ProfileBuilder) -> Self {
        Self {
            sources,
            builder,
            symbols: FxHashMap::default(),
            mappings: FxHashMap::default(),
            kernel_hidden: false,
            kernel_mapping: None,
            perf_maps: FxHashMap::default(),
            vdso_symbols: None,
        }
    }

    /// Symbolizes every ELF frame, one blazesym call per file.
    fn symbolize_files(&mut self, frames: &[RawFrame]) {
        let mut per_path: FxHashMap<Arc<str>, Vec<u64>> = FxHashMap::default();
        for frame in frames {
            let RawFrame::User {
                mapping,
                address,
                is_return,
                ..
            } = *frame
            else {
                continue;
            };
            let Some(info) = self.sources.registry.get(mapping) else {
                continue;
            };
            if info.kind == MappingKind::File {
                per_path
                    .entry(Arc::clone(&info.path))
                    .or_default()
                    .push(info.file_offset_of(lookup_address(address, is_return)));
            }
        }
        let cache = &mut *self.sources.cache;
        if cache.lines_bytes > MAX_CACHED_BYTES {
            *cache = SymbolCache::new(cache.names_only);
        }
        if cache.symbolizer_born.elapsed() > SYMBOLIZER_TTL {
            cache.id = NEXT_CACHE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            cache.symbolizer_born = std::time::Instant::now();
        }
        let mut paths: Vec<_> = per_path.into_iter().collect();
        paths.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (path, mut offsets) in paths {
            offsets.sort_unstable();
            offsets.dedup();
            let missing: Vec<u64> = offsets
                .iter()
                .copied()
                .filter(|&o| !cache.lines.contains_key(&(Arc::clone(&path), o)))
                .collect();
            if !missing.is_empty() {
                let image = self.sources.elf_cache.get(&path, 0, 0, 0);
                let results = match image {
                    Some(image) if cache.names_only => {
                        names_from_symbol_tables(&image, Path::new(&*path), &missing)
                    }
                    Some(image) => match image.symbolization_path(Path::new(&*path)) {
                        Some(file) => symbolize_with(cache, &file, &missing),
                        None => vec![None; missing.len()],
                    },
                    None => vec![None; missing.len()],
                };
                for (offset, result) in missing.into_iter().zip(results) {
                    cache.lines_bytes += CACHED_LOOKUP_BYTES
                        + result
                            .iter()
                            .flatten()
                            .map(|f| 64 + f.name.len() + f.file.len())
                            .sum::<usize>();
                    cache.lines.insert((Arc::clone(&path), offset), result);
                }
            }
            for offset in offsets {
                let key = (Arc::clone(&path), offset);
                let lines = cache.lines.get(&key).cloned().flatten().map(|frames| {
                    frames
                        .into_iter()
                        .map(|f| Line {
                            function: self.builder.function(Function {
                                name: f.name,
                                system_name: String::new(),
                                filename: f.file,
                                start_line: f.start_line,
                            }),
                            line: f.line,
                        })
                        .collect()
                });
                self.symbols.insert(key, lines);
            }
        }
    }

    /// The location of one frame.
    fn location(&mut self, frame: RawFrame) -> LocationId {
        match frame {
            RawFrame::Kernel { address, is_return } => self.kernel_location(address, is_return),
            RawFrame::User {
                mapping,
                address,
                is_return,
                pid,
            } => self.user_location(mapping, address, is_return, pid),
            RawFrame::Unmapped { address, pid } => match self.jit_name(pid, address) {
                Some(name) => self.named(None, address, &name, FrameKind::Jit),
                None => self.builder.location(Location {
                    mapping: None,
                    address,
                    lines: Vec::new(),
                    kind: FrameKind::User,
                }),
            },
        }
    }

    fn kernel_location(&mut self, address: u64, is_return: bool) -> LocationId {
        let cache = &mut *self.sources.cache;
        if cache
            .kernel
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() > KERNEL_SYMBOLS_TTL)
        {
            cache.kernel = None;
        }
        let (kernel, _) = cache
            .kernel
            .get_or_insert_with(|| (KernelSymbols::load(), std::time::Instant::now()));
        let name = kernel
            .lookup(lookup_address(address, is_return))
            .map_or_else(|| format!("[kernel] {address:#x}"), str::to_string);
        let start = kernel.start();
        self.kernel_hidden |= kernel.hidden;
        let mapping = *self.kernel_mapping.get_or_insert_with(|| {
            self.builder.mapping(Mapping {
                start,
                limit: u64::MAX,
                file_offset: 0,
                path: "[kernel.kallsyms]".to_string(),
                build_id: String::new(),
            })
        });
        self.named(Some(mapping), address, &name, FrameKind::Kernel)
    }

    fn user_location(
        &mut self,
        index: MappingIndex,
        address: u64,
        is_return: bool,
        pid: u32,
    ) -> LocationId {
        let Some(info) = self.sources.registry.get(index).cloned() else {
            return self.builder.location(Location {
                mapping: None,
                address,
                lines: Vec::new(),
                kind: FrameKind::User,
            });
        };
        let mapping = Some(self.model_mapping(index, &info));
        let offset = info.file_offset_of(address);
        let lookup = info.file_offset_of(lookup_address(address, is_return));
        match info.kind {
            MappingKind::File => {
                let lines = self
                    .symbols
                    .get(&(Arc::clone(&info.path), lookup))
                    .cloned()
                    .flatten();
                match lines {
                    Some(lines) if !lines.is_empty() => self.builder.location(Location {
                        mapping,
                        address,
                        lines,
                        kind: FrameKind::User,
                    }),
                    _ => {
                        let name = format!("{}+{offset:#x}", info.basename());
                        self.named(mapping, address, &name, FrameKind::User)
                    }
                }
            }
            MappingKind::Vdso => {
                let name = self
                    .vdso_name(lookup)
                    .unwrap_or_else(|| format!("[vdso]+{offset:#x}"));
                self.named(mapping, address, &name, FrameKind::User)
            }
            MappingKind::Anonymous => match self.jit_name(pid, address) {
                Some(name) => self.named(mapping, address, &name, FrameKind::Jit),
                None => self.builder.location(Location {
                    mapping,
                    address,
                    lines: Vec::new(),
                    kind: FrameKind::User,
                }),
            },
            MappingKind::Special => {
                let name = format!("{}+{offset:#x}", info.path);
                self.named(mapping, address, &name, FrameKind::User)
            }
        }
    }

    /// A location with a single line in function `name`.
    fn named(
        &mut self,
        mapping: Option<MappingId>,
        address: u64,
        name: &str,
        kind: FrameKind,
    ) -> LocationId {
        let function = self.builder.function_named(name, "");
        self.builder.location(Location {
            mapping,
            address,
            lines: vec![Line { function, line: 0 }],
            kind,
        })
    }

    fn model_mapping(&mut self, index: MappingIndex, info: &MappingInfo) -> MappingId {
        if let Some(&id) = self.mappings.get(&index) {
            return id;
        }
        let build_id = info
            .build_id
            .as_deref()
            .map(<[u8]>::to_vec)
            .or_else(|| match info.kind {
                MappingKind::File => self
                    .sources
                    .elf_cache
                    .loaded(&info.path)
                    .and_then(|i| i.build_id.clone()),
                MappingKind::Vdso => self.sources.vdso.and_then(|i| i.build_id.clone()),
                _ => None,
            })
            .map(|b| hex(&b))
            .unwrap_or_default();
        let id = self.builder.mapping(Mapping {
            start: info.start,
            limit: info.end,
            file_offset: info.file_offset,
            path: info.path.to_string(),
            build_id,
        });
        self.mappings.insert(index, id);
        id
    }

    fn jit_name(&mut self, pid: u32, address: u64) -> Option<String> {
        let map = self
            .perf_maps
            .entry(pid)
            .or_insert_with(|| PerfMap::load(pid));
        map.lookup(address).map(str::to_string)
    }

    fn vdso_name(&mut self, file_offset: u64) -> Option<String> {
        let image = self.sources.vdso?;
        let table = self
            .vdso_symbols
            .get_or_insert_with(|| SymbolTable::of(image));
        let vaddr = image.vaddr_of_file_offset(file_offset)?;
        table.lookup(vaddr).map(str::to_string)
    }
}

/// Lowercase hex of a build id.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0xab, 0x01]), "ab01");
    }

    #[test]
    fn lookup_steps_back_for_return_addresses() {
        assert_eq!(lookup_address(0x1000, true), 0xfff);
        assert_eq!(lookup_address(0x1000, false), 0x1000);
    }
}
