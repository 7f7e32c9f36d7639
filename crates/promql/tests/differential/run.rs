//! Runs every query at every evaluation on the reference (Prometheus) and the
//! subject, and keeps score: passes, differences, and "reference problems" —
//! a query of ours that Prometheus itself does not answer as queries.txt says
//! (fails when it should answer, answers when it should fail), which makes the
//! suite itself wrong whatever the subject does.

use crate::answer::{truncate, Outcome};
use crate::cases::{evals, fmt_offset, resolve, Eval, Mode, Query};
use crate::compare::{compare, is_ordered};
use crate::target::Target;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// One case that did not pass.
pub struct Failure {
    pub query: Query,
    pub eval: Eval,
    pub lines: Vec<String>,
}

#[derive(Default)]
pub struct Report {
    pub total: usize,
    /// Evaluations Prometheus answered with an empty vector or matrix.
    pub empty_reference: usize,
    pub passed: usize,
    pub failures: Vec<Failure>,
    pub reference_problems: Vec<Failure>,
    /// Queries Prometheus answered with nothing at every evaluation.
    pub always_empty: Vec<Query>,
    /// Both failed, as required, but with another errorType (the HTTP API
    /// answers with it and its status code): a note, not a failure.
    pub error_type_notes: Vec<Failure>,
    /// Per `# --- section ---` of queries.txt: (name, passed, total).
    pub sections: Vec<(String, usize, usize)>,
    /// Evaluations per query line.
    pub evals_per_query: std::collections::BTreeMap<usize, usize>,
    pub reference_time: Duration,
    pub subject_time: Duration,
}

fn run_one(target: &dyn Target, query: &str, eval: Eval, t0: i64) -> (Outcome, Duration) {
    let started = Instant::now();
    let outcome = match eval {
        Eval::Instant { t } => target.instant(query, t0 + t),
        Eval::Range { start, end, step } => target.range(query, t0 + start, t0 + end, step),
    };
    (outcome, started.elapsed())
}

/// Evaluates every query everywhere on both targets.
pub fn run(queries: &[Query], reference: &dyn Target, subject: &dyn Target, t0: i64) -> Report {
    let mut report = Report::default();
    let fmt_t = |ms: i64| fmt_offset(ms - t0);
    for query in queries {
        let text = match resolve(&query.text, t0) {
            Ok(text) => text,
            Err(e) => {
                report.reference_problems.push(Failure {
                    query: query.clone(),
                    eval: evals(query)[0],
                    lines: vec![e],
                });
                continue;
            }
        };
        let ordered = is_ordered(&text);
        let mut any_data = false;
        if report.sections.last().is_none_or(|s| s.0 != query.section) {
            report.sections.push((query.section.clone(), 0, 0));
        }
        for eval in evals(query) {
            report.total += 1;
            *report.evals_per_query.entry(query.line).or_default() += 1;
            if let Some(section) = report.sections.last_mut() {
                section.2 += 1;
            }
            let (want, took) = run_one(reference, &text, eval, t0);
            report.reference_time += took;
            let expected_error = query.mode == Mode::Error;
            match (&want, expected_error) {
                (Ok(answer), false) => {
                    any_data |= !answer.is_empty();
                    report.empty_reference += usize::from(answer.is_empty());
                }
                (Err(_), true) => {}
                (Ok(answer), true) => report.reference_problems.push(Failure {
                    query: query.clone(),
                    eval,
                    lines: vec![format!(
                        "marked error: but Prometheus answered {}",
                        answer.summary()
                    )],
                }),
                (Err(e), false) => report.reference_problems.push(Failure {
                    query: query.clone(),
                    eval,
                    lines: vec![format!("Prometheus failed: {e}")],
                }),
            }
            let (got, took) = run_one(subject, &text, eval, t0);
            report.subject_time += took;
            if let (Err(e1), Err(e2)) = (&want, &got) {
                let type_of = |e: &str| e.split(':').next().unwrap_or("").to_string();
                if type_of(e1) != type_of(e2) {
                    report.error_type_notes.push(Failure {
                        query: query.clone(),
                        eval,
                        lines: vec![format!("Prometheus {e1}; ours {e2}")],
                    });
                }
            }
            let ordered = ordered && matches!(eval, Eval::Instant { .. });
            match compare(&want, &got, ordered, &fmt_t) {
                Ok(()) => {
                    report.passed += 1;
                    if let Some(section) = report.sections.last_mut() {
                        section.1 += 1;
                    }
                }
                Err(lines) => report.failures.push(Failure {
                    query: query.clone(),
                    eval,
                    lines,
                }),
            }
        }
        if !any_data && query.mode != Mode::Error {
            report.always_empty.push(query.clone());
        }
    }
    report
}

impl Report {
    /// The summary line the suite is judged by.
    pub fn summary(&self) -> String {
        format!(
            "promql differential: {} passed, {} failed (of {})",
            self.passed,
            self.failures.len(),
            self.total
        )
    }

    /// Failures grouped by query: at most `max_queries` queries, each with
    /// its first `per_query` failing evaluations; then notes, pass counts per
    /// section and the summary.
    pub fn render(
        &self,
        subject: &str,
        queries: usize,
        max_queries: usize,
        per_query: usize,
    ) -> String {
        let mut out = String::new();
        for (title, list) in [
            (
                "REFERENCE PROBLEM (fix queries.txt)",
                &self.reference_problems,
            ),
            ("FAIL", &self.failures),
        ] {
            let groups: Vec<&[Failure]> =
                list.chunk_by(|a, b| a.query.line == b.query.line).collect();
            for group in groups.iter().take(max_queries) {
                let query = &group[0].query;
                let _ = writeln!(
                    out,
                    "{title} queries.txt:{} `{}`: {} of {} evaluations",
                    query.line,
                    truncate(&query.text, 160),
                    group.len(),
                    self.evals_per_query.get(&query.line).copied().unwrap_or(0)
                );
                for f in group.iter().take(per_query) {
                    let _ = writeln!(out, "  {}", f.eval.describe());
                    for line in &f.lines {
                        let _ = writeln!(out, "    {}", truncate(line, 400));
                    }
                }
            }
            if groups.len() > max_queries {
                let _ = writeln!(
                    out,
                    "… {} more queries with {title} not shown",
                    groups.len() - max_queries
                );
            }
        }
        for f in &self.error_type_notes {
            let _ = writeln!(
                out,
                "note: queries.txt:{} `{}` {}: both fail, errorType differs: {}",
                f.query.line,
                f.query.text,
                f.eval.describe(),
                f.lines.join("; ")
            );
        }
        for q in &self.always_empty {
            let _ = writeln!(
                out,
                "note: queries.txt:{} `{}` is empty in Prometheus at every evaluation",
                q.line, q.text
            );
        }
        let _ = writeln!(out, "passed per section:");
        for (name, passed, total) in &self.sections {
            let _ = writeln!(out, "  {passed:>5} / {total:<5} {name}");
        }
        let _ = writeln!(
            out,
            "{queries} queries, {} evaluations ({} empty in Prometheus); Prometheus took {:.1} s, {subject} {:.1} s",
            self.total,
            self.empty_reference,
            self.reference_time.as_secs_f64(),
            self.subject_time.as_secs_f64()
        );
        let _ = writeln!(out, "{}", self.summary());
        out
    }
}
