//! Label functions: `label_replace` (anchored RE2 regex, `$1`/`${name}`
//! expansion as Go expands), `label_join`, and the labels `absent` and
//! `absent_over_time` give their result (the selector's equality matchers).

use super::Series;
use crate::eval::series::{is_valid_label_name, merge_same_labels};
use crate::PromqlError;
use model::metrics::{Labels, METRIC_NAME};
use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

/// `label_replace(v, dst, replacement, src, regex)`; `args` are the four strings.
pub(super) fn label_replace(
    series: Vec<Series>,
    args: &[String],
) -> Result<Vec<Series>, PromqlError> {
    let [dst, repl, src, regex] = args else {
        return Err(PromqlError::Parse(
            "expected 5 arguments for label_replace".into(),
        ));
    };
    let re = regex::Regex::new(&format!("^(?:{regex})$")).map_err(|_| {
        PromqlError::Execution(format!(
            "invalid regular expression in label_replace(): {regex}"
        ))
    })?;
    if !is_valid_label_name(dst) {
        return Err(PromqlError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let out = series
        .into_iter()
        .map(|mut s| {
            let value = s.labels.get(src).unwrap_or("").to_string();
            if let Some(caps) = re.captures(&value) {
                let mut res = String::new();
                caps.expand(repl, &mut res);
                s.labels.set(dst, &res);
            }
            s
        })
        .collect();
    merge_same_labels(out)
}

/// `label_join(v, dst, separator, src...)`; `args` are the strings after `v`.
pub(super) fn label_join(series: Vec<Series>, args: &[String]) -> Result<Vec<Series>, PromqlError> {
    let (Some(dst), Some(sep)) = (args.first(), args.get(1)) else {
        return Err(PromqlError::Parse(
            "expected at least 3 arguments for label_join".into(),
        ));
    };
    let srcs = &args[2..];
    for src in srcs {
        if !is_valid_label_name(src) {
            return Err(PromqlError::Execution(format!(
                "invalid source label name in label_join(): {src}"
            )));
        }
    }
    if !is_valid_label_name(dst) {
        return Err(PromqlError::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let out = series
        .into_iter()
        .map(|mut s| {
            let joined = srcs
                .iter()
                .map(|n| s.labels.get(n).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(sep);
            s.labels.set(dst, &joined);
            s
        })
        .collect();
    merge_same_labels(out)
}

/// The labels of `absent(expr)`'s result: a selector's equality matchers
/// (not the metric name); a label matched any other way, or twice, is left out.
pub(super) fn absent_labels(expr: &Expr) -> Labels {
    let vs = match expr {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::default(),
    };
    let mut labels = Labels::default();
    let mut dropped: Vec<&str> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if matches!(m.op, MatchOp::Equal) && labels.get(&m.name).is_none() {
            labels.set(&m.name, &m.value);
        } else {
            dropped.push(&m.name);
        }
    }
    for name in dropped {
        labels.set(name, "");
    }
    labels
}
