//! Names file offsets inside ELF files with blazesym: function names
//! (demangled, Rust hashes removed), source file and line from DWARF, and the
//! chain of inlined calls at each address. One call per file with all its
//! offsets, so each file is parsed once.
//!
//! Which file an address is in, and what to call it when this fails, is
//! `resolve`'s business.

use blazesym::symbolize::source::{Elf, Source};
use blazesym::symbolize::{CodeInfo, Input, Symbolized, Symbolizer};
use std::collections::HashMap;
use std::path::Path;

/// One function at one source position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SymbolFrame {
    /// Demangled function name, e.g. `workload::hot_a`.
    pub name: String,
    /// Source file, empty when unknown.
    pub file: String,
    /// Source line, 0 when unknown.
    pub line: u32,
    /// Line of the function's first instruction (its opening line, as near as
    /// line tables tell), 0 when unknown; set for outermost functions only.
    pub start_line: u32,
}

/// One symbolized address: its frames innermost first, and the stated address
/// where its outermost function starts.
type Lookup = Option<(Vec<SymbolFrame>, u64)>;

/// Symbolizes offsets of ELF files.
pub(crate) struct ElfSymbolizer {
    inner: Symbolizer,
    /// Symbol tables only: no DWARF (no lines, no inlined frames).
    names_only: bool,
}

impl std::fmt::Debug for ElfSymbolizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ElfSymbolizer")
    }
}

impl Default for ElfSymbolizer {
    fn default() -> Self {
        Self::new(false)
    }
}

impl ElfSymbolizer {
    /// A symbolizer; with `names_only` it reads ELF symbol tables only,
    /// never DWARF: function names without lines or inlined frames, for the
    /// continuous profiler, whose resident memory DWARF's parsed units and
    /// touched pages would otherwise triple (the build id and file offset it
    /// keeps allow a full symbolization later).
    pub fn new(names_only: bool) -> Self {
        Self {
            inner: Symbolizer::builder()
                .enable_demangling(true)
                .enable_code_info(!names_only)
                .enable_inlined_fns(!names_only)
                .enable_auto_reload(false)
                .build(),
            names_only,
        }
    }

    /// Symbolizes `file_offsets` of the ELF file at `path`. The result is
    /// aligned with the input: per offset its frames innermost first (inlined
    /// callees before the function they were inlined into), or `None` when the
    /// offset (or the whole file) could not be symbolized.
    ///
    /// DWARF gives lines and inlining, but with `debuginfo=line-tables-only`
    /// (Rust's release default here) only unqualified names (`hot_a`), so the
    /// outermost function takes its name from the symbol table
    /// (`workload::hot_a`) when DWARF's is unqualified.
    pub fn symbolize(&self, path: &Path, file_offsets: &[u64]) -> Vec<Option<Vec<SymbolFrame>>> {
        if self.names_only {
            let mut symbols_only = Elf::new(path);
            symbols_only.debug_syms = false;
            return split(self.run(symbols_only, Input::FileOffset(file_offsets))).0;
        }
        let (with_dwarf, starts) = split(self.run(Elf::new(path), Input::FileOffset(file_offsets)));
        let needs_table = with_dwarf.iter().any(|r| {
            r.as_ref()
                .and_then(|frames| frames.last())
                .is_some_and(|outer| !is_qualified(&outer.name))
        });
        let mut results = if needs_table {
            let mut symbols_only = Elf::new(path);
            symbols_only.debug_syms = false;
            let (table, _) = split(self.run(symbols_only, Input::FileOffset(file_offsets)));
            qualify_outer_names(with_dwarf, table)
        } else {
            with_dwarf
        };
        self.set_start_lines(path, &mut results, &starts);
        give_line_zero_frames_their_file(&mut results);
        results
    }

    /// Sets each outermost function's `start_line` to the line of its first
    /// instruction (`starts` holds the function start of each result).
    fn set_start_lines(
        &self,
        path: &Path,
        results: &mut [Option<Vec<SymbolFrame>>],
        starts: &[Option<u64>],
    ) {
        let mut unique: Vec<u64> = starts.iter().flatten().copied().collect();
        unique.sort_unstable();
        unique.dedup();
        let lines: HashMap<u64, u32> = unique
            .iter()
            .zip(self.run(Elf::new(path), Input::VirtOffset(&unique)))
            .filter_map(|(&start, lookup)| Some((start, lookup?.0.last()?.line)))
            .collect();
        for (result, start) in results.iter_mut().zip(starts) {
            let outer = result.as_mut().and_then(|frames| frames.last_mut());
            if let (Some(outer), Some(start)) = (outer, start) {
                outer.start_line = lines.get(start).copied().unwrap_or(0);
            }
        }
    }

    fn run(&self, elf: Elf, input: Input<&[u64]>) -> Vec<Lookup> {
        let count = input.as_inner_ref().len();
        let source = Source::Elf(elf);
        match self.inner.symbolize(&source, input) {
            Ok(results) if results.len() == count => results.into_iter().map(frames_of).collect(),
            _ => vec![None; count],
        }
    }
}

/// Frames and function starts of lookups, as two aligned vectors.
fn split(lookups: Vec<Lookup>) -> (Vec<Option<Vec<SymbolFrame>>>, Vec<Option<u64>>) {
    lookups
        .into_iter()
        .map(|l| match l {
            Some((frames, start)) => (Some(frames), Some(start)),
            None => (None, None),
        })
        .unzip()
}

/// Names each outermost function by the symbol table (`table`, aligned with
/// `with_dwarf`) when DWARF's name is unqualified and the table's is not.
fn qualify_outer_names(
    with_dwarf: Vec<Option<Vec<SymbolFrame>>>,
    table: Vec<Option<Vec<SymbolFrame>>>,
) -> Vec<Option<Vec<SymbolFrame>>> {
    with_dwarf
        .into_iter()
        .zip(table)
        .map(|(dwarf, table)| match (dwarf, table) {
            (Some(mut frames), Some(table)) => {
                if let (Some(outer), Some(named)) = (frames.last_mut(), table.last()) {
                    if !is_qualified(&outer.name) && is_qualified(&named.name) {
                        outer.name.clone_from(&named.name);
                    }
                }
                Some(frames)
            }
            (dwarf, table) => dwarf.or(table),
        })
        .collect()
}

/// Line 0 marks compiler-generated code, and its file is whatever the line
/// table row happened to say (often a std source): such a frame takes the file
/// its function has at real lines, so one function keeps one file.
fn give_line_zero_frames_their_file(results: &mut [Option<Vec<SymbolFrame>>]) {
    let mut files: HashMap<String, String> = HashMap::new();
    for frame in results.iter().flatten().flatten() {
        if frame.line > 0 && !files.contains_key(&frame.name) {
            files.insert(frame.name.clone(), frame.file.clone());
        }
    }
    for frame in results.iter_mut().flatten().flatten() {
        if frame.line == 0 {
            if let Some(file) = files.get(&frame.name) {
                frame.file.clone_from(file);
            }
        }
    }
}

/// Whether a function name has a path (`a::b`) outside its generic arguments:
/// `call_once<a::B>` is not qualified, `core::ops::FnOnce::call_once` is.
fn is_qualified(name: &str) -> bool {
    let mut depth = 0usize;
    let mut previous_colon = false;
    let mut previous = ' ';
    for c in name.chars() {
        match c {
            '<' => depth += 1,
            // `->` in `fn() -> T` closes nothing.
            '>' if previous != '-' => depth = depth.saturating_sub(1),
            ':' if depth == 0 && previous_colon => return true,
            _ => {}
        }
        previous_colon = c == ':' && depth == 0;
        previous = c;
    }
    false
}

/// Source files of the Rust standard library, as rustup's builds remap them.
const RUST_STD_SOURCES: &str = "/rustc/";

/// The frames of one result, innermost first.
///
/// Code the standard library inlined into a function (`wrapping_add`,
/// `black_box`, iterator `next`) is attributed to the line of that function
/// that called it instead of showing up as frames of its own: otherwise a tight
/// loop's time splits between the loop and a handful of one-instruction std
/// helpers, and the function the user wrote stops being the leaf. User code
/// inlined anywhere, and std functions that were not inlined, stay frames.
fn frames_of(result: Symbolized<'_>) -> Lookup {
    let sym = result.into_sym()?;
    let mut frames = Vec::with_capacity(1 + sym.inlined.len());
    for inlined in sym.inlined.iter().rev() {
        let f = frame(&inlined.name, inlined.code_info.as_ref());
        if !f.file.starts_with(RUST_STD_SOURCES) {
            frames.push(f);
        }
    }
    frames.push(frame(&sym.name, sym.code_info.as_deref()));
    Some((frames, sym.addr))
}

fn frame(name: &str, code_info: Option<&CodeInfo<'_>>) -> SymbolFrame {
    SymbolFrame {
        name: name.to_string(),
        file: code_info
            .map(|c| c.to_path().to_string_lossy().into_owned())
            .unwrap_or_default(),
        line: code_info.and_then(|c| c.line).unwrap_or(0),
        start_line: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_have_a_path_outside_generics() {
        assert!(is_qualified("workload::hot_a"));
        assert!(is_qualified("<Vec<T> as Drop>::drop"));
        assert!(!is_qualified("hot_a"));
        assert!(!is_qualified("call_once<profiler::X, ()>"));
        assert!(!is_qualified("{closure#0}"));
        assert!(!is_qualified("begin<fn() -> core::Result<(), E>, R>"));
    }

    fn frame(name: &str, file: &str, line: u32) -> SymbolFrame {
        SymbolFrame {
            name: name.to_string(),
            file: file.to_string(),
            line,
            start_line: 0,
        }
    }

    #[test]
    fn line_zero_takes_the_functions_file() {
        let mut results = vec![
            Some(vec![frame("hot_a", "/rustc/x/range.rs", 0)]),
            None,
            Some(vec![frame("hot_a", "src/main.rs", 22)]),
            Some(vec![frame("other", "/rustc/x/a.rs", 0)]),
        ];
        give_line_zero_frames_their_file(&mut results);
        assert_eq!(results[0], Some(vec![frame("hot_a", "src/main.rs", 0)]));
        assert_eq!(results[3], Some(vec![frame("other", "/rustc/x/a.rs", 0)]));
    }

    #[test]
    fn outer_names_come_from_the_symbol_table_when_unqualified() {
        let dwarf = vec![
            Some(vec![frame("inlined", "a.rs", 1), frame("hot_a", "a.rs", 2)]),
            Some(vec![frame("x::y", "a.rs", 3)]),
            None,
        ];
        let table = vec![
            Some(vec![frame("workload::hot_a", "", 0)]),
            Some(vec![frame("x::z", "", 0)]),
            Some(vec![frame("only::in_table", "", 0)]),
        ];
        let merged = qualify_outer_names(dwarf, table);
        assert_eq!(
            merged[0],
            Some(vec![
                frame("inlined", "a.rs", 1),
                frame("workload::hot_a", "a.rs", 2)
            ])
        );
        assert_eq!(merged[1], Some(vec![frame("x::y", "a.rs", 3)]));
        assert_eq!(merged[2], Some(vec![frame("only::in_table", "", 0)]));
    }

    #[test]
    fn missing_file_gives_nothing() {
        let s = ElfSymbolizer::default();
        assert_eq!(
            s.symbolize(Path::new("/nonexistent/binary"), &[0x1000, 0x2000]),
            vec![None, None]
        );
    }
}
