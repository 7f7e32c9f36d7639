//! String values: built into zero-padded stack slots (`str_into`) and
//! compared byte by byte with a bound known at compile time.

use super::{unsupported, Gen, R};
use crate::ast::{Builtin, Expr, ExprKind, Function};
use crate::diag::Diagnostic;
use crate::layout::slot_size;
use crate::span::Span;
use crate::types::{Type, COMM_SIZE};
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};

impl Gen<'_, '_> {
    /// Writes the string `e` into `size` bytes (a multiple of 8) at `off`,
    /// NUL padded (truncated to `size - 1` bytes plus NUL where it is longer).
    pub(super) fn str_into(&mut self, e: &Expr, off: i16, size: usize) -> R<()> {
        match &e.kind {
            ExprKind::Str(text) => {
                let mut bytes = text.as_bytes().to_vec();
                bytes.truncate(size - 1);
                bytes.resize(size, 0);
                for (i, chunk) in bytes.chunks(8).enumerate() {
                    let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
                    let at = off + 8 * i as i16;
                    if word == 0 {
                        self.asm.push(Insn::st(Size::DW, Reg::R10, at, 0));
                    } else {
                        self.asm.wide(Insn::ld_imm64(Reg::R1, word));
                        self.asm.push(Insn::stx(Size::DW, Reg::R10, at, Reg::R1));
                    }
                }
            }
            ExprKind::Builtin(Builtin::Comm) => {
                self.zero(off, size);
                self.stack_ptr(Reg::R1, off);
                self.asm
                    .push(Insn::mov64_imm(Reg::R2, size.min(COMM_SIZE) as i32));
                self.asm.push(Insn::call(Helper::GetCurrentComm));
            }
            ExprKind::TracepointArg { field } => {
                let field = self.field(field, e.span)?;
                self.zero(off, size);
                if field.data_loc {
                    self.asm
                        .push(Insn::ldx(Size::W, Reg::R3, Reg::R6, field.offset as i16));
                    self.asm.push(Insn::alu64_imm(AluOp::And, Reg::R3, 0xffff));
                    self.asm.push(Insn::alu64_reg(AluOp::Add, Reg::R3, Reg::R6));
                    self.read_str(off, size, Helper::ProbeReadKernelStr);
                } else if field.array_len.is_some() {
                    self.asm.push(Insn::mov64_reg(Reg::R3, Reg::R6));
                    self.asm
                        .push(Insn::alu64_imm(AluOp::Add, Reg::R3, field.offset as i32));
                    let len = size.min(field.size as usize);
                    self.read_str(off, len, Helper::ProbeReadKernelStr);
                } else {
                    return Err(Diagnostic::new(
                        e.span,
                        format!(
                            "args.{} is a pointer; read it with str(args.{})",
                            field.name, field.name
                        ),
                    ));
                }
            }
            ExprKind::Var(name) => {
                let (from, ty) = self.vars[name];
                self.copy_words(Reg::R10, from, off, size, slot_size(ty));
            }
            ExprKind::Map(access) => {
                let map = self.map(&access.name, access.span)?;
                let key = self.key(access, &map)?;
                self.zero(off, size);
                let absent = self.asm.label();
                self.lookup(&map, key);
                self.asm
                    .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), absent);
                self.copy_words(Reg::R0, 0, off, size, map.layout.value_size);
                self.asm.bind(absent);
            }
            ExprKind::Call {
                func: Function::Str,
                args,
                ..
            } => self.str_call(args, off, size, e.span)?,
            ExprKind::Ternary {
                cond,
                then_expr,
                else_expr,
            } => self.ternary(cond, then_expr, else_expr, |g, branch| {
                g.str_into(branch, off, size)
            })?,
            _ => return Err(unsupported(e.span, "this string expression")),
        }
        Ok(())
    }

    /// `helper(r10 + off, len, r3)`, the source pointer already in r3.
    fn read_str(&mut self, off: i16, len: usize, helper: Helper) {
        self.stack_ptr(Reg::R1, off);
        self.asm.push(Insn::mov64_imm(Reg::R2, len as i32));
        self.asm.push(Insn::call(helper));
    }

    /// Copies `min(size, from_size)` bytes in words from `base + from` to the
    /// stack at `to`, zeroing the rest of `size`.
    fn copy_words(&mut self, base: Reg, from: i16, to: i16, size: usize, from_size: usize) {
        for i in (0..size).step_by(8) {
            let at = to + i as i16;
            if i + 8 <= from_size {
                self.asm
                    .push(Insn::ldx(Size::DW, Reg::R1, base, from + i as i16));
                self.asm.push(Insn::stx(Size::DW, Reg::R10, at, Reg::R1));
            } else {
                self.asm.push(Insn::st(Size::DW, Reg::R10, at, 0));
            }
        }
        // A truncated copy still ends with a NUL.
        if from_size > size {
            self.asm
                .push(Insn::st(Size::B, Reg::R10, to + size as i16 - 1, 0));
        }
    }

    /// `str(ptr[, len])`, or `str()` of a string (a copy, maybe shorter).
    fn str_call(&mut self, args: &[Expr], off: i16, size: usize, span: Span) -> R<()> {
        let Some(src) = args.first() else {
            return Err(Diagnostic::new(span, "str() expects an argument"));
        };
        let len = match args.get(1).map(|a| &a.kind) {
            Some(ExprKind::Int(n)) if *n >= 1 => (*n as usize).min(size),
            Some(_) => {
                return Err(unsupported(
                    span,
                    "str() with a length that is not a positive literal",
                ))
            }
            None => size,
        };
        if src.ty.is_str() {
            return self.str_into(src, off, size);
        }
        self.int(src)?;
        self.zero(off, size);
        let done = self.asm.label();
        self.asm.push(Insn::mov64_reg(Reg::R3, Reg::R7));
        self.read_str(off, len, Helper::ProbeReadUserStr);
        // Not a user address: try it as a kernel one.
        self.asm
            .jump(Insn::jmp_imm(JmpOp::Sge, Reg::R0, 0, 0), done);
        self.asm.push(Insn::mov64_reg(Reg::R3, Reg::R7));
        self.read_str(off, len, Helper::ProbeReadKernelStr);
        self.asm.bind(done);
        Ok(())
    }

    /// r7 = 1 when the strings are equal (`eq`), else 0 (inverted for `!=`).
    pub(super) fn str_compare(&mut self, eq: bool, lhs: &Expr, rhs: &Expr, span: Span) -> R<()> {
        let (lhs, rhs) = match lhs.kind {
            ExprKind::Str(_) => (rhs, lhs),
            _ => (lhs, rhs),
        };
        let size_of = |t: Type| match t {
            Type::Str { size } => size,
            _ => 8,
        };
        let n = size_of(lhs.ty).min(size_of(rhs.ty));
        let mark = self.used;
        let left_size = slot_size(lhs.ty);
        let left = self.alloc(left_size, span)?;
        self.str_into(lhs, left, left_size)?;
        let differ = self.asm.label();
        let same = self.asm.label();
        let end = self.asm.label();
        if let ExprKind::Str(text) = &rhs.kind {
            let mut bytes = text.as_bytes().to_vec();
            bytes.push(0);
            for (i, &b) in bytes.iter().take(n).enumerate() {
                self.asm
                    .push(Insn::ldx(Size::B, Reg::R1, Reg::R10, left + i as i16));
                self.asm
                    .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R1, i32::from(b), 0), differ);
            }
        } else {
            let right_size = slot_size(rhs.ty);
            let right = self.alloc(right_size, span)?;
            self.str_into(rhs, right, right_size)?;
            for i in 0..n {
                self.asm
                    .push(Insn::ldx(Size::B, Reg::R1, Reg::R10, left + i as i16));
                self.asm
                    .push(Insn::ldx(Size::B, Reg::R2, Reg::R10, right + i as i16));
                self.asm
                    .jump(Insn::jmp_reg(JmpOp::Ne, Reg::R1, Reg::R2, 0), differ);
                self.asm.jump(Insn::jmp_imm(JmpOp::Eq, Reg::R1, 0, 0), same);
            }
        }
        self.used = mark;
        self.asm.bind(same);
        self.asm.push(Insn::mov64_imm(Reg::R7, i32::from(eq)));
        self.asm.jump(Insn::ja(0), end);
        self.asm.bind(differ);
        self.asm.push(Insn::mov64_imm(Reg::R7, i32::from(!eq)));
        self.asm.bind(end);
        Ok(())
    }
}
