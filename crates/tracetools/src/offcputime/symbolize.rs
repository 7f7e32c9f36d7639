//! Names for `offcputime`'s frames, with blazesym: kernel frames from
//! `/proc/kallsyms` (no vmlinux search), user frames from each process's
//! mappings and ELF symbol tables, one batch per process. Best effort: a
//! process that exited since (or any other failure) leaves its frames
//! unnamed, printed as `[unknown]`.

use super::entry::{Entry, Frame, Stack};
use blazesym::symbolize::source::{Kernel, Process, Source};
use blazesym::symbolize::{Input, Symbolized, Symbolizer};
use blazesym::{MaybeDefault, Pid};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A name and the offset into it, per address.
type Names = HashMap<u64, (String, u64)>;

/// Names the frames of `entries` in place.
pub fn fill(entries: &mut [Entry]) {
    let symbolizer = Symbolizer::builder()
        .enable_code_info(false)
        .enable_inlined_fns(false)
        .enable_demangling(true)
        .build();
    let kernel_addrs: BTreeSet<u64> = entries
        .iter()
        .flat_map(|e| e.kernel.frames().iter().map(|f| f.addr))
        .collect();
    let kernel = Source::Kernel(Kernel {
        kallsyms: MaybeDefault::Default,
        vmlinux: MaybeDefault::None,
        debug_syms: false,
        ..Kernel::default()
    });
    let kernel_names = names(&symbolizer, &kernel, &kernel_addrs);
    let mut user_addrs: BTreeMap<u32, BTreeSet<u64>> = BTreeMap::new();
    for e in entries.iter() {
        user_addrs
            .entry(e.tgid)
            .or_default()
            .extend(e.user.frames().iter().map(|f| f.addr));
    }
    let mut user_names: HashMap<u32, Names> = HashMap::new();
    for (tgid, addrs) in &user_addrs {
        // blazesym reads pid 0 as "this process"; the idle tasks have no
        // user stacks anyway.
        if *tgid == 0 || addrs.is_empty() {
            continue;
        }
        let mut process = Process::new(Pid::from(*tgid));
        process.debug_syms = false;
        user_names.insert(*tgid, names(&symbolizer, &Source::Process(process), addrs));
    }
    let none = Names::new();
    for e in entries.iter_mut() {
        name_stack(&mut e.kernel, &kernel_names);
        name_stack(&mut e.user, user_names.get(&e.tgid).unwrap_or(&none));
    }
}

/// Names of `addrs` in `source`; empty when it cannot be read at all.
fn names(symbolizer: &Symbolizer, source: &Source<'_>, addrs: &BTreeSet<u64>) -> Names {
    let addrs: Vec<u64> = addrs.iter().copied().collect();
    let Ok(results) = symbolizer.symbolize(source, Input::AbsAddr(&addrs)) else {
        return Names::new();
    };
    addrs
        .iter()
        .zip(results)
        .filter_map(|(&addr, r)| match r {
            Symbolized::Sym(sym) => Some((addr, (sym.name.into_owned(), sym.offset as u64))),
            Symbolized::Unknown(_) => None,
        })
        .collect()
}

fn name_stack(stack: &mut Stack, names: &Names) {
    if let Stack::Frames(frames) = stack {
        for f in frames.iter_mut() {
            name_frame(f, names);
        }
    }
}

fn name_frame(f: &mut Frame, names: &Names) {
    if let Some((name, offset)) = names.get(&f.addr) {
        f.name = Some(name.clone());
        f.offset = *offset;
    }
}
