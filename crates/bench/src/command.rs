//! What is benchmarked: a command line after parameter substitution, and the
//! shell (or none) that turns it into a process. Not the running itself (`run`).

use crate::error::BenchError;
use std::collections::BTreeMap;

/// How a command line becomes a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shell {
    /// `PROGRAM -c 'command line'` (default `sh`); its spawn cost is measured
    /// with an empty command and subtracted.
    Program(String),
    /// Split the command line into words (POSIX quoting) and run it directly;
    /// nothing is subtracted.
    None,
}

impl Default for Shell {
    fn default() -> Self {
        Shell::Program("sh".to_string())
    }
}

impl Shell {
    /// Parses `--shell`: `none` or a program such as `bash`.
    pub fn parse(text: &str) -> Shell {
        if text == "none" {
            Shell::None
        } else {
            Shell::Program(text.to_string())
        }
    }

    /// The argv that runs `command_line` under this shell.
    pub fn argv(&self, command_line: &str) -> Result<Vec<String>, BenchError> {
        match self {
            Shell::Program(program) => Ok(vec![
                program.clone(),
                "-c".to_string(),
                command_line.to_string(),
            ]),
            Shell::None => {
                let words =
                    shell_words::split(command_line).map_err(|error| BenchError::Split {
                        command: command_line.to_string(),
                        reason: error.to_string(),
                    })?;
                if words.is_empty() {
                    return Err(BenchError::EmptyCommand);
                }
                Ok(words)
            }
        }
    }
}

/// One command to benchmark: its text after `{name}` substitution, the
/// parameter values that produced it, and the name it is shown under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// The command line as run (placeholders replaced).
    pub command_line: String,
    /// Parameter name → value, empty without scans.
    pub parameters: BTreeMap<String, String>,
    /// `--command-name`, placeholders replaced; the command line when absent.
    pub name: Option<String>,
}

impl CommandSpec {
    /// A command without parameters or name.
    pub fn plain(command_line: &str) -> Self {
        Self {
            command_line: command_line.to_string(),
            parameters: BTreeMap::new(),
            name: None,
        }
    }

    /// What results, comparisons and exports call this command: its
    /// `--command-name`, or else its command line.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.command_line)
    }

    /// Replaces this command's `{name}` placeholders in another command line
    /// (used for `--prepare`, `--setup` and `--cleanup`).
    pub fn substitute(&self, text: &str) -> String {
        crate::params::substitute(text, &self.parameters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_wraps_and_none_splits() {
        assert_eq!(
            Shell::default().argv("echo 'a b'").ok(),
            Some(vec!["sh".into(), "-c".into(), "echo 'a b'".into()])
        );
        assert_eq!(
            Shell::None.argv("echo 'a b' c").ok(),
            Some(vec!["echo".into(), "a b".into(), "c".into()])
        );
        assert!(matches!(
            Shell::None.argv("echo 'a"),
            Err(BenchError::Split { .. })
        ));
        assert!(matches!(
            Shell::None.argv("  "),
            Err(BenchError::EmptyCommand)
        ));
        assert_eq!(Shell::parse("none"), Shell::None);
    }
}
