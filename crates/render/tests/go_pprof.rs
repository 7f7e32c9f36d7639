//! `go tool pprof` reads the pprof we write: the top functions it lists are the
//! ones in the profile. Skipped (with a printed reason) when `go` is missing.

#![allow(clippy::unwrap_used)] // test helpers may panic

use query::ValueView;
use render::{read_profile, write_profile, Format};
use std::path::Path;
use std::process::Command;

#[test]
fn go_tool_pprof_lists_our_top_functions() {
    if Command::new("go").arg("version").output().is_err() {
        eprintln!("SKIP: `go` is not installed (apt-get install golang-go)");
        return;
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let bytes = std::fs::read(data.join("perf_script_workload.input")).unwrap();
    let profile = read_profile(&bytes, Some(Format::PerfScript)).unwrap();
    let dir = std::env::temp_dir().join(format!("render-go-pprof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.pb.gz");
    let mut out = Vec::new();
    write_profile(&profile, Format::Pprof, ValueView::Cpu, "t", &mut out).unwrap();
    std::fs::write(&file, out).unwrap();
    let output = Command::new("go")
        .args(["tool", "pprof", "-top"])
        .arg(&file)
        .env("HOME", &dir)
        .env("GOCACHE", dir.join("gocache"))
        .env("PPROF_TMPDIR", &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "go tool pprof failed:\n{stdout}\n{stderr}"
    );
    let rows: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flat"))
        .skip(1)
        .collect();
    assert!(rows[0].contains("workload::hot_a"), "first row:\n{stdout}");
    assert!(rows[1].contains("workload::hot_b"), "second row:\n{stdout}");
    assert!(
        stdout.contains("Type: cpu"),
        "default sample type:\n{stdout}"
    );
    assert!(stdout.contains("workload::main"), "{stdout}");
}
