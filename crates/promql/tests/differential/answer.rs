//! What a query answered, in one shape for both sides (Prometheus's JSON
//! and the in-process `promql::Value`), and how to print it compactly.

use std::collections::BTreeMap;
use std::fmt::Write;

/// A series' labels, `__name__` included, empty values absent.
pub type Metric = BTreeMap<String, String>;

/// A successful answer (`resultType` and `result`).
#[derive(Debug, Clone)]
pub enum Answer {
    Scalar {
        t: i64,
        v: f64,
    },
    String {
        t: i64,
        s: String,
    },
    /// In the order the target returned them.
    Vector(Vec<(Metric, i64, f64)>),
    Matrix(Vec<(Metric, Vec<(i64, f64)>)>),
}

/// An answer, or the error message (with its errorType when known).
pub type Outcome = Result<Answer, String>;

impl Answer {
    pub fn result_type(&self) -> &'static str {
        match self {
            Self::Scalar { .. } => "scalar",
            Self::String { .. } => "string",
            Self::Vector(_) => "vector",
            Self::Matrix(_) => "matrix",
        }
    }

    /// Whether there is nothing in it (an empty vector or matrix).
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Vector(v) => v.is_empty(),
            Self::Matrix(m) => m.is_empty(),
            _ => false,
        }
    }

    /// One line: type and size, e.g. `vector of 3 series`.
    pub fn summary(&self) -> String {
        match self {
            Self::Scalar { v, .. } => format!("scalar {}", fmt_value(*v)),
            Self::String { s, .. } => format!("string {s:?}"),
            Self::Vector(v) => format!("vector of {} series", v.len()),
            Self::Matrix(m) => format!(
                "matrix of {} series, {} points",
                m.len(),
                m.iter().map(|(_, p)| p.len()).sum::<usize>()
            ),
        }
    }
}

/// `name{a="1", b="2"}`, as Prometheus prints a series.
pub fn fmt_metric(metric: &Metric) -> String {
    let mut out = metric.get("__name__").cloned().unwrap_or_default();
    let rest: Vec<String> = metric
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if !rest.is_empty() || out.is_empty() {
        let _ = write!(out, "{{{}}}", rest.join(", "));
    }
    out
}

/// A value as the Prometheus API spells it (`NaN`, `+Inf`, `-Inf`, shortest float).
pub fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Parses an API sample value string.
pub fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s
            .parse()
            .map_err(|e| format!("bad sample value {s:?}: {e}")),
    }
}

/// From the in-process engine's value.
pub fn from_engine(value: promql::Value) -> Answer {
    fn metric(labels: &model::metrics::Labels) -> Metric {
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
    match value {
        promql::Value::Scalar {
            timestamp_ms,
            value,
        } => Answer::Scalar {
            t: timestamp_ms,
            v: value,
        },
        promql::Value::String {
            timestamp_ms,
            value,
        } => Answer::String {
            t: timestamp_ms,
            s: value,
        },
        promql::Value::Vector(samples) => Answer::Vector(
            samples
                .iter()
                .map(|s| (metric(&s.labels), s.timestamp_ms, s.value))
                .collect(),
        ),
        promql::Value::Matrix(series) => Answer::Matrix(
            series
                .iter()
                .map(|s| {
                    (
                        metric(&s.labels),
                        s.samples
                            .iter()
                            .map(|p| (p.timestamp_ms, p.value))
                            .collect(),
                    )
                })
                .collect(),
        ),
    }
}

/// From a Prometheus API JSON body (`{"status":..,"data":{"resultType":..,"result":..}}`).
pub fn from_json(status: u16, body: &[u8]) -> Outcome {
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "HTTP {status}, body is not JSON ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )
    })?;
    if json["status"] != "success" {
        return Err(format!(
            "{}: {}",
            json["errorType"].as_str().unwrap_or("?"),
            json["error"].as_str().unwrap_or("?")
        ));
    }
    let data = &json["data"];
    let result = &data["result"];
    let bad = |what: &str| format!("malformed {what} in {}", truncate(&data.to_string(), 200));
    match data["resultType"].as_str() {
        Some("scalar") => {
            let (t, v) = json_point(result).ok_or_else(|| bad("scalar"))?;
            Ok(Answer::Scalar {
                t,
                v: parse_value(v)?,
            })
        }
        Some("string") => {
            let (t, s) = json_point(result).ok_or_else(|| bad("string"))?;
            Ok(Answer::String { t, s: s.into() })
        }
        Some("vector") => {
            let mut out = Vec::new();
            for item in result.as_array().ok_or_else(|| bad("vector"))? {
                let (t, v) = json_point(&item["value"]).ok_or_else(|| bad("vector sample"))?;
                out.push((json_metric(&item["metric"]), t, parse_value(v)?));
            }
            Ok(Answer::Vector(out))
        }
        Some("matrix") => {
            let mut out = Vec::new();
            for item in result.as_array().ok_or_else(|| bad("matrix"))? {
                let mut points = Vec::new();
                for p in item["values"]
                    .as_array()
                    .ok_or_else(|| bad("matrix values"))?
                {
                    let (t, v) = json_point(p).ok_or_else(|| bad("matrix point"))?;
                    points.push((t, parse_value(v)?));
                }
                out.push((json_metric(&item["metric"]), points));
            }
            Ok(Answer::Matrix(out))
        }
        other => Err(format!("unknown resultType {other:?}")),
    }
}

/// `[<unix seconds float>, "<value>"]` → (ms, value string).
fn json_point(p: &serde_json::Value) -> Option<(i64, &str)> {
    let seconds = p.get(0)?.as_f64()?;
    Some(((seconds * 1000.0).round() as i64, p.get(1)?.as_str()?))
}

fn json_metric(m: &serde_json::Value) -> Metric {
    m.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}
