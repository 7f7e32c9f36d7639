//! Checks of function calls: arity, argument types, and where each function
//! may appear (aggregations only as a map's assigned value, `printf` & co.
//! only as statements).

use super::{Checker, STR_TYPE};
use crate::ast::{Expr, ExprKind, Function};
use crate::format::printf::{parse_format, specs};
use crate::span::Span;
use crate::types::{AggKind, Type};

/// Where a call appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Context {
    /// `f(...);`
    Statement,
    /// `@m[...] = f(...)`
    MapValue,
    /// Anywhere a value is used.
    Value,
}

/// Largest `kstack(N)`/`ustack(N)` bpftrace accepts (its MAX_STACK_SIZE;
/// the kernel's `perf_event_max_stack`, 127 by default, is checked when the
/// stack map is created).
pub(crate) const MAX_STACK_LIMIT: i64 = 1024;

/// Largest lhist bucket count bpftrace accepts.
const MAX_LHIST_BUCKETS: i64 = 1000;

fn arity_text(n: usize) -> String {
    match n {
        0 => "no arguments".into(),
        1 => "one argument".into(),
        n => format!("{n} arguments"),
    }
}

impl Checker<'_> {
    /// Checks a call expression and returns (and records) its type.
    pub(super) fn call(&mut self, expr: &mut Expr, context: Context) -> Type {
        let span = expr.span;
        let ExprKind::Call {
            func,
            name_span,
            args,
        } = &mut expr.kind
        else {
            return Type::Unknown;
        };
        let func = func.clone();
        let name_span = *name_span;
        let name = func.name().to_string();
        let ty = match &func {
            Function::Unknown(_) => {
                for arg in args.iter_mut() {
                    self.expr(arg);
                }
                self.error(name_span, format!("Unknown function: {name}"));
                Type::Unknown
            }
            Function::Count
            | Function::Sum
            | Function::Avg
            | Function::Min
            | Function::Max
            | Function::Hist
            | Function::Lhist
            | Function::Stats => {
                if context != Context::MapValue {
                    self.error(
                        span,
                        format!("{name}() should be directly assigned to a map"),
                    );
                    Type::Unknown
                } else {
                    self.aggregation(&func, args, span)
                }
            }
            Function::Str => self.str_call(args, span),
            Function::Kstack | Function::Ustack => {
                let stack = self.stack_call(func == Function::Ustack, args, span);
                self.note_stack(stack, span);
                Type::Stack(stack)
            }
            Function::Printf
            | Function::Print
            | Function::Clear
            | Function::Delete
            | Function::Exit => {
                if context != Context::Statement {
                    self.error(
                        span,
                        format!("{name}() should not be used in an assignment or as a map key"),
                    );
                    Type::Unknown
                } else {
                    match func {
                        Function::Printf => self.printf(args, span),
                        Function::Print => self.map_argument("print", args, span, 1..=3),
                        Function::Clear => self.map_argument("clear", args, span, 1..=1),
                        Function::Delete => self.delete(args, span),
                        _ => {
                            self.arity("exit", args, span, 0..=0);
                        }
                    }
                    Type::Void
                }
            }
        };
        expr.ty = ty;
        ty
    }

    /// Reports a wrong argument count; true when it is right.
    fn arity(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        range: std::ops::RangeInclusive<usize>,
    ) -> bool {
        if range.contains(&args.len()) {
            return true;
        }
        let wanted = if range.start() == range.end() {
            arity_text(*range.start())
        } else {
            format!("between {} and {} arguments", range.start(), range.end())
        };
        self.error(
            span,
            format!("{name}() requires {wanted} ({} provided)", args.len()),
        );
        false
    }

    fn aggregation(&mut self, func: &Function, args: &mut [Expr], span: Span) -> Type {
        let name = func.name();
        let wanted = match func {
            Function::Count => 0,
            Function::Lhist => 4,
            _ => 1,
        };
        let types: Vec<Type> = args.iter_mut().map(|a| self.value_expr(a)).collect();
        if !self.arity(name, args, span, wanted..=wanted) {
            return Type::Unknown;
        }
        if let Some(&ty) = types.first() {
            if ty != Type::Unknown && !ty.is_int() {
                self.error(
                    span,
                    format!(
                        "{name}() only supports integer arguments ({} provided)",
                        kind_word(ty)
                    ),
                );
                return Type::Unknown;
            }
        }
        let kind = match func {
            Function::Count => AggKind::Count,
            Function::Sum => AggKind::Sum,
            Function::Avg => AggKind::Avg,
            Function::Min => AggKind::Min,
            Function::Max => AggKind::Max,
            Function::Hist => AggKind::Hist,
            Function::Stats => AggKind::Stats,
            _ => match self.lhist_bounds(args, span) {
                Some(kind) => kind,
                None => return Type::Unknown,
            },
        };
        Type::Agg(kind)
    }

    fn lhist_bounds(&mut self, args: &[Expr], span: Span) -> Option<AggKind> {
        let mut literal = |i: usize, what: &str| -> Option<i64> {
            match args.get(i).map(|a| &a.kind) {
                Some(ExprKind::Int(v)) => Some(*v),
                _ => {
                    self.error(
                        span,
                        format!(
                            "lhist() expects an integer literal for {what} (argument {})",
                            i + 1
                        ),
                    );
                    None
                }
            }
        };
        let (min, max, step) = (literal(1, "min"), literal(2, "max"), literal(3, "step"));
        let (min, max, step) = (min?, max?, step?);
        if min < 0 {
            self.error(
                span,
                format!("lhist() min must be non-negative (provided min {min})"),
            );
            return None;
        }
        if min >= max {
            self.error(
                span,
                format!("lhist() min must be less than max (provided min {min} and max {max})"),
            );
            return None;
        }
        if step < 1 {
            self.error(span, format!("lhist() step must be >= 1 ({step} provided)"));
            return None;
        }
        let buckets = (max - min) / step;
        if buckets > MAX_LHIST_BUCKETS {
            self.error(
                span,
                format!("lhist() too many buckets, must be <= {MAX_LHIST_BUCKETS} (would need {buckets})"),
            );
            return None;
        }
        if buckets < 1 {
            self.error(
                span,
                format!("lhist() step is too large for the given range (provided step {step} for range {})", max - min),
            );
            return None;
        }
        Some(AggKind::Lhist { min, max, step })
    }

    fn str_call(&mut self, args: &mut [Expr], span: Span) -> Type {
        let types: Vec<Type> = args.iter_mut().map(|a| self.value_expr(a)).collect();
        if !self.arity("str", args, span, 1..=2) {
            return Type::Unknown;
        }
        match types.first() {
            Some(&t) if t.is_int() || t.is_str() || t == Type::Unknown => {}
            Some(&t) => self.error(
                span,
                format!("str() expects an integer or a string ({t} provided)"),
            ),
            None => {}
        }
        if let Some(&t) = types.get(1) {
            if !t.is_int() && t != Type::Unknown {
                self.error(
                    span,
                    format!("str() length must be an integer ({t} provided)"),
                );
            }
        }
        STR_TYPE
    }

    fn printf(&mut self, args: &mut [Expr], span: Span) {
        let types: Vec<Type> = args.iter_mut().map(|a| self.value_expr(a)).collect();
        let Some(first) = args.first() else {
            self.error(span, "printf() requires at least one argument (0 provided)");
            return;
        };
        let ExprKind::Str(format) = &first.kind else {
            let ty = types.first().copied().unwrap_or_default();
            self.error(
                span,
                format!(
                    "printf() expects a string literal ({} provided)",
                    kind_word(ty)
                ),
            );
            return;
        };
        let pieces = parse_format(format);
        let specs: Vec<_> = specs(&pieces).cloned().collect();
        let supplied = args.len() - 1;
        if supplied > specs.len() {
            self.error(
                span,
                format!("printf: Too many arguments for format string ({supplied} supplied, {} expected)", specs.len()),
            );
        }
        for (i, spec) in specs.iter().enumerate() {
            let ty = types.get(i + 1).copied();
            let ok = match ty {
                None => continue,
                Some(Type::Unknown) => true,
                Some(t) if spec.conv.wants_string() => {
                    matches!(
                        t,
                        Type::Str { .. } | Type::Stack(_) | Type::Sym | Type::Probe
                    )
                }
                Some(t) => t.is_int(),
            };
            if !ok {
                let wanted = if spec.conv.wants_string() {
                    "string"
                } else {
                    "integer"
                };
                let got = ty.map_or("none".to_string(), printf_word);
                self.error(
                    span,
                    format!(
                        "printf: {} specifier expects a value of type {wanted} ({got} supplied)",
                        spec.text
                    ),
                );
            }
        }
        if supplied < specs.len() {
            self.error(
                span,
                format!("printf: Not enough arguments for format string ({supplied} supplied, {} expected)", specs.len()),
            );
        }
    }

    /// `print(@m[, top[, div]])` and `clear(@m)`: a whole map, defined.
    fn map_argument(
        &mut self,
        name: &str,
        args: &mut [Expr],
        span: Span,
        range: std::ops::RangeInclusive<usize>,
    ) {
        if !self.arity(name, args, span, range) {
            return;
        }
        let (first, rest) = args.split_at_mut(1);
        for extra in rest.iter_mut() {
            self.expr(extra);
            if !matches!(extra.kind, ExprKind::Int(v) if v >= 0) {
                self.error(
                    extra.span,
                    format!("{name}() expects non-negative integer literals for top and div"),
                );
            }
        }
        let Some(arg) = first.first_mut() else {
            return;
        };
        let ExprKind::Map(map) = &mut arg.kind else {
            self.expr(arg);
            self.error(span, format!("{name}() expects a map to be provided"));
            return;
        };
        if !map.keys.is_empty() {
            self.error(
                span,
                format!("The map passed to {name}() should not be indexed by a key"),
            );
            return;
        }
        arg.ty = self.whole_map(&map.name, map.span);
    }

    fn whole_map(&mut self, name: &str, span: Span) -> Type {
        match self.maps.get(name).and_then(|m| m.value) {
            Some((ty, _)) => ty,
            None => {
                self.error(span, format!("Undefined map: {name}"));
                Type::Unknown
            }
        }
    }

    fn delete(&mut self, args: &mut [Expr], span: Span) {
        if !self.arity("delete", args, span, 1..=1) {
            return;
        }
        let Some(arg) = args.first_mut() else {
            return;
        };
        let ExprKind::Map(map) = &mut arg.kind else {
            self.expr(arg);
            self.error(
                span,
                "delete() expects a map element to be provided: delete(@m[key])",
            );
            return;
        };
        let mut access = map.clone();
        access.span = span;
        self.map_keys(&mut access);
        map.keys = access.keys;
        arg.ty = self.whole_map(&map.name, span);
    }
}

/// bpftrace's word for a type in printf's messages: what prints as text
/// (stacks, symbols, probe names) is a string there.
fn printf_word(ty: Type) -> String {
    match ty {
        Type::Stack(_) | Type::Sym | Type::Probe => "string".into(),
        other => kind_word(other),
    }
}

/// bpftrace's word for a type in argument messages.
fn kind_word(ty: Type) -> String {
    match ty {
        Type::Int { .. } => "integer".into(),
        Type::Str { .. } => "string".into(),
        other => other.to_string(),
    }
}
