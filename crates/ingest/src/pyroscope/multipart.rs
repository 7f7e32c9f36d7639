//! `multipart/form-data` bodies as pyroscope-go sends them to `/ingest`
//! (fields `profile`, `sample_type_config`, and from old clients
//! `prev_profile`). Parsed by hand over the already size-limited body: the
//! workspace's axum is built without its `multipart` feature (which would
//! pull in `multer`), and the format needed here is small — find the
//! boundary lines, split each part's headers from its content, read the
//! field name from `Content-Disposition`. Parts borrow from the body.

use super::error::ProfileError;

/// Most parts read from one body.
const MAX_PARTS: usize = 64;

/// One form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// The `name` of its `Content-Disposition: form-data`.
    pub name: String,
    /// The content.
    pub data: &'a [u8],
}

/// The `boundary` parameter of a `multipart/form-data` Content-Type.
pub fn boundary(content_type: &str) -> Result<String, ProfileError> {
    let boundary = content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .unwrap_or_default();
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(ProfileError::Invalid(format!(
            "multipart Content-Type '{}' has no usable boundary parameter",
            super::labels::shorten(content_type)
        )));
    }
    Ok(boundary)
}

/// Splits `body` into its parts. Lines may end in CRLF or LF; text before
/// the first boundary and after the closing one is ignored.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, ProfileError> {
    let malformed = |why: &str| ProfileError::Invalid(format!("malformed multipart body: {why}"));
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut at = if body.starts_with(delimiter) {
        0
    } else {
        find(body, &[b"\n", delimiter].concat(), 0)
            .map(|i| i + 1)
            .ok_or_else(|| malformed("the boundary does not occur in the body"))?
    };
    let mut parts = Vec::new();
    loop {
        // `at` is at a delimiter line.
        let after = at + delimiter.len();
        let rest = &body[after..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        let line_end =
            find(body, b"\n", after).ok_or_else(|| malformed("truncated after a boundary"))?;
        let start = line_end + 1;
        let next = find(body, &[b"\n", delimiter].concat(), start)
            .ok_or_else(|| malformed("a part is not closed by a boundary"))?;
        let mut end = next;
        if end > start && body[end - 1] == b'\r' {
            end -= 1;
        }
        if parts.len() == MAX_PARTS {
            return Err(malformed(&format!("more than {MAX_PARTS} parts")));
        }
        parts.push(part(&body[start..end.max(start)]).map_err(|why| malformed(&why))?);
        at = next + 1;
    }
}

/// One part: headers, a blank line, the content.
fn part(raw: &[u8]) -> Result<Part<'_>, String> {
    let (headers, data) = match find(raw, b"\r\n\r\n", 0) {
        Some(i) => (&raw[..i], &raw[i + 4..]),
        None => match find(raw, b"\n\n", 0) {
            Some(i) => (&raw[..i], &raw[i + 2..]),
            None => return Err("a part has no blank line after its headers".into()),
        },
    };
    let headers = String::from_utf8_lossy(headers);
    let name = headers
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
        .and_then(|(_, v)| disposition_name(v))
        .ok_or("a part has no Content-Disposition name")?;
    Ok(Part { name, data })
}

/// The `name` parameter of `form-data; name="profile"; filename="..."`.
fn disposition_name(value: &str) -> Option<String> {
    value
        .split(';')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("name"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
}

/// First index of `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A body as Go's `multipart.Writer` writes it.
    pub(crate) fn form(boundary: &str, fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in fields {
            out.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        out
    }

    #[test]
    fn fields_are_split_at_the_boundary() {
        let body = form(
            "xYz",
            &[
                ("profile", b"\x1f\x8b\r\n--xY"),
                ("sample_type_config", b"{}"),
            ],
        );
        let parts = parse(&body, "xYz").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "profile");
        assert_eq!(parts[0].data, b"\x1f\x8b\r\n--xY");
        assert_eq!(parts[1].name, "sample_type_config");
        assert_eq!(parts[1].data, b"{}");
    }

    #[test]
    fn lf_lines_preamble_and_empty_parts() {
        let body = b"preamble\n--b\nContent-Disposition: form-data; name=a\n\n\n--b\ncontent-disposition: form-data; name=\"c\"\n\nxyz\n--b--";
        let parts = parse(body, "b").unwrap();
        assert_eq!(
            parts,
            vec![
                Part {
                    name: "a".into(),
                    data: b""
                },
                Part {
                    name: "c".into(),
                    data: b"xyz"
                },
            ]
        );
    }

    #[test]
    fn boundaries_come_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").unwrap(),
            "abc"
        );
        assert_eq!(
            boundary("multipart/form-data; charset=x; Boundary=\"a b\"").unwrap(),
            "a b"
        );
        assert!(boundary("multipart/form-data").is_err());
    }

    #[test]
    fn broken_bodies_are_refused() {
        for (body, why) in [
            (&b"no boundary here"[..], "does not occur"),
            (b"--b", "truncated"),
            (
                b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nabc",
                "not closed",
            ),
            (b"--b\r\nX: y\r\n\r\nabc\r\n--b--", "no Content-Disposition"),
            (
                b"--b\r\nContent-Disposition: form-data; name=a\r\nabc\r\n--b--",
                "no blank line",
            ),
        ] {
            let err = parse(body, "b").unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
    }
}
