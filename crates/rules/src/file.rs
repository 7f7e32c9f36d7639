//! `--rules FILE`: Prometheus rule files, unchanged (the format of
//! Prometheus 2.42, which dev/test runs beside us):
//!
//! ```yaml
//! groups:
//!   - name: example
//!     interval: 30s            # default: --rule-evaluation-interval (1m)
//!     limit: 0                 # most series / alerts per rule; 0 = no limit
//!     rules:
//!       - record: job:http_requests:rate5m
//!         expr: sum by (job) (rate(http_requests_total[5m]))
//!         labels: {team: web}
//!       - alert: HighErrorRate
//!         expr: job:http_errors:ratio5m > 0.05
//!         for: 10m
//!         keep_firing_for: 5m
//!         labels: {severity: page}
//!         annotations:
//!           summary: "{{ $labels.job }} fails {{ $value | humanizePercentage }}"
//! ```
//!
//! Parsed with `serde-saphyr` (the YAML reader of `--scrape-config`);
//! unknown fields are refused as Prometheus's strict YAML does. Every rule
//! is checked as Prometheus checks it at load (expression syntax, names,
//! fields that do not belong to the rule type, templates), and the first
//! error names `FILE:LINE`, the group and the rule.

use crate::template::Template;
use crate::RulesError;
use ingest::scrape::duration::parse_duration;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// Prometheus's default `evaluation_interval`.
pub const DEFAULT_EVALUATION_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    groups: Vec<GroupDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupDoc {
    name: Spanned<String>,
    interval: Option<Spanned<String>>,
    #[serde(default)]
    limit: usize,
    #[serde(default)]
    rules: Vec<RuleDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    record: Option<Spanned<String>>,
    alert: Option<Spanned<String>>,
    expr: Option<Spanned<String>>,
    #[serde(rename = "for")]
    hold: Option<Spanned<String>>,
    keep_firing_for: Option<Spanned<String>>,
    #[serde(default)]
    labels: HashMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    annotations: HashMap<Spanned<String>, Spanned<String>>,
}

/// One rule group, checked and ready to evaluate.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// The group's name (unique within its file).
    pub name: String,
    /// The file as given on the command line (the API's `file`).
    pub file: String,
    /// Time between evaluations.
    pub interval: Duration,
    /// Most series (recording) or alerts (alerting) per rule; 0 = no limit.
    pub limit: usize,
    /// The rules, in file order.
    pub rules: Vec<RuleSpec>,
}

/// One rule.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    /// Recorded metric name or alert name.
    pub name: String,
    /// The expression as Prometheus prints it back (the API's `query`).
    pub query: String,
    /// Labels added to results, sorted by name (templates for alerts; plain
    /// text for recording rules).
    pub labels: Vec<(String, Template)>,
    /// Recording or alerting, and what only alerts have.
    pub kind: RuleKind,
}

/// What kind of rule.
#[derive(Debug, Clone)]
pub enum RuleKind {
    /// Writes its result as new series named after the rule.
    Recording,
    /// Turns each result series into an alert.
    Alerting(AlertSpec),
}

/// The alert-only fields of a rule.
#[derive(Debug, Clone)]
pub struct AlertSpec {
    /// `for`: how long a series must be returned before the alert fires.
    pub hold: Duration,
    /// `keep_firing_for`: how long a firing alert stays firing once its series is gone.
    pub keep_firing_for: Duration,
    /// Annotation templates, sorted by name.
    pub annotations: Vec<(String, Template)>,
}

/// Reads and checks rule files; groups come back in file order, then group order.
pub fn load(
    paths: &[impl AsRef<Path>],
    default_interval: Duration,
) -> Result<Vec<GroupSpec>, RulesError> {
    let mut seen = HashSet::new();
    let mut groups = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let name = path.display().to_string();
        if !seen.insert(name.clone()) {
            return Err(RulesError::Invalid {
                path: name,
                line: 0,
                why: "given twice with --rules".into(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| RulesError::Read {
            path: name.clone(),
            why: e.to_string(),
        })?;
        groups.extend(parse(&text, &name, default_interval)?);
    }
    Ok(groups)
}

/// Parses one rule file's text; `file` names it in errors and in the API.
pub fn parse(
    text: &str,
    file: &str,
    default_interval: Duration,
) -> Result<Vec<GroupSpec>, RulesError> {
    let doc = serde_saphyr::from_str::<Option<FileDoc>>(text)
        .map_err(|e| RulesError::Yaml {
            path: file.to_string(),
            why: ingest::scrape::yaml_error(&e, file),
        })?
        .unwrap_or_default();
    let mut names = HashSet::new();
    let mut groups = Vec::new();
    for group in doc.groups {
        let line = group.name.referenced.line() as usize;
        let bad = |line: usize, why: String| RulesError::Invalid {
            path: file.to_string(),
            line,
            why,
        };
        let name = group.name.value.clone();
        if name.is_empty() {
            return Err(bad(line, "group name must not be empty".into()));
        }
        if !names.insert(name.clone()) {
            return Err(bad(
                line,
                format!("group name {name:?} is repeated in the same file"),
            ));
        }
        let interval = match &group.interval {
            None => default_interval,
            Some(s) => match parse_duration(&s.value) {
                Ok(d) if d.is_zero() => default_interval,
                Ok(d) => d,
                Err(why) => {
                    return Err(bad(
                        s.referenced.line() as usize,
                        format!("group {name:?}: interval: {why}"),
                    ))
                }
            },
        };
        let mut rules = Vec::new();
        for (i, rule) in group.rules.into_iter().enumerate() {
            let context = format!("group {name:?}, rule {}", i + 1);
            rules.push(check_rule(rule, &context, line).map_err(|(line, why)| bad(line, why))?);
        }
        groups.push(GroupSpec {
            name,
            file: file.to_string(),
            interval,
            limit: group.limit,
            rules,
        });
    }
    Ok(groups)
}

fn line_of(s: &Spanned<String>) -> usize {
    s.referenced.line() as usize
}

/// Checks one rule; errors are (line, message).
fn check_rule(
    rule: RuleDoc,
    context: &str,
    group_line: usize,
) -> Result<RuleSpec, (usize, String)> {
    let (name_field, is_alert) = match (&rule.record, &rule.alert) {
        (Some(r), Some(_)) => {
            return Err((
                line_of(r),
                format!("{context}: only one of 'record' and 'alert' must be set"),
            ))
        }
        (Some(r), None) => (r, false),
        (None, Some(a)) => (a, true),
        (None, None) => {
            let line = rule.expr.as_ref().map_or(group_line, line_of);
            return Err((
                line,
                format!("{context}: one of 'record' or 'alert' must be set"),
            ));
        }
    };
    let name = name_field.value.clone();
    let context = format!("{context} ({:?})", name);
    let at_name = line_of(name_field);
    let Some(expr) = rule.expr.as_ref().filter(|e| !e.value.trim().is_empty()) else {
        return Err((
            at_name,
            format!("{context}: field 'expr' must be set in rule"),
        ));
    };
    let parsed = promql::parse(&expr.value).map_err(|e| {
        (
            line_of(expr),
            format!("{context}: could not parse expression: {e}"),
        )
    })?;
    let duration = |field: &Option<Spanned<String>>, what: &str| match field {
        None => Ok(Duration::ZERO),
        Some(s) => parse_duration(&s.value)
            .map_err(|why| (line_of(s), format!("{context}: {what}: {why}"))),
    };
    let hold = duration(&rule.hold, "for")?;
    let keep_firing_for = duration(&rule.keep_firing_for, "keep_firing_for")?;
    let mut labels = sorted(&rule.labels);
    for (k, v) in &labels {
        if !is_label_name(&k.value) || k.value == "__name__" {
            return Err((
                line_of(k),
                format!("{context}: invalid label name: {}", k.value),
            ));
        }
        let _ = v;
    }
    let annotations = sorted(&rule.annotations);
    for (k, _) in &annotations {
        if !is_label_name(&k.value) {
            return Err((
                line_of(k),
                format!("{context}: invalid annotation name: {}", k.value),
            ));
        }
    }
    let kind = if is_alert {
        if name.is_empty() {
            return Err((at_name, format!("{context}: alert name must not be empty")));
        }
        let template = |(k, v): &(&Spanned<String>, &Spanned<String>), what: &str| {
            Template::parse(&v.value)
                .map(|t| (k.value.clone(), t))
                .map_err(|e| {
                    (
                        line_of(v),
                        format!("{context}: {what} {:?}: template: {e}", k.value),
                    )
                })
        };
        let annotations = annotations
            .iter()
            .map(|a| template(a, "annotation"))
            .collect::<Result<Vec<_>, _>>()?;
        let label_templates = labels
            .iter()
            .map(|l| template(l, "label"))
            .collect::<Result<Vec<_>, _>>()?;
        labels.clear();
        return Ok(RuleSpec {
            name,
            query: parsed.to_string(),
            labels: label_templates,
            kind: RuleKind::Alerting(AlertSpec {
                hold,
                keep_firing_for,
                annotations,
            }),
        });
    } else {
        if !is_metric_name(&name) {
            return Err((
                at_name,
                format!("{context}: invalid recording rule name: {name}"),
            ));
        }
        if let Some((k, _)) = annotations.first() {
            return Err((
                line_of(k),
                format!("{context}: invalid field 'annotations' in recording rule"),
            ));
        }
        for (field, what) in [
            (&rule.hold, "for"),
            (&rule.keep_firing_for, "keep_firing_for"),
        ] {
            if let Some(s) = field {
                return Err((
                    line_of(s),
                    format!("{context}: invalid field '{what}' in recording rule"),
                ));
            }
        }
        RuleKind::Recording
    };
    Ok(RuleSpec {
        name,
        query: parsed.to_string(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.value.clone(), Template::literal(&v.value)))
            .collect(),
        kind,
    })
}

fn sorted(
    map: &HashMap<Spanned<String>, Spanned<String>>,
) -> Vec<(&Spanned<String>, &Spanned<String>)> {
    let mut pairs: Vec<_> = map.iter().collect();
    pairs.sort_by(|a, b| a.0.value.cmp(&b.0.value));
    pairs
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "groups:
  - name: a
    interval: 15s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {team: x}
      - alert: Down
        expr: up==0
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page}
        annotations:
          summary: '{{ $labels.instance }} is down ({{ $value }})'
  - name: b
    limit: 10
    rules: []
";

    #[test]
    fn a_prometheus_rule_file_loads() {
        let groups = parse(GOOD, "r.yml", DEFAULT_EVALUATION_INTERVAL).expect("valid");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].interval, Duration::from_secs(15));
        assert_eq!(groups[1].interval, DEFAULT_EVALUATION_INTERVAL);
        assert_eq!(groups[1].limit, 10);
        let rules = &groups[0].rules;
        assert_eq!(rules[0].query, "sum by (job) (up)");
        assert_eq!(rules[1].query, "up == 0");
        match &rules[1].kind {
            RuleKind::Alerting(a) => {
                assert_eq!(a.hold, Duration::from_secs(300));
                assert_eq!(a.keep_firing_for, Duration::from_secs(60));
                assert_eq!(a.annotations[0].0, "summary");
            }
            RuleKind::Recording => panic!("an alert"),
        }
        assert!(parse("", "e.yml", DEFAULT_EVALUATION_INTERVAL)
            .expect("empty is valid")
            .is_empty());
    }

    #[test]
    fn errors_name_file_line_group_and_rule() {
        for (text, want) in [
            (
                "groups:\n  - name: x\n    rules:\n      - record: a\n        expr: up\n      - alert: B\n        expr: sum(\n",
                "r.yml:7: group \"x\", rule 2 (\"B\"): could not parse expression",
            ),
            ("groups:\n  - name: x\n    rules:\n      - record: a\n        alert: b\n        expr: up\n", "r.yml:4: group \"x\", rule 1: only one of"),
            ("groups:\n  - name: x\n    rules:\n      - expr: up\n", "r.yml:4: group \"x\", rule 1: one of 'record' or 'alert'"),
            ("groups:\n  - name: x\n    rules:\n      - record: a-b\n        expr: up\n", "r.yml:4: group \"x\", rule 1 (\"a-b\"): invalid recording rule name"),
            ("groups:\n  - name: x\n    rules:\n      - record: a\n        expr: up\n        for: 1m\n", "r.yml:6: group \"x\", rule 1 (\"a\"): invalid field 'for'"),
            ("groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up\n        for: soon\n", "r.yml:6: group \"x\", rule 1 (\"A\"): for: invalid duration"),
            ("groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up\n        annotations:\n          s: '{{ query \"up\" }}'\n", "r.yml:7: group \"x\", rule 1 (\"A\"): annotation \"s\": template: function \"query\""),
            ("groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up\n        labels: {__name__: x}\n", "r.yml:6: group \"x\", rule 1 (\"A\"): invalid label name"),
            ("groups:\n  - name: x\n  - name: x\n", "r.yml:3: group name \"x\" is repeated"),
            ("groups:\n  - name: x\n    interval: 1x\n", "r.yml:3: group \"x\": interval"),
            ("groups:\n  - name: ''\n", "r.yml:2: group name must not be empty"),
        ] {
            let e = parse(text, "r.yml", DEFAULT_EVALUATION_INTERVAL)
                .expect_err(text)
                .to_string();
            assert!(e.starts_with(want), "{text}\n got: {e}\nwant: {want}");
        }
        let e = parse(
            "groups:\n  - name: x\n    query_offset: 1m\n",
            "r.yml",
            DEFAULT_EVALUATION_INTERVAL,
        )
        .expect_err("unknown field")
        .to_string();
        assert!(
            e.contains("r.yml") && e.contains("query_offset") && e.contains('3'),
            "{e}"
        );
    }
}
