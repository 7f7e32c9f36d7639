//! The browser login over plain HTTP, as a browser without JavaScript sends
//! it: a page without credentials redirects to the login form, the form POSTs
//! the token, a read token gets a session cookie (HttpOnly, SameSite=Strict)
//! and is sent back; the cookie reads the APIs but never writes; logging out
//! ends the session. (tests/ui/login.test.mjs does the same in Chromium.)

use crate::common::serve::Serve;
use crate::support::{get, request, Answer, AuthDir, INGEST, READ};

/// POSTs the login form with `token` and `next`, plus `extra` headers.
fn log_in(ui: &str, token: &str, next: &str, extra: &[(&str, &str)]) -> Answer {
    let form: String = form_fields(&[("token", token), ("next", next)]);
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    headers.extend_from_slice(extra);
    request(ui, "POST", "/login", &headers, form.as_bytes())
}

/// `a=1&b=2`, percent-encoding what a form would.
fn form_fields(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            let value: String = value
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A browser navigation: asks for HTML, sends `cookie` if any.
fn open_page(ui: &str, target: &str, cookie: Option<&str>) -> Answer {
    let mut headers = vec![("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
    headers.extend(cookie.map(|c| ("Cookie", c)));
    request(ui, "GET", target, &headers, b"")
}

#[test]
fn browsers_log_in_with_a_token_and_get_a_strict_http_only_cookie() {
    let auth = AuthDir::new("auth-login");
    let serve = Serve::start_with(
        &auth.dir.join("data"),
        &[
            "--auth-file",
            &auth.auth_file_str(),
            "--self-scrape-interval",
            "0",
        ],
    );
    let ui = serve.ui.as_str();

    // A page without credentials sends the browser to the login form and back.
    let redirected = open_page(ui, "/trace/abc?uiFind=1", None);
    assert_eq!(redirected.status, 303, "{redirected:?}");
    assert_eq!(
        redirected.header("location"),
        Some("/login?next=%2Ftrace%2Fabc%3FuiFind%3D1")
    );
    assert_eq!(open_page(ui, "/", None).header("location"), Some("/login"));
    // Scripts and API clients get 401, never a redirect.
    assert_eq!(get(ui, "/api/services", None).status, 401);

    let form = open_page(ui, "/login?next=%2Fsearch", None);
    assert_eq!(form.status, 200);
    assert!(form
        .body
        .contains("<form method=\"post\" action=\"/login\">"));
    assert!(form.body.contains("name=\"next\" value=\"/search\""));
    assert!(!form.body.to_ascii_lowercase().contains("<script"));
    assert!(form.header("content-security-policy").is_some());
    assert_eq!(get(ui, "/login.css", None).status, 200);
    // Another site's `next` is not followed.
    let offsite = open_page(ui, "/login?next=%2F%2Fevil.example%2F", None);
    assert!(
        offsite.body.contains("name=\"next\" value=\"/\""),
        "{}",
        offsite.body
    );

    // Wrong tokens: the form again, saying why; no cookie; the token never echoed.
    let wrong = log_in(ui, "wrong-token-of-the-login-test-01", "/search", &[]);
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("That token is not valid."));
    assert!(!wrong.body.contains("wrong-token-of-the-login-test"));
    assert!(wrong.header("set-cookie").is_none());
    let ingest = log_in(ui, INGEST, "/search", &[]);
    assert_eq!(ingest.status, 403);
    assert!(
        ingest.body.contains("ingest role, which may not read"),
        "{}",
        ingest.body
    );
    assert!(ingest.header("set-cookie").is_none());
    // Another site's page cannot post the form.
    let cross = log_in(ui, READ, "/search", &[("Origin", "http://evil.example")]);
    assert_eq!(cross.status, 403);
    assert!(cross.header("set-cookie").is_none());

    // The read token: a session cookie and back to the page.
    let origin = format!("http://{ui}");
    let logged_in = log_in(ui, READ, "/search", &[("Origin", &origin)]);
    assert_eq!(logged_in.status, 303, "{logged_in:?}");
    assert_eq!(logged_in.header("location"), Some("/search"));
    let set_cookie = logged_in.header("set-cookie").unwrap();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    for wanted in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&wanted), "{set_cookie}");
    }
    assert!(!attributes.contains(&"Secure"), "no TLS here: {set_cookie}");
    let cookie = attributes[0];
    let id = cookie.strip_prefix("whyslow_session=").unwrap();
    assert_eq!(id.len(), 43, "32 random bytes, base64url: {set_cookie}");
    assert!(!set_cookie.contains(READ));

    // The cookie reads pages and APIs; the page offers to log out.
    let page = open_page(ui, "/search", Some(cookie));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("action=\"/logout\""));
    let api = request(ui, "GET", "/api/services", &[("Cookie", cookie)], b"");
    assert_eq!(api.status, 200, "{api:?}");
    assert_eq!(open_page(ui, "/login", Some(cookie)).status, 303);
    // It never writes: remote_write with only the cookie is unauthenticated.
    let write = request(
        ui,
        "POST",
        "/api/v1/write",
        &[
            ("Cookie", cookie),
            ("Content-Type", "application/x-protobuf"),
        ],
        b"",
    );
    assert_eq!(write.status, 401);

    // Logging out ends the session on the server, not just in the browser.
    let logout = request(
        ui,
        "POST",
        "/logout",
        &[("Cookie", cookie), ("Origin", &origin)],
        b"",
    );
    assert_eq!(logout.status, 303);
    assert_eq!(logout.header("location"), Some("/login"));
    assert!(logout.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = request(ui, "GET", "/api/services", &[("Cookie", cookie)], b"");
    assert_eq!(after.status, 401);
    let page = open_page(ui, "/search", Some(cookie));
    assert_eq!(page.status, 303);
    assert!(
        page.header("set-cookie").unwrap().contains("Max-Age=0"),
        "a stale cookie is cleared"
    );
    serve.stop();
}
