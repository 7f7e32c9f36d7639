//! Tail-call recovery: a function that ends in `jmp other` (a tail call)
//! leaves no frame on the stack, so `main → f → g` unwinds as `main → g` when
//! `f` tail-called `g`. The return address into `main` still follows the
//! `call f` instruction, so when that is a direct call (`E8 rel32`) to the start
//! of a function in `.text` and the frame below is not inside that function,
//! `f` is put back between them, named like any other frame.
//!
//! Indirect calls and chains of tail calls (`f` → `g` → `h`) recover nothing
//! beyond the first callee. No stack is changed when anything is unknown.
//! Written by hand: unwinders (framehop, libunwind) report what is on the
//! stack, and no crate reconstructs what a tail call removed from it.

use super::elf::{ElfCache, ElfImage};
use super::mappings::{MappingInfo, MappingKind, MappingRegistry};
use super::stacks::{FrameId, RawFrame, StackTable};
use super::symtab::SymbolTable;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Opcode of `call rel32`.
const CALL_REL32: u8 = 0xe8;
/// Length of `call rel32`.
const CALL_REL32_LEN: usize = 5;

/// Inserts the frames of tail-calling functions into `stacks` (leaf first),
/// interning new frames in `table`.
pub(crate) fn recover_tail_calls(
    stacks: &mut [Vec<FrameId>],
    table: &mut StackTable,
    registry: &MappingRegistry,
    elf_cache: &mut ElfCache,
) {
    let mut finder = TargetFinder {
        registry,
        elf_cache,
        symbols: FxHashMap::default(),
        targets: FxHashMap::default(),
    };
    for stack in stacks.iter_mut() {
        let mut j = 1;
        while j < stack.len() {
            let (Some(&caller), Some(&callee)) = (stack.get(j), stack.get(j - 1)) else {
                break;
            };
            let frames = table.frames();
            let (Some(&caller_frame), Some(&callee_frame)) =
                (frames.get(caller as usize), frames.get(callee as usize))
            else {
                break;
            };
            if let Some(inserted) = finder.missing_frame(caller, caller_frame, callee_frame) {
                let id = table.frame(inserted);
                stack.insert(j, id);
                j += 1;
            }
            j += 1;
        }
    }
}

/// An ELF image with its function symbols.
type ImageSymbols = (Arc<ElfImage>, Arc<SymbolTable>);

/// Finds and caches direct-call targets of return addresses.
struct TargetFinder<'r, 'c> {
    registry: &'r MappingRegistry,
    elf_cache: &'c mut ElfCache,
    symbols: FxHashMap<Arc<str>, Option<ImageSymbols>>,
    /// Per caller frame: the called function's start address, if known.
    targets: FxHashMap<FrameId, Option<u64>>,
}

impl TargetFinder<'_, '_> {
    /// The frame missing between `caller` (a return address) and `callee`
    /// (the frame it called into), if the caller's call went elsewhere.
    fn missing_frame(
        &mut self,
        caller_id: FrameId,
        caller: RawFrame,
        callee: RawFrame,
    ) -> Option<RawFrame> {
        let RawFrame::User {
            mapping,
            address,
            is_return: true,
            pid,
        } = caller
        else {
            return None;
        };
        let info = self.registry.get(mapping)?.clone();
        if info.kind != MappingKind::File {
            return None;
        }
        let (image, symbols) = self.image(&info)?;
        let target = match self.targets.get(&caller_id) {
            Some(&known) => known,
            None => {
                let found = direct_call_target(&info, &image, &symbols, address);
                self.targets.insert(caller_id, found);
                found
            }
        }?;
        if let RawFrame::User {
            mapping: callee_mapping,
            address: callee_address,
            is_return: callee_is_return,
            ..
        } = callee
        {
            let callee_info = self.registry.get(callee_mapping)?;
            if callee_info.path == info.path {
                let lookup = callee_address.wrapping_sub(u64::from(callee_is_return));
                let callee_vaddr =
                    image.vaddr_of_file_offset(callee_info.file_offset_of(lookup))?;
                let target_vaddr = image.vaddr_of_file_offset(info.file_offset_of(target))?;
                // An unknown callee function: assume nothing is missing.
                let (callee_start, _, _) = symbols.containing(callee_vaddr)?;
                if callee_start == target_vaddr {
                    return None;
                }
            }
        }
        Some(RawFrame::User {
            mapping,
            address: target,
            is_return: false,
            pid,
        })
    }

    fn image(&mut self, info: &MappingInfo) -> Option<ImageSymbols> {
        if let Some(known) = self.symbols.get(&info.path) {
            return known.clone();
        }
        let loaded = self
            .elf_cache
            .get(&info.path, 0, info.start, info.end)
            .map(|image| {
                let table = Arc::new(SymbolTable::bounds_of(&image));
                (image, table)
            });
        self.symbols.insert(Arc::clone(&info.path), loaded.clone());
        loaded
    }
}

/// The runtime address called by the `call rel32` just before
/// `return_address`, when it is the start of a function in `.text` of the
/// same mapping.
fn direct_call_target(
    info: &MappingInfo,
    image: &ElfImage,
    symbols: &SymbolTable,
    return_address: u64,
) -> Option<u64> {
    let offset = usize::try_from(info.file_offset_of(return_address)).ok()?;
    let call = image
        .bytes()
        .get(offset.checked_sub(CALL_REL32_LEN)?..offset)?;
    let (&opcode, displacement) = call.split_first()?;
    if opcode != CALL_REL32 {
        return None;
    }
    let displacement = i32::from_le_bytes(displacement.try_into().ok()?);
    let target = return_address.checked_add_signed(i64::from(displacement))?;
    if !(info.start..info.end).contains(&target) {
        return None;
    }
    let vaddr = image.vaddr_of_file_offset(info.file_offset_of(target))?;
    let in_text = image
        .text
        .as_ref()
        .is_some_and(|text| text.svma.contains(&vaddr));
    (in_text && symbols.starts_at(vaddr)).then_some(target)
}

#[cfg(all(test, target_os = "linux", target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::analysis::mappings::MappingKind;
    use crate::analysis::proc_maps::read_process;

    /// Calls `callee` directly; the return address follows an `E8` call.
    #[inline(never)]
    fn direct_caller() -> u64 {
        std::hint::black_box(callee_marker(std::hint::black_box(3)))
    }

    #[inline(never)]
    fn callee_marker(x: u64) -> u64 {
        x.wrapping_mul(0x9e37_79b9)
    }

    #[test]
    fn finds_the_target_of_a_direct_call() {
        assert_eq!(direct_caller(), 3u64.wrapping_mul(0x9e37_79b9));
        let me = read_process(std::process::id()).unwrap();
        let exe = std::env::current_exe().unwrap();
        let exe = exe.to_string_lossy();
        let mut registry = MappingRegistry::default();
        let mut cache = ElfCache::default();
        let path = registry.path(&exe);
        let text = me
            .mappings
            .iter()
            .find(|m| m.path == *exe)
            .expect("our text mapping");
        let info = MappingInfo {
            start: text.start,
            end: text.start + text.len,
            file_offset: text.file_offset,
            path: Arc::clone(&path),
            build_id: None,
            kind: MappingKind::File,
        };
        let image = cache.get(&path, 0, info.start, info.end).unwrap();
        let symbols = SymbolTable::of(&image);
        let callee = callee_marker as *const () as usize as u64;
        // Scan the caller's code for a return address whose call targets the callee.
        let caller = direct_caller as *const () as usize as u64;
        let found = (caller + 5..caller + 64)
            .find(|&ra| direct_call_target(&info, &image, &symbols, ra) == Some(callee));
        assert!(found.is_some(), "no direct call to the callee found");
        assert_eq!(direct_call_target(&info, &image, &symbols, caller), None);
    }
}
