//! BPF code generation, ply-style and without an IR: one program per attach
//! point, straight from the typed AST.
//!
//! Conventions (what keeps every program verifiable on the first try):
//!
//! - r6 holds the context for the whole program; every expression leaves its
//!   integer result in r7; r8/r9 are scratch between two calls; a value that
//!   must survive evaluating another expression is spilled to the stack;
//! - strings, keys, values and ring-buffer records are built in 8-byte
//!   aligned stack slots that are fully written (zero padding included)
//!   before a helper sees them; scratch variables are zeroed at entry;
//! - only forward jumps (no loops), and no instruction after an
//!   unconditional jump unless a label lands on it;
//! - aggregations update this CPU's slot of a per-CPU hash in place
//!   (insert a zero value with BPF_NOEXIST first when absent).
//!
//! Statements are here; expressions in `codegen/expr.rs`, strings in
//! `codegen/string.rs`, stacks, `func` and `probe` in `codegen/context.rs`.
//! Not here: creating maps or loading (`runtime`).

mod asm;
mod context;
mod expr;
mod string;

use crate::ast::{
    Block, Expr, ExprKind, Function, LValue, MapAccess, Probe, Provider, Stmt, StmtKind,
};
use crate::diag::Diagnostic;
use crate::layout::{record, slot_size, MapLayout};
use crate::span::Span;
use crate::types::{AggKind, Type};
use asm::Asm;
use bpf::insn::{AluOp, Helper, Insn, JmpOp, Reg, Size};
use bpf::tracefs::Field;
use std::collections::{BTreeMap, HashMap};

/// BPF's stack size.
const STACK_BYTES: i32 = 512;

/// A created map as the generator refers to it.
#[derive(Clone, Debug)]
pub struct MapRef {
    /// The map's descriptor (for `ld_map_fd`).
    pub fd: i32,
    /// Its position among the program's maps (for print/clear records).
    pub index: u32,
    /// Its layout.
    pub layout: MapLayout,
    /// Its value type.
    pub value: Type,
}

/// A `printf` call site: what user space needs to format its records.
#[derive(Clone, Debug, PartialEq)]
pub struct PrintfSite {
    /// The format string.
    pub format: String,
    /// Argument types in order (ints are 8 bytes, strings their slot size).
    pub args: Vec<Type>,
}

/// Where one program goes: what the generator needs of its attach point.
#[derive(Clone, Copy)]
pub struct Site<'a> {
    /// The attach point's kind (one expanded target of it).
    pub provider: &'a Provider,
    /// The tracepoint's record fields, empty otherwise.
    pub fields: &'a [Field],
    /// The value of `probe` here: the index of this target's full name
    /// in the run's probe names.
    pub probe_id: u32,
}

/// What every program of a run shares.
pub struct Shared<'a> {
    /// Maps by name.
    pub maps: &'a BTreeMap<String, MapRef>,
    /// STACK_TRACE maps' descriptors by frame limit
    /// ([`crate::types::StackType::limit`], 0 for the default).
    pub stack_maps: &'a BTreeMap<u16, i32>,
    /// The ring buffer's descriptor.
    pub ringbuf_fd: i32,
    /// printf sites, appended to as they are compiled (index = record id).
    pub printfs: &'a mut Vec<PrintfSite>,
    /// Site ids by the printf's source offset (one id for all attach points).
    pub printf_ids: &'a mut HashMap<usize, u32>,
}

/// Generates the program of `probe` for one target of one of its attach
/// points.
pub fn compile_probe(
    probe: &Probe,
    site: Site<'_>,
    shared: &mut Shared<'_>,
) -> Result<Vec<bpf::insn::Insn>, Diagnostic> {
    let mut asm = Asm::default();
    let exit = asm.label();
    let mut gen = Gen {
        asm,
        used: 0,
        vars: HashMap::new(),
        provider: site.provider,
        fields: site.fields,
        probe_id: site.probe_id,
        shared,
        exit,
    };
    gen.asm.push(Insn::mov64_reg(Reg::R6, Reg::R1));
    gen.declare_vars(&probe.body)?;
    if let Some(pred) = &probe.predicate {
        gen.int(pred)?;
        gen.asm.jump(Insn::jmp_imm(JmpOp::Eq, Reg::R7, 0, 0), exit);
    }
    gen.block(&probe.body)?;
    gen.asm.bind(exit);
    gen.asm.push(Insn::mov64_imm(Reg::R0, 0));
    gen.asm.push(Insn::exit());
    gen.asm
        .finish()
        .ok_or_else(|| Diagnostic::new(probe.span, "this probe's program is too long for BPF jumps (more than 32767 instructions); split it"))
}

pub(crate) struct Gen<'a, 'b> {
    asm: Asm,
    /// Stack bytes in use (slots are at r10 - used).
    used: i32,
    vars: HashMap<String, (i16, Type)>,
    provider: &'a Provider,
    fields: &'a [Field],
    probe_id: u32,
    shared: &'a mut Shared<'b>,
    /// The label of the final `return 0`.
    exit: asm::Label,
}

pub(crate) type R<T> = Result<T, Diagnostic>;

fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        span,
        format!("{what} is not supported yet by whyslow trace"),
    )
}

impl Gen<'_, '_> {
    /// A fresh 8-byte-aligned stack slot of `bytes` (its offset from r10).
    fn alloc(&mut self, bytes: usize, span: Span) -> R<i16> {
        let bytes = (bytes.div_ceil(8) * 8) as i32;
        if self.used + bytes > STACK_BYTES {
            return Err(Diagnostic::new(
                span,
                "this probe needs more than BPF's 512 bytes of stack (long strings or many keys); use shorter str() lengths",
            ));
        }
        self.used += bytes;
        Ok(-self.used as i16)
    }

    /// Writes zeros over `bytes` (a multiple of 8) at `off`.
    fn zero(&mut self, off: i16, bytes: usize) {
        for i in (0..bytes).step_by(8) {
            self.asm
                .push(Insn::st(Size::DW, Reg::R10, off + i as i16, 0));
        }
    }

    /// `dst = r10 + off`.
    fn stack_ptr(&mut self, dst: Reg, off: i16) {
        self.asm.push(Insn::mov64_reg(dst, Reg::R10));
        self.asm
            .push(Insn::alu64_imm(AluOp::Add, dst, i32::from(off)));
    }

    fn load_imm(&mut self, dst: Reg, value: i64) {
        match i32::try_from(value) {
            Ok(v) => self.asm.push(Insn::mov64_imm(dst, v)),
            Err(_) => self.asm.wide(Insn::ld_imm64(dst, value as u64)),
        }
    }

    fn map(&self, name: &str, span: Span) -> R<MapRef> {
        self.shared
            .maps
            .get(name)
            .cloned()
            .ok_or_else(|| Diagnostic::new(span, format!("Undefined map: {name}")))
    }

    /// Slots for every scratch variable of the probe, zeroed, so a read on
    /// a path without an assignment sees 0 / "".
    fn declare_vars(&mut self, block: &Block) -> R<()> {
        for stmt in &block.stmts {
            match &stmt.kind {
                StmtKind::Assign {
                    target: LValue::Var(var),
                    value,
                    ..
                } => {
                    let ty = if value.ty.is_str() || value.ty == Type::Sym {
                        value.ty
                    } else {
                        Type::INT
                    };
                    match self.vars.get(&var.name) {
                        Some((_, old)) if slot_size(*old) >= slot_size(ty) => {}
                        _ => {
                            let size = slot_size(ty);
                            let off = self.alloc(size, var.span)?;
                            self.zero(off, size);
                            self.vars.insert(var.name.clone(), (off, ty));
                        }
                    }
                }
                StmtKind::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    self.declare_vars(then_block)?;
                    if let Some(b) = else_block {
                        self.declare_vars(b)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Emits a block; true when it ends in `exit()` (statements after it are
    /// not emitted: they would be unreachable, which the verifier rejects).
    fn block(&mut self, block: &Block) -> R<bool> {
        for stmt in &block.stmts {
            // Temporaries live for one statement.
            let mark = self.used;
            let ends = self.stmt(stmt)?;
            self.used = mark;
            if ends {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn stmt(&mut self, stmt: &Stmt) -> R<bool> {
        match &stmt.kind {
            StmtKind::Assign { target, op, value } => match target {
                LValue::Map(map) => self.assign_map(map, *op, value)?,
                LValue::Var(var) => {
                    let (off, ty) = self.vars[&var.name];
                    if ty.is_str() || ty == Type::Sym {
                        self.value_into(value, ty, off)?;
                        return Ok(false);
                    }
                    self.int(value)?;
                    if let Some(op) = op {
                        self.asm.push(Insn::mov64_reg(Reg::R8, Reg::R7));
                        self.asm.push(Insn::ldx(Size::DW, Reg::R7, Reg::R10, off));
                        self.arith(*op, Reg::R8, false, stmt.span)?;
                    }
                    self.asm.push(Insn::stx(Size::DW, Reg::R10, off, Reg::R7));
                }
            },
            StmtKind::Expr(expr) => {
                self.call_stmt(expr)?;
                // exit() ends the probe's action, as in bpftrace.
                if let ExprKind::Call {
                    func: Function::Exit,
                    ..
                } = expr.kind
                {
                    self.asm.jump(Insn::ja(0), self.exit);
                    return Ok(true);
                }
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                let otherwise = self.asm.label();
                self.int(cond)?;
                self.asm
                    .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R7, 0, 0), otherwise);
                let then_ends = self.block(then_block)?;
                match else_block {
                    None => self.asm.bind(otherwise),
                    Some(b) => {
                        let end = self.asm.label();
                        if !then_ends {
                            self.asm.jump(Insn::ja(0), end);
                        }
                        self.asm.bind(otherwise);
                        let else_ends = self.block(b)?;
                        self.asm.bind(end);
                        return Ok(then_ends && else_ends);
                    }
                }
            }
        }
        Ok(false)
    }

    /// Writes the value of `e`, stored as `ty`, into its slot at `off`
    /// (`slot_size(ty)` bytes): strings padded, `func` as address and pid,
    /// anything else as one 64-bit word.
    fn value_into(&mut self, e: &Expr, ty: Type, off: i16) -> R<()> {
        match ty {
            Type::Str { .. } => self.str_into(e, off, slot_size(ty)),
            Type::Sym => self.sym_into(e, off),
            _ => {
                self.int(e)?;
                self.asm.push(Insn::stx(Size::DW, Reg::R10, off, Reg::R7));
                Ok(())
            }
        }
    }

    /// Builds the key of `access` in a new slot; a bucketed map's last 8
    /// bytes are left for the caller.
    fn key(&mut self, access: &MapAccess, map: &MapRef) -> R<i16> {
        let off = self.alloc(map.layout.key_size, access.span)?;
        if access.keys.is_empty() {
            self.zero(off, map.layout.key_size);
            return Ok(off);
        }
        let mut pos = 0;
        for (key, &ty) in access.keys.iter().zip(&map.layout.keys) {
            self.value_into(key, ty, off + pos as i16)?;
            pos += slot_size(ty);
        }
        Ok(off)
    }

    /// r0 = lookup(map, r10 + key).
    fn lookup(&mut self, map: &MapRef, key: i16) {
        self.asm.wide(Insn::ld_map_fd(Reg::R1, map.fd));
        self.stack_ptr(Reg::R2, key);
        self.asm.push(Insn::call(Helper::MapLookupElem));
    }

    /// update(map, r10 + key, r10 + value, flag).
    fn update(&mut self, map: &MapRef, key: i16, value: i16, flag: i32) {
        self.asm.wide(Insn::ld_map_fd(Reg::R1, map.fd));
        self.stack_ptr(Reg::R2, key);
        self.stack_ptr(Reg::R3, value);
        self.asm.push(Insn::mov64_imm(Reg::R4, flag));
        self.asm.push(Insn::call(Helper::MapUpdateElem));
    }

    fn assign_map(
        &mut self,
        access: &MapAccess,
        op: Option<crate::ast::BinOp>,
        value: &Expr,
    ) -> R<()> {
        let map = self.map(&access.name, access.span)?;
        if let Type::Agg(kind) = map.value {
            return self.aggregate(access, &map, kind, value);
        }
        let key = self.key(access, &map)?;
        let val = self.alloc(map.layout.value_size, value.span)?;
        if !map.value.is_int() {
            self.value_into(value, map.value, val)?;
        } else {
            match op {
                None => self.int(value)?,
                Some(op) => {
                    self.int(value)?;
                    self.asm.push(Insn::stx(Size::DW, Reg::R10, val, Reg::R7));
                    self.read_int_value(&map, key);
                    self.asm.push(Insn::ldx(Size::DW, Reg::R8, Reg::R10, val));
                    self.arith(op, Reg::R8, false, value.span)?;
                }
            }
            self.asm.push(Insn::stx(Size::DW, Reg::R10, val, Reg::R7));
        }
        self.update(&map, key, val, 0);
        Ok(())
    }

    /// r7 = the integer at `key` in `map`, 0 when absent.
    fn read_int_value(&mut self, map: &MapRef, key: i16) {
        let absent = self.asm.label();
        self.lookup(map, key);
        self.asm.push(Insn::mov64_imm(Reg::R7, 0));
        self.asm
            .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), absent);
        self.asm.push(Insn::ldx(Size::DW, Reg::R7, Reg::R0, 0));
        self.asm.bind(absent);
    }

    fn aggregate(
        &mut self,
        access: &MapAccess,
        map: &MapRef,
        kind: AggKind,
        value: &Expr,
    ) -> R<()> {
        let ExprKind::Call { args, .. } = &value.kind else {
            return Err(Diagnostic::new(value.span, "expected an aggregation call"));
        };
        let key = self.key(access, map)?;
        let arg = self.alloc(8, value.span)?;
        match kind {
            AggKind::Count => {}
            AggKind::Hist => {
                self.int(&args[0])?;
                self.hist_bucket();
                let at = key + (map.layout.key_size - 8) as i16;
                self.asm.push(Insn::stx(Size::DW, Reg::R10, at, Reg::R7));
            }
            AggKind::Lhist { min, max, step } => {
                self.int(&args[0])?;
                self.lhist_bucket(min, max, step);
                let at = key + (map.layout.key_size - 8) as i16;
                self.asm.push(Insn::stx(Size::DW, Reg::R10, at, Reg::R7));
            }
            _ => {
                self.int(&args[0])?;
                self.asm.push(Insn::stx(Size::DW, Reg::R10, arg, Reg::R7));
            }
        }
        // Find this CPU's slot, inserting a zero value when absent.
        let zero = self.alloc(map.layout.value_size, value.span)?;
        let found = self.asm.label();
        let done = self.asm.label();
        self.lookup(map, key);
        self.asm
            .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R0, 0, 0), found);
        self.zero(zero, map.layout.value_size);
        self.update(map, key, zero, 1);
        self.lookup(map, key);
        self.asm.jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), done);
        self.asm.bind(found);
        let add = |g: &mut Self, field: i16, src: Option<i16>| {
            g.asm.push(Insn::ldx(Size::DW, Reg::R1, Reg::R0, field));
            match src {
                None => g.asm.push(Insn::alu64_imm(AluOp::Add, Reg::R1, 1)),
                Some(off) => {
                    g.asm.push(Insn::ldx(Size::DW, Reg::R2, Reg::R10, off));
                    g.asm.push(Insn::alu64_reg(AluOp::Add, Reg::R1, Reg::R2));
                }
            }
            g.asm.push(Insn::stx(Size::DW, Reg::R0, field, Reg::R1));
        };
        match kind {
            AggKind::Count | AggKind::Hist | AggKind::Lhist { .. } => add(self, 0, None),
            AggKind::Sum => add(self, 0, Some(arg)),
            AggKind::Avg | AggKind::Stats => {
                add(self, 0, None);
                add(self, 8, Some(arg));
            }
            AggKind::Min | AggKind::Max => {
                // value at 0, "set" flag at 8.
                let set = self.asm.label();
                self.asm.push(Insn::ldx(Size::DW, Reg::R2, Reg::R10, arg));
                self.asm.push(Insn::ldx(Size::DW, Reg::R1, Reg::R0, 8));
                self.asm.jump(Insn::jmp_imm(JmpOp::Eq, Reg::R1, 0, 0), set);
                self.asm.push(Insn::ldx(Size::DW, Reg::R1, Reg::R0, 0));
                let keep = if kind == AggKind::Min {
                    JmpOp::Sle
                } else {
                    JmpOp::Sge
                };
                self.asm
                    .jump(Insn::jmp_reg(keep, Reg::R1, Reg::R2, 0), done);
                self.asm.bind(set);
                self.asm.push(Insn::stx(Size::DW, Reg::R0, 0, Reg::R2));
                self.asm.push(Insn::st(Size::DW, Reg::R0, 8, 1));
            }
        }
        self.asm.bind(done);
        Ok(())
    }

    /// r7 (a value) becomes its hist() bucket: 0 negative, 1 zero, 2 + log2.
    fn hist_bucket(&mut self) {
        let done = self.asm.label();
        self.asm.push(Insn::mov64_reg(Reg::R8, Reg::R7));
        self.asm.push(Insn::mov64_imm(Reg::R7, 0));
        self.asm
            .jump(Insn::jmp_imm(JmpOp::Slt, Reg::R8, 0, 0), done);
        self.asm.push(Insn::mov64_imm(Reg::R7, 1));
        self.asm.jump(Insn::jmp_imm(JmpOp::Eq, Reg::R8, 0, 0), done);
        self.asm.push(Insn::mov64_imm(Reg::R7, 2));
        for shift in [32, 16, 8, 4, 2, 1] {
            let next = self.asm.label();
            self.asm.push(Insn::mov64_reg(Reg::R9, Reg::R8));
            self.asm.push(Insn::alu64_imm(AluOp::Rsh, Reg::R9, shift));
            self.asm.jump(Insn::jmp_imm(JmpOp::Eq, Reg::R9, 0, 0), next);
            self.asm.push(Insn::mov64_reg(Reg::R8, Reg::R9));
            self.asm.push(Insn::alu64_imm(AluOp::Add, Reg::R7, shift));
            self.asm.bind(next);
        }
        self.asm.bind(done);
    }

    /// r7 (a value) becomes its lhist() bucket (see `format::hist::lhist_index`).
    fn lhist_bucket(&mut self, min: i64, max: i64, step: i64) {
        let done = self.asm.label();
        let n = crate::format::hist::lhist_buckets(min, max, step) as i64;
        self.asm.push(Insn::mov64_reg(Reg::R8, Reg::R7));
        self.asm.push(Insn::mov64_imm(Reg::R7, 0));
        self.load_imm(Reg::R9, min);
        self.asm
            .jump(Insn::jmp_reg(JmpOp::Slt, Reg::R8, Reg::R9, 0), done);
        self.load_imm(Reg::R7, n + 1);
        self.load_imm(Reg::R9, max);
        self.asm
            .jump(Insn::jmp_reg(JmpOp::Sge, Reg::R8, Reg::R9, 0), done);
        self.load_imm(Reg::R9, min);
        self.asm.push(Insn::mov64_reg(Reg::R7, Reg::R8));
        self.asm.push(Insn::alu64_reg(AluOp::Sub, Reg::R7, Reg::R9));
        self.load_imm(Reg::R9, step.max(1));
        self.asm.push(Insn::alu64_reg(AluOp::Div, Reg::R7, Reg::R9));
        self.asm.push(Insn::alu64_imm(AluOp::Add, Reg::R7, 1));
        self.asm.bind(done);
    }

    fn call_stmt(&mut self, expr: &Expr) -> R<()> {
        let ExprKind::Call { func, args, .. } = &expr.kind else {
            return self.int(expr);
        };
        match func {
            Function::Printf => self.printf(expr.span, args),
            Function::Exit => self.record(expr.span, record::EXIT, 0, &[]),
            Function::Clear => {
                let map = self.map_arg(args, expr.span)?;
                self.record(expr.span, record::CLEAR, map.index, &[])
            }
            Function::Print => {
                let map = self.map_arg(args, expr.span)?;
                let lit = |i: usize| match args.get(i).map(|a| &a.kind) {
                    Some(ExprKind::Int(v)) => *v,
                    _ => 0,
                };
                self.record(expr.span, record::PRINT, map.index, &[lit(1), lit(2)])
            }
            Function::Delete => {
                let Some(Expr {
                    kind: ExprKind::Map(access),
                    ..
                }) = args.first()
                else {
                    return Err(Diagnostic::new(expr.span, "delete() expects a map element"));
                };
                let map = self.map(&access.name, access.span)?;
                if map.layout.bucketed {
                    return Err(unsupported(
                        expr.span,
                        "delete() of a hist()/lhist() element",
                    ));
                }
                let key = self.key(access, &map)?;
                self.asm.wide(Insn::ld_map_fd(Reg::R1, map.fd));
                self.stack_ptr(Reg::R2, key);
                self.asm.push(Insn::call(Helper::MapDeleteElem));
                Ok(())
            }
            _ => Err(unsupported(
                expr.span,
                &format!("{}() as a statement", func.name()),
            )),
        }
    }

    fn map_arg(&self, args: &[Expr], span: Span) -> R<MapRef> {
        match args.first().map(|a| &a.kind) {
            Some(ExprKind::Map(access)) => self.map(&access.name, access.span),
            _ => Err(Diagnostic::new(span, "expected a map")),
        }
    }

    /// Sends a record `[kind, id, words…]` to the ring buffer.
    fn record(&mut self, span: Span, kind: u32, id: u32, words: &[i64]) -> R<()> {
        let size = 8 + 8 * words.len();
        let off = self.alloc(size, span)?;
        self.asm.push(Insn::st(Size::W, Reg::R10, off, kind as i32));
        self.asm
            .push(Insn::st(Size::W, Reg::R10, off + 4, id as i32));
        for (i, &w) in words.iter().enumerate() {
            self.load_imm(Reg::R1, w);
            self.asm.push(Insn::stx(
                Size::DW,
                Reg::R10,
                off + 8 + 8 * i as i16,
                Reg::R1,
            ));
        }
        self.output(off, size);
        Ok(())
    }

    fn output(&mut self, off: i16, size: usize) {
        self.asm
            .wide(Insn::ld_map_fd(Reg::R1, self.shared.ringbuf_fd));
        self.stack_ptr(Reg::R2, off);
        self.asm.push(Insn::mov64_imm(Reg::R3, size as i32));
        self.asm.push(Insn::mov64_imm(Reg::R4, 0));
        self.asm.push(Insn::call(Helper::RingbufOutput));
    }

    fn printf(&mut self, span: Span, args: &[Expr]) -> R<()> {
        let Some(Expr {
            kind: ExprKind::Str(format),
            ..
        }) = args.first()
        else {
            return Err(Diagnostic::new(
                span,
                "printf() expects a format string first",
            ));
        };
        let types: Vec<Type> = args[1..]
            .iter()
            .map(|a| match a.ty {
                Type::Str { .. } | Type::Stack(_) | Type::Sym | Type::Probe => a.ty,
                _ => Type::INT,
            })
            .collect();
        let id = match self.shared.printf_ids.get(&span.start) {
            Some(&id) => id,
            None => {
                let id = self.shared.printfs.len() as u32;
                self.shared.printfs.push(PrintfSite {
                    format: format.clone(),
                    args: types.clone(),
                });
                self.shared.printf_ids.insert(span.start, id);
                id
            }
        };
        let size = 8 + types.iter().map(|&t| slot_size(t)).sum::<usize>();
        let off = self.alloc(size, span)?;
        self.asm
            .push(Insn::st(Size::W, Reg::R10, off, record::PRINTF as i32));
        self.asm
            .push(Insn::st(Size::W, Reg::R10, off + 4, id as i32));
        let mut pos = 8;
        for (arg, &ty) in args[1..].iter().zip(&types) {
            self.value_into(arg, ty, off + pos as i16)?;
            pos += slot_size(ty);
        }
        self.output(off, size);
        Ok(())
    }
}
