//! CPU lists from sysfs: the *possible* CPUs size every per-CPU map value the
//! kernel copies out (one slot per possible CPU, in order), the *online* CPUs
//! each get a cpu-clock event for `profile:hz:N`.

use std::io;

const POSSIBLE: &str = "/sys/devices/system/cpu/possible";
const ONLINE: &str = "/sys/devices/system/cpu/online";

/// The possible CPUs (`/sys/devices/system/cpu/possible`). An error rather
/// than a guess: a per-CPU lookup into a buffer sized for too few CPUs would
/// let the kernel write past it.
pub fn possible() -> io::Result<Vec<u32>> {
    read_list(POSSIBLE)
}

/// The online CPUs (`/sys/devices/system/cpu/online`).
pub fn online() -> io::Result<Vec<u32>> {
    read_list(ONLINE)
}

fn read_list(path: &str) -> io::Result<Vec<u32>> {
    let text = std::fs::read_to_string(path)?;
    parse_list(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{path}: not a CPU list: {:?}", text.trim()),
        )
    })
}

/// Parses a kernel CPU list such as `0-3,6`; `None` when malformed or empty.
pub fn parse_list(text: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (first.trim().parse::<u32>().ok()?, last.trim().parse().ok()?);
                if first > last {
                    return None;
                }
                cpus.extend(first..=last);
            }
            None => cpus.push(part.trim().parse().ok()?),
        }
    }
    (!cpus.is_empty()).then_some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_singles() {
        assert_eq!(parse_list("0-1\n"), Some(vec![0, 1]));
        assert_eq!(parse_list("0-3,6,8-9"), Some(vec![0, 1, 2, 3, 6, 8, 9]));
        assert_eq!(parse_list("5"), Some(vec![5]));
        assert_eq!(parse_list(""), None);
        assert_eq!(parse_list("3-1"), None);
        assert_eq!(parse_list("x"), None);
    }
}
