//! Turns what programs stored for `kstack`/`ustack`, `func` and `probe`
//! into text when it is printed: stack ids are looked up in their
//! STACK_TRACE map and each frame named (kernel ones from `/proc/kallsyms`,
//! user ones with blazesym in the process they came from), addresses named
//! as a function, probe indexes replaced by the probe's full name.
//! Symbol tables are read on first use only.

mod ksyms;
mod usyms;

use crate::format::{Key, Stack};
use crate::types::{StackType, Type};
use bpf::map::Map;
use ksyms::KernelSymbols;
use std::collections::BTreeMap;
use usyms::UserSymbols;

/// What a run needs to name its stacks, symbols and probes.
pub struct Resolver<'m> {
    /// STACK_TRACE maps by frame limit.
    stack_maps: &'m BTreeMap<u16, Map>,
    /// Full probe names, by the index programs store.
    probes: &'m [String],
    kernel: Option<KernelSymbols>,
    user: UserSymbols,
}

fn word(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

impl<'m> Resolver<'m> {
    /// A resolver over the run's stack maps and probe names.
    pub fn new(stack_maps: &'m BTreeMap<u16, Map>, probes: &'m [String]) -> Self {
        Self {
            stack_maps,
            probes,
            kernel: None,
            user: UserSymbols::default(),
        }
    }

    /// The probe name of index `id` (empty if unknown).
    pub fn probe(&self, id: u64) -> String {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.probes.get(i))
            .cloned()
            .unwrap_or_default()
    }

    /// `func`: the function at `address` in process `pid`, or `0x…`.
    pub fn func(&mut self, address: u64, pid: u64) -> String {
        let pid = u32::try_from(pid).unwrap_or(0);
        match self.user.resolve(pid, &[address]).pop().flatten() {
            Some(symbol) => symbol.name,
            None => format!("0x{address:x}"),
        }
    }

    /// The stack stored as `raw` (`id | pid << 32`); no frames when the
    /// program could not take it (a negative id) or it is gone from the map.
    pub fn stack(&mut self, stack: StackType, raw: u64) -> Stack {
        let id = raw as u32;
        let addresses = if (id as i32) < 0 {
            Vec::new()
        } else {
            self.stack_maps
                .get(&stack.limit)
                .and_then(|map| map.lookup(&id.to_le_bytes()).ok().flatten())
                .map(|bytes| {
                    (0..bytes.len() / 8)
                        .map(|i| word(&bytes, 8 * i))
                        .take_while(|&a| a != 0)
                        .collect()
                })
                .unwrap_or_default()
        };
        let frames = if stack.user {
            self.user_frames(&addresses, raw >> 32, stack.perf)
        } else {
            let kernel = self.kernel.get_or_insert_with(KernelSymbols::load);
            addresses
                .iter()
                .map(|&a| {
                    let name = kernel.frame(a);
                    if stack.perf {
                        format!("\t{a:x} {name}")
                    } else {
                        name
                    }
                })
                .collect()
        };
        Stack {
            frames,
            perf: stack.perf,
        }
    }

    fn user_frames(&mut self, addresses: &[u64], pid: u64, perf: bool) -> Vec<String> {
        let pid = u32::try_from(pid).unwrap_or(0);
        let symbols = self.user.resolve(pid, addresses);
        addresses
            .iter()
            .zip(symbols)
            .map(|(a, symbol)| match (symbol, perf) {
                (Some(s), false) => format!("{}+{}", s.name, s.offset),
                (Some(s), true) => format!("\t{a:x} {}+{} ({})", s.name, s.offset, s.module),
                (None, false) => format!("0x{a:x}"),
                (None, true) => format!("\t{a:x} 0x{a:x} ([unknown])"),
            })
            .collect()
    }

    /// One key component of type `ty` from its stored bytes.
    pub fn key(&mut self, ty: Type, bytes: &[u8]) -> Key {
        match ty {
            Type::Str { .. } => Key::Str(super::maps::c_string(bytes)),
            Type::Stack(stack) => Key::Stack(self.stack(stack, word(bytes, 0))),
            Type::Sym => Key::Sym(self.func(word(bytes, 0), word(bytes, 8))),
            Type::Probe => Key::Probe(self.probe(word(bytes, 0))),
            _ => Key::Int(word(bytes, 0) as i64),
        }
    }

    /// A value of type `ty` as `printf("%s")` prints it.
    pub fn text(&mut self, ty: Type, bytes: &[u8]) -> String {
        match self.key(ty, bytes) {
            Key::Int(v) => v.to_string(),
            Key::Str(s) | Key::Sym(s) | Key::Probe(s) => s,
            Key::Stack(stack) => crate::format::stack_value_text(&stack),
        }
    }
}
