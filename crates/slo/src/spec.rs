//! The SLO file: its YAML shape, and the checks that refuse a bad one with
//! its line and column before anything is generated.
//!
//! ```yaml
//! slos:
//!   - name: checkout-availability     # [A-Za-z0-9_-]
//!     service: checkout               # SLI from the RED metrics of its spans
//!     operation: POST /checkout       # optional: one span name
//!     span_kind: server               # optional (default server)
//!     objective: 99.9                 # percent of good events
//!     window: 30d                     # optional (default 30d)
//!   - name: checkout-latency
//!     service: checkout
//!     latency: 400ms                  # good = faster than this (a bucket bound)
//!     objective: 99
//!   - name: api-errors                # any PromQL ratio; {{.window}} is the range
//!     objective: 99.5
//!     labels: {team: payments}        # added to every generated series and alert
//!     sli:
//!       errors: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
//!       total: sum(rate(http_requests_total[{{.window}}]))
//! ```

use crate::SloError;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned, UserMessageFormatter};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// Where the range of an SLI query goes in a `sli:` query (Sloth's spelling).
pub const WINDOW_PLACEHOLDER: &str = "{{.window}}";

/// One objective, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// Unique in the file; the `slo` label of everything generated.
    pub name: String,
    /// What counts as a bad event.
    pub sli: Sli,
    /// Share of good events promised, e.g. 0.999.
    pub objective: f64,
    /// The period the objective holds over (the error budget's period).
    pub window: Duration,
    /// Extra labels on every generated series and alert.
    pub labels: BTreeMap<String, String>,
}

/// How bad and all events are counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    /// Spans of `service` (optionally one `operation`) of one span kind that
    /// ended with an error status; with `latency_ms`, those slower than it.
    Spans {
        service: String,
        operation: Option<String>,
        /// As the `span_kind` label spells it, e.g. `SPAN_KIND_SERVER`.
        span_kind: String,
        latency_ms: Option<f64>,
    },
    /// PromQL rates of bad and of all events, with [`WINDOW_PLACEHOLDER`].
    Custom { errors: String, total: String },
}

impl Slo {
    /// `1 - objective`: the share of events allowed to be bad.
    pub fn error_budget(&self) -> f64 {
        1.0 - self.objective
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    slos: Vec<Spanned<SloSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SloSpec {
    name: Spanned<String>,
    objective: Spanned<f64>,
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    service: Option<Spanned<String>>,
    #[serde(default)]
    operation: Option<String>,
    #[serde(default)]
    span_kind: Option<Spanned<String>>,
    #[serde(default)]
    latency: Option<Spanned<String>>,
    #[serde(default)]
    sli: Option<Spanned<CustomSpec>>,
    #[serde(default)]
    labels: Option<Spanned<BTreeMap<String, String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomSpec {
    errors: Spanned<String>,
    total: Spanned<String>,
}

/// Reads and checks the SLO file at `path`; `latency_bounds_ms` are the
/// span-duration histogram's bucket bounds a `latency:` must be one of.
pub fn load(path: &Path, latency_bounds_ms: &[f64]) -> Result<Vec<Slo>, SloError> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SloError {
        path: source.clone(),
        why: format!("cannot read it: {e}"),
    })?;
    parse(&text, &source, latency_bounds_ms)
}

/// Parses and checks an SLO file's text; `source` names it in errors.
pub fn parse(text: &str, source: &str, latency_bounds_ms: &[f64]) -> Result<Vec<Slo>, SloError> {
    let bad = |why: String| SloError {
        path: source.to_string(),
        why,
    };
    let file = serde_saphyr::from_str::<Option<FileSpec>>(text)
        .map_err(|e| {
            let mut options = serde_saphyr::RenderOptions::new(&UserMessageFormatter);
            options.source_name = Some(source);
            let rendered = e.render_with_options(options);
            bad(rendered
                .strip_prefix("error: ")
                .unwrap_or(&rendered)
                .trim_end()
                .to_string())
        })?
        .map(|f| f.slos)
        .unwrap_or_default();
    if file.is_empty() {
        return Err(bad("no SLOs: the file needs a `slos:` list".into()));
    }
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(file.len());
    for spec in file {
        let slo = check(spec.value, latency_bounds_ms).map_err(|(at, why)| {
            bad(format!("line {} column {}: {why}", at.line(), at.column()))
        })?;
        if !names.insert(slo.name.clone()) {
            return Err(bad(format!(
                "line {} column {}: SLO {:?} is defined twice",
                spec.defined.line(),
                spec.defined.column(),
                slo.name
            )));
        }
        out.push(slo);
    }
    Ok(out)
}

type Refusal = (Location, String);

fn check(spec: SloSpec, latency_bounds_ms: &[f64]) -> Result<Slo, Refusal> {
    let name = spec.name.value;
    let at = |s: Location, why: String| (s, format!("SLO {name:?}: {why}"));
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err((
            spec.name.referenced,
            format!("name {name:?} must be letters, digits, `_` and `-`"),
        ));
    }
    let objective = spec.objective.value;
    if !(objective > 0.0 && objective < 100.0) {
        return Err(at(
            spec.objective.referenced,
            format!("objective {objective} must be a percentage above 0 and below 100"),
        ));
    }
    let window = match &spec.window {
        None => Duration::from_secs(30 * 24 * 3600),
        Some(w) => promql_parser::util::parse_duration(&w.value)
            .map_err(|e| at(w.referenced, format!("window {:?}: {e}", w.value)))?,
    };
    if window < Duration::from_secs(24 * 3600) {
        let w = spec
            .window
            .as_ref()
            .map_or(spec.name.referenced, |w| w.referenced);
        return Err(at(
            w,
            "window must be at least 1d (the slowest burn-rate alert looks back 3d of a 30d budget)"
                .into(),
        ));
    }
    let labels = match spec.labels {
        None => BTreeMap::new(),
        Some(labels) => {
            for key in labels.value.keys() {
                let ok = key.chars().enumerate().all(|(i, c)| {
                    c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
                });
                if !ok || key.is_empty() || key.starts_with("__") || key == "slo" {
                    return Err(at(
                        labels.referenced,
                        format!(
                            "label name {key:?} is not valid here (Prometheus label names, not `slo` or `__…`)"
                        ),
                    ));
                }
            }
            labels.value
        }
    };
    let sli = match (spec.service, spec.sli) {
        (Some(service), None) => {
            let span_kind = match &spec.span_kind {
                None => "SPAN_KIND_SERVER".to_string(),
                Some(k) => span_kind_label(&k.value)
                    .ok_or_else(|| {
                        at(
                            k.referenced,
                            format!(
                                "span_kind {:?}: one of server, client, producer, consumer, internal",
                                k.value
                            ),
                        )
                    })?
                    .to_string(),
            };
            let latency_ms = match &spec.latency {
                None => None,
                Some(l) => Some(
                    latency_bound(&l.value, latency_bounds_ms)
                        .map_err(|why| at(l.referenced, why))?,
                ),
            };
            Sli::Spans {
                service: service.value,
                operation: spec.operation,
                span_kind,
                latency_ms,
            }
        }
        (None, Some(custom)) => {
            if let Some(l) = &spec.latency {
                return Err(at(
                    l.referenced,
                    "latency applies to span SLIs (with `service:`); write it into the `sli:` queries"
                        .into(),
                ));
            }
            let custom = custom.value;
            for q in [&custom.errors, &custom.total] {
                check_query(&q.value).map_err(|why| at(q.referenced, why))?;
            }
            Sli::Custom {
                errors: custom.errors.value,
                total: custom.total.value,
            }
        }
        (Some(service), Some(_)) => {
            return Err(at(
                service.referenced,
                "give either `service:` (SLI from spans) or `sli:` (PromQL), not both".into(),
            ))
        }
        (None, None) => {
            return Err(at(
                spec.name.referenced,
                "needs an SLI: `service:` (from its spans) or `sli: {errors, total}` (PromQL)"
                    .into(),
            ))
        }
    };
    Ok(Slo {
        name,
        sli,
        objective: objective / 100.0,
        window,
        labels,
    })
}

fn span_kind_label(kind: &str) -> Option<&'static str> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "server" => "SPAN_KIND_SERVER",
        "client" => "SPAN_KIND_CLIENT",
        "producer" => "SPAN_KIND_PRODUCER",
        "consumer" => "SPAN_KIND_CONSUMER",
        "internal" => "SPAN_KIND_INTERNAL",
        _ => return None,
    })
}

/// `400ms` → 400.0, if it is one of the histogram's bucket bounds (a
/// threshold between bounds cannot be counted exactly).
fn latency_bound(text: &str, bounds_ms: &[f64]) -> Result<f64, String> {
    let d =
        promql_parser::util::parse_duration(text).map_err(|e| format!("latency {text:?}: {e}"))?;
    let ms = d.as_secs_f64() * 1000.0;
    if bounds_ms.iter().any(|&b| (b - ms).abs() < 1e-9) {
        Ok(ms)
    } else {
        let list: Vec<String> = bounds_ms.iter().map(|b| format!("{b}ms")).collect();
        Err(format!(
            "latency {text}: must be a bucket bound of the span duration histogram: {}",
            list.join(", ")
        ))
    }
}

fn check_query(query: &str) -> Result<(), String> {
    if !query.contains(WINDOW_PLACEHOLDER) {
        return Err(format!(
            "SLI query {query:?} needs {WINDOW_PLACEHOLDER} as its range, e.g. rate(x[{WINDOW_PLACEHOLDER}])"
        ));
    }
    promql_parser::parser::parse(&query.replace(WINDOW_PLACEHOLDER, "5m"))
        .map(|_| ())
        .map_err(|e| format!("SLI query {query:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: [f64; 3] = [100.0, 400.0, 1000.0];

    fn refused(text: &str) -> String {
        parse(text, "slo.yml", &BOUNDS)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn span_and_custom_slis_parse_with_defaults() {
        let slos = parse(
            "slos:\n  - name: a\n    service: checkout\n    objective: 99.9\n  - name: b\n    service: checkout\n    operation: GET /x\n    span_kind: client\n    latency: 400ms\n    objective: 99\n    window: 28d\n    labels: {team: pay}\n  - name: c\n    objective: 95\n    sli:\n      errors: sum(rate(e[{{.window}}]))\n      total: sum(rate(t[{{.window}}]))\n",
            "slo.yml",
            &BOUNDS,
        )
        .expect("parses");
        assert_eq!(slos.len(), 3);
        assert!((slos[0].objective - 0.999).abs() < 1e-12);
        assert_eq!(slos[0].window, Duration::from_secs(30 * 86400));
        assert_eq!(
            slos[1].sli,
            Sli::Spans {
                service: "checkout".into(),
                operation: Some("GET /x".into()),
                span_kind: "SPAN_KIND_CLIENT".into(),
                latency_ms: Some(400.0),
            }
        );
        assert_eq!(slos[1].labels["team"], "pay");
        assert!(matches!(slos[2].sli, Sli::Custom { .. }));
    }

    #[test]
    fn mistakes_are_refused_with_line_and_reason() {
        let e = refused("slos:\n  - name: a\n    service: s\n    objective: 100\n");
        assert!(e.starts_with("slo.yml: line 4 column 16:"), "{e}");
        assert!(e.contains("percentage above 0 and below 100"), "{e}");
        let e =
            refused("slos:\n  - name: a\n    service: s\n    objective: 99\n    latency: 300ms\n");
        assert!(
            e.contains("line 5") && e.contains("100ms, 400ms, 1000ms"),
            "{e}"
        );
        let e = refused("slos:\n  - name: a\n    objective: 99\n    sli:\n      errors: rate(e[5m])\n      total: rate(t[{{.window}}])\n");
        assert!(
            e.contains("line 5") && e.contains("needs {{.window}}"),
            "{e}"
        );
        let e = refused("slos:\n  - name: a\n    objective: 99\n    sli:\n      errors: rate(e[{{.window}}]\n      total: rate(t[{{.window}}])\n");
        assert!(e.contains("line 5"), "{e}");
        let e = refused("slos:\n  - name: a\n    objective: 99\n");
        assert!(e.contains("needs an SLI"), "{e}");
        let e = refused("slos:\n  - name: a\n    servce: s\n    objective: 99\n");
        assert!(e.contains("line 3") && e.contains("servce"), "{e}");
        let e = refused(
            "slos:\n  - name: a\n    service: s\n    objective: 99\n  - name: a\n    service: s\n    objective: 9\n",
        );
        assert!(e.contains("line 5") && e.contains("twice"), "{e}");
        let e = refused("slos:\n  - name: a\n    service: s\n    objective: 99\n    window: 1h\n");
        assert!(e.contains("at least 1d"), "{e}");
        assert!(refused("").contains("no SLOs"));
    }
}
