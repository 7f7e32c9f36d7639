//! The optional NAME of a token: who holds it, shown in logs and matched
//! against the user name of Basic auth. Short and plain so that it is safe in
//! a log line and can never contain the `:` that ends a Basic user name.

use crate::error::BadName;

/// The most characters a NAME may have.
pub const MAX_NAME_LEN: usize = 64;

/// Checks a NAME: 1 to [`MAX_NAME_LEN`] ASCII letters, digits, `.`, `_`, `-`, `@`.
/// (Empty text is no NAME at all, so callers never pass it.)
pub fn check_name(name: &str) -> Result<(), BadName> {
    if let Some(index) = name
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@')))
    {
        return Err(BadName::Character {
            position: index + 1,
        });
    }
    if name.len() > MAX_NAME_LEN {
        return Err(BadName::TooLong {
            length: name.len(),
            max: MAX_NAME_LEN,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_plain() {
        assert_eq!(check_name("grafana"), Ok(()));
        assert_eq!(check_name("agent-01.eu_west@team"), Ok(()));
        assert_eq!(check_name("a:b"), Err(BadName::Character { position: 2 }));
        assert_eq!(check_name("héllo"), Err(BadName::Character { position: 2 }));
        assert!(matches!(
            check_name(&"n".repeat(MAX_NAME_LEN + 1)),
            Err(BadName::TooLong { .. })
        ));
    }
}
