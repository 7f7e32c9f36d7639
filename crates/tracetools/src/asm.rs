//! A small assembler over `bpf::insn`: instructions appended in order, jumps
//! to named labels resolved at [`Asm::finish`], and the sequences every tool
//! shares (stack pointers, map lookups, the current pid/tgid, log2 buckets,
//! zeroing stack). No register allocation: each tool says which registers
//! hold what, with r6-r9 surviving helper calls.

use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};
use bpf::map::Map;
use std::collections::HashMap;

/// An instruction list under construction.
#[derive(Debug, Default)]
pub struct Asm {
    insns: Vec<Insn>,
    labels: HashMap<String, usize>,
    fixups: Vec<(usize, String)>,
    fresh: usize,
}

impl Asm {
    /// An empty program.
    pub fn new() -> Asm {
        Asm::default()
    }

    /// Appends one instruction.
    pub fn i(&mut self, insn: Insn) -> &mut Asm {
        self.insns.push(insn);
        self
    }

    /// Appends a 16-byte instruction.
    pub fn wide(&mut self, pair: [Insn; 2]) -> &mut Asm {
        self.insns.extend(pair);
        self
    }

    /// A jump built with offset 0, pointed at `label` by [`Asm::finish`].
    pub fn jump(&mut self, insn: Insn, label: &str) -> &mut Asm {
        self.fixups.push((self.insns.len(), label.to_string()));
        self.i(insn)
    }

    /// Places `label` at the next instruction.
    pub fn label(&mut self, label: &str) -> &mut Asm {
        self.labels.insert(label.to_string(), self.insns.len());
        self
    }

    /// A label name no other call returns.
    pub fn fresh(&mut self, stem: &str) -> String {
        self.fresh += 1;
        format!("{stem}.{}", self.fresh)
    }

    /// The instructions with every jump resolved. Panics only on a label
    /// used but never placed, a bug in a tool's builder that the tests catch.
    pub fn finish(&mut self) -> Vec<Insn> {
        for (at, label) in &self.fixups {
            let target = *self
                .labels
                .get(label)
                .unwrap_or_else(|| panic!("BPF builder bug: label `{label}` never placed"));
            let off = target as i64 - *at as i64 - 1;
            self.insns[*at].off = i16::try_from(off).expect("BPF builder bug: jump too far");
        }
        std::mem::take(&mut self.insns)
    }

    /// `dst = r10 + off` (a pointer into the stack).
    pub fn stack_ptr(&mut self, dst: Reg, off: i16) -> &mut Asm {
        self.i(Insn::mov64_reg(dst, Reg::R10))
            .i(Insn::alu64_imm(AluOp::Add, dst, i32::from(off)))
    }

    /// Zeroes `len` bytes (a multiple of 8) of stack from `r10 + off`.
    pub fn zero_stack(&mut self, off: i16, len: i16) -> &mut Asm {
        let mut at = off;
        while at < off + len {
            self.i(Insn::st(Size::DW, Reg::R10, at, 0));
            at += 8;
        }
        self
    }

    /// `r0 = lookup(map, r10 + key_off)`; clobbers r1-r5.
    pub fn lookup(&mut self, map: &Map, key_off: i16) -> &mut Asm {
        self.wide(Insn::ld_map_fd(Reg::R1, map.fd()))
            .stack_ptr(Reg::R2, key_off)
            .i(Insn::call(Helper::MapLookupElem))
    }

    /// `update(map, r10 + key_off, r10 + value_off, flags)`; clobbers r0-r5.
    pub fn update(&mut self, map: &Map, key_off: i16, value_off: i16, flags: i32) -> &mut Asm {
        self.wide(Insn::ld_map_fd(Reg::R1, map.fd()))
            .stack_ptr(Reg::R2, key_off)
            .stack_ptr(Reg::R3, value_off)
            .i(Insn::mov64_imm(Reg::R4, flags))
            .i(Insn::call(Helper::MapUpdateElem))
    }

    /// `delete(map, r10 + key_off)`; clobbers r0-r5.
    pub fn delete(&mut self, map: &Map, key_off: i16) -> &mut Asm {
        self.wide(Insn::ld_map_fd(Reg::R1, map.fd()))
            .stack_ptr(Reg::R2, key_off)
            .i(Insn::call(Helper::MapDeleteElem))
    }

    /// `r0 = lookup(map, key)`, creating the entry from the `value_len`
    /// zeroed stack bytes at `scratch_off` when absent (`BPF_NOEXIST`, so a
    /// racing creator wins and we use its entry). Jumps to `missing` when
    /// there is still none (map full). Clobbers r1-r5.
    pub fn lookup_or_init(
        &mut self,
        map: &Map,
        key_off: i16,
        scratch_off: i16,
        value_len: i16,
        missing: &str,
    ) -> &mut Asm {
        let found = self.fresh("found");
        self.lookup(map, key_off)
            .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R0, 0, 0), &found)
            .zero_stack(scratch_off, value_len)
            .update(map, key_off, scratch_off, 1)
            .lookup(map, key_off)
            .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), missing)
            .label(&found)
    }

    /// `dst = current tgid` (upper half of `get_current_pid_tgid`); r0-r5
    /// clobbered.
    pub fn current_tgid(&mut self, dst: Reg) -> &mut Asm {
        self.i(Insn::call(Helper::GetCurrentPidTgid))
            .i(Insn::alu64_imm(AluOp::Rsh, Reg::R0, 32))
            .i(Insn::mov64_reg(dst, Reg::R0))
    }

    /// `dst = floor(log2(dst))` for a 64-bit value (0 for 0 and 1), using
    /// `tmp`: the bucket index of libbpf-tools' `log2l`. Six halving steps,
    /// forward jumps only.
    pub fn log2(&mut self, dst: Reg, tmp: Reg, acc: Reg) -> &mut Asm {
        let skip = self.fresh("log2.hi");
        self.i(Insn::mov64_imm(acc, 0))
            .i(Insn::mov64_reg(tmp, dst))
            .i(Insn::alu64_imm(AluOp::Rsh, tmp, 32))
            .jump(Insn::jmp_imm(JmpOp::Eq, tmp, 0, 0), &skip)
            .i(Insn::mov64_reg(dst, tmp))
            .i(Insn::mov64_imm(acc, 32))
            .label(&skip);
        for shift in [16, 8, 4, 2, 1] {
            self.i(Insn::jmp_imm(JmpOp::Lt, dst, 1 << shift, 2))
                .i(Insn::alu64_imm(AluOp::Rsh, dst, shift))
                .i(Insn::alu64_imm(AluOp::Add, acc, shift));
        }
        self.i(Insn::mov64_reg(dst, acc))
    }

    /// Copies `len` bytes of the tracepoint record at `ctx + from` to
    /// `dst + to` (a stack or map pointer) through `tmp`, each piece as wide
    /// as both offsets' alignment allows: the verifier refuses context and
    /// stack accesses not aligned to their size.
    pub fn copy_ctx(
        &mut self,
        ctx: Reg,
        from: i16,
        dst: Reg,
        to: i16,
        len: i16,
        tmp: Reg,
    ) -> &mut Asm {
        let mut done = 0;
        while done < len {
            let (src_at, dst_at) = (from + done, to + done);
            let size = [Size::DW, Size::W, Size::H]
                .into_iter()
                .find(|s| {
                    let b = s.bytes() as i16;
                    src_at % b == 0 && dst_at % b == 0 && len - done >= b
                })
                .unwrap_or(Size::B);
            self.i(Insn::ldx(size, tmp, ctx, src_at))
                .i(Insn::stx(size, dst, dst_at, tmp));
            done += size.bytes() as i16;
        }
        self
    }

    /// `dst = min(dst, max)` (unsigned), so the verifier sees the bound.
    pub fn clamp(&mut self, dst: Reg, max: i32) -> &mut Asm {
        self.i(Insn::jmp_imm(JmpOp::Le, dst, max, 1))
            .i(Insn::mov64_imm(dst, max))
    }

    /// Adds one, atomically, to the `u64` slot `index` of the array at
    /// `base` (a histogram's bucket); clobbers `index` and `tmp`.
    pub fn count_slot(&mut self, base: Reg, index: Reg, tmp: Reg) -> &mut Asm {
        self.i(Insn::alu64_imm(AluOp::Lsh, index, 3))
            .i(Insn::alu64_reg(AluOp::Add, base, index))
            .i(Insn::mov64_imm(tmp, 1))
            .i(Insn::atomic_add(Size::DW, base, 0, tmp))
    }

    /// `r0 = 0; exit` under `label`.
    pub fn exit_label(&mut self, label: &str) -> &mut Asm {
        self.label(label)
            .i(Insn::mov64_imm(Reg::R0, 0))
            .i(Insn::exit())
    }
}

/// Host-side model of [`Asm::log2`], for tests and user-space bucketing.
pub fn log2_bucket(v: u64) -> u32 {
    if v <= 1 {
        0
    } else {
        63 - v.leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_resolve_forward() {
        let mut asm = Asm::new();
        asm.jump(Insn::ja(0), "end")
            .i(Insn::mov64_imm(Reg::R0, 1))
            .exit_label("end");
        let insns = asm.finish();
        assert_eq!(insns[0].off, 1);
        assert_eq!(insns.len(), 4);
    }

    #[test]
    fn copies_in_aligned_pieces() {
        let mut asm = Asm::new();
        asm.copy_ctx(Reg::R6, 36, Reg::R10, -44, 14, Reg::R1);
        // 36 is only 4-aligned, then 40 takes 8 bytes, then 2 are left.
        let expected = [(Size::W, 36, -44), (Size::DW, 40, -40), (Size::H, 48, -32)];
        let expected: Vec<Insn> = expected
            .iter()
            .flat_map(|&(size, from, to)| {
                [
                    Insn::ldx(size, Reg::R1, Reg::R6, from),
                    Insn::stx(size, Reg::R10, to, Reg::R1),
                ]
            })
            .collect();
        assert_eq!(asm.finish(), expected);
    }

    #[test]
    fn buckets() {
        assert_eq!(log2_bucket(0), 0);
        assert_eq!(log2_bucket(1), 0);
        assert_eq!(log2_bucket(2), 1);
        assert_eq!(log2_bucket(3), 1);
        assert_eq!(log2_bucket(1 << 40), 40);
        assert_eq!(log2_bucket(u64::MAX), 63);
    }
}
