//! A small command-line lexer shared by the tools: short flags that may be
//! bundled (`-mT`), short options with their value attached or next
//! (`-p123`, `-p 123`), long options (`--pid=123`, `--pid 123`) and
//! positionals; `--` ends options. Each tool matches on the pieces and
//! turns them into its plain options struct.

use crate::error::Error;

/// One piece of the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Short(char),
    Long(String),
    Positional(String),
}

impl Arg {
    /// The name of a long option (`--pid` → `pid`), `""` for anything else,
    /// so a tool can match a short and a long spelling in one arm.
    pub fn long_name(&self) -> &str {
        match self {
            Arg::Long(name) => name,
            _ => "",
        }
    }
}

/// Owned strings of `args`, as a tool's `parse` takes them (for tests).
#[cfg(test)]
pub(crate) fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Walks `args` for the tool `tool` whose usage text is `usage`.
#[derive(Debug)]
pub struct Lexer<'a> {
    tool: &'static str,
    usage: &'static str,
    args: &'a [String],
    next: usize,
    /// The rest of a bundle of short flags (`T` after `-m` in `-mT`).
    bundle: Option<String>,
    /// A long option's `=value`.
    attached: Option<String>,
    only_positionals: bool,
}

impl<'a> Lexer<'a> {
    pub fn new(tool: &'static str, usage: &'static str, args: &'a [String]) -> Lexer<'a> {
        Lexer {
            tool,
            usage,
            args,
            next: 0,
            bundle: None,
            attached: None,
            only_positionals: false,
        }
    }

    /// The next piece, or `None` at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Arg> {
        self.attached = None;
        if let Some(rest) = self.bundle.take() {
            let mut chars = rest.chars();
            let c = chars.next()?;
            let tail: String = chars.collect();
            if !tail.is_empty() {
                self.bundle = Some(tail);
            }
            return Some(Arg::Short(c));
        }
        let arg = self.args.get(self.next)?.clone();
        self.next += 1;
        if self.only_positionals || arg == "-" || !arg.starts_with('-') {
            return Some(Arg::Positional(arg));
        }
        if arg == "--" {
            self.only_positionals = true;
            return self.next();
        }
        if let Some(long) = arg.strip_prefix("--") {
            return Some(match long.split_once('=') {
                Some((name, value)) => {
                    self.attached = Some(value.to_string());
                    Arg::Long(name.to_string())
                }
                None => Arg::Long(long.to_string()),
            });
        }
        self.bundle = Some(arg[1..].to_string());
        self.next()
    }

    /// The value of the option just returned: the rest of a short bundle,
    /// a long option's `=value`, or the next argument.
    pub fn value(&mut self, what: &str) -> Result<String, Error> {
        if let Some(v) = self.bundle.take().or_else(|| self.attached.take()) {
            return Ok(v);
        }
        match self.args.get(self.next) {
            Some(v) => {
                self.next += 1;
                Ok(v.clone())
            }
            None => Err(self.error(format!("{what} needs a value"))),
        }
    }

    /// The option's value parsed as a number in `min..=max`.
    pub fn number(&mut self, what: &str, min: u64, max: u64) -> Result<u64, Error> {
        let text = self.value(what)?;
        self.parse_number(what, &text, min, max)
    }

    /// `text` as a number in `min..=max`, or a usage error naming `what`.
    pub fn parse_number(&self, what: &str, text: &str, min: u64, max: u64) -> Result<u64, Error> {
        match text.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.error(format!("invalid {what}: {text:?}"))),
        }
    }

    /// A usage error.
    pub fn error(&self, message: String) -> Error {
        Error::Usage {
            tool: self.tool,
            message,
            usage: self.usage,
        }
    }

    /// The error for an option the tool does not know.
    pub fn unknown(&self, arg: &Arg) -> Error {
        let text = match arg {
            Arg::Short(c) => format!("unknown option -{c}"),
            Arg::Long(l) => format!("unknown option --{l}"),
            Arg::Positional(p) => format!("unexpected argument {p:?}"),
        };
        self.error(text)
    }
}

/// What parsing gives: options to run with, or the request for help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    Run(T),
    Help,
}

/// Every tool's prologue: the options to run with, or `None` after
/// printing `help` to `out` (`-h`).
pub fn options_or_help<T>(
    parsed: Parsed<T>,
    help: &str,
    out: &mut dyn std::io::Write,
) -> crate::error::Result<Option<T>> {
    match parsed {
        Parsed::Run(options) => Ok(Some(options)),
        Parsed::Help => {
            write!(out, "{help}")?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bundles_values_and_positionals() {
        let args = strings(&[
            "-mT", "-p123", "-p", "9", "--pid=7", "--top", "3", "1", "--", "-5",
        ]);
        let mut lx = Lexer::new("t", "usage", &args);
        assert_eq!(lx.next(), Some(Arg::Short('m')));
        assert_eq!(lx.next(), Some(Arg::Short('T')));
        assert_eq!(lx.next(), Some(Arg::Short('p')));
        assert_eq!(lx.value("PID").expect("v"), "123");
        assert_eq!(lx.next(), Some(Arg::Short('p')));
        assert_eq!(lx.number("PID", 1, 10).expect("v"), 9);
        assert_eq!(lx.next(), Some(Arg::Long("pid".into())));
        assert_eq!(lx.value("PID").expect("v"), "7");
        assert_eq!(lx.next(), Some(Arg::Long("top".into())));
        assert_eq!(lx.value("TOP").expect("v"), "3");
        assert_eq!(lx.next(), Some(Arg::Positional("1".into())));
        assert_eq!(lx.next(), Some(Arg::Positional("-5".into())));
        assert_eq!(lx.next(), None);
    }

    #[test]
    fn errors_carry_usage() {
        let args = strings(&["-p"]);
        let mut lx = Lexer::new("runqlat", "USAGE: runqlat", &args);
        assert_eq!(lx.next(), Some(Arg::Short('p')));
        let e = lx.value("PID").expect_err("missing");
        assert_eq!(e.to_string(), "runqlat: PID needs a value\nUSAGE: runqlat");
        let e = lx.parse_number("PID", "x", 1, 5).expect_err("bad");
        assert!(e.to_string().contains("invalid PID: \"x\""));
    }
}
