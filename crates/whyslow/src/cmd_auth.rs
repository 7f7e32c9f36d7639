//! `whyslow auth`: tokens for `serve --auth-file`. `token` prints a fresh
//! random token; `hash` reads one from standard input and prints its file
//! line, `ROLE HASH [NAME]`. The token is never an argument (it would land in
//! shell history and `ps`) and never printed by `hash`.

use crate::cli::{AuthArgs, AuthCommand, AuthHashArgs};
use anyhow::{Context, Result};
use std::io::{BufRead, IsTerminal, Read};

/// Runs `whyslow auth`.
pub fn run(args: AuthArgs) -> Result<()> {
    match args.command {
        AuthCommand::Token => print_token(),
        AuthCommand::Hash(args) => print_file_line(&args),
    }
}

/// `whyslow auth token`.
fn print_token() -> Result<()> {
    let token = auth::new_token().context("cannot make a token")?;
    println!("{token}");
    Ok(())
}

/// `whyslow auth hash`: read, check, hash, print.
fn print_file_line(args: &AuthHashArgs) -> Result<()> {
    let line = read_line_from_stdin()?;
    let token =
        auth::token_from_line(&line).context("refusing the token read from standard input")?;
    let hash = auth::hash_token(token).context("cannot hash the token")?;
    match &args.name {
        Some(name) => println!("{} {hash} {name}", args.role),
        None => println!("{} {hash}", args.role),
    }
    Ok(())
}

/// The first line of standard input, newline included; a line longer than any
/// token is cut just past the limit so that the check refuses it.
fn read_line_from_stdin() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!(
            "whyslow: type the token and press Enter (it shows as you type; \
             `whyslow auth token | tee FILE | whyslow auth hash …` avoids that)"
        );
    }
    let longest = u64::try_from(auth::MAX_TOKEN_LEN + 3).unwrap_or(u64::MAX);
    let mut line = String::new();
    stdin
        .lock()
        .take(longest)
        .read_line(&mut line)
        .context("cannot read the token from standard input (is it UTF-8 text?)")?;
    Ok(line)
}
