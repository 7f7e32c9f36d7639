//! The shell of a self-contained whyslow HTML page: head with the embedded
//! stylesheet, the static markup, a JSON data island and the embedded scripts.
//!
//! Shared by the flamegraph and the differential flamegraph pages. Knows nothing
//! of profiles; the JSON escaping here is what keeps `</script>` in a frame name
//! from ending the data island.

use crate::error::RenderError;
use serde::Serialize;
use std::io::{self, Write};

/// Stylesheet of both pages.
const STYLE: &str = include_str!("../../assets/flamegraph.css");
/// Static markup of both pages (header, toolbar, canvas, tooltip).
const MARKUP: &str = include_str!("../../assets/flamegraph.html");
/// The call tree, formatting and colours both pages share.
const TREE_JS: &str = include_str!("../../assets/flamegraph_tree.js");
/// The drawing and interaction engine both pages share.
const ENGINE_JS: &str = include_str!("../../assets/flamegraph.js");

/// Attribute and id of the JSON data island of a profile.
pub(crate) const DATA_ID: &str = "whyslow-profile";

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A writer that turns every `<` into the JSON escape `\u003c`.
///
/// Inside JSON, `<` can only occur in strings, where `\u003c` means the same;
/// and the byte never occurs inside a multi-byte UTF-8 character. So the JSON
/// stays equal while `</script>` and `<!--` can no longer appear in the island.
struct ScriptSafe<'a> {
    inner: &'a mut dyn Write,
}

impl Write for ScriptSafe<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(at) = rest.iter().position(|&b| b == b'<') {
            self.inner.write_all(&rest[..at])?;
            self.inner.write_all(b"\\u003c")?;
            rest = &rest[at + 1..];
        }
        self.inner.write_all(rest)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `data` as compact JSON inside `<script type="application/json" id="{id}">`.
pub(crate) fn write_json_island<T: Serialize>(
    out: &mut dyn Write,
    id: &str,
    data: &T,
) -> Result<(), RenderError> {
    write!(out, "<script type=\"application/json\" id=\"{id}\">")?;
    serde_json::to_writer(ScriptSafe { inner: out }, data)
        .map_err(|e| RenderError::Io(io::Error::from(e)))?;
    out.write_all(b"</script>\n")?;
    Ok(())
}

/// Which page a shell is for; sets the `<body>` class the stylesheet keys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageKind {
    /// One profile.
    Flamegraph,
    /// Two profiles compared.
    Diff,
}

/// Writes everything up to and including the static markup.
pub(crate) fn write_head(out: &mut dyn Write, kind: PageKind, title: &str) -> io::Result<()> {
    let class = match kind {
        PageKind::Flamegraph => "whyslow-flamegraph",
        PageKind::Diff => "whyslow-diff",
    };
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"whyslow\">\n<title>{}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body class=\"{class}\">\n{}",
        escape_html(title),
        MARKUP.replacen(
            "<h1 id=\"wf-title\"></h1>",
            &format!("<h1 id=\"wf-title\">{}</h1>", escape_html(title)),
            1
        )
    )
}

/// Writes the scripts (tree and engine first, then `page_js`) and closes the document.
pub(crate) fn write_tail(out: &mut dyn Write, page_js: &str) -> io::Result<()> {
    write!(
        out,
        "<script>\n{TREE_JS}</script>\n<script>\n{ENGINE_JS}</script>\n\
         <script>\n{page_js}</script>\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn island_json_cannot_close_the_script() {
        let mut out = Vec::new();
        let name = "</script><script>alert(1)</script><!--";
        write_json_island(&mut out, "x", &vec![name]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let body = text
            .strip_prefix("<script type=\"application/json\" id=\"x\">")
            .and_then(|t| t.strip_suffix("</script>\n"))
            .unwrap();
        assert!(!body.contains('<'));
        let back: Vec<String> = serde_json::from_str(body).unwrap();
        assert_eq!(back, vec![name.to_string()]);
    }

    #[test]
    fn assets_cannot_close_their_script_early() {
        for asset in [TREE_JS, ENGINE_JS, MARKUP, STYLE] {
            assert!(!asset.to_ascii_lowercase().contains("</script"));
        }
    }

    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(escape_html("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }
}
