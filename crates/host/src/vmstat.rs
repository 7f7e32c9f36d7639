//! The vmstat collector: /proc/vmstat fields matching node_exporter's default
//! `--collector.vmstat.fields` (`^(oom_kill|pgpg|pswp|pg.*fault).*`) as
//! untyped `node_vmstat_<field>`. Parsed with `procfs-core`'s `VmStat`.

use crate::read::{parse_error, read};
use crate::{CollectError, Family, Kind, Paths};
use procfs_core::{FromBufRead, VmStat};
use regex::Regex;

/// node_exporter's default field filter.
pub const DEFAULT_FIELDS: &str = "^(oom_kill|pgpg|pswp|pg.*fault).*";

pub(crate) struct Vmstat {
    fields: Regex,
}

impl Vmstat {
    pub(crate) fn new() -> Self {
        Self {
            fields: Regex::new(DEFAULT_FIELDS).expect("constant regex"),
        }
    }

    pub(crate) fn collect(
        &mut self,
        paths: &Paths,
        out: &mut Vec<Family>,
    ) -> Result<(), CollectError> {
        let path = paths.proc.join("vmstat");
        let text = read(&path)?;
        let VmStat(map) = VmStat::from_buf_read(text.as_bytes())
            .map_err(|e| parse_error(&path, e.to_string()))?;
        for (field, value) in map {
            if self.fields.is_match(&field) {
                let help = format!("/proc/vmstat information field {field}.");
                out.push(Family::single(
                    format!("node_vmstat_{field}"),
                    help,
                    Kind::Untyped,
                    value as f64,
                ));
            }
        }
        Ok(())
    }
}
