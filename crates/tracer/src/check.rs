//! Semantic checks and type inference: the second half of the front end.
//!
//! Walks the parsed program, fills in every expression's [`Type`], and works
//! out each map's key types and value kind (from its first assignment and
//! first keyed access, wherever they are in the source, as bpftrace does).
//! A read of a map no assignment has typed yet is of unknown type, which
//! arithmetic takes as an integer, so `@x = @x + 1` alone types `@x` as
//! bpftrace 0.17 does (its value starts at 0).
//! Reports, with their spans and bpftrace's wording where it has one:
//! unknown names and functions, wrong arity, aggregations outside a map
//! assignment, a map used with two key or value types, string/integer
//! mismatches, builtins used in the wrong probe kind (`retval`, `args`,
//! `argN`, `func`), lhist bounds that are not literals, printf arguments that
//! do not match the format. All errors are collected, in source order.
//!
//! Statements, maps and variables here; function calls in `check/call.rs`,
//! builtins in `check/builtin.rs`, operators in `check/ops.rs`.

mod builtin;
mod call;
mod env;
mod ops;
mod stack;

pub use env::{Environment, FieldLookup, NoEnvironment};

use crate::ast::{
    BinOp, Block, Expr, ExprKind, LValue, MapAccess, Probe, Program, Provider, Stmt, StmtKind,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::span::Span;
use crate::types::{StackType, Type, STR_SIZE};
use std::collections::{BTreeMap, HashMap};

/// What the checker learned about one map.
#[derive(Clone, Debug, PartialEq)]
pub struct MapInfo {
    /// With the `@`.
    pub name: String,
    /// Key types in order (empty for a scalar map).
    pub keys: Vec<Type>,
    /// `Int`/`Str`/stack/`Sym`/`Probe` for plain values, `Agg(…)` for aggregations.
    pub value: Type,
    /// The assignment that fixed the value type.
    pub span: Span,
}

/// A program that passed the checks, with every expression typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// The program; every `Expr::ty` is known.
    pub program: Program,
    /// Every map, by name (the order bpftrace prints them at exit).
    pub maps: BTreeMap<String, MapInfo>,
    /// Every `kstack`/`ustack` kind the program takes, with where it is
    /// first written (one stack map is made per frame limit).
    pub stacks: BTreeMap<StackType, Span>,
}

/// Checks `program`, returning it typed or every error found.
pub fn check(mut program: Program, env: &dyn Environment) -> Result<Checked, Diagnostics> {
    let mut checker = Checker {
        env,
        maps: BTreeMap::new(),
        vars: HashMap::new(),
        providers: Vec::new(),
        report: false,
        errors: Vec::new(),
        stacks: BTreeMap::new(),
    };
    // Two silent passes let a map read see an assignment that comes later
    // in the source (e.g. `@start[tid]` set in another probe); the third
    // reports.
    for report in [false, false, true] {
        checker.report = report;
        for probe in &mut program.probes {
            checker.probe(probe);
        }
    }
    if !checker.errors.is_empty() {
        return Err(Diagnostics(checker.errors));
    }
    let maps = std::mem::take(&mut checker.maps)
        .into_iter()
        .filter_map(|(name, slot)| {
            let value = slot.value?;
            Some((
                name.clone(),
                MapInfo {
                    name,
                    keys: slot.keys.unwrap_or_default(),
                    value: value.0,
                    span: value.1,
                },
            ))
        })
        .collect();
    Ok(Checked {
        program,
        maps,
        stacks: checker.stacks,
    })
}

#[derive(Default)]
struct MapSlot {
    keys: Option<Vec<Type>>,
    value: Option<(Type, Span)>,
}

struct Checker<'e> {
    env: &'e dyn Environment,
    maps: BTreeMap<String, MapSlot>,
    vars: HashMap<String, Type>,
    providers: Vec<Provider>,
    report: bool,
    errors: Vec<Diagnostic>,
    stacks: BTreeMap<StackType, Span>,
}

impl Checker<'_> {
    fn error(&mut self, span: Span, message: impl Into<String>) {
        if self.report {
            self.errors.push(Diagnostic::new(span, message));
        }
    }

    fn probe(&mut self, probe: &mut Probe) {
        self.vars.clear();
        self.providers = probe
            .attach_points
            .iter()
            .map(|a| a.provider.clone())
            .collect();
        if let Some(pred) = &mut probe.predicate {
            let ty = self.expr(pred);
            if !ty.is_int() && ty != Type::Unknown {
                self.error(
                    pred.span,
                    format!("a predicate must be an integer condition, not {ty}"),
                );
            }
        }
        self.block(&mut probe.body);
    }

    fn block(&mut self, block: &mut Block) {
        for stmt in &mut block.stmts {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        match &mut stmt.kind {
            StmtKind::Assign { target, op, value } => self.assign(target, *op, value),
            StmtKind::Expr(expr) => {
                if let ExprKind::Call { .. } = expr.kind {
                    self.call(expr, call::Context::Statement);
                } else {
                    self.expr(expr);
                }
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                let ty = self.expr(cond);
                self.expect_int_condition(ty, cond.span, "if condition");
                self.block(then_block);
                if let Some(b) = else_block {
                    self.block(b);
                }
            }
        }
    }

    fn expect_int_condition(&mut self, ty: Type, span: Span, what: &str) {
        if !ty.is_int() && ty != Type::Unknown {
            self.error(
                span,
                format!("{what} must be an integer, not {ty} (compare strings with ==)"),
            );
        }
    }

    fn assign(&mut self, target: &mut LValue, op: Option<BinOp>, value: &mut Expr) {
        let is_call = matches!(value.kind, ExprKind::Call { .. });
        match target {
            LValue::Map(map) => {
                self.map_keys(map);
                let ty = if is_call && op.is_none() {
                    self.call(value, call::Context::MapValue)
                } else {
                    self.value_expr(value)
                };
                let ty = match op {
                    Some(op) => self.compound(map.name.clone(), map.span, op, ty, value.span),
                    None => ty,
                };
                self.define_map_value(&map.name, ty, map.span);
            }
            LValue::Var(var) => {
                let ty = self.value_expr(value);
                let ty = match op {
                    Some(op) => {
                        let old = self.vars.get(&var.name).copied();
                        match old {
                            None => {
                                self.error(
                                    var.span,
                                    format!("Undefined or undeclared variable: {}", var.name),
                                );
                                Type::Unknown
                            }
                            Some(old) => self.arith(op, old, ty, var.span.to(value.span), var.span),
                        }
                    }
                    None => ty,
                };
                self.define_var(&var.name, ty, var.span);
            }
        }
    }

    /// An expression whose value is stored (not an aggregation, not void).
    fn value_expr(&mut self, value: &mut Expr) -> Type {
        let ty = if matches!(value.kind, ExprKind::Call { .. }) {
            self.call(value, call::Context::Value)
        } else {
            self.expr(value)
        };
        if matches!(ty, Type::Agg(_) | Type::Void) {
            return Type::Unknown;
        }
        ty
    }

    fn compound(&mut self, name: String, span: Span, op: BinOp, rhs: Type, rhs_span: Span) -> Type {
        let current = self.maps.get(&name).and_then(|m| m.value).map(|v| v.0);
        match current {
            Some(cur) if !cur.is_int() => {
                self.error(
                    span,
                    format!("Type mismatch for {name}: '{}=' needs an integer map, and {name} holds {cur}", op.symbol()),
                );
                Type::Unknown
            }
            // A map no assignment has typed yet counts as unsigned, as in
            // `@x = @x - 1`.
            Some(cur) => self.arith(op, cur, rhs, span.to(rhs_span), span),
            None => self.binary(op, Type::Unknown, rhs, span.to(rhs_span), span),
        }
    }

    fn define_var(&mut self, name: &str, ty: Type, span: Span) {
        if ty == Type::Unknown {
            self.vars.entry(name.to_string()).or_insert(Type::Unknown);
            return;
        }
        match self.vars.get(name).copied() {
            Some(old) if old != Type::Unknown && !old.compatible(ty) => self.error(
                span,
                format!(
                    "Type mismatch for {name}: trying to assign value of type '{ty}' when variable already \
                     contains a value of type '{old}'"
                ),
            ),
            Some(old) => {
                self.vars.insert(name.to_string(), old.widen(ty));
            }
            None => {
                self.vars.insert(name.to_string(), ty);
            }
        }
    }

    fn define_map_value(&mut self, name: &str, ty: Type, span: Span) {
        if ty == Type::Unknown {
            return;
        }
        let slot = self.maps.entry(name.to_string()).or_default();
        match slot.value {
            None => slot.value = Some((ty, span)),
            Some((old, _)) => {
                let same_lhist = match (old, ty) {
                    (Type::Agg(a), Type::Agg(b)) => a == b || a.name() != "lhist",
                    _ => true,
                };
                if !old.compatible(ty) {
                    // bpftrace 0.17 leaves out the closing quote here.
                    self.error(
                        span,
                        format!(
                            "Type mismatch for {name}: trying to assign value of type '{ty}' when map already \
                             contains a value of type '{old}"
                        ),
                    );
                } else if !same_lhist {
                    self.error(
                        span,
                        format!("{name} is already an lhist() with other min, max or step"),
                    );
                } else if let Some(v) = self.maps.get_mut(name).and_then(|s| s.value.as_mut()) {
                    v.0 = old.widen(ty);
                }
            }
        }
    }

    /// Checks key expressions of an access and the map's key types.
    fn map_keys(&mut self, map: &mut MapAccess) {
        let mut types = Vec::with_capacity(map.keys.len());
        let mut known = true;
        for key in &mut map.keys {
            let ty = self.value_expr(key);
            if ty == Type::Unknown {
                known = false;
            } else if !ty.is_key() {
                self.error(key.span, format!("{ty} cannot be a map key"));
                known = false;
            }
            types.push(ty);
        }
        if !known {
            return;
        }
        let slot = self.maps.entry(map.name.clone()).or_default();
        match &mut slot.keys {
            None => slot.keys = Some(types),
            Some(expected) => {
                let matches = expected.len() == types.len()
                    && expected.iter().zip(&types).all(|(a, b)| a.compatible(*b));
                if matches {
                    for (a, b) in expected.iter_mut().zip(&types) {
                        *a = a.widen(*b);
                    }
                } else {
                    let list = |t: &[Type]| {
                        t.iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let message = format!(
                        "Argument mismatch for {}: trying to access with arguments: [{}] when map expects \
                         arguments: [{}]",
                        map.name,
                        list(&types),
                        list(expected)
                    );
                    self.error(map.span, message);
                }
            }
        }
    }

    fn map_read(&mut self, map: &mut MapAccess) -> Type {
        self.map_keys(map);
        match self.maps.get(&map.name).and_then(|m| m.value) {
            None => {
                self.error(map.span, format!("Undefined map: {}", map.name));
                Type::Unknown
            }
            Some((Type::Agg(kind), _)) => {
                self.error(
                    map.span,
                    format!(
                        "{} holds {}() values, which are per-CPU and only combined when printed; they cannot be \
                         read in an expression",
                        map.name,
                        kind.name()
                    ),
                );
                Type::Unknown
            }
            Some((ty, _)) => ty,
        }
    }

    /// Types an expression (calls included, in value position).
    fn expr(&mut self, expr: &mut Expr) -> Type {
        if matches!(expr.kind, ExprKind::Call { .. }) {
            return self.value_expr(expr);
        }
        let span = expr.span;
        let ty = match &mut expr.kind {
            ExprKind::Int(_) => Type::INT,
            ExprKind::Str(s) => Type::Str { size: s.len() + 1 },
            ExprKind::Builtin(b) => self.builtin(*b, span),
            ExprKind::TracepointArg { field } => {
                let field = field.clone();
                self.tracepoint_arg(&field, span)
            }
            ExprKind::Var(name) => match self.vars.get(name.as_str()) {
                Some(ty) => *ty,
                None => {
                    let message = format!("Undefined or undeclared variable: {name}");
                    self.error(span, message);
                    Type::Unknown
                }
            },
            ExprKind::Map(map) => self.map_read(map),
            ExprKind::Call { .. } => Type::Unknown,
            ExprKind::Unary { op, operand } => {
                let op = *op;
                let ty = self.expr(operand);
                self.unary(op, ty, span)
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                let (op, op_span) = (*op, *op_span);
                let l = self.expr(lhs);
                let r = self.expr(rhs);
                self.binary(op, l, r, span, op_span)
            }
            ExprKind::Ternary {
                cond,
                then_expr,
                else_expr,
            } => {
                let c = self.expr(cond);
                self.expect_int_condition(c, cond.span, "a ternary condition");
                let a = self.expr(then_expr);
                let b = self.expr(else_expr);
                self.ternary(a, b, span)
            }
            ExprKind::Ident(name) => {
                let message = format!("Unknown identifier: '{name}'");
                self.error(span, message);
                Type::Unknown
            }
        };
        expr.ty = ty;
        ty
    }
}

/// `str()`'s result type.
pub(crate) const STR_TYPE: Type = Type::Str { size: STR_SIZE };

#[cfg(test)]
mod tests;
