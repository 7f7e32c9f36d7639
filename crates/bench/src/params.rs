//! Parameter scans: `-P name lo hi [-D step]` (a numeric range) and
//! `-L name a,b,c` (a list), expanded into one command per combination with
//! `{name}` replaced. Placeholders without a scan are left as they are.

use crate::command::CommandSpec;
use crate::error::BenchError;
use std::collections::BTreeMap;

/// Most commands one benchmark may expand to (a typo guard).
pub const MAX_EXPANDED: usize = 100_000;

/// One parameter scan.
#[derive(Debug, Clone, PartialEq)]
pub enum ParameterScan {
    /// `-P name lo hi [-D step]`: lo, lo+step, … up to hi inclusive.
    Range {
        /// The placeholder name.
        name: String,
        /// First value.
        low: f64,
        /// Last value (inclusive).
        high: f64,
        /// Increment, positive.
        step: f64,
    },
    /// `-L name a,b,c`: these values in order.
    List {
        /// The placeholder name.
        name: String,
        /// The values.
        values: Vec<String>,
    },
}

impl ParameterScan {
    /// Parses `-P name lo hi` with an optional `-D step` (default 1).
    pub fn range(
        name: &str,
        low: &str,
        high: &str,
        step: Option<&str>,
    ) -> Result<Self, BenchError> {
        let number = |text: &str, what: &str| {
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    BenchError::Parameter(format!("{what} of `{name}` is not a number: '{text}'"))
                })
        };
        let low = number(low, "the lower bound")?;
        let high = number(high, "the upper bound")?;
        let step = match step {
            Some(text) => number(text, "the step (-D)")?,
            None => 1.0,
        };
        if step <= 0.0 {
            return Err(BenchError::Parameter(format!(
                "the step of `{name}` must be positive, got {step}"
            )));
        }
        if low > high {
            return Err(BenchError::Parameter(format!(
                "the range of `{name}` is empty: {low} > {high} (give the lower bound first)"
            )));
        }
        if (high - low) / step > MAX_EXPANDED as f64 {
            return Err(BenchError::Parameter(format!(
                "`{name}` from {low} to {high} in steps of {step} gives more than {MAX_EXPANDED} values"
            )));
        }
        check_name(name)?;
        Ok(ParameterScan::Range {
            name: name.to_string(),
            low,
            high,
            step,
        })
    }

    /// Parses `-L name a,b,c`.
    pub fn list(name: &str, values: &str) -> Result<Self, BenchError> {
        check_name(name)?;
        let values: Vec<String> = values.split(',').map(str::to_string).collect();
        Ok(ParameterScan::List {
            name: name.to_string(),
            values,
        })
    }

    /// The placeholder name.
    pub fn name(&self) -> &str {
        match self {
            ParameterScan::Range { name, .. } | ParameterScan::List { name, .. } => name,
        }
    }

    /// The values in order, formatted as they are substituted.
    pub fn values(&self) -> Vec<String> {
        match self {
            ParameterScan::List { values, .. } => values.clone(),
            ParameterScan::Range {
                low, high, step, ..
            } => {
                let decimals = decimals_of(*step).max(decimals_of(*low));
                let count = ((high - low) / step + 1e-9).floor() as usize + 1;
                (0..count)
                    .map(|i| format!("{:.*}", decimals, low + step * i as f64))
                    .collect()
            }
        }
    }
}

fn check_name(name: &str) -> Result<(), BenchError> {
    if name.is_empty() || name.contains(['{', '}']) {
        return Err(BenchError::Parameter(format!(
            "invalid parameter name '{name}'"
        )));
    }
    Ok(())
}

/// Decimal places needed to print `value` exactly enough (0 for integers, at most 9).
fn decimals_of(value: f64) -> usize {
    (0..=9)
        .find(|&d| {
            let scale = 10f64.powi(d as i32);
            ((value * scale).round() - value * scale).abs() < 1e-6
        })
        .unwrap_or(9)
}

/// Replaces every `{name}` in `text` with its value.
pub fn substitute(text: &str, parameters: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (name, value) in parameters {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Expands `commands` over every combination of `scans` (the cartesian
/// product, the last scan varying fastest), command by command. `names`
/// (`--command-name`, at most one per command, in order) get the same
/// placeholders replaced.
pub fn expand(
    commands: &[String],
    names: &[String],
    scans: &[ParameterScan],
) -> Result<Vec<CommandSpec>, BenchError> {
    if names.len() > commands.len() {
        return Err(BenchError::Options(format!(
            "{} --command-name values for {} commands: give at most one per command",
            names.len(),
            commands.len()
        )));
    }
    let mut scanned = std::collections::BTreeSet::new();
    for scan in scans {
        if !scanned.insert(scan.name()) {
            return Err(BenchError::Parameter(format!(
                "`{}` is scanned twice",
                scan.name()
            )));
        }
        if !commands
            .iter()
            .any(|c| c.contains(&format!("{{{}}}", scan.name())))
        {
            return Err(BenchError::Parameter(format!(
                "no command uses `{{{}}}`: put the placeholder in a command",
                scan.name()
            )));
        }
    }
    let mut combinations: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
    for scan in scans {
        let values = scan.values();
        let mut next = Vec::with_capacity(combinations.len() * values.len());
        for combination in &combinations {
            for value in &values {
                let mut with = combination.clone();
                with.insert(scan.name().to_string(), value.clone());
                next.push(with);
            }
        }
        if next.len() * commands.len() > MAX_EXPANDED {
            return Err(BenchError::Parameter(format!(
                "the scans expand to more than {MAX_EXPANDED} commands"
            )));
        }
        combinations = next;
    }
    let combinations = &combinations;
    Ok(commands
        .iter()
        .enumerate()
        .flat_map(|(index, command)| {
            let name = names.get(index);
            combinations.iter().map(move |parameters| CommandSpec {
                command_line: substitute(command, parameters),
                parameters: parameters.clone(),
                name: name.map(|name| substitute(name, parameters)),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(specs: &[CommandSpec]) -> Vec<&str> {
        specs.iter().map(|s| s.command_line.as_str()).collect()
    }

    #[test]
    fn integer_range_expands_inclusively() {
        let scan = ParameterScan::range("n", "1", "3", None).expect("valid");
        let specs = expand(&["sleep 0.{n}".into()], &[], &[scan]).expect("expands");
        assert_eq!(lines(&specs), ["sleep 0.1", "sleep 0.2", "sleep 0.3"]);
        assert_eq!(specs[2].parameters.get("n").map(String::as_str), Some("3"));
    }

    #[test]
    fn names_take_the_parameters_too() {
        let scan = ParameterScan::range("n", "1", "2", None).expect("valid");
        let commands = ["sleep 0.{n}".to_string(), "true {n}".to_string()];
        let specs = expand(&commands, &["nap {n}".into()], &[scan]).expect("expands");
        let names: Vec<&str> = specs.iter().map(CommandSpec::display_name).collect();
        assert_eq!(names, ["nap 1", "nap 2", "true 1", "true 2"]);
    }

    #[test]
    fn decimal_step_keeps_its_decimals() {
        let scan = ParameterScan::range("t", "0", "0.3", Some("0.1")).expect("valid");
        assert_eq!(scan.values(), ["0.0", "0.1", "0.2", "0.3"]);
    }

    #[test]
    fn lists_combine_with_ranges() {
        let scans = [
            ParameterScan::list("cmd", "gzip,xz").expect("valid"),
            ParameterScan::range("level", "1", "2", None).expect("valid"),
        ];
        let specs = expand(&["{cmd} -{level} f".into()], &[], &scans).expect("expands");
        assert_eq!(
            lines(&specs),
            ["gzip -1 f", "gzip -2 f", "xz -1 f", "xz -2 f"]
        );
    }

    #[test]
    fn bad_scans_are_refused() {
        assert!(ParameterScan::range("n", "3", "1", None).is_err());
        assert!(ParameterScan::range("n", "1", "x", None).is_err());
        assert!(ParameterScan::range("n", "1", "3", Some("0")).is_err());
        let unused = ParameterScan::list("x", "1,2").expect("valid");
        assert!(expand(&["true".into()], &[], &[unused]).is_err());
        assert!(expand(&["true".into()], &["a".into(), "b".into()], &[]).is_err());
    }
}
