//! Metric families as collectors produce them, and the Prometheus text
//! exposition format 0.0.4 writer `whyslow agent` serves at `/metrics`.
//!
//! Hand-written: the writer is a few lines over these types, and the
//! `prometheus`/`prometheus-client` crates would make every collector build
//! their registries' descriptor objects on each scrape.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The Content-Type of [`write_text`]'s output.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `# TYPE` of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Monotonic counter (`_total`).
    Counter,
    /// Gauge.
    Gauge,
    /// Untyped (node_exporter's netstat and vmstat fields).
    Untyped,
}

impl Kind {
    /// The word `# TYPE` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Untyped => "untyped",
        }
    }
}

/// One series' value: label pairs (without `__name__`) and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Label name and value pairs, in the order node_exporter declares them.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
}

/// A metric family: name, HELP, TYPE and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Metric name (`node_cpu_seconds_total`).
    pub name: Cow<'static, str>,
    /// HELP text.
    pub help: Cow<'static, str>,
    /// TYPE.
    pub kind: Kind,
    /// Samples.
    pub samples: Vec<Sample>,
}

impl Family {
    /// An empty family.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        kind: Kind,
    ) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            kind,
            samples: Vec::new(),
        }
    }

    /// A family of one unlabelled sample.
    pub fn single(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        kind: Kind,
        value: f64,
    ) -> Self {
        let mut family = Self::new(name, help, kind);
        family.push(Vec::new(), value);
        family
    }

    /// Adds a sample.
    pub fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push(Sample { labels, value });
    }
}

/// Writes families in the text exposition format 0.0.4, sorted by name as
/// node_exporter (client_golang) sorts them; empty families are left out.
pub fn write_text(families: &[Family], out: &mut String) {
    let mut order: Vec<&Family> = families.iter().filter(|f| !f.samples.is_empty()).collect();
    order.sort_by(|a, b| a.name.cmp(&b.name));
    for family in order {
        out.push_str("# HELP ");
        out.push_str(&family.name);
        out.push(' ');
        escape(&family.help, false, out);
        out.push_str("\n# TYPE ");
        out.push_str(&family.name);
        out.push(' ');
        out.push_str(family.kind.as_str());
        out.push('\n');
        for sample in &family.samples {
            out.push_str(&family.name);
            if !sample.labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in sample.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(name);
                    out.push_str("=\"");
                    escape(value, true, out);
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            write_value(sample.value, out);
            out.push('\n');
        }
    }
}

/// HELP escapes `\` and newline; label values also `"`.
fn escape(text: &str, quote: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

fn write_value(value: f64, out: &mut String) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_sorted_escaped_families() {
        let mut cpu = Family::new("node_b", "B \\ help\nline", Kind::Counter);
        cpu.push(vec![("cpu", "0".into()), ("mode", "a\"b".into())], 1.5);
        let load = Family::single("node_a", "A.", Kind::Gauge, f64::INFINITY);
        let empty = Family::new("node_c", "C.", Kind::Gauge);
        let mut out = String::new();
        write_text(&[cpu, load, empty], &mut out);
        assert_eq!(
            out,
            "# HELP node_a A.\n# TYPE node_a gauge\nnode_a +Inf\n\
             # HELP node_b B \\\\ help\\nline\n# TYPE node_b counter\nnode_b{cpu=\"0\",mode=\"a\\\"b\"} 1.5\n"
        );
    }
}
