//! Integer expressions: each leaves its value in r7 (operands spilled to
//! the stack while the other side is evaluated), comparisons give 0/1,
//! `&&`/`||` short-circuit.

use super::{unsupported, Gen, R};
use crate::ast::{BinOp, Builtin, Expr, ExprKind, Function, Provider, UnaryOp};
use crate::diag::Diagnostic;
use crate::span::Span;
use crate::types::StackType;
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};

/// `struct pt_regs` offsets of the argument registers and the return value.
#[cfg(target_arch = "x86_64")]
mod regs {
    /// di, si, dx, cx, r8, r9.
    pub const ARGS: [i16; 6] = [112, 104, 96, 88, 72, 64];
    /// ax.
    pub const RET: i16 = 80;
}
#[cfg(target_arch = "aarch64")]
mod regs {
    /// x0..x5.
    pub const ARGS: [i16; 6] = [0, 8, 16, 24, 32, 40];
    /// x0.
    pub const RET: i16 = 0;
}

impl Gen<'_, '_> {
    /// `cond ? then_expr : else_expr`: the condition into r7, then the
    /// branch it picks emitted by `branch` (an integer into r7, a string or
    /// a symbol onto the stack).
    pub(super) fn ternary(
        &mut self,
        cond: &Expr,
        then_expr: &Expr,
        else_expr: &Expr,
        mut branch: impl FnMut(&mut Self, &Expr) -> R<()>,
    ) -> R<()> {
        let otherwise = self.asm.label();
        let end = self.asm.label();
        self.int(cond)?;
        self.asm
            .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R7, 0, 0), otherwise);
        branch(self, then_expr)?;
        self.asm.jump(Insn::ja(0), end);
        self.asm.bind(otherwise);
        branch(self, else_expr)?;
        self.asm.bind(end);
        Ok(())
    }

    /// Evaluates an integer expression into r7.
    pub(super) fn int(&mut self, e: &Expr) -> R<()> {
        match &e.kind {
            ExprKind::Int(v) => self.load_imm(Reg::R7, *v),
            ExprKind::Builtin(b) => self.builtin(*b, e.span)?,
            ExprKind::TracepointArg { field } => self.tracepoint_int(field, e.span)?,
            ExprKind::Var(name) => {
                let (off, _) = self.vars[name];
                self.asm.push(Insn::ldx(Size::DW, Reg::R7, Reg::R10, off));
            }
            ExprKind::Map(access) => {
                let map = self.map(&access.name, access.span)?;
                let key = self.key(access, &map)?;
                self.read_int_value(&map, key);
            }
            ExprKind::Unary { op, operand } => {
                self.int(operand)?;
                match op {
                    UnaryOp::Neg => self.asm.push(Insn::neg64(Reg::R7)),
                    UnaryOp::BitNot => self.asm.push(Insn::alu64_imm(AluOp::Xor, Reg::R7, -1)),
                    UnaryOp::Not => {
                        self.asm.push(Insn::mov64_imm(Reg::R8, 0));
                        self.truth(JmpOp::Eq, Reg::R8);
                    }
                }
            }
            ExprKind::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs, e.span)?,
            ExprKind::Ternary {
                cond,
                then_expr,
                else_expr,
            } => self.ternary(cond, then_expr, else_expr, |g, branch| g.int(branch))?,
            ExprKind::Call {
                func: Function::Kstack | Function::Ustack,
                ..
            } => self.stack_expr(e)?,
            ExprKind::Call { func, .. } => {
                return Err(unsupported(
                    e.span,
                    &format!("{}() as an integer value", func.name()),
                ))
            }
            ExprKind::Str(_) | ExprKind::Ident(_) => {
                return Err(Diagnostic::new(e.span, "expected an integer here"))
            }
        }
        Ok(())
    }

    /// r7 = (r7 OP other) ? 1 : 0.
    fn truth(&mut self, op: JmpOp, other: Reg) {
        let yes = self.asm.label();
        let end = self.asm.label();
        self.asm.jump(Insn::jmp_reg(op, Reg::R7, other, 0), yes);
        self.asm.push(Insn::mov64_imm(Reg::R7, 0));
        self.asm.jump(Insn::ja(0), end);
        self.asm.bind(yes);
        self.asm.push(Insn::mov64_imm(Reg::R7, 1));
        self.asm.bind(end);
    }

    fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, span: Span) -> R<()> {
        if matches!(op, BinOp::And | BinOp::Or) {
            let short = self.asm.label();
            let end = self.asm.label();
            // && stops at the first 0, || at the first non-zero.
            let stop = if op == BinOp::And {
                JmpOp::Eq
            } else {
                JmpOp::Ne
            };
            self.int(lhs)?;
            self.asm.jump(Insn::jmp_imm(stop, Reg::R7, 0, 0), short);
            self.int(rhs)?;
            self.asm.jump(Insn::jmp_imm(stop, Reg::R7, 0, 0), short);
            self.asm
                .push(Insn::mov64_imm(Reg::R7, i32::from(op == BinOp::And)));
            self.asm.jump(Insn::ja(0), end);
            self.asm.bind(short);
            self.asm
                .push(Insn::mov64_imm(Reg::R7, i32::from(op == BinOp::Or)));
            self.asm.bind(end);
            return Ok(());
        }
        if lhs.ty.is_str() || rhs.ty.is_str() {
            return match op {
                BinOp::Eq | BinOp::Ne => self.str_compare(op == BinOp::Eq, lhs, rhs, span),
                _ => Err(unsupported(span, &format!("'{}' on strings", op.symbol()))),
            };
        }
        let signed = matches!(lhs.ty, crate::types::Type::Int { signed: true })
            && matches!(rhs.ty, crate::types::Type::Int { signed: true });
        self.int(lhs)?;
        let mark = self.used;
        let spill = self.alloc(8, span)?;
        self.asm.push(Insn::stx(Size::DW, Reg::R10, spill, Reg::R7));
        self.int(rhs)?;
        self.asm.push(Insn::mov64_reg(Reg::R8, Reg::R7));
        self.asm.push(Insn::ldx(Size::DW, Reg::R7, Reg::R10, spill));
        self.used = mark;
        self.arith(op, Reg::R8, signed, span)
    }

    /// r7 = r7 OP src (comparisons give 0/1).
    pub(super) fn arith(&mut self, op: BinOp, src: Reg, signed: bool, span: Span) -> R<()> {
        let alu = match op {
            BinOp::Add => AluOp::Add,
            BinOp::Sub => AluOp::Sub,
            BinOp::Mul => AluOp::Mul,
            BinOp::Div => AluOp::Div,
            BinOp::Mod => AluOp::Mod,
            BinOp::BitAnd => AluOp::And,
            BinOp::BitOr => AluOp::Or,
            BinOp::BitXor => AluOp::Xor,
            BinOp::Shl => AluOp::Lsh,
            BinOp::Shr if signed => AluOp::Arsh,
            BinOp::Shr => AluOp::Rsh,
            cmp => {
                let jmp = match (cmp, signed) {
                    (BinOp::Eq, _) => JmpOp::Eq,
                    (BinOp::Ne, _) => JmpOp::Ne,
                    (BinOp::Lt, false) => JmpOp::Lt,
                    (BinOp::Lt, true) => JmpOp::Slt,
                    (BinOp::Le, false) => JmpOp::Le,
                    (BinOp::Le, true) => JmpOp::Sle,
                    (BinOp::Gt, false) => JmpOp::Gt,
                    (BinOp::Gt, true) => JmpOp::Sgt,
                    (BinOp::Ge, false) => JmpOp::Ge,
                    (BinOp::Ge, true) => JmpOp::Sge,
                    _ => return Err(unsupported(span, &format!("operator '{}'", cmp.symbol()))),
                };
                self.truth(jmp, src);
                return Ok(());
            }
        };
        self.asm.push(Insn::alu64_reg(alu, Reg::R7, src));
        Ok(())
    }

    fn builtin(&mut self, b: Builtin, span: Span) -> R<()> {
        let call_to_r7 = |g: &mut Self, helper| {
            g.asm.push(Insn::call(helper));
            g.asm.push(Insn::mov64_reg(Reg::R7, Reg::R0));
        };
        match b {
            Builtin::Pid => {
                call_to_r7(self, Helper::GetCurrentPidTgid);
                self.asm.push(Insn::alu64_imm(AluOp::Rsh, Reg::R7, 32));
            }
            Builtin::Tid => {
                self.asm.push(Insn::call(Helper::GetCurrentPidTgid));
                self.asm.push(Insn::mov32_reg(Reg::R7, Reg::R0));
            }
            Builtin::Uid => {
                self.asm.push(Insn::call(Helper::GetCurrentUidGid));
                self.asm.push(Insn::mov32_reg(Reg::R7, Reg::R0));
            }
            Builtin::Gid => {
                call_to_r7(self, Helper::GetCurrentUidGid);
                self.asm.push(Insn::alu64_imm(AluOp::Rsh, Reg::R7, 32));
            }
            Builtin::Nsecs => call_to_r7(self, Helper::KtimeGetNs),
            Builtin::Cpu => call_to_r7(self, Helper::GetSmpProcessorId),
            Builtin::Arg(n) => {
                let Some(&off) = regs::ARGS.get(usize::from(n)) else {
                    return Err(Diagnostic::new(
                        span,
                        format!("arg{n} is out of range (arg0 to arg5)"),
                    ));
                };
                self.uprobe_only(span, "argN")?;
                self.asm.push(Insn::ldx(Size::DW, Reg::R7, Reg::R6, off));
            }
            Builtin::Retval => {
                self.uprobe_only(span, "retval")?;
                self.asm
                    .push(Insn::ldx(Size::DW, Reg::R7, Reg::R6, regs::RET));
            }
            Builtin::Comm => return Err(Diagnostic::new(span, "comm is a string, not an integer")),
            Builtin::Kstack => self.stack(StackType::KERNEL, span)?,
            Builtin::Ustack => self.stack(StackType::USER, span)?,
            Builtin::Probe => self.probe_id(),
            Builtin::Func => return Err(Diagnostic::new(span, "func is a symbol, not an integer")),
        }
        Ok(())
    }

    fn uprobe_only(&self, span: Span, what: &str) -> R<()> {
        match self.provider {
            Provider::Uprobe { .. } => Ok(()),
            _ => Err(Diagnostic::new(
                span,
                format!("{what} can only be used in uprobe/uretprobe probes"),
            )),
        }
    }

    /// The tracepoint field `name` of this attach point.
    pub(super) fn field(&self, name: &str, span: Span) -> R<bpf::tracefs::Field> {
        let Provider::Tracepoint { category, event } = self.provider else {
            return Err(Diagnostic::new(
                span,
                "args can only be used in tracepoint probes",
            ));
        };
        self.fields
            .iter()
            .find(|f| f.name == name && !f.is_common())
            .cloned()
            .ok_or_else(|| {
                Diagnostic::new(
                    span,
                    format!("tracepoint {category}:{event} has no field '{name}'"),
                )
            })
    }

    fn tracepoint_int(&mut self, name: &str, span: Span) -> R<()> {
        let field = self.field(name, span)?;
        let size = bpf::insn::Size::from_bytes(field.size)
            .filter(|_| field.array_len.is_none() && !field.data_loc);
        let Some(size) = size else {
            return Err(unsupported(
                span,
                &format!(
                    "args.{name} ({}, {} bytes) as an integer",
                    field.type_name, field.size
                ),
            ));
        };
        self.asm
            .push(Insn::ldx(size, Reg::R7, Reg::R6, field.offset as i16));
        if field.signed && field.size < 8 {
            let shift = 64 - 8 * field.size as i32;
            self.asm.push(Insn::alu64_imm(AluOp::Lsh, Reg::R7, shift));
            self.asm.push(Insn::alu64_imm(AluOp::Arsh, Reg::R7, shift));
        }
        Ok(())
    }
}
