//! `kstack(…)`/`ustack(…)` calls: an optional stack mode (`bpftrace` or
//! `perf`) and an optional frame limit, both literals, as bpftrace 0.17
//! takes them and with its messages.

use super::call::MAX_STACK_LIMIT;
use super::Checker;
use crate::ast::{Expr, ExprKind};
use crate::span::Span;
use crate::types::{StackType, Type};

/// bpftrace's word for what an argument is, in "expects a … literal (X provided)".
fn provided(ty: Type) -> String {
    match ty {
        Type::Int { .. } => "integer".into(),
        Type::Str { .. } => "string".into(),
        Type::Unknown => "none".into(),
        other => other.to_string(),
    }
}

/// A stack mode written as a bare word (`perf`, `bpftrace`): true for perf.
fn mode(arg: &Expr) -> Option<bool> {
    match &arg.kind {
        ExprKind::Ident(word) if word == "perf" => Some(true),
        ExprKind::Ident(word) if word == "bpftrace" => Some(false),
        _ => None,
    }
}

impl Checker<'_> {
    /// Checks the arguments of `kstack(…)`/`ustack(…)` and returns the
    /// stack type they ask for (the default where they are wrong).
    pub(super) fn stack_call(&mut self, user: bool, args: &mut [Expr], span: Span) -> StackType {
        let name = if user { "ustack" } else { "kstack" };
        let mut stack = StackType {
            user,
            limit: 0,
            perf: false,
        };
        if args.len() > 2 {
            for arg in args.iter_mut() {
                if mode(arg).is_none() {
                    self.value_expr(arg);
                }
            }
            self.error(
                span,
                format!("{name}() takes up to 2 arguments ({} provided)", args.len()),
            );
            return stack;
        }
        let (mode_arg, limit_arg) = match args {
            [] => (None, None),
            [only] if mode(only).is_some() => (Some(only), None),
            [only] => (None, Some(only)),
            [first, second] => (Some(first), Some(second)),
            _ => (None, None),
        };
        if let Some(arg) = mode_arg {
            match mode(arg) {
                Some(perf) => stack.perf = perf,
                None => {
                    let ty = self.value_expr(arg);
                    self.error(
                        span,
                        format!(
                            "{name}() expects a stack mode literal ({} provided)",
                            provided(ty)
                        ),
                    );
                }
            }
        }
        if let Some(arg) = limit_arg {
            let ty = if mode(arg).is_some() {
                Type::Unknown
            } else {
                self.value_expr(arg)
            };
            match arg.kind {
                ExprKind::Int(n) if n > MAX_STACK_LIMIT => self.error(
                    span,
                    format!(
                        "{name}([int limit]): limit shouldn't exceed {MAX_STACK_LIMIT}, {n} given"
                    ),
                ),
                ExprKind::Int(n) if n < 1 => self.error(
                    span,
                    format!("{name}([int limit]): limit must be at least 1, {n} given"),
                ),
                ExprKind::Int(n) => stack.limit = u16::try_from(n).unwrap_or(0),
                _ => self.error(
                    span,
                    format!(
                        "{name}() expects a integer literal ({} provided)",
                        provided(ty)
                    ),
                ),
            }
        }
        stack
    }

    /// Remembers a stack type the program uses (its map is made per limit).
    pub(super) fn note_stack(&mut self, stack: StackType, span: Span) {
        if self.report {
            self.stacks.entry(stack).or_insert(span);
        }
    }
}
