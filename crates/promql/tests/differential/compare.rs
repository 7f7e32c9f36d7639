//! The equality the suite demands: same outcome (both fail, or both answer),
//! same resultType, same series (label sets), same timestamps, values equal
//! within relative error 1e-9 (or 1e-12 absolute, for sums that cancel to 0),
//! NaN equal to NaN. Vectors compare as sets, except that a query whose
//! outermost call sorts (`sort`, `sort_desc`, `topk`/`bottomk` without
//! grouping) must also list its values in Prometheus's order.

use crate::answer::{fmt_metric, fmt_value, Answer, Metric, Outcome};
use std::collections::BTreeMap;

/// Most diff lines kept per failed case.
const MAX_LINES: usize = 4;

/// Whether two sample values count as equal.
pub fn same_value(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let diff = (a - b).abs();
    diff <= 1e-9 * a.abs().max(b.abs()) || diff <= 1e-12
}

/// Whether the query's whole expression is one sorting call, so the
/// order of an instant vector is part of the answer.
pub fn is_ordered(query: &str) -> bool {
    let q = query.trim();
    let Some(open) = q.find('(') else {
        return false;
    };
    if !matches!(q[..open].trim(), "sort" | "sort_desc" | "topk" | "bottomk") {
        return false;
    }
    // The call's closing parenthesis must end the query (no `by`, no operator).
    let mut depth = 0i32;
    let mut in_string: Option<char> = None;
    let mut escaped = false;
    for (i, c) in q.char_indices().skip_while(|(i, _)| *i < open) {
        if let Some(quote) = in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == quote {
                in_string = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => in_string = Some(c),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1 == q.len();
                }
            }
            _ => {}
        }
    }
    false
}

/// `Ok` when `subject` matches `reference`; otherwise a few lines saying how not.
pub fn compare(
    reference: &Outcome,
    subject: &Outcome,
    ordered: bool,
    fmt_t: &dyn Fn(i64) -> String,
) -> Result<(), Vec<String>> {
    let (want, got) = match (reference, subject) {
        (Err(_), Err(_)) => return Ok(()),
        (Err(e), Ok(got)) => {
            return Err(vec![format!(
                "Prometheus failed ({e}) but ours answered {}",
                got.summary()
            )])
        }
        (Ok(want), Err(e)) => {
            return Err(vec![format!(
                "ours failed ({e}); Prometheus answered {}",
                want.summary()
            )])
        }
        (Ok(want), Ok(got)) => (want, got),
    };
    let mut lines = Vec::new();
    match (want, got) {
        (Answer::Scalar { t: t1, v: v1 }, Answer::Scalar { t: t2, v: v2 }) => {
            if t1 != t2 || !same_value(*v1, *v2) {
                lines.push(format!(
                    "scalar: Prometheus {} @{}, ours {} @{}",
                    fmt_value(*v1),
                    fmt_t(*t1),
                    fmt_value(*v2),
                    fmt_t(*t2)
                ));
            }
        }
        (Answer::String { t: t1, s: s1 }, Answer::String { t: t2, s: s2 }) => {
            if t1 != t2 || s1 != s2 {
                lines.push(format!("string: Prometheus {s1:?}, ours {s2:?}"));
            }
        }
        (Answer::Vector(w), Answer::Vector(g)) => compare_vectors(w, g, ordered, fmt_t, &mut lines),
        (Answer::Matrix(w), Answer::Matrix(g)) => compare_matrices(w, g, fmt_t, &mut lines),
        _ => lines.push(format!(
            "resultType: Prometheus {} ({}), ours {} ({})",
            want.result_type(),
            want.summary(),
            got.result_type(),
            got.summary()
        )),
    }
    if lines.is_empty() {
        Ok(())
    } else {
        if lines.len() > MAX_LINES {
            let more = lines.len() - MAX_LINES;
            lines.truncate(MAX_LINES);
            lines.push(format!("… and {more} more differences"));
        }
        Err(lines)
    }
}

/// Series keyed by labels; a repeated label set is itself a difference.
fn keyed<'a, T>(
    items: impl Iterator<Item = (&'a Metric, T)>,
    side: &str,
    lines: &mut Vec<String>,
) -> BTreeMap<&'a Metric, T> {
    let mut map = BTreeMap::new();
    for (metric, value) in items {
        if map.insert(metric, value).is_some() {
            lines.push(format!("{side} lists {} twice", fmt_metric(metric)));
        }
    }
    map
}

fn compare_vectors(
    want: &[(Metric, i64, f64)],
    got: &[(Metric, i64, f64)],
    ordered: bool,
    fmt_t: &dyn Fn(i64) -> String,
    lines: &mut Vec<String>,
) {
    let w = keyed(
        want.iter().map(|(m, t, v)| (m, (*t, *v))),
        "Prometheus",
        lines,
    );
    let g = keyed(got.iter().map(|(m, t, v)| (m, (*t, *v))), "ours", lines);
    for (metric, (t, v)) in &w {
        match g.get(metric) {
            None => lines.push(format!("missing {} {}", fmt_metric(metric), fmt_value(*v))),
            Some((t2, v2)) if t != t2 || !same_value(*v, *v2) => lines.push(format!(
                "{}: Prometheus {} @{}, ours {} @{}",
                fmt_metric(metric),
                fmt_value(*v),
                fmt_t(*t),
                fmt_value(*v2),
                fmt_t(*t2)
            )),
            Some(_) => {}
        }
    }
    for (metric, (_, v)) in &g {
        if !w.contains_key(metric) {
            lines.push(format!("extra {} {}", fmt_metric(metric), fmt_value(*v)));
        }
    }
    if ordered && lines.is_empty() {
        let order_w: Vec<f64> = want.iter().map(|s| s.2).collect();
        let order_g: Vec<f64> = got.iter().map(|s| s.2).collect();
        if !order_w
            .iter()
            .zip(&order_g)
            .all(|(a, b)| same_value(*a, *b))
        {
            let show = |v: &[f64]| {
                v.iter()
                    .map(|x| fmt_value(*x))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            lines.push(format!(
                "order of values: Prometheus [{}], ours [{}]",
                show(&order_w),
                show(&order_g)
            ));
        }
    }
}

fn compare_matrices(
    want: &[(Metric, Vec<(i64, f64)>)],
    got: &[(Metric, Vec<(i64, f64)>)],
    fmt_t: &dyn Fn(i64) -> String,
    lines: &mut Vec<String>,
) {
    let w = keyed(want.iter().map(|(m, p)| (m, p)), "Prometheus", lines);
    let g = keyed(got.iter().map(|(m, p)| (m, p)), "ours", lines);
    for (metric, points) in &w {
        let Some(ours) = g.get(metric) else {
            lines.push(format!(
                "missing {} ({} points)",
                fmt_metric(metric),
                points.len()
            ));
            continue;
        };
        let first_diff = points
            .iter()
            .zip(ours.iter())
            .find(|((t1, v1), (t2, v2))| t1 != t2 || !same_value(*v1, *v2));
        let show = |p: Option<&(i64, f64)>| match p {
            Some((t, v)) => format!("{} @{}", fmt_value(*v), fmt_t(*t)),
            None => "nothing".into(),
        };
        if let Some((a, b)) = first_diff {
            lines.push(format!(
                "{}: first difference: Prometheus {}, ours {}{}",
                fmt_metric(metric),
                show(Some(a)),
                show(Some(b)),
                if points.len() == ours.len() {
                    String::new()
                } else {
                    format!(" ({} vs {} points)", points.len(), ours.len())
                }
            ));
        } else if points.len() != ours.len() {
            let n = points.len().min(ours.len());
            lines.push(format!(
                "{}: Prometheus has {} points, ours {}; next: Prometheus {}, ours {}",
                fmt_metric(metric),
                points.len(),
                ours.len(),
                show(points.get(n)),
                show(ours.get(n))
            ));
        }
    }
    for (metric, points) in &g {
        if !w.contains_key(metric) {
            lines.push(format!(
                "extra {} ({} points)",
                fmt_metric(metric),
                points.len()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_with_nan_and_tolerance() {
        assert!(same_value(f64::NAN, f64::NAN));
        assert!(!same_value(f64::NAN, 1.0));
        assert!(same_value(f64::INFINITY, f64::INFINITY));
        assert!(!same_value(f64::INFINITY, f64::NEG_INFINITY));
        assert!(same_value(1e9, 1e9 + 0.5));
        assert!(!same_value(1.0, 1.0 + 1e-6));
        assert!(same_value(0.0, 1e-15));
    }

    #[test]
    fn ordered_only_for_a_whole_sorting_call() {
        assert!(is_ordered("sort_desc(rate(x[5m]))"));
        assert!(is_ordered(" topk(3, x{a=\")\"}) "));
        assert!(!is_ordered("sort(x) + 1"));
        assert!(!is_ordered("topk by (job) (1, x)"));
        assert!(!is_ordered("sum(x)"));
    }
}

#[cfg(test)]
mod diff_tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> Metric {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn t(ms: i64) -> String {
        format!("{ms}")
    }

    #[test]
    fn vectors_report_missing_extra_and_changed_series() {
        let a = m(&[("job", "a")]);
        let b = m(&[("job", "b")]);
        let c = m(&[("job", "c")]);
        let want = Ok(Answer::Vector(vec![
            (a.clone(), 1, 1.0),
            (b.clone(), 1, 2.0),
        ]));
        let got = Ok(Answer::Vector(vec![(b.clone(), 1, 2.5), (c, 1, 3.0)]));
        let lines = compare(&want, &got, false, &t).expect_err("differs");
        assert_eq!(
            lines,
            [
                "missing {job=\"a\"} 1",
                "{job=\"b\"}: Prometheus 2 @1, ours 2.5 @1",
                "extra {job=\"c\"} 3"
            ]
        );
        // Same set in another order passes unless the order matters.
        let want = Ok(Answer::Vector(vec![
            (a.clone(), 1, 1.0),
            (b.clone(), 1, 2.0),
        ]));
        let got = Ok(Answer::Vector(vec![(b, 1, 2.0), (a, 1, 1.0)]));
        assert!(compare(&want, &got, false, &t).is_ok());
        assert!(compare(&want, &got, true, &t).is_err());
    }

    #[test]
    fn matrices_report_the_first_differing_point() {
        let a = m(&[("__name__", "up")]);
        let want = Ok(Answer::Matrix(vec![(
            a.clone(),
            vec![(1, 1.0), (2, f64::NAN), (3, 3.0)],
        )]));
        let got = Ok(Answer::Matrix(vec![(a, vec![(1, 1.0), (2, f64::NAN)])]));
        let lines = compare(&want, &got, false, &t).expect_err("differs");
        assert_eq!(
            lines,
            ["up: Prometheus has 3 points, ours 2; next: Prometheus 3 @3, ours nothing"]
        );
    }

    #[test]
    fn errors_match_as_both_fail() {
        assert!(compare(&Err("bad_data: x".into()), &Err("other".into()), false, &t).is_ok());
        let lines = compare(
            &Ok(Answer::Scalar { t: 1, v: 1.0 }),
            &Err("boom".into()),
            false,
            &t,
        )
        .expect_err("one failed");
        assert_eq!(lines, ["ours failed (boom); Prometheus answered scalar 1"]);
    }
}
