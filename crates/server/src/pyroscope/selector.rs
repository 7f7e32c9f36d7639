//! Pyroscope's query inputs: label selectors (`{service_name="app"}`, `{}`),
//! legacy queries (`<profile type ID>{selector}`), profile type IDs
//! (`name:sample_type:sample_unit:period_type:period_unit`) and the hex span
//! and trace ids of span / trace selectors.
//!
//! Selectors are parsed with `promql-parser` (as the Prometheus API's
//! `match[]` is) and turned into the store's [`Matcher`]s. Unlike `match[]`,
//! a selector whose matchers all match the empty string (`{}` included) is
//! accepted and selects every series.

use promql_parser::parser::{self, Expr};
use store::profiles::PROFILE_TYPE_LABEL;
use store::series::Matcher;

/// A throwaway matcher added to selectors promql-parser would refuse for
/// matching everything; it is dropped again after parsing.
const ANY: &str = "__whyslow_any__";

/// Parses a label selector into matcher sets (one per `or` branch); an empty
/// text or `{}` is one empty set (every series).
pub fn parse_selector(text: &str) -> Result<Vec<Vec<Matcher>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(vec![Vec::new()]);
    }
    if let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        if inner.trim().is_empty() {
            return Ok(vec![Vec::new()]);
        }
    }
    match parse_expr(text) {
        Ok(sets) => Ok(sets),
        Err(e) if e.contains("non-empty matcher") && text.starts_with('{') => {
            let padded = format!("{{{ANY}=\"1\",{}", &text[1..]);
            let sets = parse_expr(&padded).map_err(|_| e)?;
            Ok(sets
                .into_iter()
                .map(|set| set.into_iter().filter(|m| m.name != ANY).collect())
                .collect())
        }
        Err(e) => Err(e),
    }
}

/// Parses a selector that must be one matcher set (no `or`), as the
/// profile queries need.
pub fn parse_single_selector(text: &str) -> Result<Vec<Matcher>, String> {
    let mut sets = parse_selector(text)?;
    if sets.len() != 1 {
        return Err(format!("selector {text:?}: \"or\" is not supported here"));
    }
    Ok(sets.pop().unwrap_or_default())
}

/// Parses several selectors; their union (an empty list selects everything).
pub fn parse_selectors(texts: &[String]) -> Result<Vec<Vec<Matcher>>, String> {
    if texts.is_empty() {
        return Ok(vec![Vec::new()]);
    }
    let mut sets = Vec::new();
    for text in texts {
        sets.extend(parse_selector(text)?);
    }
    Ok(sets)
}

fn parse_expr(text: &str) -> Result<Vec<Vec<Matcher>>, String> {
    let Expr::VectorSelector(selector) = parser::parse(text)? else {
        return Err(format!("expected a label selector, got {text:?}"));
    };
    crate::prom::selector::matcher_sets(&selector)
}

/// A profile type, from its ID `name:sample_type:sample_unit:period_type:period_unit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileType {
    /// The whole ID.
    pub id: String,
    /// `__name__`, e.g. `process_cpu`.
    pub name: String,
    /// e.g. `cpu`.
    pub sample_type: String,
    /// e.g. `nanoseconds`.
    pub sample_unit: String,
    /// e.g. `cpu`.
    pub period_type: String,
    /// e.g. `nanoseconds`.
    pub period_unit: String,
}

impl ProfileType {
    /// Parses an ID; `None` unless it has 5 (or Pyroscope's 6) non-empty-name parts.
    pub fn parse(id: &str) -> Option<Self> {
        let parts: Vec<&str> = id.split(':').collect();
        if !(parts.len() == 5 || parts.len() == 6) || parts[0].is_empty() {
            return None;
        }
        Some(Self {
            id: id.to_string(),
            name: parts[0].into(),
            sample_type: parts[1].into(),
            sample_unit: parts[2].into(),
            period_type: parts[3].into(),
            period_unit: parts[4].into(),
        })
    }

    /// Parses an ID or names the problem.
    pub fn require(id: &str) -> Result<Self, String> {
        Self::parse(id).ok_or_else(|| {
            format!(
                "invalid profile type ID {id:?}: expected name:sample_type:sample_unit:period_type:period_unit"
            )
        })
    }

    /// For listing stored types: parsed when possible, else the ID as its name.
    pub fn describe(id: &str) -> Self {
        Self::parse(id).unwrap_or_else(|| Self {
            id: id.to_string(),
            name: id.to_string(),
            ..Self::default()
        })
    }

    /// A matcher selecting this type's series.
    pub fn matcher(&self) -> Matcher {
        Matcher::equal(PROFILE_TYPE_LABEL, self.id.as_str())
    }
}

/// Splits a legacy query `<profile type ID>{selector}` (the selector optional).
pub fn split_query(query: &str) -> (&str, &str) {
    let query = query.trim();
    match query.find('{') {
        Some(at) => (query[..at].trim(), &query[at..]),
        None => (query, ""),
    }
}

/// Parses 1–16 hex digit span ids.
pub fn parse_span_ids(ids: &[String]) -> Result<Vec<u64>, String> {
    ids.iter()
        .map(|id| {
            let id = id.trim();
            if id.is_empty() || id.len() > 16 {
                return Err(format!("invalid span id {id:?}: expected 16 hex digits"));
            }
            u64::from_str_radix(id, 16).map_err(|_| format!("invalid span id {id:?}"))
        })
        .collect()
}

/// Parses 1–32 hex digit trace ids.
pub fn parse_trace_ids(ids: &[String]) -> Result<Vec<u128>, String> {
    ids.iter()
        .map(|id| {
            let id = id.trim();
            if id.is_empty() || id.len() > 32 {
                return Err(format!("invalid trace id {id:?}: expected 32 hex digits"));
            }
            u128::from_str_radix(id, 16).map_err(|_| format!("invalid trace id {id:?}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(sets: &[Vec<Matcher>]) -> Vec<Vec<String>> {
        sets.iter()
            .map(|s| {
                s.iter()
                    .map(|m| format!("{}{:?}{}", m.name, m.op, m.value))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn selectors_parse_and_empty_ones_select_everything() {
        assert_eq!(
            describe(&parse_selector("{}").expect("ok")),
            [Vec::<String>::new()]
        );
        assert_eq!(
            describe(&parse_selector(" ").expect("ok")),
            [Vec::<String>::new()]
        );
        assert_eq!(
            describe(&parse_selector("{service_name=\"app\", foo=~\"b.*\"}").expect("ok")),
            [vec!["service_nameEqualapp", "fooRegexb.*"]]
        );
        assert_eq!(
            describe(&parse_selector("{service_name=~\".*\"}").expect("ok")),
            [vec!["service_nameRegex.*"]]
        );
        assert!(parse_selector("{service_name=}").is_err());
        assert!(parse_selector("rate(x[1m])").is_err());
        assert!(parse_single_selector("{a=\"1\" or b=\"2\"}").is_err());
        assert_eq!(parse_selectors(&[]).expect("ok").len(), 1);
    }

    #[test]
    fn profile_types_queries_and_ids() {
        let t = ProfileType::parse("process_cpu:cpu:nanoseconds:cpu:nanoseconds").expect("valid");
        assert_eq!(
            (t.name.as_str(), t.sample_type.as_str()),
            ("process_cpu", "cpu")
        );
        assert!(ProfileType::parse("process_cpu").is_none());
        assert_eq!(ProfileType::describe("odd").name, "odd");
        assert_eq!(
            split_query("memory:alloc_space:bytes:space:bytes{service_name=\"x\"}"),
            (
                "memory:alloc_space:bytes:space:bytes",
                "{service_name=\"x\"}"
            )
        );
        assert_eq!(split_query("a:b:c:d:e"), ("a:b:c:d:e", ""));
        assert_eq!(
            parse_span_ids(&["00000000000000ff".into()]).expect("hex"),
            [255]
        );
        assert!(parse_span_ids(&["xyz".into()]).is_err());
        assert_eq!(
            parse_trace_ids(&["0000000000000000000000000000000a".into()]).expect("hex"),
            [10]
        );
        assert!(parse_trace_ids(&["".into()]).is_err());
    }
}
