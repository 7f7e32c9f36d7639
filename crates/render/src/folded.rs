//! Brendan Gregg's collapsed ("folded") stacks, `root;caller;leaf VALUE` per
//! line: the input of flamegraph.pl and inferno. Written by hand: it is one
//! line of string splitting, and inferno's collapse API reads perf text, not
//! our model. Not for pictures (see `flamegraph_html`).

use crate::error::RenderError;
use model::{FrameKind, Profile, ProfileBuilder, Sample, SampleLabels, ValueType};
use query::{FrameNames, ValueView};
use std::collections::BTreeMap;
use std::io::Write;

/// Writes `profile` as folded stacks with the values of `view`: one line per
/// distinct stack (inlined frames expanded), sorted, zero-valued stacks left
/// out; `;` and newlines inside frame names become `:` and spaces.
pub fn write(profile: &Profile, view: ValueView, out: &mut dyn Write) -> Result<(), RenderError> {
    let names = FrameNames::new(profile);
    let extractor = view.extractor(profile);
    let mut stacks: BTreeMap<String, i64> = BTreeMap::new();
    let mut frames = Vec::new();
    let mut line = String::new();
    for sample in &profile.samples {
        let value = extractor.value(sample);
        if value == 0 {
            continue;
        }
        names.stack_into(sample, &mut frames);
        line.clear();
        for (i, frame) in frames.iter().enumerate() {
            if i > 0 {
                line.push(';');
            }
            push_sanitized(&mut line, names.name(frame.name));
        }
        match stacks.get_mut(line.as_str()) {
            Some(total) => *total += value,
            None => {
                stacks.insert(line.clone(), value);
            }
        }
    }
    for (stack, value) in &stacks {
        writeln!(out, "{stack} {value}")?;
    }
    Ok(())
}

/// Appends a frame name with the characters that would break the line replaced.
fn push_sanitized(line: &mut String, name: &str) {
    for c in name.chars() {
        line.push(match c {
            ';' => ':',
            '\n' | '\r' => ' ',
            c => c,
        });
    }
}

/// Reads folded stacks into a profile with one `samples/count` column.
///
/// Blank lines and `#` comment lines are skipped, trailing whitespace is
/// ignored, frames may contain spaces (the value is the last field). The
/// format carries no unit, hence the generic column, which the `cpu` view also
/// accepts (see `query::ValueView::available`).
pub fn read(text: &str) -> Result<Profile, RenderError> {
    let mut builder = ProfileBuilder::new(vec![ValueType::new("samples", "count")]);
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim_start().is_empty() || line.starts_with('#') {
            continue;
        }
        let error = |reason: String| RenderError::Folded {
            line: index + 1,
            reason,
        };
        let (stack, count) = match line.rfind(char::is_whitespace) {
            Some(at) => (&line[..at], &line[at..]),
            None => ("", line),
        };
        let count = count.trim();
        if !count.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return Err(error("no count at end of line".to_string()));
        }
        let value: i64 = count
            .parse()
            .map_err(|_| error(format!("count '{count}' is not a whole number")))?;
        let stack = stack.trim_end();
        let locations = if stack.is_empty() {
            Vec::new()
        } else {
            stack
                .rsplit(';')
                .map(|name| builder.named_location(name, "", 0, FrameKind::User))
                .collect()
        };
        builder.add_sample(Sample {
            locations,
            values: vec![value],
            labels: SampleLabels::default(),
        });
    }
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(profile: &Profile, view: ValueView) -> String {
        let mut out = Vec::new();
        write(profile, view, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn reads_tolerantly_and_writes_sorted() {
        let input = "\nmain;b 3  \nmain;a x y 5\n# comment\r\nmain;b 2\n\n";
        let p = read(input).unwrap();
        assert_eq!(p.total(0), 10);
        assert_eq!(folded(&p, ValueView::Samples), "main;a x y 5\nmain;b 5\n");
        assert_eq!(folded(&p, ValueView::Cpu), "main;a x y 5\nmain;b 5\n");
    }

    #[test]
    fn errors_name_the_line() {
        let err = read("a;b 1\na;b\n").unwrap_err().to_string();
        assert_eq!(err, "line 2 of folded input: no count at end of line");
        let err = read("a;b 1.5\n").unwrap_err().to_string();
        assert_eq!(
            err,
            "line 1 of folded input: count '1.5' is not a whole number"
        );
    }

    #[test]
    fn names_with_separators_are_sanitized() {
        let mut b = ProfileBuilder::new(vec![ValueType::new("samples", "count")]);
        let loc = b.named_location("a;b\nc", "", 0, FrameKind::User);
        b.add_sample(Sample {
            locations: vec![loc],
            values: vec![4],
            labels: SampleLabels::default(),
        });
        assert_eq!(folded(&b.finish(), ValueView::Samples), "a:b c 4\n");
    }
}
