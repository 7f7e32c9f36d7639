//! The errors of the auth crate: a bad auth file, a token unfit to be hashed,
//! a failing OS random number generator. A refused request is not an error
//! here; it is a [`crate::Denied`].
//!
//! No message holds a token, and none quotes a hash: a hash is named by its line.

use std::path::PathBuf;
use thiserror::Error;

/// Why an auth file was refused.
#[derive(Debug, Error)]
pub enum AuthFileError {
    /// The file could not be read.
    #[error("cannot read auth file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// One line is wrong; `what` says how without quoting a hash or a token.
    #[error("{path}:{line}: {what}")]
    Line {
        /// The file, as given.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to fix it.
        what: String,
    },
    /// Others may write the file, so they could add a token of their own
    /// (what sshd's StrictModes refuses for `authorized_keys`).
    #[error(
        "{path} may be written by its group or by others (mode {mode:04o}): whoever can write \
         it can add a token of their own; run `chmod go-w {path}`"
    )]
    Writable {
        /// The file, as given.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Only comments and blank lines: every request would be refused.
    #[error(
        "{path} holds no token: add lines 'ROLE HASH [NAME]' with the hash \
         `whyslow auth hash` prints, or leave out --auth-file"
    )]
    NoTokens {
        /// The file, as given.
        path: PathBuf,
    },
}

/// Why a token cannot be used (hashed, or accepted by [`crate::hash_token`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    /// Nothing was given.
    #[error("the token is empty")]
    Empty,
    /// Too short to resist guessing.
    #[error(
        "the token has {length} characters; use at least {min} \
         (`whyslow auth token` makes a random one)"
    )]
    TooShort {
        /// Characters given.
        length: usize,
        /// The least accepted.
        min: usize,
    },
    /// Longer than any header should carry.
    #[error("the token has {length} characters; at most {max} are accepted")]
    TooLong {
        /// Characters given.
        length: usize,
        /// The most accepted.
        max: usize,
    },
    /// A space, control or non-ASCII character: HTTP headers cannot carry it as sent.
    #[error(
        "character {position} of the token is not printable ASCII (spaces, control and \
         non-ASCII characters cannot travel in an Authorization header)"
    )]
    Character {
        /// 1-based position of the first bad character.
        position: usize,
    },
}

/// Why hashing a token failed.
#[derive(Debug, Error)]
pub enum HashError {
    /// The token itself is unfit.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Argon2 refused (e.g. the salt could not be drawn from the OS).
    #[error("argon2 failed: {0}")]
    Argon2(argon2::password_hash::Error),
}

/// The operating system's random number generator failed.
#[derive(Debug, Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(pub(crate) getrandom::Error);

/// Why the HASH field of an auth-file line is not a usable argon2 hash.
/// Messages describe the field and never quote it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BadHash {
    /// Not a PHC string at all (a raw token pasted by mistake looks like this).
    #[error(
        "HASH is not a PHC string like the `$argon2id$v=19$…` line `whyslow auth hash` prints \
         (is it the token itself? Put only its hash in the file)"
    )]
    NotPhc,
    /// A PHC string that does not parse; the reason comes from the PHC parser.
    #[error("HASH is not a valid PHC string: {0}")]
    Malformed(String),
    /// A PHC string of another algorithm (bcrypt, scrypt, …).
    #[error(
        "HASH is not an argon2 hash (argon2id, argon2i or argon2d; bcrypt and others are not \
         accepted); make one with `whyslow auth hash`"
    )]
    NotArgon2,
    /// No salt or no hash output.
    #[error("HASH has no salt or no hash output")]
    Incomplete,
    /// An argon2 version other than 16 or 19, or parameters argon2 refuses.
    #[error("HASH has invalid argon2 parameters: {0}")]
    Params(String),
    /// Parameters so large that one verification would take too much memory or time.
    #[error(
        "HASH asks for m={memory_kib} KiB, t={time_cost}, p={lanes}; at most \
         m={max_memory_kib}, t={max_time_cost}, p={max_lanes} are accepted"
    )]
    TooCostly {
        /// Memory of one verification, KiB.
        memory_kib: u32,
        /// Passes over memory.
        time_cost: u32,
        /// Lanes.
        lanes: u32,
        /// The most memory accepted, KiB.
        max_memory_kib: u32,
        /// The most passes accepted.
        max_time_cost: u32,
        /// The most lanes accepted.
        max_lanes: u32,
    },
}

/// Why a token NAME is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BadName {
    /// More than [`crate::MAX_NAME_LEN`] characters.
    #[error("NAME has {length} characters; at most {max} are accepted")]
    TooLong {
        /// Characters given.
        length: usize,
        /// The most accepted.
        max: usize,
    },
    /// A character outside letters, digits, `.`, `_`, `-` and `@`.
    #[error("character {position} of NAME is not an ASCII letter, digit, '.', '_', '-' or '@'")]
    Character {
        /// 1-based position of the first bad character.
        position: usize,
    },
}
