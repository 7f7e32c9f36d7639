//! `--report out.html`: one self-contained page (no network) with the latency
//! percentile spectrum, latency histogram, latency-over-time heatmap, and
//! throughput and errors over time, drawn as inline SVG by the page's own
//! script from the run's JSON document, which the page embeds.
//!
//! The page and its script are `report/report.html` and `report/report.js`.

use crate::json::to_json;
use crate::result::LoadResult;

const TEMPLATE: &str = include_str!("report/report.html");
const SCRIPT: &str = include_str!("report/report.js");

/// Escapes JSON for a `<script type="application/json">` element.
fn embed(json: &str) -> String {
    json.replace("</", "<\\/").replace("<!--", "<\\!--")
}

/// The report page for `result`; `trace_server` turns trace ids into links.
pub fn report_html(result: &LoadResult, trace_server: Option<&str>) -> String {
    let mut document = to_json(result);
    if let Some(object) = document.as_object_mut() {
        object.insert(
            "trace_server".into(),
            trace_server.map(|s| s.trim_end_matches('/')).into(),
        );
    }
    let title = format!("whyslow load {}", result.config.target.url);
    TEMPLATE
        .replace("{{TITLE}}", &html_escape(&title))
        .replace("{{DATA}}", &embed(&document.to_string()))
        .replace("{{SCRIPT}}", &SCRIPT.replace("</script", "<\\/script"))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_json_cannot_close_the_script() {
        assert_eq!(embed(r#"{"a":"</script>"}"#), r#"{"a":"<\/script>"}"#);
        assert_eq!(html_escape("a<b>&\""), "a&lt;b&gt;&amp;&quot;");
    }
}
