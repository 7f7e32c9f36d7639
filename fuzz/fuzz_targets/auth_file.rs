//! Fuzzes the `--auth-file` parser (lines, roles, argon2 PHC strings, names)
//! and the `Authorization` header parser with arbitrary bytes: a file parses
//! into entries or is refused naming a line it has; nothing panics. No hash is
//! verified (argon2 is slow by design, and the parser bounds its cost).
#![no_main]

use auth::{AuthFile, AuthFileError, Credentials};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    match AuthFile::parse(Path::new("fuzz"), data) {
        Ok(file) => {
            assert!(!file.entries.is_empty());
            for entry in &file.entries {
                assert!((1..=lines).contains(&entry.line));
                assert!(entry.hash.memory_kib() <= auth::MAX_MEMORY_KIB);
            }
        }
        Err(AuthFileError::Line { line, .. }) => assert!((1..=lines).contains(&line)),
        Err(error) => assert!(matches!(error, AuthFileError::NoTokens { .. })),
    }
    if let Ok(credentials) = Credentials::from_header(data) {
        let _ = credentials.token();
    }
});
