//! Reading one kernel file into a string, with the error kinds collectors
//! report: a missing file is [`CollectError::Unavailable`] (the machine lacks
//! the source), anything else [`CollectError::Read`].

use crate::CollectError;
use std::path::Path;

/// Reads `path` whole.
pub(crate) fn read(path: &Path) -> Result<String, CollectError> {
    std::fs::read_to_string(path).map_err(|source| {
        let path = path.display().to_string();
        if source.kind() == std::io::ErrorKind::NotFound {
            CollectError::Unavailable { path, source }
        } else {
            CollectError::Read { path, source }
        }
    })
}

/// A parse error naming the file.
pub(crate) fn parse_error(path: &Path, message: impl Into<String>) -> CollectError {
    CollectError::Parse {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Parses a decimal field, naming the file and the field on error.
pub(crate) fn number(path: &Path, field: &str, text: &str) -> Result<f64, CollectError> {
    text.parse::<f64>()
        .map_err(|_| parse_error(path, format!("{field}: {text:?} is not a number")))
}
