//! Rejects what the parser (which follows Prometheus 3.x) accepts but
//! Prometheus 2.42 does not: 3.x-only functions and aggregations, `or`
//! between label matchers, `fill` modifiers. Runs before evaluation, so such
//! a query is a `bad_data` error whatever the data.

use super::functions::is_known;
use crate::PromqlError;
use promql_parser::parser::token::{T_LIMITK, T_LIMIT_RATIO};
use promql_parser::parser::Expr;

/// Rejects a plain number used as a duration (`x[5]`, `offset 5`): Prometheus
/// 2.x refuses it, and the parser would turn `x[1e400]` or `offset Inf` into
/// a `Duration` by panicking.
pub(crate) fn guard_durations(query: &str) -> Result<(), PromqlError> {
    use lrpar::{Lexeme, Lexer, NonStreamingLexer};
    use promql_parser::parser::token::{T_ADD, T_COLON, T_LEFT_BRACKET, T_NUMBER, T_OFFSET, T_SUB};
    // Lexing errors are the parser's to report.
    let Ok(lexer) = promql_parser::parser::lex::lexer(query) else {
        return Ok(());
    };
    let mut prev: [Option<u16>; 2] = [None, None];
    for lexeme in lexer.iter() {
        let Ok(lexeme) = lexeme else {
            return Ok(());
        };
        let id = lexeme.tok_id();
        if id == T_NUMBER {
            let duration_slot = matches!(prev[1], Some(T_LEFT_BRACKET | T_COLON | T_OFFSET))
                || (matches!(prev[1], Some(T_ADD | T_SUB)) && prev[0] == Some(T_OFFSET));
            if duration_slot {
                // Prometheus 2.x wants a unit here (`[5m]`, `offset 1h`); the
                // parser (3.x) would also take seconds, or panic on `1e400`.
                let text = lexer.span_str(lexeme.span());
                return Err(PromqlError::Parse(format!(
                    "unexpected number {text:?} in a range or offset: a duration needs a unit (e.g. 5m, 30s)"
                )));
            }
        }
        prev = [prev[1], Some(id)];
    }
    Ok(())
}

/// Deepest expression nesting evaluated (evaluation recurses once per level,
/// and a server evaluates on threads with small stacks).
pub(crate) const MAX_DEPTH: usize = 200;

/// Checks the whole tree.
pub(crate) fn validate(expr: &Expr) -> Result<(), PromqlError> {
    check(expr, 0)
}

fn check(expr: &Expr, depth: usize) -> Result<(), PromqlError> {
    if depth > MAX_DEPTH {
        return Err(PromqlError::Parse(format!(
            "expression nests deeper than {MAX_DEPTH} levels; simplify the query"
        )));
    }
    let validate = |e: &Expr| check(e, depth + 1);
    match expr {
        Expr::Aggregate(a) => {
            if matches!(a.op.id(), T_LIMITK | T_LIMIT_RATIO) {
                return Err(PromqlError::Parse(format!(
                    "unknown aggregation operator {} (not in Prometheus 2.x)",
                    a.op
                )));
            }
            if let Some(p) = &a.param {
                validate(p)?;
            }
            validate(&a.expr)
        }
        Expr::Unary(u) => validate(&u.expr),
        Expr::Binary(b) => {
            if let Some(m) = &b.modifier {
                if m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some() {
                    return Err(PromqlError::Parse(
                        "fill modifiers are not supported (Prometheus 2.x has none)".into(),
                    ));
                }
            }
            validate(&b.lhs)?;
            validate(&b.rhs)
        }
        Expr::Paren(p) => validate(&p.expr),
        Expr::Subquery(s) => validate(&s.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Ok(()),
        Expr::VectorSelector(vs) => selector_ok(&vs.matchers.or_matchers),
        Expr::MatrixSelector(ms) => selector_ok(&ms.vs.matchers.or_matchers),
        Expr::Call(c) => {
            if !is_known(c.func.name) {
                return Err(PromqlError::Parse(format!(
                    "unknown function with name \"{}\"",
                    c.func.name
                )));
            }
            c.args.args.iter().try_for_each(|a| check(a, depth + 1))
        }
        Expr::Extension(_) => Err(PromqlError::Parse(
            "extension expressions are not supported".into(),
        )),
    }
}

fn selector_ok<T>(or_matchers: &[T]) -> Result<(), PromqlError> {
    if or_matchers.is_empty() {
        Ok(())
    } else {
        Err(PromqlError::Parse(
            "`or` inside label matchers is not supported (Prometheus 2.x has no such syntax)"
                .into(),
        ))
    }
}
