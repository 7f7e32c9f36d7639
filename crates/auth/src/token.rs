//! What a token looks like: the length and characters [`check_token`] accepts,
//! and [`new_token`], a fresh random one from the OS RNG. Hashing is in `hash.rs`.

use crate::error::{RandomError, TokenError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The fewest characters a token may have.
pub const MIN_TOKEN_LEN: usize = 16;

/// The most characters a token may have (a header line, not a document).
pub const MAX_TOKEN_LEN: usize = 1024;

/// Bytes of randomness in a [`new_token`] (256 bits).
pub const NEW_TOKEN_BYTES: usize = 32;

/// Checks that `token` can be a whyslow token: [`MIN_TOKEN_LEN`] to
/// [`MAX_TOKEN_LEN`] printable ASCII characters, no space.
pub fn check_token(token: &str) -> Result<(), TokenError> {
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if let Some(index) = token.bytes().position(|b| !b.is_ascii_graphic()) {
        return Err(TokenError::Character {
            position: index + 1,
        });
    }
    let length = token.len();
    if length < MIN_TOKEN_LEN {
        return Err(TokenError::TooShort {
            length,
            min: MIN_TOKEN_LEN,
        });
    }
    if length > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong {
            length,
            max: MAX_TOKEN_LEN,
        });
    }
    Ok(())
}

/// The token on one line of input (standard input of `whyslow auth hash`): one
/// trailing `\n` or `\r\n` is stripped, nothing else, then [`check_token`].
pub fn token_from_line(line: &str) -> Result<&str, TokenError> {
    let token = line.strip_suffix('\n').unwrap_or(line);
    let token = token.strip_suffix('\r').unwrap_or(token);
    check_token(token)?;
    Ok(token)
}

/// A fresh token: [`NEW_TOKEN_BYTES`] from the OS RNG, base64url without
/// padding (43 characters, safe in headers, URLs and environment variables).
pub fn new_token() -> Result<String, RandomError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<NEW_TOKEN_BYTES>()?))
}

/// `N` bytes from the OS RNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_need_sixteen_printable_characters() {
        assert_eq!(check_token(""), Err(TokenError::Empty));
        assert_eq!(
            check_token("short"),
            Err(TokenError::TooShort { length: 5, min: 16 })
        );
        assert_eq!(check_token("0123456789abcdef"), Ok(()));
        assert_eq!(check_token("p@ss:w0rd/with+symbols~"), Ok(()));
        assert_eq!(
            check_token("0123456789 abcdef"),
            Err(TokenError::Character { position: 11 })
        );
        assert_eq!(
            check_token("0123456789abcdé"),
            Err(TokenError::Character { position: 15 })
        );
        assert!(matches!(
            check_token(&"x".repeat(MAX_TOKEN_LEN + 1)),
            Err(TokenError::TooLong { .. })
        ));
    }

    #[test]
    fn a_line_loses_its_newline_only() {
        assert_eq!(
            token_from_line("0123456789abcdef\n"),
            Ok("0123456789abcdef")
        );
        assert_eq!(
            token_from_line("0123456789abcdef\r\n"),
            Ok("0123456789abcdef")
        );
        assert_eq!(token_from_line("0123456789abcdef"), Ok("0123456789abcdef"));
        assert_eq!(token_from_line("\n"), Err(TokenError::Empty));
        assert_eq!(
            token_from_line("0123456789abcdef \n"),
            Err(TokenError::Character { position: 17 })
        );
        assert_eq!(
            token_from_line("0123456789abcdef\n\n"),
            Err(TokenError::Character { position: 17 })
        );
    }

    #[test]
    fn new_tokens_are_valid_and_differ() {
        let first = new_token().unwrap();
        let second = new_token().unwrap();
        assert_eq!(first.len(), 43);
        assert_eq!(check_token(&first), Ok(()));
        assert_ne!(first, second);
    }
}
