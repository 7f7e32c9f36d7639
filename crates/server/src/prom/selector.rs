//! Series selectors of `match[]` and of `/api/v1/query_exemplars`, parsed
//! with `promql-parser` and turned into the store's [`Matcher`] sets.
//!
//! A selector is one matcher set; `{a="1" or b="2"}` is one set per branch.
//! As in Prometheus, each set must hold a matcher that does not match the
//! empty string, so `{job=~".*"}` cannot select every series by accident.

use promql_parser::label::{MatchOp as ParserOp, Matcher as ParserMatcher, METRIC_NAME};
use promql_parser::parser::{self, Expr, VectorSelector};
use promql_parser::util::{walk_expr, ExprVisitor};
use store::series::{MatchOp, Matcher};

/// Prometheus's text for a selector that would match every series.
const NON_EMPTY: &str = "match[] must contain at least one non-empty matcher";

/// Parses each `match[]` value as a series selector; the union of their sets.
pub fn parse_match_params(values: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    let mut sets = Vec::new();
    for text in values {
        let expr = parser::parse(text).map_err(|e| {
            if e.contains("at least one non-empty matcher") {
                NON_EMPTY.to_string()
            } else {
                e
            }
        })?;
        let Expr::VectorSelector(selector) = expr else {
            return Err(format!(
                "1:1: parse error: expected a series selector, got {text:?}"
            ));
        };
        sets.extend(matcher_sets(&selector)?);
    }
    for set in &sets {
        if set.iter().all(Matcher::matches_empty) {
            return Err(NON_EMPTY.into());
        }
    }
    Ok(sets)
}

/// The matcher sets of every selector in a query (Prometheus's `ExtractSelectors`).
pub fn query_selectors(query: &str) -> Result<Vec<Vec<Matcher>>, String> {
    let expr = parser::parse(query)?;
    let mut collector = Collector::default();
    let _ = walk_expr(&mut collector, &expr);
    match collector.error {
        Some(e) => Err(e),
        None => Ok(collector.sets),
    }
}

#[derive(Default)]
struct Collector {
    sets: Vec<Vec<Matcher>>,
    error: Option<String>,
}

impl ExprVisitor for Collector {
    type Error = ();

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
        let selector = match expr {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &ms.vs,
            _ => return Ok(true),
        };
        match matcher_sets(selector) {
            Ok(more) => self.sets.extend(more),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        Ok(true)
    }
}

/// The store matcher sets of one parsed selector (its metric name included;
/// one set per `or` branch). Shared with the Pyroscope selectors.
pub(crate) fn matcher_sets(selector: &VectorSelector) -> Result<Vec<Vec<Matcher>>, String> {
    let mut base = Vec::new();
    if let Some(name) = &selector.name {
        base.push(Matcher::equal(METRIC_NAME, name.as_str()));
    }
    let mut common = base.clone();
    for m in &selector.matchers.matchers {
        common.push(convert(m)?);
    }
    if selector.matchers.or_matchers.is_empty() {
        return Ok(vec![common]);
    }
    let mut sets = Vec::new();
    for branch in &selector.matchers.or_matchers {
        let mut set = base.clone();
        for m in branch {
            set.push(convert(m)?);
        }
        sets.push(set);
    }
    Ok(sets)
}

fn convert(m: &ParserMatcher) -> Result<Matcher, String> {
    let op = match m.op {
        ParserOp::Equal => MatchOp::Equal,
        ParserOp::NotEqual => MatchOp::NotEqual,
        ParserOp::Re(_) => MatchOp::Regex,
        ParserOp::NotRe(_) => MatchOp::NotRegex,
    };
    Matcher::new(op, m.name.as_str(), m.value.as_str()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(sets: &[Vec<Matcher>]) -> Vec<Vec<String>> {
        sets.iter()
            .map(|set| {
                set.iter()
                    .map(|m| format!("{}{:?}{}", m.name, m.op, m.value))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn match_params_become_matcher_sets() {
        let sets = parse_match_params(&["up{job=~\"a.*\",code!=\"500\"}", "{__name__=\"x\"}"])
            .expect("valid selectors");
        assert_eq!(
            describe(&sets),
            [
                vec!["__name__Equalup", "jobRegexa.*", "codeNotEqual500"],
                vec!["__name__Equalx"],
            ]
        );
        assert!(parse_match_params(&["rate(x[1m])"]).is_err());
        assert!(parse_match_params(&["foo("]).is_err());
        assert!(parse_match_params(&[""]).is_err());
        assert_eq!(
            parse_match_params(&["{job=~\".*\"}"]).err().as_deref(),
            Some("match[] must contain at least one non-empty matcher")
        );
    }

    #[test]
    fn query_selectors_come_from_the_whole_expression() {
        let sets =
            query_selectors("sum(rate(a_total[5m])) / on() b{x=\"1\"} + 1").expect("valid query");
        assert_eq!(
            describe(&sets),
            [
                vec!["__name__Equala_total"],
                vec!["__name__Equalb", "xEqual1"]
            ]
        );
        assert!(query_selectors("1 + 1").expect("valid").is_empty());
    }
}
