//! `--report out.html`: one self-contained page (inline CSS and SVG, no
//! network, no script needed to read it) with the summary table, the
//! comparisons, the baseline verdicts, all commands' distributions as violin
//! and box plots, and per command a histogram and a run-order strip. The
//! report's JSON is embedded too (`#bench-data`) for scripts and tests.

mod svg;

use crate::baseline::Verdict;
use crate::compare::format_p_value;
use crate::error::BenchError;
use crate::result::Report;
use crate::units::{format_bytes, format_in, format_seconds, TimeUnit};
use std::io::Write;
use svg::escape;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1180px;color:#1d2330;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px} h3{font-size:15px;margin:0 0 6px;font-family:ui-monospace,monospace;word-break:break-all}
.meta{color:#5b6475;margin:0 0 16px}
table{border-collapse:collapse;width:100%} th,td{padding:5px 8px;border-bottom:1px solid #e3e6ec;text-align:right;white-space:nowrap}
th{background:#f4f6f9;font-weight:600} td.cmd,th.cmd{text-align:left;font-family:ui-monospace,monospace;white-space:normal;word-break:break-all}
ul.comparisons{padding-left:18px} ul.comparisons li{margin:3px 0}
.regressed{color:#b42318;font-weight:600} .improved{color:#067647} .unchanged{color:#5b6475}
.cards{display:flex;flex-wrap:wrap;gap:16px} .card{border:1px solid #e3e6ec;border-radius:6px;padding:12px;background:#fff;overflow-x:auto} .card.command{flex:0 0 560px}
.warning{color:#b54708}
svg{display:block;font:11px system-ui,sans-serif} .axis,.tick{stroke:#8a93a5;stroke-width:1}
.tick-label,.axis-label{fill:#5b6475} .bar{fill:#4e79a7} .bar.outlier{fill:#e15759}
.marker{stroke-width:1.5;stroke-dasharray:4 3} .marker.mean{stroke:#f28e2b} .marker.median{stroke:#1d2330}
.trace{fill:none;stroke:#a0b4cc;stroke-width:1} .run{fill:#4e79a7} .run.outlier,.outlier-dot{fill:#e15759}
.violin{fill:#4e79a7;fill-opacity:.35;stroke:#4e79a7} .box{fill:#fff;stroke:#1d2330} .whisker{stroke:#1d2330}
.median{stroke:#f28e2b;stroke-width:2} .violin-label{fill:#1d2330;font-family:ui-monospace,monospace}
"#;

/// Writes the report page titled `title`.
pub fn write(report: &Report, title: &str, out: &mut dyn Write) -> Result<(), BenchError> {
    let mut page = String::with_capacity(64 * 1024);
    page += &format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    );
    page += &format!(
        "<h1>{}</h1>\n<p class=\"meta\">{}</p>\n",
        escape(title),
        escape(&meta_line(report))
    );
    page += &summary_table(report);
    page += &comparisons(report);
    page += "<h2>Distributions</h2>\n<div class=\"card\" id=\"overview\">";
    page += &svg::violins(&report.results);
    page += "</div>\n<h2>Per command</h2>\n<div class=\"cards\">\n";
    for (index, result) in report.results.iter().enumerate() {
        page += &format!(
            "<div class=\"card command\" data-index=\"{index}\"><h3>{}</h3>",
            escape(&result.command)
        );
        if let Some(warning) = crate::summary::outlier_warning(result) {
            page += &format!("<p class=\"warning\">{}</p>", escape(&warning));
        }
        page += &svg::histogram(result);
        page += &svg::run_order(result);
        page += "</div>\n";
    }
    page += "</div>\n";
    let json = serde_json::to_string(report)?.replace("</", "<\\/");
    page += &format!(
        "<script type=\"application/json\" id=\"bench-data\">{json}</script>\n</body></html>\n"
    );
    out.write_all(page.as_bytes())?;
    Ok(())
}

fn meta_line(report: &Report) -> String {
    let shell = match report.shell_overhead_s {
        Some(overhead) => format!(
            "shell `{}` (spawn overhead {} subtracted)",
            report.shell,
            format_seconds(overhead)
        ),
        None => "no shell (commands split into arguments)".to_string(),
    };
    format!(
        "{} commands · {shell} · {:.0} % bootstrap intervals ({} resamples, seed {}) · whyslow {}",
        report.results.len(),
        report.confidence * 100.0,
        report.bootstrap_resamples,
        report.seed,
        env!("CARGO_PKG_VERSION")
    )
}

fn summary_table(report: &Report) -> String {
    let percent = report.confidence * 100.0;
    let mut html = format!(
        "<h2>Summary</h2>\n<table id=\"summary\"><thead><tr><th class=\"cmd\">Command</th><th>Mean ± σ</th>\
         <th>Mean {percent:.0} % CI</th><th>Median [{percent:.0} % CI]</th><th>Min … Max</th><th>User</th><th>System</th>\
         <th>Peak RSS</th><th>Runs</th><th>Outliers</th></tr></thead><tbody>\n"
    );
    for r in &report.results {
        let unit = TimeUnit::for_seconds(r.mean);
        let t = |s: f64| format_in(s, unit);
        let rss = format!(
            "{}{}",
            if r.peak_rss_is_upper_bound {
                "≤ "
            } else {
                ""
            },
            format_bytes(r.peak_rss_bytes)
        );
        html += &format!(
            "<tr><td class=\"cmd\">{}</td><td>{} ± {}</td><td>{} … {}</td><td>{} [{} … {}]</td><td>{} … {}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&r.command),
            t(r.mean),
            t(r.stddev.unwrap_or(0.0)),
            t(r.mean_ci.low),
            t(r.mean_ci.high),
            t(r.median),
            t(r.median_ci.low),
            t(r.median_ci.high),
            t(r.min),
            t(r.max),
            format_seconds(r.user),
            format_seconds(r.system),
            rss,
            r.times.len(),
            r.outliers.len()
        );
    }
    html + "</tbody></table>\n"
}

fn comparisons(report: &Report) -> String {
    let mut html = String::new();
    if !report.comparisons.is_empty() {
        html += "<h2>Comparison</h2>\n<ul class=\"comparisons\" id=\"comparisons\">\n";
        for c in &report.comparisons {
            html += &format!("<li>{}</li>\n", escape(&c.sentence(report.confidence)));
        }
        html += "</ul>\n";
    }
    if !report.baseline.is_empty() {
        html += "<h2>Against the baseline</h2>\n<ul class=\"comparisons\" id=\"baseline\">\n";
        for b in &report.baseline {
            let class = match b.verdict {
                Verdict::Regressed => "regressed",
                Verdict::Improved => "improved",
                Verdict::Unchanged => "unchanged",
            };
            html += &format!(
                "<li class=\"{class}\" title=\"{}\">{}</li>\n",
                escape(&format_p_value(b.p_value)),
                escape(&b.sentence())
            );
        }
        html += "</ul>\n";
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::sample_report;

    #[test]
    fn page_is_self_contained_with_every_plot() {
        let report = sample_report();
        let mut out = Vec::new();
        write(&report, "a <b> & c", &mut out).expect("writes");
        let html = String::from_utf8(out).expect("UTF-8");
        assert!(html.contains("<title>a &lt;b&gt; &amp; c</title>"));
        assert_eq!(html.matches("<path class=\"violin\"").count(), 2);
        assert_eq!(html.matches("<rect class=\"box\"").count(), 2);
        assert_eq!(html.matches("<svg class=\"histogram\"").count(), 2);
        assert_eq!(html.matches("<svg class=\"run-order\"").count(), 2);
        assert_eq!(html.matches("class=\"outlier-dot\"").count(), 1);
        assert!(html.contains("× faster than `sleep 0.1`"));
        assert!(
            !html.contains("http://")
                && !html.contains("https://")
                && !html.contains("<script src")
        );
        let start = html
            .find("id=\"bench-data\">")
            .map(|i| i + 16)
            .expect("data island");
        let end = html[start..].find("</script>").expect("closed") + start;
        let back: Report = serde_json::from_str(&html[start..end]).expect("embedded JSON");
        assert_eq!(back.results.len(), 2);
    }
}
