//! Plain configuration for one `whyslow stat` invocation, built by the CLI
//! from its flags (the library never sees clap).

use crate::event::EventSel;
use std::time::Duration;

/// What to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Run this command (argv) and count it and its children.
    Command(Vec<String>),
    /// Attach to these running processes (all their threads).
    Pids(Vec<u32>),
    /// Every CPU; while `command` runs when one is given, else until stopped.
    System {
        /// Optional command bounding the count.
        command: Vec<String>,
    },
}

impl Target {
    /// The command to start, if any.
    pub fn command(&self) -> Option<&[String]> {
        match self {
            Target::Command(argv) => Some(argv),
            Target::System { command } if !command.is_empty() => Some(command),
            _ => None,
        }
    }

    /// How perf names the target in its header: `'sleep 1'`, `process id '42'`, `'system wide'`.
    pub fn describe(&self) -> String {
        match self {
            Target::Command(argv) => format!("'{}'", argv.join(" ")),
            Target::Pids(pids) => {
                let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
                format!("process id '{}'", pids.join(","))
            }
            Target::System { .. } => "'system wide'".to_string(),
        }
    }
}

/// Output layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputFormat {
    /// perf's human-readable table plus whyslow's extra lines.
    Text,
    /// `-x SEP`.
    Csv {
        /// The field separator.
        separator: String,
    },
    /// `-j`: one JSON object per line.
    Json,
}

/// Everything `stat::run` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatConfig {
    /// What to count.
    pub target: Target,
    /// `-e` events; `None` for perf's default set.
    pub events: Option<Vec<EventSel>>,
    /// `-r N` (1..=100).
    pub repeat: u32,
    /// `-I MS`: print counts every interval.
    pub interval: Option<Duration>,
    /// Stop counting after this long (a command is sent SIGTERM).
    pub duration: Option<Duration>,
    /// Output layout.
    pub format: OutputFormat,
}

impl StatConfig {
    /// Checks combinations perf refuses too, with the way out.
    pub fn validate(&self) -> Result<(), crate::StatError> {
        let invalid = |m: &str| Err(crate::StatError::InvalidOptions(m.to_string()));
        if !(1..=100).contains(&self.repeat) {
            return invalid("-r/--repeat takes 1 to 100 runs (perf's limit)");
        }
        if self.repeat > 1 && self.target.command().is_none() {
            return invalid("-r/--repeat needs a command to repeat: whyslow stat -r 5 -- CMD");
        }
        if self.repeat > 1 && self.interval.is_some() {
            return invalid("-r/--repeat and -I/--interval-print do not go together: pick one");
        }
        if self.interval.is_some_and(|i| i < Duration::from_millis(10)) {
            return invalid("-I/--interval-print must be at least 10 ms");
        }
        match &self.target {
            Target::Command(argv) if argv.is_empty() => {
                invalid("nothing to count: give a command after --, -p PID or -a")
            }
            Target::Pids(pids) if pids.is_empty() => invalid("-p needs at least one PID"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(target: Target) -> StatConfig {
        StatConfig {
            target,
            events: None,
            repeat: 1,
            interval: None,
            duration: None,
            format: OutputFormat::Text,
        }
    }

    #[test]
    fn describes_targets_like_perf() {
        let c = Target::Command(vec!["sleep".into(), "0.1".into()]);
        assert_eq!(c.describe(), "'sleep 0.1'");
        assert_eq!(Target::Pids(vec![42]).describe(), "process id '42'");
        assert_eq!(
            Target::System { command: vec![] }.describe(),
            "'system wide'"
        );
    }

    #[test]
    fn validates_combinations() {
        let cmd = Target::Command(vec!["true".into()]);
        assert!(config(cmd.clone()).validate().is_ok());
        let mut c = config(cmd.clone());
        c.repeat = 0;
        assert!(c.validate().is_err());
        c.repeat = 3;
        c.interval = Some(Duration::from_millis(100));
        assert!(c.validate().is_err());
        let mut c = config(Target::Pids(vec![1]));
        c.repeat = 2;
        assert!(c.validate().is_err());
        assert!(config(Target::Command(vec![])).validate().is_err());
    }
}
