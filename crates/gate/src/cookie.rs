//! The session cookie: finding it among a request's `Cookie` headers and the
//! `Set-Cookie` values that open and clear it. `HttpOnly` (scripts cannot
//! read it), `SameSite=Strict` (no other site's page can make the browser send
//! it), `Path=/`, and `Secure` when the listener speaks TLS.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use std::time::Duration;

/// The cookie's name.
pub(crate) const COOKIE_NAME: &str = "whyslow_session";

/// The values of every cookie named [`COOKIE_NAME`] in `headers` (a browser
/// may send more than one with the same name).
pub(crate) fn session_ids(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` opening the session `id` for `lifetime`.
pub(crate) fn open(id: &str, lifetime: Duration, secure: bool) -> Option<HeaderValue> {
    let value = format!(
        "{COOKIE_NAME}={id}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
        lifetime.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).ok()
}

/// `Set-Cookie` telling the browser to forget the session.
pub(crate) fn clear(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "whyslow_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure",
        )
    } else {
        HeaderValue::from_static("whyslow_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; whyslow_session=abc"),
        );
        headers.append(
            COOKIE,
            HeaderValue::from_static("whyslow_session=\"def\";x=1"),
        );
        headers.append(
            COOKIE,
            HeaderValue::from_static("whyslow_session=; whyslow_sessionx=no"),
        );
        assert_eq!(session_ids(&headers).collect::<Vec<_>>(), ["abc", "def"]);
        assert_eq!(session_ids(&HeaderMap::new()).count(), 0);
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_tls() {
        let plain = open("ID", Duration::from_secs(60), false).unwrap();
        assert_eq!(
            plain,
            "whyslow_session=ID; Path=/; Max-Age=60; HttpOnly; SameSite=Strict"
        );
        let secure = open("ID", Duration::from_secs(60), true).unwrap();
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
        assert!(clear(true).to_str().unwrap().contains("Max-Age=0"));
        assert!(clear(false)
            .to_str()
            .unwrap()
            .starts_with("whyslow_session=;"));
        assert_eq!(
            clear(true).to_str().unwrap(),
            format!("{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure")
        );
    }
}
