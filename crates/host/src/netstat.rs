//! The netstat collector: /proc/net/netstat and /proc/net/snmp (pairs of
//! `Proto: Field …` / `Proto: value …` lines) and /proc/net/snmp6
//! (`Proto6Field value` lines) as untyped `node_netstat_<Proto>_<Field>`,
//! keeping node_exporter's default `--collector.netstat.fields` set
//! (TCP retransmits, listen overflows/drops, errors, octets, UDP buffers).
//!
//! Parsed by hand: `procfs-core` has no /proc/net/netstat parser and its
//! `Snmp` is a fixed struct, while this collector keeps any field the regex
//! names. A kernel without IPv6 has no snmp6 file; its fields are then
//! absent (node_exporter treats that file as optional too).

use crate::read::{number, parse_error, read};
use crate::{CollectError, Family, Kind, Paths};
use regex::Regex;
use std::path::Path;

/// node_exporter's default field filter.
pub const DEFAULT_FIELDS: &str = "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";

pub(crate) struct Netstat {
    fields: Regex,
}

impl Netstat {
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
        let mut stats = Vec::new();
        for file in ["net/netstat", "net/snmp"] {
            let path = paths.proc.join(file);
            paired_lines(&path, &read(&path)?, &mut stats)?;
        }
        let snmp6 = paths.proc.join("net/snmp6");
        match read(&snmp6) {
            Ok(text) => single_lines(&snmp6, &text, &mut stats)?,
            Err(CollectError::Unavailable { .. }) => {}
            Err(error) => return Err(error),
        }
        for (key, value) in stats {
            if self.fields.is_match(&key) {
                let help = format!("Statistic {}.", key.replacen('_', "", 1));
                out.push(Family::single(
                    format!("node_netstat_{key}"),
                    help,
                    Kind::Untyped,
                    value,
                ));
            }
        }
        Ok(())
    }
}

/// `Proto: names…` followed by `Proto: values…`.
fn paired_lines(
    path: &Path,
    text: &str,
    stats: &mut Vec<(String, f64)>,
) -> Result<(), CollectError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        let (Some((proto, names)), Some((proto2, values))) =
            (names.split_once(':'), values.split_once(':'))
        else {
            return Err(parse_error(path, format!("no 'Proto:' in {names:?}")));
        };
        let names: Vec<&str> = names.split_ascii_whitespace().collect();
        let values: Vec<&str> = values.split_ascii_whitespace().collect();
        if proto != proto2 || names.len() != values.len() {
            return Err(parse_error(
                path,
                format!("{proto} names and {proto2} values do not pair up"),
            ));
        }
        for (name, value) in names.iter().zip(values) {
            let key = format!("{proto}_{name}");
            let value = number(path, &key, value)?;
            stats.push((key, value));
        }
    }
    Ok(())
}

/// `Ip6InReceives 123`: the protocol ends at its first `6`.
fn single_lines(
    path: &Path,
    text: &str,
    stats: &mut Vec<(String, f64)>,
) -> Result<(), CollectError> {
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(name), Some(value)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some(six) = name.find('6') else { continue };
        let key = format!("{}_{}", &name[..=six], &name[six + 1..]);
        let value = number(path, &key, value)?;
        stats.push((key, value));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_fields_and_splits_snmp6_names() {
        let path = Path::new("fixture");
        let mut stats = Vec::new();
        paired_lines(
            path,
            "Tcp: RtoAlgorithm RetransSegs\nTcp: 1 42\n",
            &mut stats,
        )
        .expect("pairs");
        single_lines(path, "Ip6InOctets    7\nUdpLite6InErrors 0\n", &mut stats).expect("snmp6");
        let keys: Vec<&str> = stats.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "Tcp_RtoAlgorithm",
                "Tcp_RetransSegs",
                "Ip6_InOctets",
                "UdpLite6_InErrors"
            ]
        );
        assert_eq!(stats[1].1, 42.0);
        let fields = Regex::new(DEFAULT_FIELDS).expect("regex");
        assert!(fields.is_match("Tcp_RetransSegs") && fields.is_match("TcpExt_ListenOverflows"));
        assert!(!fields.is_match("Tcp_RtoAlgorithm"));
    }
}
