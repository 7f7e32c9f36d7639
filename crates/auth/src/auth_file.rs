//! The `--auth-file`: one token a line, `ROLE HASH [NAME]`.
//!
//! ```text
//! # who may write and read; hashes from `whyslow auth hash`
//! ingest $argon2id$v=19$m=19456,t=2,p=1$…$…  agents
//! read   $argon2id$v=19$m=19456,t=2,p=1$…$…  grafana
//! admin  $argon2id$v=19$m=19456,t=2,p=1$…$…  # a comment ends a line
//! ```
//!
//! Fields are separated by spaces or tabs; `#` starts a comment (a whole line
//! or the rest of one); blank lines are skipped. The first wrong line stops
//! parsing with `FILE:LINE: what is wrong`. Messages never quote a HASH (a line
//! names it), nor a field that could be a token pasted by mistake.

use crate::error::AuthFileError;
use crate::hash::TokenHash;
use crate::name::check_name;
use crate::role::Role;
use crate::token::MIN_TOKEN_LEN;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// One token of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What the token may do.
    pub role: Role,
    /// Its hash.
    pub hash: TokenHash,
    /// Who holds it, if the line says.
    pub name: Option<String>,
    /// 1-based line of the file, to name the token in logs when it has no NAME.
    pub line: usize,
}

/// A parsed auth file: at least one entry, names unique, hashes unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFile {
    /// The tokens, in file order.
    pub entries: Vec<Entry>,
}

impl AuthFile {
    /// Reads and parses `path`, which only its owner may write.
    pub fn load(path: &Path) -> Result<AuthFile, AuthFileError> {
        let read_error = |source| AuthFileError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mode = std::fs::metadata(path)
            .map_err(read_error)?
            .permissions()
            .mode()
            & 0o7777;
        if mode & 0o022 != 0 {
            return Err(AuthFileError::Writable {
                path: path.to_path_buf(),
                mode,
            });
        }
        let bytes = std::fs::read(path).map_err(read_error)?;
        AuthFile::parse(path, &bytes)
    }

    /// Parses the bytes of an auth file; `path` only names it in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<AuthFile, AuthFileError> {
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        let mut entries: Vec<Entry> = Vec::new();
        let mut line_of_name: HashMap<String, usize> = HashMap::new();
        let mut line_of_hash: HashMap<&[u8], usize> = HashMap::new();
        for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = index + 1;
            let error = |what: String| AuthFileError::Line {
                path: path.to_path_buf(),
                line,
                what,
            };
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let text = std::str::from_utf8(raw)
                .map_err(|_| error("the line is not UTF-8 text".to_string()))?;
            let fields: Vec<&str> = text
                .split_ascii_whitespace()
                .take_while(|field| !field.starts_with('#'))
                .collect();
            let (role, hash, name) = match fields[..] {
                [] => continue,
                [role, hash] => (role, hash, None),
                [role, hash, name] => (role, hash, Some(name)),
                [_] => return Err(error("expected ROLE HASH [NAME], found one field".into())),
                _ => {
                    return Err(error(format!(
                        "expected ROLE HASH [NAME], found {} fields (start a comment with '#')",
                        fields.len()
                    )))
                }
            };
            let role = role
                .parse::<Role>()
                .map_err(|_| error(role_problem(role)))?;
            let token_hash = TokenHash::parse(hash).map_err(|bad| error(bad.to_string()))?;
            if let Some(first) = line_of_hash.insert(hash.as_bytes(), line) {
                return Err(error(format!(
                    "the same HASH as line {first}; give every holder a token of their own"
                )));
            }
            if let Some(name) = name {
                check_name(name).map_err(|bad| error(bad.to_string()))?;
                if let Some(first) = line_of_name.insert(name.to_string(), line) {
                    return Err(error(format!(
                        "NAME '{name}' is already used on line {first}"
                    )));
                }
            }
            entries.push(Entry {
                role,
                hash: token_hash,
                name: name.map(str::to_string),
                line,
            });
        }
        if entries.is_empty() {
            return Err(AuthFileError::NoTokens {
                path: path.to_path_buf(),
            });
        }
        Ok(AuthFile { entries })
    }
}

/// Why the first field is no role, quoting it only when it is too short to be a token.
fn role_problem(field: &str) -> String {
    let roles = "ROLE must be ingest, read or admin";
    if field.starts_with('$') {
        format!("{roles}; the HASH comes second")
    } else if field.len() < MIN_TOKEN_LEN && field.bytes().all(|b| b.is_ascii_graphic()) {
        format!("{roles}, not '{field}'")
    } else {
        roles.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::tests::cheap_hash;

    #[test]
    fn a_file_others_may_write_is_refused() {
        let path = std::env::temp_dir().join(format!("whyslow-auth-mode-{}", std::process::id()));
        let line = format!("read {}\n", cheap_hash("token-of-a-reader-1234567890"));
        std::fs::write(&path, line).expect("write");
        for (mode, ok) in [(0o600, true), (0o644, true), (0o664, false), (0o666, false)] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            match AuthFile::load(&path) {
                Ok(_) => assert!(ok, "{mode:o} taken"),
                Err(e) => {
                    assert!(!ok, "{mode:o}: {e}");
                    assert!(e.to_string().contains("chmod go-w"), "{e}");
                }
            }
        }
        std::fs::remove_file(&path).expect("remove");
    }

    fn parse(text: &str) -> Result<AuthFile, String> {
        AuthFile::parse(Path::new("auth.txt"), text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn lines_give_role_hash_and_optional_name() {
        let (a, b) = (
            cheap_hash("token-of-the-agents"),
            cheap_hash("token-of-grafana!"),
        );
        let text = format!("# tokens\n\ningest {a} agents\r\n\tread\t{b}   # no name\n  \n");
        let file = parse(&text).unwrap();
        assert_eq!(file.entries.len(), 2);
        assert_eq!(file.entries[0].role, Role::Ingest);
        assert_eq!(file.entries[0].name.as_deref(), Some("agents"));
        assert_eq!(file.entries[0].line, 3);
        assert!(file.entries[0].hash.verify(b"token-of-the-agents"));
        assert_eq!(file.entries[1].role, Role::Read);
        assert_eq!(file.entries[1].name, None);
        assert_eq!(file.entries[1].line, 4);
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let text = format!("\u{feff}admin {}", cheap_hash("0123456789abcdef"));
        assert_eq!(parse(&text).unwrap().entries[0].role, Role::Admin);
    }

    #[test]
    fn each_wrong_line_is_named_with_what_is_wrong() {
        let hash = cheap_hash("0123456789abcdef");
        let cases = [
            (format!("read {hash}\nread"), "auth.txt:2: expected ROLE HASH [NAME], found one field"),
            (format!("read {hash} a b"), "auth.txt:1: expected ROLE HASH [NAME], found 4 fields (start a comment with '#')"),
            (format!("writer {hash}"), "auth.txt:1: ROLE must be ingest, read or admin, not 'writer'"),
            (format!("{hash} read"), "auth.txt:1: ROLE must be ingest, read or admin; the HASH comes second"),
            (format!("\n\nread {hash} bad:name"), "auth.txt:3: character 4 of NAME is not an ASCII letter, digit, '.', '_', '-' or '@'"),
            (format!("read {hash} x\nadmin {} x", cheap_hash("0123456789abcdeF")), "auth.txt:2: NAME 'x' is already used on line 1"),
            (format!("read {hash}\nadmin {hash}"), "auth.txt:2: the same HASH as line 1; give every holder a token of their own"),
            ("# nothing\n\n".to_string(), "auth.txt holds no token: add lines 'ROLE HASH [NAME]' with the hash `whyslow auth hash` prints, or leave out --auth-file"),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(&text).unwrap_err(), expected, "for {text:?}");
        }
        let invalid_utf8 = AuthFile::parse(Path::new("f"), b"read \xff").unwrap_err();
        assert_eq!(invalid_utf8.to_string(), "f:1: the line is not UTF-8 text");
    }

    #[test]
    fn errors_never_quote_a_token_or_a_hash() {
        let token = "s3cr3t-t0ken-in-the-wrong-place";
        let hash = cheap_hash(token);
        let raw_token_as_hash = parse(&format!("ingest {token}")).unwrap_err();
        assert_eq!(
            raw_token_as_hash,
            "auth.txt:1: HASH is not a PHC string like the `$argon2id$v=19$…` line \
             `whyslow auth hash` prints (is it the token itself? Put only its hash in the file)"
        );
        let raw_token_as_role = parse(&format!("{token} {hash}")).unwrap_err();
        assert_eq!(
            raw_token_as_role,
            "auth.txt:1: ROLE must be ingest, read or admin"
        );
        let salt_and_output = hash.rsplit('$').take(2).collect::<Vec<_>>();
        let broken = hash.replace("m=64", "m=4294967295");
        let messages = [
            parse(&format!("read {broken}")).unwrap_err(),
            parse(&format!("read {hash}\nread {hash}")).unwrap_err(),
            parse(&format!("read {hash}!")).unwrap_err(),
            parse(&format!("read {}", hash.replace("v=19", "v=1"))).unwrap_err(),
        ];
        for message in messages {
            assert!(!message.contains(token), "{message}");
            for part in &salt_and_output {
                assert!(!message.contains(part), "{message}");
            }
        }
    }
}
