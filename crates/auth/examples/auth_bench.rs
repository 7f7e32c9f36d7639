//! What a request's authentication costs: the first request with a token
//! (one argon2id verification with `whyslow auth hash`'s parameters) against
//! later ones (the verified-token cache), and a wrong token against N lines
//! (every line verified).
//!
//! `cargo run --release -p auth --example auth_bench -- [CACHED_ROUNDS] [LINES]`

use auth::{hash_token, AuthFile, Authenticator, Options, Permission, RateLimit};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: u32 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let lines: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(4);

    let tokens: Vec<String> = (0..lines)
        .map(|i| format!("bench-token-{i:04}-0123456789"))
        .collect();
    let mut text = String::new();
    for (i, token) in tokens.iter().enumerate() {
        text.push_str(&format!("admin {} line{i}\n", hash_token(token)?));
    }
    let file = AuthFile::parse(Path::new("bench"), text.as_bytes())?;
    let options = Options {
        rate_limit: RateLimit {
            max_failures: 0,
            ..RateLimit::default()
        },
        ..Options::default()
    };
    let auth = Authenticator::with_options(file, options)?;
    let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let header = format!("Bearer {}", tokens[0]);

    let start = Instant::now();
    auth.authorize(Some(header.as_bytes()), client, Permission::Read)?;
    let first = start.elapsed();

    let start = Instant::now();
    for _ in 0..rounds {
        auth.authorize(Some(header.as_bytes()), client, Permission::Read)?;
    }
    let cached = start.elapsed() / rounds;

    let wrong = b"Bearer wrong-token-0123456789";
    let start = Instant::now();
    let refused = auth
        .authorize(Some(wrong), client, Permission::Read)
        .is_err();
    let wrong_cost = start.elapsed();
    assert!(refused);

    println!(
        "first request (argon2id, m=19456 KiB, t=2): {}",
        show(first)
    );
    println!(
        "cached request:                              {}",
        show(cached)
    );
    println!(
        "wrong token against {lines} lines:               {}",
        show(wrong_cost)
    );
    println!(
        "cached is {:.0}x cheaper than a verification",
        first.as_secs_f64() / cached.as_secs_f64()
    );
    Ok(())
}

fn show(duration: Duration) -> String {
    if duration < Duration::from_millis(1) {
        format!("{:.2} µs", duration.as_secs_f64() * 1e6)
    } else {
        format!("{:.1} ms", duration.as_secs_f64() * 1e3)
    }
}
