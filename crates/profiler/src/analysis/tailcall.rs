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
use super::symscan::{functions_of, FoundFunction};
use rustc_hash::FxHashMap;
use std::path::Path;
use std::sync::Arc;

/// Opcode of `call rel32`.
const CALL_REL32: u8 = 0xe8;
/// Length of `call rel32`.
const CALL_REL32_LEN: usize = 5;

/// A direct call found before a return address.
#[derive(Debug, Clone)]
struct Call {
    /// The file the call is in.
    path: Arc<str>,
    /// The called runtime address and its stated address in the file.
    target: u64,
    target_vaddr: u64,
}

/// What the frame below a call must be for nothing to be missing.
#[derive(Debug, Clone, Copy)]
enum Callee {
    /// In another file (or not a user frame): the call's target is missing.
    Elsewhere,
    /// At this stated address of the same file: missing unless its function
    /// is the call's target.
    At(u64),
}

/// One place where a frame may be missing: between `stack[at - 1]` and `stack[at]`.
struct Gap {
    stack: usize,
    at: usize,
    caller: FrameId,
    call: Call,
    callee: Callee,
}

/// Inserts the frames of tail-calling functions into `stacks` (leaf first),
/// interning new frames in `table`. The function bounds come from one pass
/// over each file's symbol tables for all the addresses in question
/// (`symscan`), so nothing of those tables stays in memory.
pub(crate) fn recover_tail_calls(
    stacks: &mut [Vec<FrameId>],
    table: &mut StackTable,
    registry: &MappingRegistry,
    elf_cache: &mut ElfCache,
) {
    let mut finder = CallFinder {
        registry,
        elf_cache,
        images: FxHashMap::default(),
        calls: FxHashMap::default(),
    };
    let frames = table.frames();
    let mut gaps = Vec::new();
    let mut asked: FxHashMap<Arc<str>, Vec<u64>> = FxHashMap::default();
    for (s, stack) in stacks.iter().enumerate() {
        for (at, pair) in stack.windows(2).enumerate() {
            let [callee, caller] = *pair else { continue };
            let (Some(&caller_frame), Some(&callee_frame)) =
                (frames.get(caller as usize), frames.get(callee as usize))
            else {
                continue;
            };
            let Some(call) = finder.call(caller, caller_frame) else {
                continue;
            };
            let Some(callee) = finder.callee(&call.path, callee_frame) else {
                continue;
            };
            let vaddrs = asked.entry(Arc::clone(&call.path)).or_default();
            vaddrs.push(call.target_vaddr);
            if let Callee::At(vaddr) = callee {
                vaddrs.push(vaddr);
            }
            gaps.push(Gap {
                stack: s,
                at: at + 1,
                caller,
                call,
                callee,
            });
        }
    }
    let functions = finder.functions(asked);
    let start_of = |path: &Arc<str>, vaddr: u64| Some(functions.get(path)?.get(&vaddr)?.start);
    for gap in gaps.into_iter().rev() {
        let target_starts_a_function =
            start_of(&gap.call.path, gap.call.target_vaddr) == Some(gap.call.target_vaddr);
        let missing = target_starts_a_function
            && match gap.callee {
                Callee::Elsewhere => true,
                // An unknown callee function: assume nothing is missing.
                Callee::At(vaddr) => start_of(&gap.call.path, vaddr)
                    .is_some_and(|start| start != gap.call.target_vaddr),
            };
        if !missing {
            continue;
        }
        let Some(RawFrame::User { mapping, pid, .. }) =
            table.frames().get(gap.caller as usize).copied()
        else {
            continue;
        };
        let id = table.frame(RawFrame::User {
            mapping,
            address: gap.call.target,
            is_return: false,
            pid,
        });
        if let Some(stack) = stacks.get_mut(gap.stack) {
            stack.insert(gap.at, id);
        }
    }
}

/// The functions around the asked stated addresses, by file and address.
type Functions = FxHashMap<Arc<str>, FxHashMap<u64, FoundFunction>>;

/// Finds and caches direct-call targets of return addresses.
struct CallFinder<'r, 'c> {
    registry: &'r MappingRegistry,
    elf_cache: &'c mut ElfCache,
    images: FxHashMap<Arc<str>, Option<Arc<ElfImage>>>,
    /// Per caller frame: its direct call, if it is one.
    calls: FxHashMap<FrameId, Option<Call>>,
}

impl CallFinder<'_, '_> {
    /// The direct call before a return-address frame, when it targets a
    /// function start candidate in `.text` of the same mapping.
    fn call(&mut self, id: FrameId, caller: RawFrame) -> Option<Call> {
        if let Some(known) = self.calls.get(&id) {
            return known.clone();
        }
        let found = self.find_call(caller);
        self.calls.insert(id, found.clone());
        found
    }

    fn find_call(&mut self, caller: RawFrame) -> Option<Call> {
        let RawFrame::User {
            mapping,
            address,
            is_return: true,
            ..
        } = caller
        else {
            return None;
        };
        let info = self.registry.get(mapping)?.clone();
        if info.kind != MappingKind::File {
            return None;
        }
        let image = self.image(&info)?;
        let (target, target_vaddr) = direct_call_target(&info, &image, address)?;
        Some(Call {
            path: Arc::clone(&info.path),
            target,
            target_vaddr,
        })
    }

    /// What the frame below a call in `path` is; `None` when it cannot be told.
    fn callee(&mut self, path: &Arc<str>, callee: RawFrame) -> Option<Callee> {
        let RawFrame::User {
            mapping,
            address,
            is_return,
            ..
        } = callee
        else {
            return Some(Callee::Elsewhere);
        };
        let info = self.registry.get(mapping)?;
        if info.path != *path {
            return Some(Callee::Elsewhere);
        }
        let info = info.clone();
        let image = self.image(&info)?;
        let lookup = address.wrapping_sub(u64::from(is_return));
        image
            .vaddr_of_file_offset(info.file_offset_of(lookup))
            .map(Callee::At)
    }

    fn image(&mut self, info: &MappingInfo) -> Option<Arc<ElfImage>> {
        if let Some(known) = self.images.get(&info.path) {
            return known.clone();
        }
        let image = self.elf_cache.get(&info.path, 0, info.start, info.end);
        self.images.insert(Arc::clone(&info.path), image.clone());
        image
    }

    /// Looks up every asked address of each file in one pass over its
    /// symbol tables.
    fn functions(&self, asked: FxHashMap<Arc<str>, Vec<u64>>) -> Functions {
        asked
            .into_iter()
            .filter_map(|(path, vaddrs)| {
                let image = self.images.get(&path)?.as_ref()?;
                let found = functions_of(image, Path::new(&*path), vaddrs, false);
                Some((path, found))
            })
            .collect()
    }
}

/// The runtime address called by the `call rel32` just before
/// `return_address`, and its stated address, when it lies in `.text` of the
/// same mapping (whether a function starts there is asked separately).
fn direct_call_target(
    info: &MappingInfo,
    image: &ElfImage,
    return_address: u64,
) -> Option<(u64, u64)> {
    let offset = info
        .file_offset_of(return_address)
        .checked_sub(CALL_REL32_LEN as u64)?;
    let mut call = [0u8; CALL_REL32_LEN];
    if !image.read_at(offset, &mut call) {
        return None;
    }
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
    in_text.then_some((target, vaddr))
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
        let callee = callee_marker as *const () as usize as u64;
        // Scan the caller's code for a return address whose call targets the callee.
        let caller = direct_caller as *const () as usize as u64;
        let found = (caller + 5..caller + 64).find_map(|ra| {
            direct_call_target(&info, &image, ra).filter(|(target, _)| *target == callee)
        });
        let (_, vaddr) = found.expect("no direct call to the callee found");
        let function = functions_of(&image, Path::new(&*exe), [vaddr], false);
        assert_eq!(
            function.get(&vaddr).map(|f| f.start),
            Some(vaddr),
            "the callee starts there"
        );
    }
}
