//! Expressions, by C precedence: ternary, `||`, `&&`, `|`, `^`, `&`,
//! equality, relational, shifts, additive, multiplicative, unary, primary.
//!
//! Inside a `/predicate/` a `/` followed by `{` closes the predicate instead
//! of dividing. `-` applied to an integer literal folds into the literal, so
//! `lhist(x, -10, 10, 1)` has literal bounds.

use super::Parser;
use crate::ast::{BinOp, Builtin, Expr, ExprKind, Function, UnaryOp};
use crate::diag::Diagnostics;
use crate::lex::Tok;

/// Binary operators by precedence level, loosest first.
const LEVELS: &[&[(Tok, BinOp)]] = &[
    &[(Tok::OrOr, BinOp::Or)],
    &[(Tok::AndAnd, BinOp::And)],
    &[(Tok::Pipe, BinOp::BitOr)],
    &[(Tok::Caret, BinOp::BitXor)],
    &[(Tok::Amp, BinOp::BitAnd)],
    &[(Tok::EqEq, BinOp::Eq), (Tok::Ne, BinOp::Ne)],
    &[
        (Tok::Lt, BinOp::Lt),
        (Tok::Le, BinOp::Le),
        (Tok::Gt, BinOp::Gt),
        (Tok::Ge, BinOp::Ge),
    ],
    &[(Tok::Shl, BinOp::Shl), (Tok::Shr, BinOp::Shr)],
    &[(Tok::Plus, BinOp::Add), (Tok::Minus, BinOp::Sub)],
    &[
        (Tok::Star, BinOp::Mul),
        (Tok::Slash, BinOp::Div),
        (Tok::Percent, BinOp::Mod),
    ],
];

/// The binary operator an (arithmetic) token stands for, for `op=`.
pub(super) fn binary_op(tok: &Tok) -> Option<BinOp> {
    LEVELS
        .iter()
        .flat_map(|level| level.iter())
        .find(|(t, op)| t == tok && !op.is_comparison())
        .map(|(_, op)| *op)
}

impl Parser {
    /// A full expression (ternary level).
    pub(crate) fn expr(&mut self) -> Result<Expr, Diagnostics> {
        let start = self.peek().span;
        self.enter(start)?;
        let cond = self.binary(0)?;
        let result = if self.eat(&Tok::Question).is_some() {
            let then_expr = self.expr()?;
            self.expect(&Tok::Colon, ":")?;
            let else_expr = self.expr()?;
            let span = cond.span.to(else_expr.span);
            Expr::new(
                ExprKind::Ternary {
                    cond: Box::new(cond),
                    then_expr: Box::new(then_expr),
                    else_expr: Box::new(else_expr),
                },
                span,
            )
        } else {
            cond
        };
        self.leave();
        Ok(result)
    }

    /// Precedence climbing: operators of `min_level` or tighter.
    fn binary(&mut self, min_level: usize) -> Result<Expr, Diagnostics> {
        let mut lhs = self.unary()?;
        loop {
            let tok = &self.peek().tok;
            let found = LEVELS
                .iter()
                .enumerate()
                .skip(min_level)
                .find_map(|(level, ops)| {
                    ops.iter()
                        .find(|(t, _)| t == tok)
                        .map(|&(_, op)| (level, op))
                });
            let Some((level, op)) = found else {
                return Ok(lhs);
            };
            if op == BinOp::Div && self.in_predicate && self.peek_at(1) == &Tok::LBrace {
                return Ok(lhs);
            }
            let op_span = self.next().span;
            let rhs = self.binary(level + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr::new(
                ExprKind::Binary {
                    op,
                    op_span,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            );
        }
    }

    fn unary(&mut self) -> Result<Expr, Diagnostics> {
        let op = match self.peek().tok {
            Tok::Bang => UnaryOp::Not,
            Tok::Minus => UnaryOp::Neg,
            Tok::Tilde => UnaryOp::BitNot,
            _ => return self.primary(),
        };
        let op_span = self.next().span;
        self.enter(op_span)?;
        let operand = self.unary();
        self.leave();
        let operand = operand?;
        let span = op_span.to(operand.span);
        if let (UnaryOp::Neg, ExprKind::Int(value)) = (op, &operand.kind) {
            return Ok(Expr::new(ExprKind::Int(value.wrapping_neg()), span));
        }
        Ok(Expr::new(
            ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        ))
    }

    fn primary(&mut self) -> Result<Expr, Diagnostics> {
        let token = self.peek().clone();
        let span = token.span;
        match token.tok {
            Tok::Int(value) => {
                self.next();
                Ok(Expr::new(ExprKind::Int(value), span))
            }
            Tok::Str(value) => {
                self.next();
                Ok(Expr::new(ExprKind::Str(value), span))
            }
            Tok::LParen => {
                self.next();
                let saved = self.in_predicate;
                self.in_predicate = false;
                let inner = self.expr();
                self.in_predicate = saved;
                let inner = inner?;
                self.expect(&Tok::RParen, ") or \",\"")?;
                Ok(inner)
            }
            Tok::Map(name) => {
                self.next();
                let access = self.map_access(name, span)?;
                let span = access.span;
                Ok(Expr::new(ExprKind::Map(access), span))
            }
            Tok::Var(name) => {
                self.next();
                Ok(Expr::new(ExprKind::Var(name), span))
            }
            Tok::Ident(name) => {
                self.next();
                self.identifier(name, span)
            }
            _ => Err(self.unexpected("")),
        }
    }

    fn identifier(&mut self, name: String, span: crate::span::Span) -> Result<Expr, Diagnostics> {
        if matches!(name.as_str(), "if" | "else") {
            self.pos -= 1;
            return Err(self.unexpected(""));
        }
        if self.at(&Tok::LParen) {
            return self.call(name, span);
        }
        if name == "args" {
            if self.eat(&Tok::Dot).is_some() || self.eat(&Tok::Arrow).is_some() {
                let field = self.peek().clone();
                let Tok::Ident(field_name) = field.tok else {
                    return Err(self.unexpected("a field name"));
                };
                self.next();
                return Ok(Expr::new(
                    ExprKind::TracepointArg { field: field_name },
                    span.to(field.span),
                ));
            }
            return Err(Diagnostics::one(
                span,
                "args must be followed by a field: args.NAME (or args->NAME)",
            ));
        }
        if self.at(&Tok::Dot) || self.at(&Tok::Arrow) {
            return Err(Diagnostics::one(
                self.peek().span,
                "field access is only supported on args (args.NAME)",
            ));
        }
        let kind = match Builtin::from_name(&name) {
            Some(builtin) => ExprKind::Builtin(builtin),
            None => ExprKind::Ident(name),
        };
        Ok(Expr::new(kind, span))
    }

    fn call(&mut self, name: String, name_span: crate::span::Span) -> Result<Expr, Diagnostics> {
        self.expect(&Tok::LParen, "(")?;
        let saved = self.in_predicate;
        self.in_predicate = false;
        let mut args = Vec::new();
        if !self.at(&Tok::RParen) {
            loop {
                match self.expr() {
                    Ok(arg) => args.push(arg),
                    Err(e) => {
                        self.in_predicate = saved;
                        return Err(e);
                    }
                }
                if self.eat(&Tok::Comma).is_none() {
                    break;
                }
            }
        }
        self.in_predicate = saved;
        let close = self.expect(&Tok::RParen, ") or \",\"")?;
        Ok(Expr::new(
            ExprKind::Call {
                func: Function::from_name(&name),
                name_span,
                args,
            },
            name_span.to(close),
        ))
    }
}
