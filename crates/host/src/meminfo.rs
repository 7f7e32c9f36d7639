//! The meminfo collector: every /proc/meminfo line as
//! `node_memory_<Field>_bytes` (kB lines, times 1024) or `node_memory_<Field>`
//! (unitless lines such as `HugePages_Total`), `(anon)`/`(file)` becoming
//! `_anon`/`_file`, as node_exporter names them.
//!
//! Parsed by hand: `procfs-core`'s `Meminfo` is a struct of known fields, so a
//! field a newer kernel adds (node_exporter exports every line) would be lost.

use crate::read::{number, parse_error, read};
use crate::{CollectError, Family, Kind, Paths};

pub(crate) fn collect(paths: &Paths, out: &mut Vec<Family>) -> Result<(), CollectError> {
    let path = paths.proc.join("meminfo");
    let text = read(&path)?;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Some((key, rest)) = line.split_once(':') else {
            return Err(parse_error(&path, format!("no ':' in {line:?}")));
        };
        let mut fields = rest.split_ascii_whitespace();
        let Some(value) = fields.next() else {
            return Err(parse_error(&path, format!("no value in {line:?}")));
        };
        let mut value = number(&path, key, value)?;
        let mut name = format!(
            "node_memory_{}",
            key.replace("(anon)", "_anon").replace("(file)", "_file")
        );
        if fields.next() == Some("kB") {
            value *= 1024.0;
            name.push_str("_bytes");
        }
        let help = format!(
            "Memory information field {}.",
            &name["node_memory_".len()..]
        );
        out.push(Family::single(name, help, Kind::Gauge, value));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fields_as_node_exporter() {
        let dir = std::env::temp_dir().join(format!("host-meminfo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("meminfo"),
            "MemTotal:       24683584 kB\nActive(anon):       1552 kB\nHugePages_Total:       0\n",
        )
        .expect("fixture");
        let paths = Paths {
            proc: dir.clone(),
            ..Paths::default()
        };
        let mut out = Vec::new();
        collect(&paths, &mut out).expect("collect");
        let names: Vec<&str> = out.iter().map(|f| f.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "node_memory_MemTotal_bytes",
                "node_memory_Active_anon_bytes",
                "node_memory_HugePages_Total"
            ]
        );
        assert_eq!(out[0].samples[0].value, 24683584.0 * 1024.0);
        assert_eq!(out[1].help, "Memory information field Active_anon_bytes.");
        let _ = std::fs::remove_dir_all(dir);
    }
}
