//! OTLP metric and attribute names to Prometheus names, as Prometheus's
//! default OTLP translation (`UnderscoreEscapingWithSuffixes`, the
//! `prometheus/otlptranslator` rules) builds them: characters outside
//! `[a-zA-Z0-9:]` split the name into words joined by `_`, the unit becomes
//! a suffix (`s` → `_seconds`, `By/s` → `_bytes_per_second`, `{packet}`
//! dropped) unless the name already has it, monotonic counters end in
//! `_total` and unit-`1` gauges in `_ratio`.

/// What kind of series the name is for (the suffix rules differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Gauges (unit `1` adds `_ratio`).
    Gauge,
    /// Monotonic sums (`_total`).
    Counter,
    /// Non-monotonic sums, histograms, exponential histograms, summaries.
    Other,
}

/// UCUM units to Prometheus unit words.
fn unit_word(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

/// The "per" part of `x/y` units, singular.
fn per_unit_word(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

fn is_metric_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':'
}

/// Every character outside `[a-zA-Z0-9:_]` to `_`, runs of `_` collapsed,
/// leading `_` removed.
fn clean_unit(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len());
    for c in unit.chars() {
        let c = if is_metric_word_char(c) { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    out.trim_start_matches('_').to_string()
}

/// The main and "per" unit suffixes of a UCUM unit (`By/s` → `bytes`,
/// `per_second`); units in curly braces are annotations and give none.
fn unit_suffixes(unit: &str) -> (String, String) {
    let mut parts = unit.splitn(2, '/');
    let main = parts.next().unwrap_or("").trim();
    let main = if main.is_empty() || main.contains(['{', '}']) {
        String::new()
    } else {
        clean_unit(unit_word(main))
    };
    let per = match parts.next().map(str::trim) {
        Some(per) if !per.is_empty() && !per.contains(['{', '}']) => {
            clean_unit(&format!("per_{}", per_unit_word(per)))
        }
        _ => String::new(),
    };
    (main, per)
}

/// The Prometheus unit name of a UCUM unit, for metadata (`By/s` → `bytes_per_second`).
pub fn unit_name(unit: &str) -> String {
    let (main, per) = unit_suffixes(unit);
    let joined = match (main.is_empty(), per.is_empty()) {
        (false, false) => format!("{main}_{per}"),
        (false, true) => main,
        _ => per,
    };
    joined.trim_matches('_').to_string()
}

/// The Prometheus metric name (without `_bucket`/`_sum`/`_count`), or
/// `None` when nothing valid is left of it.
pub fn metric_name(name: &str, unit: &str, kind: Kind) -> Option<String> {
    let mut words: Vec<String> = name
        .split(|c: char| !is_metric_word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let (main, per) = unit_suffixes(unit);
    let per = if per == "per_" {
        String::new()
    } else {
        per.trim_end_matches('_').to_string()
    };
    let main = if !per.is_empty() {
        main.trim_end_matches('_').to_string()
    } else {
        main
    };
    if !main.is_empty() && !words.contains(&main) {
        words.push(main);
    }
    if !per.is_empty() && !words.contains(&per) {
        words.push(per);
    }
    if kind == Kind::Counter {
        words.retain(|w| w != "total");
        words.push("total".into());
    }
    if unit == "1" && kind == Kind::Gauge {
        words.retain(|w| w != "ratio");
        words.push("ratio".into());
    }
    let mut out = words.join("_");
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    (!out.is_empty() && out.chars().any(|c| c != '_')).then_some(out)
}

/// An attribute key as a label name: characters outside `[a-zA-Z0-9_]`
/// become `_`, a leading digit gets `key_`, a single leading `_` gets `key`
/// (`__` names are kept). `None` for empty or all-underscore results.
pub fn label_name(key: &str) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    } else if out.starts_with('_') && !out.starts_with("__") {
        out.insert_str(0, "key");
    }
    (out == key || out.chars().any(|c| c != '_')).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(name: &str, unit: &str, kind: Kind) -> String {
        metric_name(name, unit, kind).unwrap_or_default()
    }

    #[test]
    fn metric_names_follow_the_default_translation() {
        use Kind::*;
        assert_eq!(
            name("http.server.duration", "s", Other),
            "http_server_duration_seconds"
        );
        assert_eq!(
            name("http.server.request.duration", "ms", Other),
            "http_server_request_duration_milliseconds"
        );
        assert_eq!(name("requests", "1", Counter), "requests_total");
        assert_eq!(name("requests.total", "", Counter), "requests_total");
        assert_eq!(name("total.requests", "", Counter), "requests_total");
        assert_eq!(name("cpu.utilization", "1", Gauge), "cpu_utilization_ratio");
        assert_eq!(name("cpu.ratio.x", "1", Gauge), "cpu_x_ratio");
        assert_eq!(name("memory.usage", "By", Gauge), "memory_usage_bytes");
        assert_eq!(
            name("memory.usage.bytes", "By", Gauge),
            "memory_usage_bytes"
        );
        assert_eq!(
            name("net.io", "By/s", Counter),
            "net_io_bytes_per_second_total"
        );
        assert_eq!(name("packets", "{packet}", Counter), "packets_total");
        assert_eq!(name("packets", "{packet}/s", Gauge), "packets_per_second");
        assert_eq!(name("queue", "{item}/{s}", Gauge), "queue");
        assert_eq!(name("disk.used", "%", Gauge), "disk_used_percent");
        assert_eq!(name("temp", "Cel", Gauge), "temp_celsius");
        assert_eq!(name("odd__name--x", "", Gauge), "odd_name_x");
        assert_eq!(name("a:b.c", "", Gauge), "a:b_c");
        assert_eq!(name("2xx.count", "", Counter), "_2xx_count_total");
        assert_eq!(name("x", "foo bar", Gauge), "x_foo_bar");
        assert_eq!(name("x", "1", Counter), "x_total");
        assert_eq!(metric_name("...", "", Kind::Gauge), None);
    }

    #[test]
    fn units_for_metadata() {
        assert_eq!(unit_name("s"), "seconds");
        assert_eq!(unit_name("By/s"), "bytes_per_second");
        assert_eq!(unit_name("{req}/s"), "per_second");
        assert_eq!(unit_name("1"), "");
        assert_eq!(unit_name("{packet}"), "");
    }

    #[test]
    fn label_names_are_sanitised() {
        assert_eq!(label_name("http.method").as_deref(), Some("http_method"));
        assert_eq!(label_name("123abc").as_deref(), Some("key_123abc"));
        assert_eq!(label_name("_private").as_deref(), Some("key_private"));
        assert_eq!(label_name("__reserved").as_deref(), Some("__reserved"));
        assert_eq!(label_name("é.x").as_deref(), Some("__x"));
        assert_eq!(label_name("..."), None);
        assert_eq!(label_name(""), None);
    }
}
