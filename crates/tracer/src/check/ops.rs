//! Operators: which operand types each accepts and what it yields
//! (integers combine as unsigned unless both are signed; strings only
//! compare with `==`/`!=`; an operand of unknown type, such as a map not yet
//! assigned, counts as an unsigned integer), with bpftrace's wording for
//! mismatches.

use super::Checker;
use crate::ast::{BinOp, UnaryOp};
use crate::span::Span;
use crate::types::Type;

impl Checker<'_> {
    pub(super) fn unary(&mut self, op: UnaryOp, ty: Type, span: Span) -> Type {
        match ty {
            // An untyped map read (`-@x` before any assignment) still gives
            // an integer, as in bpftrace.
            Type::Unknown => match op {
                UnaryOp::BitNot => Type::UINT,
                UnaryOp::Not | UnaryOp::Neg => Type::INT,
            },
            Type::Int { signed } => match op {
                UnaryOp::Not => Type::INT,
                UnaryOp::Neg => Type::INT,
                UnaryOp::BitNot => Type::Int { signed },
            },
            other => {
                let symbol = match op {
                    UnaryOp::Not => "!",
                    UnaryOp::Neg => "-",
                    UnaryOp::BitNot => "~",
                };
                let op_span = Span {
                    end: span.start + 1,
                    end_line: span.line,
                    end_col: span.col + 1,
                    ..span
                };
                self.error(
                    op_span,
                    format!(
                        "The {symbol} operator can not be used on expressions of type '{other}'"
                    ),
                );
                Type::Unknown
            }
        }
    }

    pub(super) fn binary(
        &mut self,
        op: BinOp,
        l: Type,
        r: Type,
        span: Span,
        op_span: Span,
    ) -> Type {
        if l == Type::Unknown || r == Type::Unknown {
            // bpftrace types the result of arithmetic as an integer whatever
            // its operands, so `@x + 1` with `@x` not yet typed (or never
            // assigned anything else) is an unsigned integer.
            let known = if l == Type::Unknown { r } else { l };
            return if op.is_comparison() {
                Type::INT
            } else if known.is_int() || known == Type::Unknown {
                Type::UINT
            } else {
                Type::Unknown
            };
        }
        if matches!(op, BinOp::Eq | BinOp::Ne) && l.is_str() && r.is_str() {
            return Type::INT;
        }
        self.arith(op, l, r, span, op_span)
    }

    /// Integer operators (and `==`/`!=` between integers).
    pub(super) fn arith(&mut self, op: BinOp, l: Type, r: Type, span: Span, op_span: Span) -> Type {
        match (l, r) {
            (Type::Unknown, _) | (_, Type::Unknown) => Type::Unknown,
            (Type::Int { signed: a }, Type::Int { signed: b }) => {
                if op.is_comparison() {
                    Type::INT
                } else {
                    Type::Int { signed: a && b }
                }
            }
            (a, b) if a.is_int() != b.is_int() && (a.is_int() || b.is_int()) => {
                self.error(
                    span,
                    format!(
                        "Type mismatch for '{}': comparing '{a}' with '{b}'",
                        op.symbol()
                    ),
                );
                Type::Unknown
            }
            (a, b) => {
                self.error(
                    op_span,
                    format!(
                        "The {} operator can not be used on expressions of types {a}, {b}",
                        op.symbol()
                    ),
                );
                Type::Unknown
            }
        }
    }

    pub(super) fn ternary(&mut self, a: Type, b: Type, span: Span) -> Type {
        match (a, b) {
            (Type::Unknown, _) | (_, Type::Unknown) => Type::Unknown,
            (a, b) if a.compatible(b) => a.widen(b),
            (a, b) => {
                let kind = |t: Type| {
                    if t.is_int() {
                        "integer".to_string()
                    } else if t.is_str() {
                        "string".to_string()
                    } else {
                        t.to_string()
                    }
                };
                self.error(
                    span,
                    format!(
                        "Ternary operator must return the same type: have '{}' and '{}'",
                        kind(a),
                        kind(b)
                    ),
                );
                Type::Unknown
            }
        }
    }
}
