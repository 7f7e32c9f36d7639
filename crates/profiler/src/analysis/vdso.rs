//! The vDSO: the kernel maps the same small ELF image into every process, so
//! we copy our own (`/proc/self/maps` + `/proc/self/mem`, no unsafe) and use
//! it to unwind through and name frames in any process's `[vdso]` mapping.
//! Its few dynamic symbols are looked up with `symtab`; it has no line info.

use super::elf::ElfImage;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

/// Copies and parses this process's vDSO; `None` when it cannot be read.
pub(crate) fn load_own_vdso() -> Option<Arc<ElfImage>> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let line = maps.lines().find(|l| l.trim_end().ends_with("[vdso]"))?;
    let range = line.split_whitespace().next()?;
    let (start, end) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    let len = usize::try_from(end.checked_sub(start)?).ok()?;
    let mut mem = std::fs::File::open("/proc/self/mem").ok()?;
    mem.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = vec![0u8; len];
    mem.read_exact(&mut bytes).ok()?;
    ElfImage::from_bytes(bytes).map(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::super::symtab::SymbolTable;
    use super::*;

    #[test]
    fn our_vdso_has_clock_gettime() {
        let Some(vdso) = load_own_vdso() else {
            eprintln!("SKIP: no vDSO readable here");
            return;
        };
        let table = SymbolTable::of(&vdso);
        let names = table.names();
        assert!(
            names.iter().any(|n| n.contains("clock_gettime")),
            "{names:?}"
        );
    }
}
