//! Alert label and annotation templates: the subset of Go's `text/template`
//! (with Prometheus's variables and functions) that alert rules use in
//! practice. Templates are parsed when the rule file loads; anything outside
//! the subset is refused there, with the rule's file and line, rather than
//! expanded wrongly later.
//!
//! Supported:
//! - text and `{{ … }}` actions, with `{{-` / `-}}` trimming whitespace;
//! - variables `$labels`, `$labels.NAME`, `$value`, `$externalLabels`,
//!   `$externalLabels.NAME`, `$externalURL`, and the same as fields of the
//!   dot (`.Labels.NAME`, `.Value`, `.ExternalLabels`, `.ExternalURL`);
//! - string (`"…"`, `` `…` ``) and number literals;
//! - pipelines (`{{ $value | humanize }}`) and calls of `humanize`,
//!   `humanize1024`, `humanizeDuration`, `humanizePercentage`, `printf`
//!   (verbs `v s d f e g q` with width, precision and `-`/`0` flags),
//!   `toUpper`, `toLower`, `title`.
//!
//! Not supported (refused at load): `if`/`range`/`with` and other control
//! structures, `query` and the other functions, parentheses, comments.
//! Values print as Go prints them (`$value` 0.1 + 0.2 is
//! `0.30000000000000004`, `$labels` is `map[instance:a job:b]`); a missing
//! label is the empty string, as with Prometheus's `missingkey=zero`.
//!
//! Hand-written: no Rust crate implements Go's template language with Go's
//! number formatting, and the subset is small.

mod funcs;

use crate::gofmt::format_g;
use funcs::{humanize, humanize1024, humanize_duration, printf, title};
use model::metrics::Labels;

/// The functions templates may call.
pub const FUNCTIONS: &[&str] = &[
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "printf",
    "toUpper",
    "toLower",
    "title",
];

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Action(Vec<Command>),
}

/// One command of a pipeline: a function with arguments, or one operand.
#[derive(Debug, Clone, PartialEq)]
struct Command {
    function: Option<String>,
    args: Vec<Operand>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Labels(Option<String>),
    ExternalLabels(Option<String>),
    Value,
    ExternalUrl,
    Str(String),
    Num(f64),
}

/// What a template sees.
#[derive(Debug, Clone, Copy)]
pub struct TemplateData<'a> {
    /// The alert's series labels (with `__name__` when the query kept it).
    pub labels: &'a Labels,
    /// `$externalLabels`.
    pub external_labels: &'a Labels,
    /// `$externalURL`.
    pub external_url: &'a str,
    /// `$value`: the sample value.
    pub value: f64,
}

#[derive(Debug, Clone)]
pub(crate) enum Val {
    Str(String),
    Num(f64),
    Map(Labels),
}

impl Val {
    pub(crate) fn print(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Num(v) => format_g(*v, None),
            Val::Map(labels) => {
                let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("map[{}]", pairs.join(" "))
            }
        }
    }

    pub(crate) fn go_type(&self) -> &'static str {
        match self {
            Val::Str(_) => "string",
            Val::Num(_) => "float64",
            Val::Map(_) => "map[string]string",
        }
    }

    /// Prometheus's `convertToFloat`.
    fn to_float(&self) -> Result<f64, String> {
        match self {
            Val::Num(v) => Ok(*v),
            Val::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
            Val::Map(_) => Err("can't convert map[string]string to float".into()),
        }
    }
}

impl Template {
    /// Parses `text`; the error says what is not supported and where.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut trim_next = false;
        while let Some(open) = rest.find("{{") {
            let mut literal = &rest[..open];
            if trim_next {
                literal = literal.trim_start();
            }
            let after = &rest[open + 2..];
            let trim_before = after.starts_with("- ");
            if trim_before {
                literal = literal.trim_end();
            }
            if !literal.is_empty() {
                parts.push(Part::Text(literal.to_string()));
            }
            let close =
                find_close(after).ok_or_else(|| "unclosed action (missing }})".to_string())?;
            let mut inner = &after[..close];
            if trim_before {
                inner = &inner[1..];
            }
            trim_next = inner.ends_with(" -");
            if trim_next {
                inner = &inner[..inner.len() - 1];
            }
            parts.push(Part::Action(parse_pipeline(inner.trim())?));
            rest = &after[close + 2..];
        }
        let literal = if trim_next { rest.trim_start() } else { rest };
        if !literal.is_empty() {
            parts.push(Part::Text(literal.to_string()));
        }
        Ok(Self {
            source: text.to_string(),
            parts,
        })
    }

    /// Plain text that is never expanded (recording rules' labels).
    pub fn literal(text: &str) -> Self {
        Self {
            source: text.to_string(),
            parts: vec![Part::Text(text.to_string())],
        }
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Expands the template; errors are Go-like (`error calling humanize: …`).
    pub fn expand(&self, data: &TemplateData) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Action(commands) => {
                    let mut piped: Option<Val> = None;
                    for command in commands {
                        piped = Some(run(command, piped, data)?);
                    }
                    if let Some(v) = piped {
                        out.push_str(&v.print());
                    }
                }
            }
        }
        Ok(out)
    }

    /// Expands as Prometheus does for alerts: a failure becomes the text
    /// `<error expanding template: …>`.
    pub fn expand_or_error(&self, data: &TemplateData) -> String {
        self.expand(data)
            .unwrap_or_else(|e| format!("<error expanding template: {e}>"))
    }
}

/// The `}}` closing an action, skipping string literals.
fn find_close(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Debug, PartialEq)]
enum Token {
    Pipe,
    Word(String),
    Str(String),
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '|' => {
                chars.next();
                tokens.push(Token::Pipe);
            }
            '"' => {
                chars.next();
                let mut lit = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted string".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => lit.push('\n'),
                            Some('t') => lit.push('\t'),
                            Some('\\') => lit.push('\\'),
                            Some('"') => lit.push('"'),
                            Some(other) => return Err(format!("unsupported escape \\{other}")),
                            None => return Err("unterminated quoted string".into()),
                        },
                        Some(other) => lit.push(other),
                    }
                }
                tokens.push(Token::Str(lit));
            }
            '`' => {
                chars.next();
                let mut lit = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated raw string".into()),
                        Some('`') => break,
                        Some(other) => lit.push(other),
                    }
                }
                tokens.push(Token::Str(lit));
            }
            '(' | ')' => return Err("parentheses are not supported in templates".into()),
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '|' || c == '"' || c == '(' || c == ')' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

fn parse_pipeline(text: &str) -> Result<Vec<Command>, String> {
    if text.starts_with("/*") {
        return Err("comments are not supported in templates".into());
    }
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("missing value for command".into());
    }
    let mut commands = Vec::new();
    for (i, words) in tokens.split(|t| *t == Token::Pipe).enumerate() {
        let Some((first, rest)) = words.split_first() else {
            return Err("missing command in pipeline".into());
        };
        let command = match first {
            Token::Word(w) if is_identifier(w) => {
                if matches!(
                    w.as_str(),
                    "if" | "else"
                        | "end"
                        | "range"
                        | "with"
                        | "define"
                        | "template"
                        | "block"
                        | "break"
                        | "continue"
                ) {
                    return Err(format!(
                        "{{{{{w}}}}} is not supported in alert templates (only values, pipelines and the functions {})",
                        FUNCTIONS.join(", ")
                    ));
                }
                if !FUNCTIONS.contains(&w.as_str()) {
                    return Err(format!(
                        "function {w:?} is not supported in alert templates (supported: {})",
                        FUNCTIONS.join(", ")
                    ));
                }
                let args = rest.iter().map(parse_operand).collect::<Result<_, _>>()?;
                Command {
                    function: Some(w.clone()),
                    args,
                }
            }
            other => {
                if !rest.is_empty() {
                    return Err("can't give argument to non-function".into());
                }
                if i > 0 {
                    return Err("non executable command in pipeline stage".into());
                }
                Command {
                    function: None,
                    args: vec![parse_operand(other)?],
                }
            }
        };
        commands.push(command);
    }
    Ok(commands)
}

fn is_identifier(w: &str) -> bool {
    w.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_operand(token: &Token) -> Result<Operand, String> {
    let word = match token {
        Token::Str(s) => return Ok(Operand::Str(s.clone())),
        Token::Word(w) => w.as_str(),
        Token::Pipe => return Err("missing value for command".into()),
    };
    let (base, field) = match word.split_once('.') {
        Some((b, f)) if b.starts_with('$') => (b, Some(f)),
        _ if word.starts_with('.') => {
            let path = &word[1..];
            match path.split_once('.') {
                Some((b, f)) => (b, Some(f)),
                None => (path, None),
            }
        }
        _ => (word, None),
    };
    if let Some(f) = field {
        if f.contains('.') || f.is_empty() {
            return Err(format!("{word}: only one field of a label map can be read"));
        }
    }
    let field = field.map(str::to_string);
    match base {
        "$labels" | "Labels" => Ok(Operand::Labels(field)),
        "$externalLabels" | "ExternalLabels" => Ok(Operand::ExternalLabels(field)),
        "$value" | "Value" if field.is_none() => Ok(Operand::Value),
        "$externalURL" | "ExternalURL" if field.is_none() => Ok(Operand::ExternalUrl),
        _ => {
            if let Ok(n) = word.parse::<f64>() {
                return Ok(Operand::Num(n));
            }
            if word.starts_with('$') || word.starts_with('.') {
                Err(format!(
                    "undefined variable {word:?} (templates see $labels, $value, $externalLabels, $externalURL)"
                ))
            } else {
                Err(format!("unexpected {word:?} in template action"))
            }
        }
    }
}

fn operand(op: &Operand, data: &TemplateData) -> Val {
    let field = |labels: &Labels, f: &Option<String>| match f {
        Some(name) => Val::Str(labels.get(name).unwrap_or("").to_string()),
        None => Val::Map(labels.clone()),
    };
    match op {
        Operand::Labels(f) => field(data.labels, f),
        Operand::ExternalLabels(f) => field(data.external_labels, f),
        Operand::Value => Val::Num(data.value),
        Operand::ExternalUrl => Val::Str(data.external_url.to_string()),
        Operand::Str(s) => Val::Str(s.clone()),
        Operand::Num(n) => Val::Num(*n),
    }
}

fn run(command: &Command, piped: Option<Val>, data: &TemplateData) -> Result<Val, String> {
    let mut args: Vec<Val> = command.args.iter().map(|a| operand(a, data)).collect();
    let Some(name) = &command.function else {
        return args.pop().ok_or_else(|| "missing value".into());
    };
    if let Some(p) = piped {
        args.push(p);
    }
    let call = |e: String| format!("error calling {name}: {e}");
    let one = |args: &[Val]| -> Result<Val, String> {
        match args {
            [v] => Ok(v.clone()),
            _ => Err(format!(
                "wrong number of args for {name}: want 1 got {}",
                args.len()
            )),
        }
    };
    let string = |v: Val| match v {
        Val::Str(s) => Ok(s),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.go_type()
        )),
    };
    Ok(match name.as_str() {
        "humanize" => Val::Str(humanize(one(&args)?.to_float().map_err(call)?)),
        "humanize1024" => Val::Str(humanize1024(one(&args)?.to_float().map_err(call)?)),
        "humanizeDuration" => Val::Str(humanize_duration(one(&args)?.to_float().map_err(call)?)),
        "humanizePercentage" => Val::Str(format!(
            "{}%",
            format_g(one(&args)?.to_float().map_err(call)? * 100.0, Some(4))
        )),
        "toUpper" => Val::Str(string(one(&args)?)?.to_uppercase()),
        "toLower" => Val::Str(string(one(&args)?)?.to_lowercase()),
        "title" => Val::Str(title(&string(one(&args)?)?)),
        "printf" => {
            let Some((format, rest)) = args.split_first() else {
                return Err("wrong number of args for printf: want at least 1 got 0".into());
            };
            Val::Str(printf(&string(format.clone())?, rest))
        }
        other => return Err(format!("function {other:?} not defined")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(text: &str, value: f64) -> String {
        let labels = Labels::from_pairs([("__name__", "up"), ("instance", "a:1"), ("job", "node")]);
        let ext = Labels::default();
        Template::parse(text)
            .expect(text)
            .expand(&TemplateData {
                labels: &labels,
                external_labels: &ext,
                external_url: "http://x",
                value,
            })
            .expect(text)
    }

    #[test]
    fn expands_what_prometheus_alert_rules_use() {
        assert_eq!(
            expand(
                "v={{ $value }} l={{ $labels }} h={{ humanize $value }}",
                1.0
            ),
            "v=1 l=map[__name__:up instance:a:1 job:node] h=1"
        );
        assert_eq!(
            expand(
                "{{ $labels.instance }} of {{.Labels.job}}: {{ .Value }}",
                0.5
            ),
            "a:1 of node: 0.5"
        );
        assert_eq!(expand("{{ $labels.missing }}|", 1.0), "|");
        assert_eq!(expand("{{ $value | humanize }}", 1234567.0), "1.235M");
        assert_eq!(expand("{{ humanize 0.0012 }}", 0.0), "1.2m");
        assert_eq!(
            expand("{{ $value | humanizePercentage }}", 0.1234),
            "12.34%"
        );
        assert_eq!(expand("{{ humanizeDuration $value }}", 3725.0), "1h 2m 5s");
        assert_eq!(expand("{{ humanizeDuration $value }}", 0.25), "250ms");
        assert_eq!(expand("{{ humanize1024 $value }}", 2048.0), "2ki");
        assert_eq!(expand("{{ printf \"%.2f\" $value }}", 1.23456), "1.23");
        assert_eq!(
            expand("{{ $value | printf \"%6.1f|%s\" \"x\" }}", 2.0),
            "%!f(string=x)|2"
        );
        assert_eq!(expand("{{ printf \"%6.1f|\" $value }}", 2.0), "   2.0|");
        assert_eq!(expand("{{ $labels.job | toUpper }}", 0.0), "NODE");
        assert_eq!(expand("a  {{- $labels.job -}}  b", 0.0), "anodeb");
        assert_eq!(expand("{{ $value }}", 0.1 + 0.2), "0.30000000000000004");
        assert_eq!(expand("{{ $value }}", 1e7), "1e+07");
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        for (text, why) in [
            ("{{ query \"up\" }}", "function \"query\" is not supported"),
            ("{{ if $value }}x{{ end }}", "not supported"),
            ("{{ $foo }}", "undefined variable"),
            ("{{ $labels.a.b }}", "one field"),
            ("{{ $value", "unclosed"),
            ("{{ (humanize $value) }}", "parentheses"),
        ] {
            let e = Template::parse(text).expect_err(text);
            assert!(e.contains(why), "{text}: {e}");
        }
        let labels = Labels::default();
        let t = Template::parse("{{ humanize $labels.x }}").expect("parses");
        let got = t.expand_or_error(&TemplateData {
            labels: &labels,
            external_labels: &labels,
            external_url: "",
            value: 0.0,
        });
        assert!(
            got.starts_with("<error expanding template: error calling humanize"),
            "{got}"
        );
    }
}
