//! User-stack unwinding with framehop: one unwinder and rule cache per process,
//! fed the process's executable mappings (their `.eh_frame`/`.eh_frame_hdr`/
//! `.debug_frame` read from the cached ELF files), run over the registers and
//! the stack bytes the kernel copied at the sample.
//!
//! Frames without unwind info fall back to frame pointers inside framehop; the
//! choice between this unwind and the kernel's own frame-pointer walk is
//! [`choose_user_stack`]. Naming frames is not done here.

use super::elf::{ElfCache, ElfImage, SectionBytes};
use super::mappings::{MappingIndex, MappingKind, MappingRegistry};
use super::process::Process;
use crate::event::UserRegs;
use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use framehop::{ExplicitModuleSectionInfo, Module, Unwinder};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Frames kept per user stack at most (deeper stacks are cut at the root side).
pub(crate) const MAX_USER_FRAMES: usize = 1024;

/// A framehop unwinder for one process, with the modules it currently knows.
pub(crate) struct ProcessUnwinder {
    unwinder: UnwinderX86_64<SectionBytes>,
    cache: CacheX86_64,
    /// [`Process::generation`] the modules were last synced with (0 = never).
    generation: u64,
    /// Modules added, by mapping start.
    modules: FxHashMap<u64, MappingIndex>,
}

impl std::fmt::Debug for ProcessUnwinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessUnwinder")
            .field("modules", &self.modules.len())
            .finish_non_exhaustive()
    }
}

impl Default for ProcessUnwinder {
    fn default() -> Self {
        Self {
            unwinder: UnwinderX86_64::new(),
            cache: CacheX86_64::new(),
            generation: 0,
            modules: FxHashMap::default(),
        }
    }
}

/// Where [`ProcessUnwinder::sync`] finds unwind data.
pub(crate) struct UnwindSources<'a> {
    /// Every mapping of the recording.
    pub registry: &'a MappingRegistry,
    /// Parsed ELF files by path.
    pub elf_cache: &'a mut ElfCache,
    /// Our own vDSO image (the same kernel maps the same vDSO into every process).
    pub vdso: Option<&'a Arc<ElfImage>>,
}

impl ProcessUnwinder {
    /// Brings the unwinder's modules in line with `process`'s mappings (cheap
    /// when nothing changed since the last call).
    pub fn sync(&mut self, pid: u32, process: &Process, sources: &mut UnwindSources<'_>) {
        if self.generation == process.generation {
            return;
        }
        self.generation = process.generation;
        let wanted: FxHashMap<u64, MappingIndex> = process
            .mappings
            .iter()
            .map(|&(start, _, index)| (start, index))
            .collect();
        let stale: Vec<u64> = self
            .modules
            .iter()
            .filter(|(start, index)| wanted.get(start) != Some(index))
            .map(|(&start, _)| start)
            .collect();
        for start in stale {
            self.unwinder.remove_module(start);
            self.modules.remove(&start);
        }
        for (&start, &index) in &wanted {
            if self.modules.contains_key(&start) {
                continue;
            }
            let Some(info) = sources.registry.get(index) else {
                continue;
            };
            let image = match info.kind {
                MappingKind::File => sources.elf_cache.get(&info.path, pid, info.start, info.end),
                MappingKind::Vdso => sources.vdso.cloned(),
                MappingKind::Anonymous | MappingKind::Special => None,
            };
            // Without an image the module is left out: framehop then walks
            // frame pointers through it, like it does for JIT code.
            let Some(image) = image else {
                continue;
            };
            let module = module_for(&image, &info.path, info.start, info.end, info.file_offset);
            self.unwinder.add_module(module);
            self.modules.insert(start, index);
        }
    }

    /// Unwinds from `regs` over `stack` (bytes from `regs.sp` upwards) into
    /// `out`, leaf first: the instruction pointer, then return addresses.
    /// Returns whether framehop found the root of the stack (rather than
    /// stopping at an error or the end of the copied bytes).
    pub fn unwind(&mut self, regs: UserRegs, stack: &[u8], out: &mut Vec<u64>) -> bool {
        out.clear();
        let sp = regs.sp;
        let mut read_stack = |address: u64| -> Result<u64, ()> {
            let offset = usize::try_from(address.checked_sub(sp).ok_or(())?).map_err(|_| ())?;
            let bytes = stack
                .get(offset..offset.checked_add(8).ok_or(())?)
                .ok_or(())?;
            let word: [u8; 8] = bytes.try_into().map_err(|_| ())?;
            Ok(u64::from_le_bytes(word))
        };
        let mut frames = self.unwinder.iter_frames(
            regs.ip,
            UnwindRegsX86_64::new(regs.ip, regs.sp, regs.bp),
            &mut self.cache,
            &mut read_stack,
        );
        loop {
            match frames.next() {
                Ok(Some(frame)) => {
                    out.push(frame.address());
                    if out.len() >= MAX_USER_FRAMES {
                        return false;
                    }
                }
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }
}

/// A framehop module for one executable mapping of `image`.
fn module_for(
    image: &Arc<ElfImage>,
    path: &str,
    start: u64,
    end: u64,
    file_offset: u64,
) -> Module<SectionBytes> {
    let svma = |s: &Option<super::elf::SectionRange>| s.as_ref().map(|s| s.svma.clone());
    let info = ExplicitModuleSectionInfo {
        base_svma: 0,
        text_svma: svma(&image.text),
        text: None,
        got_svma: svma(&image.got),
        eh_frame_svma: svma(&image.eh_frame),
        eh_frame: image.section_bytes(&image.eh_frame),
        eh_frame_hdr_svma: svma(&image.eh_frame_hdr),
        eh_frame_hdr: image.section_bytes(&image.eh_frame_hdr),
        debug_frame: image.section_bytes(&image.debug_frame),
        stubs_svma: None,
        stub_helper_svma: None,
        unwind_info: None,
        text_segment_svma: None,
        text_segment: None,
    };
    Module::new(
        path.to_string(),
        start..end,
        image.base_avma(start, file_offset, end - start),
        info,
    )
}

/// Picks the user stack of a sample, leaf first: framehop's unwind, unless it
/// got at most one frame or stopped early while the kernel's frame-pointer walk
/// (`user_ips`) agrees with it and goes further.
pub(crate) fn choose_user_stack<'a>(
    unwound: &'a [u64],
    unwound_to_root: bool,
    user_ips: &'a [u64],
) -> &'a [u64] {
    if user_ips.len() <= unwound.len() {
        return unwound;
    }
    if unwound.len() <= 1 {
        return user_ips;
    }
    if !unwound_to_root && user_ips.starts_with(unwound) {
        return user_ips;
    }
    unwound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_between_unwinds() {
        let dwarf = [1, 2, 3];
        let fp_agree = [1, 2, 3, 4, 5];
        let fp_garbage = [1, 9, 9, 9, 9];
        assert_eq!(choose_user_stack(&dwarf, true, &fp_agree), &dwarf);
        assert_eq!(choose_user_stack(&dwarf, false, &fp_agree), &fp_agree);
        assert_eq!(choose_user_stack(&dwarf, false, &fp_garbage), &dwarf);
        assert_eq!(choose_user_stack(&[1], true, &fp_garbage), &fp_garbage);
        assert_eq!(choose_user_stack(&[], false, &[7]), &[7]);
        assert_eq!(choose_user_stack(&dwarf, false, &[1]), &dwarf);
    }

    #[test]
    fn empty_process_unwinds_only_the_leaf() {
        let mut u = ProcessUnwinder::default();
        let mut out = Vec::new();
        let regs = UserRegs {
            ip: 0x1234,
            sp: 0x1000,
            bp: 0,
        };
        u.unwind(regs, &[], &mut out);
        assert_eq!(out.first(), Some(&0x1234));
    }
}
