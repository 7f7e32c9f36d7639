//! User symbols for `ustack` frames and `func`, with blazesym, from the
//! process's own mappings (`Source::Process`): a process that has exited
//! by the time its addresses are printed has none, and its frames print as
//! `0x…`, as bpftrace 0.17 prints them.
//!
//! Names as bcc (behind bpftrace) picks them: the ELF symbol tables first
//! (an exported name such as `clock_nanosleep`, not the DWARF name
//! `__GI___clock_nanosleep` of the same code), then, for addresses they do
//! not cover, debug information (separate debug files included: libc's
//! local `__libc_start_call_main`). Results are kept per pid and address.

use blazesym::symbolize::source::{Process, Source};
use blazesym::symbolize::{Input, Symbolized, Symbolizer};
use blazesym::Pid;
use std::collections::HashMap;

/// One resolved user address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSymbol {
    /// The function, demangled.
    pub name: String,
    /// Bytes from its start.
    pub offset: u64,
    /// The file it is in, as the process maps it.
    pub module: String,
}

/// blazesym and what it answered so far.
#[derive(Default)]
pub struct UserSymbols {
    symbolizer: Option<Symbolizer>,
    known: HashMap<(u32, u64), Option<UserSymbol>>,
}

impl UserSymbols {
    /// The symbols of `addresses` in process `pid` (None where unknown).
    pub fn resolve(&mut self, pid: u32, addresses: &[u64]) -> Vec<Option<UserSymbol>> {
        let mut missing: Vec<u64> = addresses
            .iter()
            .copied()
            .filter(|a| !self.known.contains_key(&(pid, *a)))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let symbolizer = self.symbolizer.get_or_insert_with(|| {
                Symbolizer::builder()
                    .enable_demangling(true)
                    .enable_code_info(false)
                    .enable_inlined_fns(false)
                    .enable_auto_reload(false)
                    .build()
            });
            let mut found = lookup(symbolizer, pid, &missing, false);
            let unknown: Vec<u64> = missing
                .iter()
                .zip(&found)
                .filter(|(_, s)| s.is_none())
                .map(|(a, _)| *a)
                .collect();
            if !unknown.is_empty() {
                let debug = lookup(symbolizer, pid, &unknown, true);
                let mut debug = unknown.iter().zip(debug).collect::<HashMap<_, _>>();
                for (address, slot) in missing.iter().zip(found.iter_mut()) {
                    if slot.is_none() {
                        *slot = debug.remove(address).flatten();
                    }
                }
            }
            for (address, symbol) in missing.into_iter().zip(found) {
                self.known.insert((pid, address), symbol);
            }
        }
        addresses
            .iter()
            .map(|a| self.known.get(&(pid, *a)).cloned().flatten())
            .collect()
    }
}

/// One blazesym call: ELF symbols only, or with debug information.
fn lookup(
    symbolizer: &Symbolizer,
    pid: u32,
    addresses: &[u64],
    debug_syms: bool,
) -> Vec<Option<UserSymbol>> {
    let mut process = Process::new(Pid::from(pid));
    process.debug_syms = debug_syms;
    process.perf_map = false;
    // The process may be gone: then nothing is known, as in bpftrace.
    let Ok(results) = symbolizer.symbolize(&Source::Process(process), Input::AbsAddr(addresses))
    else {
        return vec![None; addresses.len()];
    };
    let mut out: Vec<Option<UserSymbol>> = results
        .into_iter()
        .map(|r| match r {
            Symbolized::Sym(sym) if !sym.name.is_empty() => Some(UserSymbol {
                name: sym.name.into_owned(),
                offset: sym.offset as u64,
                module: sym
                    .module
                    .map(|m| m.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            }),
            _ => None,
        })
        .collect();
    out.resize(addresses.len(), None);
    out
}
