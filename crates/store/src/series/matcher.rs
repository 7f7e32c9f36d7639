//! Label matchers as PromQL spells them (`=`, `!=`, `=~`, `!~`). Regular
//! expressions are fully anchored, as Prometheus anchors them, and compiled
//! once with the `regex` crate (RE2 syntax, like Go's).

use std::fmt;
use thiserror::Error;

/// The matching operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

/// A regular expression that does not compile.
#[derive(Debug, Error)]
#[error("invalid regular expression {pattern:?} for label {name}: {source}")]
pub struct MatcherError {
    /// The label.
    pub name: String,
    /// The expression.
    pub pattern: String,
    /// Why it does not compile.
    pub source: regex::Error,
}

/// One label matcher.
#[derive(Clone)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Operator.
    pub op: MatchOp,
    /// Value or regular expression as written.
    pub value: String,
    regex: Option<regex::Regex>,
}

impl Matcher {
    /// A matcher; regular expressions are anchored and compiled here.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let name = name.into();
        let value = value.into();
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                regex::Regex::new(&format!("^(?s:{value})$")).map_err(|source| MatcherError {
                    name: name.clone(),
                    pattern: value.clone(),
                    source,
                })?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Self {
            name,
            op,
            value,
            regex,
        })
    }

    /// `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            regex: None,
        }
    }

    /// Whether a label value (`""` when the label is absent) matches.
    pub fn matches(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(value),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(value),
            // Built only through `new`, which compiles regex ops.
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }

    /// Whether the matcher matches the empty string, i.e. series without the label.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// Whether every matcher matches `labels` (absent labels read as "").
    pub fn all_match(matchers: &[Matcher], labels: &model::metrics::Labels) -> bool {
        matchers
            .iter()
            .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        };
        write!(f, "{}{op}{:?}", self.name, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::metrics::Labels;

    #[test]
    fn regexes_are_anchored() {
        let m = Matcher::new(MatchOp::Regex, "job", "api|web").expect("valid");
        assert!(m.matches("api"));
        assert!(!m.matches("api2"));
        let m = Matcher::new(MatchOp::NotRegex, "job", "a.*").expect("valid");
        assert!(m.matches("b"));
        assert!(!m.matches("abc"));
    }

    #[test]
    fn absent_labels_read_as_empty() {
        let labels = Labels::from_pairs([("__name__", "up")]);
        assert!(Matcher::all_match(&[Matcher::equal("job", "")], &labels));
        let m = Matcher::new(MatchOp::NotEqual, "job", "").expect("valid");
        assert!(!Matcher::all_match(&[m], &labels));
    }

    #[test]
    fn bad_regexes_name_the_label() {
        let err = Matcher::new(MatchOp::Regex, "job", "(").expect_err("invalid");
        assert!(err.to_string().contains("label job"), "{err}");
    }
}
