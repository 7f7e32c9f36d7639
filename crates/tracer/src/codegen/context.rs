//! Values user space resolves after the fact: `kstack`/`ustack` (a stack id
//! from a STACK_TRACE map, with the pid for user stacks), `func` (the
//! instruction pointer and the pid) and `probe` (the index of the probe's
//! name, a constant of each program).

use super::{unsupported, Gen, R};
use crate::ast::{Builtin, Expr, ExprKind};
use crate::diag::Diagnostic;
use crate::span::Span;
use crate::types::{StackType, Type};
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};

/// `BPF_F_USER_STACK`: `bpf_get_stackid` walks the user stack.
const BPF_F_USER_STACK: i32 = 1 << 8;

/// `struct pt_regs` offset of the instruction pointer.
#[cfg(target_arch = "x86_64")]
const IP: i16 = 128;
#[cfg(target_arch = "aarch64")]
const IP: i16 = 256;

impl Gen<'_, '_> {
    /// r7 = the stack id of `stack` here (its low 32 bits; an error, such
    /// as no kernel stack in a uprobe, is a negative id), with the pid in the
    /// high 32 bits for a user stack.
    pub(super) fn stack(&mut self, stack: StackType, span: Span) -> R<()> {
        let Some(&fd) = self.shared.stack_maps.get(&stack.limit) else {
            return Err(Diagnostic::new(
                span,
                "no stack map was made for this stack (a whyslow bug)",
            ));
        };
        self.asm.push(Insn::mov64_reg(Reg::R1, Reg::R6));
        self.asm.wide(Insn::ld_map_fd(Reg::R2, fd));
        let flags = if stack.user { BPF_F_USER_STACK } else { 0 };
        self.asm.push(Insn::mov64_imm(Reg::R3, flags));
        self.asm.push(Insn::call(Helper::GetStackid));
        self.asm.push(Insn::mov32_reg(Reg::R7, Reg::R0));
        if stack.user {
            self.asm.push(Insn::call(Helper::GetCurrentPidTgid));
            self.asm.push(Insn::alu64_imm(AluOp::Rsh, Reg::R0, 32));
            self.asm.push(Insn::alu64_imm(AluOp::Lsh, Reg::R0, 32));
            self.asm.push(Insn::alu64_reg(AluOp::Or, Reg::R7, Reg::R0));
        }
        Ok(())
    }

    /// r7 = the stack of a `kstack`/`ustack` builtin or call.
    pub(super) fn stack_expr(&mut self, e: &Expr) -> R<()> {
        match e.ty {
            Type::Stack(stack) => self.stack(stack, e.span),
            _ => Err(Diagnostic::new(e.span, "expected a stack here")),
        }
    }

    /// r7 = this program's probe index.
    pub(super) fn probe_id(&mut self) {
        self.load_imm(Reg::R7, i64::from(self.probe_id));
    }

    /// Writes a `func` value (the address, then the pid) into 16 bytes at `off`.
    pub(super) fn sym_into(&mut self, e: &Expr, off: i16) -> R<()> {
        match &e.kind {
            ExprKind::Builtin(Builtin::Func) => {
                self.asm.push(Insn::ldx(Size::DW, Reg::R1, Reg::R6, IP));
                self.asm.push(Insn::stx(Size::DW, Reg::R10, off, Reg::R1));
                self.asm.push(Insn::call(Helper::GetCurrentPidTgid));
                self.asm.push(Insn::alu64_imm(AluOp::Rsh, Reg::R0, 32));
                self.asm
                    .push(Insn::stx(Size::DW, Reg::R10, off + 8, Reg::R0));
            }
            ExprKind::Var(name) => {
                let (from, _) = self.vars[name];
                for i in [0, 8] {
                    self.asm
                        .push(Insn::ldx(Size::DW, Reg::R1, Reg::R10, from + i));
                    self.asm
                        .push(Insn::stx(Size::DW, Reg::R10, off + i, Reg::R1));
                }
            }
            ExprKind::Map(access) => {
                let map = self.map(&access.name, access.span)?;
                let key = self.key(access, &map)?;
                self.zero(off, 16);
                let absent = self.asm.label();
                self.lookup(&map, key);
                self.asm
                    .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), absent);
                for i in [0, 8] {
                    self.asm.push(Insn::ldx(Size::DW, Reg::R1, Reg::R0, i));
                    self.asm
                        .push(Insn::stx(Size::DW, Reg::R10, off + i, Reg::R1));
                }
                self.asm.bind(absent);
            }
            ExprKind::Ternary {
                cond,
                then_expr,
                else_expr,
            } => self.ternary(cond, then_expr, else_expr, |g, branch| {
                g.sym_into(branch, off)
            })?,
            _ => return Err(unsupported(e.span, "this func expression")),
        }
        Ok(())
    }
}
