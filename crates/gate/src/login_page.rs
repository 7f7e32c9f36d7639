//! The login page and its stylesheet (`assets/login.html`, `assets/login.css`,
//! embedded): a plain form POSTing the token to `/login`, which works without
//! JavaScript and has no script at all. The two values put into it, the page
//! to return to and the error, are HTML-escaped.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const LOGIN_HTML: &str = include_str!("../assets/login.html");
const LOGIN_CSS: &str = include_str!("../assets/login.css");

/// The login page with status `status`, returning to `next` and showing `error` if any.
pub(crate) fn page(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    let error = error.map_or(String::new(), |error| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(error))
    });
    let html = LOGIN_HTML
        .replace("{{next}}", &escape(next))
        .replace("<!--error-->", &error);
    (
        status,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html,
    )
        .into_response()
}

/// The page's stylesheet.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        LOGIN_CSS,
    )
        .into_response()
}

/// `text` safe inside HTML text and double- or single-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body(response: Response) -> String {
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn values_are_escaped_and_the_page_has_no_script() {
        let response = page(
            StatusCode::UNAUTHORIZED,
            "/search?\"><script>alert(1)</script>",
            Some("<img src=x onerror=alert(1)>"),
        );
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let html = body(response).await;
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"));
        assert!(html.contains("value=\"/search?&quot;&gt;&lt;script&gt;"));
        assert!(html.contains("<p class=\"error\" role=\"alert\">&lt;img src=x"));
        assert!(html.contains("<form method=\"post\" action=\"/login\">"));
        let plain = body(page(StatusCode::OK, "/", None)).await;
        assert!(!plain.contains("class=\"error\""));
        assert!(!plain.contains("{{"));
    }
}
