//! Uprobe targets in ELF files: the function symbols of an executable or
//! library (for `-l` listings) and the *file offset* the uprobe PMU wants for
//! one of them — a symbol's `st_value` is a virtual address, so it is moved
//! into the file through the PT_LOAD segment holding it
//! (`offset = st_value - p_vaddr + p_offset`). Also finds the file behind a
//! bare name (`bash` on PATH, `libc` in the library directories).
//!
//! Reads whole files with `object` (`.symtab` and `.dynsym`); a profiler-style
//! streaming reader is not worth it for one lookup at startup.

use crate::error::{Error, Result};
use object::{Object, ObjectSegment, ObjectSymbol, SymbolFlags, SymbolKind};
use std::path::{Path, PathBuf};

/// `STT_GNU_IFUNC`: the symbol is a resolver, not the function itself.
const STT_GNU_IFUNC: u8 = 10;

/// Where libraries named without a path are looked for.
const LIBRARY_DIRS: [&str; 6] = [
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// A function a uprobe can be placed on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FunctionSymbol {
    /// Name as stored (mangled for C++/Rust), without the `@VERSION`.
    pub name: String,
    /// `st_value`: the virtual address.
    pub address: u64,
    pub size: u64,
    /// Where the uprobe goes.
    pub file_offset: u64,
    /// A GNU indirect function: the address is its resolver's.
    pub ifunc: bool,
}

/// One PT_LOAD segment.
#[derive(Debug, Clone, Copy)]
struct Load {
    vaddr: u64,
    mem_size: u64,
    offset: u64,
}

/// The defined functions of `path` with their file offsets, sorted by name
/// then address, duplicates (`.symtab` and `.dynsym` both) removed.
pub fn functions(path: &Path) -> Result<Vec<FunctionSymbol>> {
    let data = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file = object::File::parse(&*data).map_err(|e| Error::Elf {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let loads: Vec<Load> = file
        .segments()
        .map(|s| Load {
            vaddr: s.address(),
            mem_size: s.size(),
            offset: s.file_range().0,
        })
        .collect();
    let mut found: Vec<FunctionSymbol> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.address() != 0)
        .filter_map(|s| {
            let name = s.name().ok()?.split('@').next()?.to_string();
            let file_offset = file_offset(&loads, s.address())?;
            let ifunc = matches!(s.flags(), SymbolFlags::Elf { st_info, .. } if st_info.0 & 0xf == STT_GNU_IFUNC);
            (!name.is_empty()).then_some(FunctionSymbol {
                name,
                address: s.address(),
                size: s.size(),
                file_offset,
                ifunc,
            })
        })
        .collect();
    found.sort();
    found.dedup_by(|a, b| a.name == b.name && a.address == b.address);
    Ok(found)
}

/// The file offset of function `symbol` in `path`.
pub fn function_offset(path: &Path, symbol: &str) -> Result<u64> {
    functions(path)?
        .into_iter()
        .find(|f| f.name == symbol)
        .map(|f| f.file_offset)
        .ok_or_else(|| Error::SymbolNotFound {
            path: path.to_path_buf(),
            symbol: symbol.to_string(),
        })
}

/// Moves a virtual address into the file through its PT_LOAD segment.
fn file_offset(loads: &[Load], address: u64) -> Option<u64> {
    loads
        .iter()
        .find(|l| address >= l.vaddr && address - l.vaddr < l.mem_size)
        .map(|l| address - l.vaddr + l.offset)
}

/// The file a uprobe target names: a path as is; a bare name on `PATH`; else
/// a library `lib<name>.so*` / `<name>.so*` in the usual directories (so
/// `uprobe:libc:getpid` works as in bpftrace).
pub fn resolve_target(target: &str) -> Result<PathBuf> {
    if target.contains('/') {
        let path = PathBuf::from(target);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::BinaryNotFound {
                target: target.to_string(),
            })
        };
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(target))
                .find(|c| c.is_file())
        })
        .unwrap_or_default();
    if let Some(found) = on_path {
        return Ok(found);
    }
    let stem = target.strip_suffix(".so").unwrap_or(target);
    let stem = if stem.starts_with("lib") {
        stem.to_string()
    } else {
        format!("lib{stem}")
    };
    for dir in LIBRARY_DIRS {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n == &format!("{stem}.so") || n.starts_with(&format!("{stem}.so.")))
            .collect();
        names.sort();
        // `libc.so` may be a linker script; only an ELF file can be probed.
        if let Some(found) = names
            .iter()
            .map(|n| Path::new(dir).join(n))
            .find(|p| is_elf(p))
        {
            return Ok(found);
        }
    }
    Err(Error::BinaryNotFound {
        target: target.to_string(),
    })
}

fn is_elf(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_go_through_the_containing_segment() {
        let loads = [
            Load {
                vaddr: 0,
                mem_size: 0x1000,
                offset: 0,
            },
            Load {
                vaddr: 0x401000,
                mem_size: 0x2000,
                offset: 0x1000,
            },
        ];
        assert_eq!(file_offset(&loads, 0x401234), Some(0x1234));
        assert_eq!(file_offset(&loads, 0x500), Some(0x500));
        assert_eq!(file_offset(&loads, 0x403000), None);
    }

    #[test]
    fn lists_functions_of_the_test_binary() {
        let exe = std::env::current_exe().expect("exe");
        let funcs = functions(&exe).expect("reads own ELF");
        assert!(
            funcs.iter().any(|f| f.name == "main"),
            "no main among {} functions",
            funcs.len()
        );
        let main = funcs.iter().find(|f| f.name == "main").expect("main");
        assert_eq!(
            function_offset(&exe, "main").expect("offset"),
            main.file_offset
        );
        assert!(matches!(
            function_offset(&exe, "no_such_fn_xyz"),
            Err(Error::SymbolNotFound { .. })
        ));
    }

    #[test]
    fn resolves_names() {
        assert!(resolve_target("sh").expect("sh on PATH").is_file());
        assert!(resolve_target("libc")
            .expect("libc")
            .to_string_lossy()
            .contains("libc.so"));
        assert!(resolve_target("/no/such/file").is_err());
    }
}
