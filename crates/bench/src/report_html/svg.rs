//! The report's pictures as inline SVG, drawn here rather than by a script
//! so the page needs no JavaScript library and shows in any viewer: a
//! histogram and a run-order strip per command, and violin plots with box
//! plots of all commands on one time axis.

use crate::result::BenchmarkResult;
use crate::stats;
use crate::units::{format_in, TimeUnit};
use std::fmt::Write;

const WIDTH: f64 = 560.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const PLOT_WIDTH: f64 = WIDTH - LEFT - RIGHT;
/// Width of the all-commands violin plot.
const VIOLIN_WIDTH: f64 = 1120.0;

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Round tick positions covering `low..=high` (about five).
fn ticks(low: f64, high: f64) -> Vec<f64> {
    let range = (high - low).max(f64::MIN_POSITIVE);
    let raw = range / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| range / s <= 6.0)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil() * step;
    (0..=12)
        .map(|i| first + step * i as f64)
        .take_while(|t| *t <= high + step * 1e-9)
        .collect()
}

/// A horizontal time axis from `low` to `high` seconds, at `y`, `plot_width` wide.
fn time_axis(svg: &mut String, (low, high): (f64, f64), y: f64, plot_width: f64, unit: TimeUnit) {
    let x_of = |t: f64| LEFT + (t - low) / (high - low) * plot_width;
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{y}" x2="{}" y2="{y}"/>"#,
        LEFT + plot_width
    );
    for tick in ticks(low, high) {
        let x = x_of(tick);
        let _ = write!(
            svg,
            r#"<line class="tick" x1="{x:.1}" y1="{y}" x2="{x:.1}" y2="{}"/><text class="tick-label" x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            y + 4.0,
            y + 16.0,
            format_in(tick, unit)
        );
    }
}

/// The time range shown for `values`, padded so nothing sits on the edge.
fn padded_range(low: f64, high: f64) -> (f64, f64) {
    let span = if high > low {
        high - low
    } else {
        low.abs().max(1e-6) * 0.1
    };
    ((low - span * 0.05).max(0.0), high + span * 0.05)
}

/// Histogram of one command's times; outlier bins drawn in their own colour.
pub fn histogram(result: &BenchmarkResult) -> String {
    let height = 180.0;
    let bottom = height - 28.0;
    let (low, high) = padded_range(result.min, result.max);
    let unit = TimeUnit::for_seconds(result.mean);
    let sorted = stats::sorted(&result.times);
    let iqr = stats::quantile_sorted(&sorted, 0.75) - stats::quantile_sorted(&sorted, 0.25);
    let n = result.times.len().max(1) as f64;
    let fd_width = 2.0 * iqr / n.cbrt();
    let bins = if fd_width > 0.0 {
        (((high - low) / fd_width).ceil() as usize).clamp(5, 40)
    } else {
        (n.sqrt().ceil() as usize).clamp(5, 40)
    };
    let bin_width = (high - low) / bins as f64;
    let mut counts = vec![0usize; bins];
    let mut outlier_counts = vec![0usize; bins];
    for (i, &t) in result.times.iter().enumerate() {
        let bin = (((t - low) / bin_width) as usize).min(bins - 1);
        counts[bin] += 1;
        if result.outliers.contains(&i) {
            outlier_counts[bin] += 1;
        }
    }
    let tallest = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let mut svg = format!(
        r#"<svg class="histogram" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="histogram of run times">"#
    );
    for (bin, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let x = LEFT + bin as f64 * PLOT_WIDTH / bins as f64;
        let w = (PLOT_WIDTH / bins as f64 - 1.0).max(1.0);
        let h = count as f64 / tallest * (bottom - 12.0);
        let class = if outlier_counts[bin] > 0 {
            "bar outlier"
        } else {
            "bar"
        };
        let from = low + bin as f64 * bin_width;
        let _ = write!(
            svg,
            r#"<rect class="{class}" x="{x:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}"><title>{} – {}: {count} runs</title></rect>"#,
            bottom - h,
            format_in(from, unit),
            format_in(from + bin_width, unit)
        );
    }
    let x_of = |t: f64| LEFT + (t - low) / (high - low) * PLOT_WIDTH;
    for (class, value, label) in [
        ("mean", result.mean, "mean"),
        ("median", result.median, "median"),
    ] {
        let x = x_of(value);
        let _ = write!(
            svg,
            r#"<line class="marker {class}" x1="{x:.1}" y1="8" x2="{x:.1}" y2="{bottom}"><title>{label} {}</title></line>"#,
            format_in(value, unit)
        );
    }
    let _ = write!(
        svg,
        r#"<text class="axis-label" x="4" y="14">runs</text><text class="axis-label" x="4" y="{bottom}">0</text><text class="axis-label" x="4" y="26">{}</text>"#,
        tallest as usize
    );
    time_axis(&mut svg, (low, high), bottom, PLOT_WIDTH, unit);
    svg.push_str("</svg>");
    svg
}

/// Each run's time in run order: warmup effects and drift show as slopes.
pub fn run_order(result: &BenchmarkResult) -> String {
    let height = 120.0;
    let bottom = height - 14.0;
    let (low, high) = padded_range(result.min, result.max);
    let unit = TimeUnit::for_seconds(result.mean);
    let n = result.times.len();
    let x_of = |i: usize| {
        LEFT + if n > 1 {
            i as f64 / (n - 1) as f64 * PLOT_WIDTH
        } else {
            PLOT_WIDTH / 2.0
        }
    };
    let y_of = |t: f64| bottom - (t - low) / (high - low) * (bottom - 8.0);
    let mut svg = format!(
        r#"<svg class="run-order" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="run times in run order">"#
    );
    let points: Vec<String> = result
        .times
        .iter()
        .enumerate()
        .map(|(i, &t)| format!("{:.1},{:.1}", x_of(i), y_of(t)))
        .collect();
    let _ = write!(
        svg,
        r#"<polyline class="trace" points="{}"/>"#,
        points.join(" ")
    );
    for (i, &t) in result.times.iter().enumerate() {
        let class = if result.outliers.contains(&i) {
            "run outlier"
        } else {
            "run"
        };
        let _ = write!(
            svg,
            r#"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="2.5"><title>run {}: {}</title></circle>"#,
            x_of(i),
            y_of(t),
            i + 1,
            format_in(t, unit)
        );
    }
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{}" y2="{bottom}"/><text class="axis-label" x="4" y="12">{}</text><text class="axis-label" x="4" y="{bottom}">{}</text><text class="axis-label" x="{}" y="{}" text-anchor="end">run {n}</text>"#,
        LEFT + PLOT_WIDTH,
        format_in(high, unit),
        format_in(low, unit),
        LEFT + PLOT_WIDTH,
        height - 2.0
    );
    svg.push_str("</svg>");
    svg
}

/// Gaussian kernel density of `sample` at `x` with bandwidth `h`.
fn density(sample: &[f64], h: f64, x: f64) -> f64 {
    sample
        .iter()
        .map(|&v| (-0.5 * ((x - v) / h).powi(2)).exp())
        .sum::<f64>()
}

/// Violin (kernel density, Silverman's bandwidth) and box plot (quartiles,
/// median, whiskers to 1.5 IQR, outliers as dots) of every command, one row
/// each, on a shared time axis.
pub fn violins(results: &[BenchmarkResult]) -> String {
    let row = 72.0;
    let label_height = 16.0;
    let height = results.len() as f64 * (row + label_height) + 30.0;
    let lowest = results.iter().map(|r| r.min).fold(f64::INFINITY, f64::min);
    let highest = results
        .iter()
        .map(|r| r.max)
        .fold(f64::NEG_INFINITY, f64::max);
    let (low, high) = if lowest.is_finite() {
        padded_range(lowest, highest)
    } else {
        (0.0, 1.0)
    };
    let unit = TimeUnit::for_seconds(if lowest.is_finite() {
        (lowest + highest) / 2.0
    } else {
        1.0
    });
    let width = VIOLIN_WIDTH;
    let plot_width = width - LEFT - RIGHT;
    let x_of = |t: f64| LEFT + (t - low) / (high - low) * plot_width;
    let mut svg = format!(
        r#"<svg class="violins" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="distribution of run times per command">"#
    );
    for (index, result) in results.iter().enumerate() {
        let top = index as f64 * (row + label_height);
        let center = top + label_height + row / 2.0;
        let _ = write!(
            svg,
            r#"<text class="violin-label" x="{LEFT}" y="{:.1}">{}</text>"#,
            top + 12.0,
            escape(&result.command)
        );
        let sorted = stats::sorted(&result.times);
        let (q1, q3) = (
            stats::quantile_sorted(&sorted, 0.25),
            stats::quantile_sorted(&sorted, 0.75),
        );
        let sd = result.stddev.unwrap_or(0.0);
        let spread = sd.min((q3 - q1) / 1.34).max(0.0);
        let spread = if spread > 0.0 {
            spread
        } else {
            sd.max((high - low) * 0.01)
        };
        // Silverman's rule, but never narrower than 0.5 % of the axis: a
        // command far tighter than the slowest one's range would otherwise
        // draw as a sliver a few pixels wide.
        let bandwidth = (0.9 * spread * (result.times.len().max(1) as f64).powf(-0.2))
            .max((high - low) * 0.005);
        let (from, to) = (
            (result.min - 3.0 * bandwidth).max(low),
            (result.max + 3.0 * bandwidth).min(high),
        );
        let steps = 80;
        let curve: Vec<(f64, f64)> = (0..=steps)
            .map(|i| {
                let t = from + (to - from) * i as f64 / steps as f64;
                (t, density(&result.times, bandwidth, t))
            })
            .collect();
        let peak = curve
            .iter()
            .map(|p| p.1)
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        let half = row / 2.0 - 2.0;
        let mut path = String::new();
        for (i, (t, d)) in curve.iter().enumerate() {
            let _ = write!(
                path,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                x_of(*t),
                center - d / peak * half
            );
        }
        for (t, d) in curve.iter().rev() {
            let _ = write!(path, "L{:.1},{:.1}", x_of(*t), center + d / peak * half);
        }
        let _ = write!(
            svg,
            r#"<path class="violin" d="{path}Z"><title>{}: {} runs</title></path>"#,
            escape(&result.command),
            result.times.len()
        );
        // Box plot on top of the violin.
        let iqr = q3 - q1;
        let whisker_low = sorted
            .iter()
            .copied()
            .find(|&t| t >= q1 - 1.5 * iqr)
            .unwrap_or(result.min);
        let whisker_high = sorted
            .iter()
            .rev()
            .copied()
            .find(|&t| t <= q3 + 1.5 * iqr)
            .unwrap_or(result.max);
        let box_half = 7.0;
        let _ = write!(
            svg,
            r#"<line class="whisker" x1="{:.1}" y1="{center:.1}" x2="{:.1}" y2="{center:.1}"/><rect class="box" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>quartiles {} – {}</title></rect><line class="median" x1="{m:.1}" y1="{:.1}" x2="{m:.1}" y2="{:.1}"><title>median {}</title></line>"#,
            x_of(whisker_low),
            x_of(whisker_high),
            x_of(q1),
            center - box_half,
            (x_of(q3) - x_of(q1)).max(1.0),
            2.0 * box_half,
            format_in(q1, unit),
            format_in(q3, unit),
            center - box_half,
            center + box_half,
            format_in(result.median, unit),
            m = x_of(result.median),
        );
        for &i in &result.outliers {
            if let Some(&t) = result.times.get(i) {
                let _ = write!(
                    svg,
                    r#"<circle class="outlier-dot" cx="{:.1}" cy="{center:.1}" r="3"><title>outlier: run {} took {}</title></circle>"#,
                    x_of(t),
                    i + 1,
                    format_in(t, unit)
                );
            }
        }
    }
    time_axis(&mut svg, (low, high), height - 24.0, plot_width, unit);
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let t = ticks(0.048, 0.103);
        assert_eq!(t.first().map(|v| (v * 1000.0).round()), Some(50.0));
        assert!(t.len() >= 3 && t.len() <= 7, "{t:?}");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
