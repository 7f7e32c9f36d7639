//! tracefs for the tracer: find it (`/sys/kernel/tracing`, else
//! `/sys/kernel/debug/tracing`), mount it when it is missing (many kernels
//! boot without it; the caller is told so it can say so), and read
//! tracepoints from it: perf ids, the fields of `events/CAT/NAME/format`
//! (what `args.*` reads), and the tracepoints matching a `cat:name` wildcard.
//!
//! The profiler's `linux/tracefs.rs` only looks up `sched_switch` for its
//! off-CPU mode; this is the general form.

use crate::error::{Error, Result};
use crate::sys;
use std::path::{Path, PathBuf};

/// Where tracefs lives, in order of preference; the first is where we mount.
const ROOTS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// A mounted tracefs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracefs {
    root: PathBuf,
    mounted_now: bool,
}

/// A tracepoint's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tracepoint {
    pub category: String,
    pub name: String,
}

/// One field of a tracepoint record, from its `format` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// `filename`, `prev_comm`, `common_pid`.
    pub name: String,
    /// The C type without the name or array bounds: `const char *`, `char`,
    /// `__data_loc char[]`.
    pub type_name: String,
    /// Byte offset in the record (the BPF ctx).
    pub offset: u32,
    /// Bytes (of the whole array for arrays).
    pub size: u32,
    pub signed: bool,
    /// Elements, for `char prev_comm[16]`.
    pub array_len: Option<u32>,
    /// A `__data_loc` field: a u32 whose low 16 bits are the offset and high
    /// 16 bits the length of the data within the record.
    pub data_loc: bool,
}

impl Field {
    /// The `common_*` header fields (unreadable by TRACEPOINT programs: the
    /// first 8 bytes of the ctx are off limits).
    pub fn is_common(&self) -> bool {
        self.name.starts_with("common_")
    }
}

impl Tracefs {
    /// tracefs where it is already mounted, if anywhere.
    pub fn find() -> Option<Tracefs> {
        ROOTS
            .iter()
            .map(|root| PathBuf::from(*root))
            .find(|root| root.join("events").is_dir())
            .map(|root| Tracefs {
                root,
                mounted_now: false,
            })
    }

    /// tracefs, mounting it at `/sys/kernel/tracing` when it is not mounted
    /// ([`Tracefs::mounted_now`] then says so).
    pub fn open() -> Result<Tracefs> {
        if let Some(found) = Tracefs::find() {
            return Ok(found);
        }
        sys::mount_tracefs(ROOTS[0]).map_err(|source| Error::TracefsUnavailable { source })?;
        Ok(Tracefs {
            root: PathBuf::from(ROOTS[0]),
            mounted_now: true,
        })
    }

    /// A tracefs tree at `root` (tests use a copy of the real layout).
    pub fn at(root: impl Into<PathBuf>) -> Tracefs {
        Tracefs {
            root: root.into(),
            mounted_now: false,
        }
    }

    /// Its mount point.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether [`Tracefs::open`] mounted it (the user should be told).
    pub fn mounted_now(&self) -> bool {
        self.mounted_now
    }

    /// `events/CAT/NAME`, checked to exist.
    fn event_dir(&self, category: &str, name: &str) -> Result<PathBuf> {
        let bad = |part: &str| part.is_empty() || part.contains('/') || part.starts_with('.');
        let dir = self.root.join("events").join(category).join(name);
        if bad(category) || bad(name) || !dir.join("id").is_file() {
            return Err(Error::TracepointNotFound {
                category: category.to_string(),
                name: name.to_string(),
                dir,
            });
        }
        Ok(dir)
    }

    /// The tracepoint's perf event id (`PERF_TYPE_TRACEPOINT` config).
    pub fn tracepoint_id(&self, category: &str, name: &str) -> Result<u64> {
        let path = self.event_dir(category, name)?.join("id");
        let text = read(&path)?;
        text.trim().parse().map_err(|_| Error::Format {
            path,
            detail: format!("expected a tracepoint id, found {:?}", text.trim()),
        })
    }

    /// The tracepoint's record fields, common ones first, in file order.
    pub fn tracepoint_fields(&self, category: &str, name: &str) -> Result<Vec<Field>> {
        let path = self.event_dir(category, name)?.join("format");
        let text = read(&path)?;
        parse_format(&text).map_err(|detail| Error::Format { path, detail })
    }

    /// Tracepoints matching `pattern` (`cat:name`, `*` and `?` wildcards in
    /// either part; a bare pattern matches the name in any category),
    /// sorted.
    pub fn tracepoints(&self, pattern: &str) -> Result<Vec<Tracepoint>> {
        let (cat_pattern, name_pattern) = pattern.split_once(':').unwrap_or(("*", pattern));
        let events = self.root.join("events");
        let mut found = Vec::new();
        for category in list_dirs(&events)? {
            if !glob_match(cat_pattern, &category) {
                continue;
            }
            for name in list_dirs(&events.join(&category))? {
                if glob_match(name_pattern, &name)
                    && events.join(&category).join(&name).join("id").is_file()
                {
                    found.push(Tracepoint {
                        category: category.clone(),
                        name,
                    });
                }
            }
        }
        found.sort();
        Ok(found)
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Names of the subdirectories of `dir`.
fn list_dirs(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect())
}

/// Parses the fields of a `format` file:
/// `\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;`.
pub fn parse_format(text: &str) -> std::result::Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("field:"))
    {
        fields.push(parse_field(line).ok_or_else(|| format!("cannot parse field line {line:?}"))?);
    }
    if fields.is_empty() {
        return Err("no `field:` lines".to_string());
    }
    Ok(fields)
}

fn parse_field(line: &str) -> Option<Field> {
    let mut decl = None;
    let (mut offset, mut size, mut signed) = (None, None, None);
    for part in line.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once(':')?;
        match key.trim() {
            "field" => decl = Some(value.trim()),
            "offset" => offset = value.trim().parse().ok(),
            "size" => size = value.trim().parse().ok(),
            "signed" => signed = Some(value.trim() == "1"),
            _ => {}
        }
    }
    let (type_name, name, array_len) = split_declaration(decl?)?;
    Some(Field {
        data_loc: type_name.starts_with("__data_loc"),
        name,
        type_name,
        offset: offset?,
        size: size?,
        signed: signed?,
        array_len,
    })
}

/// `char prev_comm[16]` → (`char`, `prev_comm`, Some(16));
/// `__data_loc char[] name` → (`__data_loc char[]`, `name`, None).
fn split_declaration(decl: &str) -> Option<(String, String, Option<u32>)> {
    let (decl, array_len) = match decl.strip_suffix(']') {
        Some(rest) if !rest.ends_with('[') => {
            let open = rest.rfind('[')?;
            let len = rest[open + 1..].trim().parse().ok();
            (&rest[..open], len)
        }
        _ => (decl, None),
    };
    let decl = decl.trim_end();
    let start = decl
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let name = &decl[start..];
    let type_name = decl[..start].trim();
    if name.is_empty() || type_name.is_empty() {
        return None;
    }
    Some((type_name.to_string(), name.to_string(), array_len))
}

/// Shell-style match with `*` (any run) and `?` (one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            ti = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAT: &str = "name: sys_enter_openat\nID: 667\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\
        \n\
        \tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
        \tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n\
        \tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n\
        \tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n\
        \tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;\n\
        \nprint fmt: \"dfd: 0x%08lx\"\n";

    #[test]
    fn parses_syscall_format() {
        let fields = parse_format(OPENAT).expect("parses");
        assert_eq!(fields.len(), 9);
        assert!(fields[3].is_common());
        let filename = fields
            .iter()
            .find(|f| f.name == "filename")
            .expect("filename");
        assert_eq!(
            filename,
            &Field {
                name: "filename".into(),
                type_name: "const char *".into(),
                offset: 24,
                size: 8,
                signed: false,
                array_len: None,
                data_loc: false,
            }
        );
        assert!(fields[0].type_name == "unsigned short" && !fields[0].signed);
    }

    #[test]
    fn parses_arrays_and_data_loc() {
        let text = "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
                    \tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;\n\
                    \tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;";
        let fields = parse_format(text).expect("parses");
        assert_eq!(
            (fields[0].name.as_str(), fields[0].type_name.as_str()),
            ("prev_comm", "char")
        );
        assert_eq!(fields[0].array_len, Some(16));
        assert!(fields[1].data_loc);
        assert_eq!(
            (fields[1].name.as_str(), fields[1].type_name.as_str()),
            ("name", "__data_loc char[]")
        );
        assert_eq!(fields[2].array_len, Some(6));
        assert_eq!(fields[2].size, 48);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_format("nothing here").is_err());
        assert!(parse_format("\tfield:int x;\toffset:abc;\tsize:4;\tsigned:1;").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("sys_enter_*", "sys_enter_openat"));
        assert!(glob_match("*", ""));
        assert!(glob_match("sys_*_open*", "sys_enter_openat2"));
        assert!(glob_match("sched_s?itch", "sched_switch"));
        assert!(!glob_match("sys_enter_*", "sys_exit_openat"));
        assert!(!glob_match("open", "openat"));
        assert!(glob_match("*at", "openat"));
    }

    #[test]
    fn finds_tracepoints_in_a_tree() {
        let dir = std::env::temp_dir().join(format!("bpf-tracefs-{}", std::process::id()));
        for (cat, name, id) in [
            ("syscalls", "sys_enter_openat", 1),
            ("syscalls", "sys_exit_openat", 2),
            ("sched", "sched_switch", 3),
        ] {
            let ev = dir.join("events").join(cat).join(name);
            std::fs::create_dir_all(&ev).expect("mkdir");
            std::fs::write(ev.join("id"), format!("{id}\n")).expect("id");
            std::fs::write(ev.join("format"), OPENAT).expect("format");
        }
        let fs = Tracefs::at(&dir);
        let names: Vec<String> = fs
            .tracepoints("syscalls:sys_enter_*")
            .expect("list")
            .into_iter()
            .map(|t| format!("{}:{}", t.category, t.name))
            .collect();
        assert_eq!(names, ["syscalls:sys_enter_openat"]);
        assert_eq!(fs.tracepoints("*switch").expect("list").len(), 1);
        assert_eq!(fs.tracepoint_id("sched", "sched_switch").expect("id"), 3);
        assert!(matches!(
            fs.tracepoint_id("sched", "nope"),
            Err(Error::TracepointNotFound { .. })
        ));
        assert!(matches!(
            fs.tracepoint_id("..", "x"),
            Err(Error::TracepointNotFound { .. })
        ));
        assert_eq!(
            fs.tracepoint_fields("syscalls", "sys_enter_openat")
                .expect("fields")
                .len(),
            9
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
