//! End-to-end: a profile pushed to the real `whyslow serve` (Pyroscope
//! `POST /ingest`, folded) comes back from `GET /pyroscope/pprof` as a file
//! the real `go tool pprof` reads: the hot function with its flat share in
//! `-top`, and stacks leaf first in `-traces`. Skipped (with a message) when
//! `go` is not installed; `dev/test` installs Debian's golang-go.
#![allow(clippy::unwrap_used)]

#[path = "serve_metrics/support.rs"]
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{encode, now_ms, try_http, Serve, TempDir};

const CPU: &str = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
const APP: &str = "wspprof-app";

/// A GET whose body is bytes: status, head (lowercase), body.
fn get_bytes(addr: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    assert!(
        !head.contains("transfer-encoding: chunked"),
        "expected a sized body: {head}"
    );
    (status, head, response[split + 4..].to_vec())
}

/// `go tool pprof ARGS FILE` with Go's caches in `home`: its stdout.
fn go_pprof(home: &Path, args: &[&str], file: &Path) -> String {
    let output = Command::new("go")
        .args(["tool", "pprof"])
        .args(args)
        .arg(file)
        .env("HOME", home)
        .env("GOPATH", home.join("gopath"))
        .env("GOCACHE", home.join("gocache"))
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("PPROF_TMPDIR", home)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "go tool pprof {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn go_tool_pprof_reads_the_downloaded_merged_profile() {
    if Command::new("go").arg("version").output().is_err() {
        eprintln!("SKIPPED: `go` is not installed (apt-get install golang-go; dev/test does)");
        return;
    }
    let data = TempDir::new("serve-pprof");
    let serve = Serve::start(&data.0, 0);

    // Two 10 s profiles at 100 Hz: hot 80 %, cold 15 %, main's own 5 %.
    let from_s = now_ms() / 1000 - 120;
    for at in [from_s, from_s + 10] {
        let path = format!(
            "/ingest?name={}&from={at}&until={}&format=folded&sampleRate=100",
            encode(&format!("{APP}.cpu")),
            at + 10
        );
        let body = b"main;work;hot 80\nmain;work;cold 15\nmain 5\n";
        let (status, text) = try_http(&serve.http, "POST", &path, &[], body).unwrap();
        assert!((200..300).contains(&status), "/ingest: {status} {text}");
    }

    let query = format!("{CPU}{{service_name=\"{APP}\"}}");
    let path = format!(
        "/pyroscope/pprof?query={}&from=now-10m&until=now",
        encode(&query)
    );
    let (status, head, body) = get_bytes(&serve.http, &path);
    assert_eq!(status, 200, "{head}\n{}", String::from_utf8_lossy(&body));
    assert!(
        head.contains("content-type: application/octet-stream"),
        "{head}"
    );
    assert!(
        head.contains(&format!("filename=\"{APP}.pb.gz\"")),
        "{head}"
    );
    assert_eq!(body[..2], [0x1f, 0x8b], "gzip magic");
    let file = data.0.join("merged.pb.gz");
    std::fs::write(&file, &body).unwrap();
    let home = data.0.join("go");
    std::fs::create_dir_all(&home).unwrap();

    // -top: hot is first with 80 % flat (1.6 s of 2 s), cold 15 %, main 5 %
    // flat and all of it cumulative.
    let top = go_pprof(&home, &["-top", "-nodecount=20"], &file);
    eprintln!("{top}");
    assert!(top.contains("Type: cpu"), "{top}");
    let row = |name: &str| {
        top.lines()
            .find(|l| l.split_whitespace().last() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name} in:\n{top}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    // Columns: flat flat% sum% cum cum% name (units vary by Go version).
    assert_eq!(row("hot")[1], "80.00%");
    assert_eq!(row("cold")[1], "15.00%");
    assert_eq!(row("main")[1..5], ["5.00%", "100%", row("main")[3], "100%"]);
    assert_eq!(row("work")[4], "95.00%");
    assert!(
        top.contains("of 2000ms total") || top.contains("of 2s total"),
        "2 s in all: {top}"
    );
    let first = top
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flat"))
        .nth(1)
        .unwrap();
    assert!(first.ends_with(" hot"), "hot is the top row: {first}");

    // -traces: each sample's stack, leaf first.
    let traces = go_pprof(&home, &["-traces"], &file);
    let stacks: Vec<Vec<&str>> = traces
        .split("-----------+")
        .skip(1)
        .map(|block| {
            block
                .lines()
                .skip(1)
                .map(|l| l.split_whitespace().last().unwrap_or(""))
                .filter(|f| !f.is_empty())
                .collect()
        })
        .filter(|frames: &Vec<&str>| !frames.is_empty())
        .collect();
    assert!(
        stacks.contains(&vec!["hot", "work", "main"]),
        "{stacks:?}\n{traces}"
    );
    assert!(stacks.contains(&vec!["cold", "work", "main"]), "{stacks:?}");
    assert!(stacks.contains(&vec!["main"]), "{stacks:?}");
    serve.stop();
}
