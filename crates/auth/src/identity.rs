//! Who a request was authenticated as: the auth-file entry its token matched.
//! Handlers may read it (request extensions) and logs may print it; it holds
//! no secret.

use crate::role::Role;
use std::fmt;
use std::sync::Arc;

/// The holder of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The NAME of the auth-file line, if it has one.
    pub name: Option<Arc<str>>,
    /// The role of the line.
    pub role: Role,
    /// The line of the auth file (1-based).
    pub line: usize,
}

/// The NAME, or `line N` for a token without one.
impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => f.write_str(name),
            None => write!(f, "line {}", self.line),
        }
    }
}
