//! Where the login page sends a browser back to: the page it was turned away
//! from, but only a path on this server. `//evil.example/`, `/\evil`,
//! `https://…`, control characters and anything else that a browser could
//! read as another origin become `/`.

/// The longest `next` kept; longer ones become `/`.
const MAX_NEXT_LEN: usize = 2048;

/// `next` if it is a local path (with query), else `/`.
pub(crate) fn local_path(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= MAX_NEXT_LEN
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if local {
        next
    } else {
        "/"
    }
}

/// `/login?next=…` for a browser turned away from `path_and_query`.
pub(crate) fn login_location(path_and_query: &str) -> String {
    let next = local_path(path_and_query);
    if next == "/" {
        return "/login".to_string();
    }
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    format!("/login?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_kept() {
        for kept in [
            "/",
            "/search",
            "/trace/abc?uiFind=1&x=%2F",
            "/metrics-explorer?g0.expr=up",
        ] {
            assert_eq!(local_path(kept), kept);
        }
        for refused in [
            "",
            "search",
            "//evil.example/",
            "/\\evil.example",
            "/a\\b",
            "https://evil.example/",
            "/a b",
            "/a\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_path(refused), "/", "{refused:?}");
        }
        assert_eq!(local_path(&format!("/{}", "a".repeat(MAX_NEXT_LEN))), "/");
    }

    #[test]
    fn the_login_location_carries_the_page_encoded() {
        assert_eq!(login_location("/"), "/login");
        assert_eq!(
            login_location("/search?service=a&limit=20"),
            "/login?next=%2Fsearch%3Fservice%3Da%26limit%3D20"
        );
        assert_eq!(login_location("//evil.example"), "/login");
    }
}
