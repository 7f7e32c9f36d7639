//! The interactive flamegraph page: one self-contained HTML file (no network,
//! works from `file://`) that embeds the profile as JSON and draws it with
//! plain JavaScript on a `<canvas>`, with zoom, search, view switching and an
//! inverted (bottom-up) mode; [`read`] gets the profile back out of the page.
//!
//! Canvas rather than inferno's SVG: an SVG flamegraph is one DOM element per
//! frame, which stops being usable past a few ten thousand frames, while a
//! canvas redraws 100k+ nodes per frame and the page can rebuild the tree per
//! view from the embedded samples. Not the differential page (`diff_html`).

mod data;
mod decode;
pub(crate) mod page;

use crate::error::RenderError;
use model::Profile;
use page::{PageKind, DATA_ID};
use query::ValueView;
use std::io::{BufWriter, Write};

/// Script that turns the embedded profile into trees for the engine.
const PAGE_JS: &str = include_str!("../assets/profile_page.js");

/// Writes the flamegraph page of `profile`, opening on `view`, titled `title`.
///
/// Every view the profile has values for is embedded; the page offers a
/// selector when there are several.
pub fn write(
    profile: &Profile,
    view: ValueView,
    title: &str,
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    let data = data::encode(profile, view, title);
    let mut out = BufWriter::with_capacity(1 << 16, out);
    page::write_head(&mut out, PageKind::Flamegraph, title)?;
    page::write_json_island(&mut out, DATA_ID, &data)?;
    page::write_tail(&mut out, PAGE_JS)?;
    out.flush()?;
    Ok(())
}

/// Reads back the profile embedded in a page written by [`write()`].
///
/// Stacks, values, sample types, labels and metadata survive; mappings and the
/// addresses of symbolized frames do not (the page does not embed them).
pub fn read(text: &str) -> Result<Profile, RenderError> {
    let start_tag = format!("<script type=\"application/json\" id=\"{DATA_ID}\">");
    let Some(start) = text.find(&start_tag).map(|at| at + start_tag.len()) else {
        let reason = if text.contains(&format!("id=\"{}\"", crate::diff_html::DATA_ID)) {
            "this is a differential flamegraph page, which embeds the comparison of two \
             profiles but neither profile; read the original profiles instead"
        } else {
            "no embedded profile (was this page written by whyslow?)"
        };
        return Err(RenderError::NotFlamegraphHtml(reason.to_string()));
    };
    let len = text[start..].find("</script>").ok_or_else(|| {
        RenderError::NotFlamegraphHtml("the embedded profile is cut off".to_string())
    })?;
    let data: data::ProfileData = serde_json::from_str(&text[start..start + len])
        .map_err(|e| RenderError::NotFlamegraphHtml(format!("embedded profile: {e}")))?;
    decode::decode(&data)
}

#[cfg(test)]
mod tests;
