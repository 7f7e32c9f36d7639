//! The line-by-line parser behind [`super::parse`]: comments into family
//! metadata, sample lines into [`ScrapedSample`]s.

use super::cursor::{parse_value, unescape_help, Cursor};
use super::{Exposition, ExpositionError, Format, ScrapedExemplar, ScrapedSample};
use model::metrics::{Label, Labels, MetricMetadata, MetricType, METRIC_NAME};
use std::collections::HashMap;

/// Longest exemplar label set (names and values, in characters), per OpenMetrics.
const MAX_EXEMPLAR_LABEL_CHARS: usize = 128;

/// Parses a whole scrape body in `format`.
pub fn parse(body: &[u8], format: Format) -> Result<Exposition, ExpositionError> {
    let mut parser = Parser {
        format,
        out: Exposition::default(),
        families: HashMap::new(),
    };
    let om = format == Format::OpenMetrics;
    let mut lines = body.split(|&b| b == b'\n').enumerate().peekable();
    let mut saw_eof = false;
    while let Some((index, raw)) = lines.next() {
        let number = index + 1;
        let fail = |message: String| ExpositionError {
            format: parser_name(format),
            line: number,
            message,
        };
        // The piece after the final '\n' is empty: not a line.
        if raw.is_empty() && lines.peek().is_none() {
            break;
        }
        if saw_eof {
            return Err(fail("data after \"# EOF\"".to_string()));
        }
        let line = std::str::from_utf8(raw).map_err(|e| {
            fail(format!(
                "not valid UTF-8 (byte {} of the line)",
                e.valid_up_to() + 1
            ))
        })?;
        let line = if om {
            line
        } else {
            line.strip_suffix('\r').unwrap_or(line)
        };
        if om && line == "# EOF" {
            saw_eof = true;
            continue;
        }
        parser.line(line).map_err(fail)?;
    }
    if om && !saw_eof {
        return Err(ExpositionError {
            format: parser_name(format),
            line: body.split(|&b| b == b'\n').count().max(1),
            message:
                "missing \"# EOF\" at the end (OpenMetrics requires it; was the body cut short?)"
                    .to_string(),
        });
    }
    Ok(parser.out)
}

fn parser_name(format: Format) -> &'static str {
    match format {
        Format::PrometheusText => "text format",
        Format::OpenMetrics => "OpenMetrics",
    }
}

struct Parser {
    format: Format,
    out: Exposition,
    /// Family name -> index in `out.metadata`.
    families: HashMap<String, usize>,
}

impl Parser {
    fn om(&self) -> bool {
        self.format == Format::OpenMetrics
    }

    fn line(&mut self, line: &str) -> Result<(), String> {
        if line.starts_with('#') {
            return self.comment(line);
        }
        if line.trim_matches([' ', '\t']).is_empty() {
            if self.om() {
                return Err("empty line (OpenMetrics allows none)".to_string());
            }
            return Ok(());
        }
        let sample = self.sample(line)?;
        self.out.samples.push(sample);
        Ok(())
    }

    fn family(&mut self, name: &str) -> &mut MetricMetadata {
        let index = match self.families.get(name) {
            Some(&i) => i,
            None => {
                let i = self.out.metadata.len();
                self.out.metadata.push(MetricMetadata {
                    metric_family_name: name.to_string(),
                    ..MetricMetadata::default()
                });
                self.families.insert(name.to_string(), i);
                i
            }
        };
        &mut self.out.metadata[index]
    }

    /// `# HELP`, `# TYPE`, `# UNIT`; other comments.
    fn comment(&mut self, line: &str) -> Result<(), String> {
        let om = self.om();
        let mut c = Cursor::new(line);
        c.eat(b'#');
        let blanks = if om {
            usize::from(c.eat(b' '))
        } else {
            c.skip_blanks()
        };
        let keyword = c.token();
        let known = matches!(keyword, "HELP" | "TYPE") || (om && keyword == "UNIT");
        if blanks == 0 || !known {
            if om {
                return Err(format!(
                    "unexpected comment {line:?} (OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF)"
                ));
            }
            return Ok(()); // A free-form comment.
        }
        let separated = if om { c.eat(b' ') } else { c.skip_blanks() > 0 };
        if !separated {
            return Err(format!("expected a metric name after # {keyword}"));
        }
        let name = c.metric_name()?;
        if !c.at_end() {
            let separated = if om { c.eat(b' ') } else { c.skip_blanks() > 0 };
            if !separated {
                return Err(format!(
                    "expected a space after the metric name {name:?}, found {}",
                    c.describe_next()
                ));
            }
        }
        let text = c.rest();
        match keyword {
            "HELP" => {
                let help = unescape_help(text, om);
                self.family(name).help = help;
            }
            "TYPE" => {
                let word = text.trim_end_matches([' ', '\t']);
                let metric_type =
                    match MetricType::parse(word) {
                        // "untyped" is the text format's word; OpenMetrics says "unknown".
                        Some(_) if om && word == "untyped" => None,
                        // Info, stateset and gaugehistogram exist only in OpenMetrics.
                        Some(
                            MetricType::Info | MetricType::Stateset | MetricType::Gaugehistogram,
                        ) if !om => None,
                        parsed => parsed,
                    };
                let Some(metric_type) = metric_type else {
                    return Err(format!(
                        "invalid metric type {word:?} for {name} (expected {})",
                        if om {
                            "counter, gauge, histogram, gaugehistogram, summary, info, stateset or unknown"
                        } else {
                            "counter, gauge, histogram, summary or untyped"
                        }
                    ));
                };
                self.family(name).metric_type = metric_type;
            }
            _ => {
                if !text.is_empty() && !name.ends_with(text) {
                    return Err(format!(
                        "unit {text:?} is not a suffix of the metric name {name:?}"
                    ));
                }
                self.family(name).unit = text.to_string();
            }
        }
        Ok(())
    }

    fn sample(&self, line: &str) -> Result<ScrapedSample, String> {
        let om = self.om();
        let mut c = Cursor::new(line);
        if !om {
            c.skip_blanks();
        }
        let name = c.metric_name()?;
        // The text format allows blanks between the name and the label set.
        let blanks = if om { 0 } else { c.skip_blanks() };
        let mut pairs = vec![Label {
            name: METRIC_NAME.to_string(),
            value: name.to_string(),
        }];
        let separated = if c.peek() == Some(b'{') {
            self.label_set(&mut c, &mut pairs)?;
            self.separator(&mut c)
        } else if blanks > 0 {
            !c.at_end()
        } else {
            self.separator(&mut c)
        };
        let labels = Labels::new(pairs);
        if !separated {
            return Err(format!(
                "expected a space and the value after {name}, found {}",
                c.describe_next()
            ));
        }
        let token = c.token();
        if token.is_empty() {
            return Err(format!(
                "expected a sample value, found {}",
                c.describe_next()
            ));
        }
        let value = parse_value(token)?;
        let mut sample = ScrapedSample {
            labels,
            value,
            timestamp_ms: None,
            exemplar: None,
        };
        if !self.separator(&mut c) {
            return Self::finish(&c, sample);
        }
        if c.peek() != Some(b'#') {
            sample.timestamp_ms = Some(self.timestamp(c.token())?);
            if !self.separator(&mut c) {
                return Self::finish(&c, sample);
            }
        }
        if c.peek() == Some(b'#') {
            if !om {
                return Err(
                    "exemplars (\" # {…}\") are allowed only in OpenMetrics, not the text format"
                        .to_string(),
                );
            }
            c.eat(b'#');
            sample.exemplar = Some(self.exemplar(&mut c)?);
        }
        Self::finish(&c, sample)
    }

    fn finish(c: &Cursor<'_>, sample: ScrapedSample) -> Result<ScrapedSample, String> {
        if c.at_end() {
            Ok(sample)
        } else {
            Err(format!(
                "unexpected {:?} at the end of the sample",
                c.rest()
            ))
        }
    }

    /// One space in OpenMetrics, spaces and tabs in the text format; false at
    /// the end of the line (or when no separator comes).
    fn separator(&self, c: &mut Cursor<'_>) -> bool {
        let separated = if self.om() {
            c.eat(b' ')
        } else {
            c.skip_blanks() > 0
        };
        separated && !c.at_end()
    }

    /// `{name="value",…}` appended to `pairs`; refuses repeated names.
    fn label_set(&self, c: &mut Cursor<'_>, pairs: &mut Vec<Label>) -> Result<(), String> {
        let om = self.om();
        let first = pairs.len();
        c.expect(b'{', "to open the label set")?;
        loop {
            if !om {
                c.skip_blanks();
            }
            if c.eat(b'}') {
                return Ok(());
            }
            let name = c.label_name()?;
            if !om {
                c.skip_blanks();
            }
            c.expect(b'=', &format!("after the label name {name:?}"))?;
            if !om {
                c.skip_blanks();
            }
            let value = c.quoted()?;
            if name == METRIC_NAME {
                return Err("label __name__ inside braces (write the metric name first)".into());
            }
            if pairs[first..].iter().any(|l| l.name == name) {
                return Err(format!("duplicate label name {name:?}"));
            }
            pairs.push(Label {
                name: name.to_string(),
                value,
            });
            if !om {
                c.skip_blanks();
            }
            if c.eat(b',') {
                if om && c.peek() == Some(b'}') {
                    return Err("trailing ',' before '}' (OpenMetrics allows none)".into());
                }
                continue;
            }
            c.expect(b'}', "or ',' after a label value")?;
            return Ok(());
        }
    }

    /// Milliseconds in the text format, seconds in OpenMetrics.
    fn timestamp(&self, token: &str) -> Result<i64, String> {
        if self.om() {
            let seconds: f64 = token
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite())
                .ok_or_else(|| {
                    format!(
                        "invalid timestamp {token:?} (expected Unix seconds, e.g. 1700000000.123)"
                    )
                })?;
            let ms = (seconds * 1000.0).round();
            if ms.abs() >= 9.2e18 {
                return Err(format!("timestamp {token:?} is out of range"));
            }
            Ok(ms as i64)
        } else {
            token.parse().map_err(|_| {
                format!(
                    "invalid timestamp {token:?} (expected integer Unix milliseconds, e.g. 1700000000123)"
                )
            })
        }
    }

    /// After `#`: ` {labels} value [timestamp]`.
    fn exemplar(&self, c: &mut Cursor<'_>) -> Result<ScrapedExemplar, String> {
        if !c.eat(b' ') {
            return Err("expected a space after the exemplar's '#'".into());
        }
        let mut pairs = Vec::new();
        if c.peek() != Some(b'{') {
            return Err(format!(
                "expected the exemplar's label set '{{…}}', found {}",
                c.describe_next()
            ));
        }
        self.label_set(c, &mut pairs)?;
        let chars: usize = pairs
            .iter()
            .map(|l| l.name.chars().count() + l.value.chars().count())
            .sum();
        if chars > MAX_EXEMPLAR_LABEL_CHARS {
            return Err(format!(
                "exemplar labels are {chars} characters long (at most {MAX_EXEMPLAR_LABEL_CHARS})"
            ));
        }
        if !c.eat(b' ') || c.at_end() {
            return Err("expected a space and the exemplar's value after its labels".into());
        }
        let value = parse_value(c.token())?;
        let timestamp_ms = if c.eat(b' ') {
            Some(self.timestamp(c.token())?)
        } else {
            None
        };
        Ok(ScrapedExemplar {
            labels: Labels::new(pairs),
            value,
            timestamp_ms,
        })
    }
}
