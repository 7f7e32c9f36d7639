//! serve's built-in rules (crates/whyslow/rules/default.yml) checked by the
//! real Prometheus: `promtool check rules` accepts them, and `promtool test
//! rules` runs them over our planted series (tests/default_rules/
//! promtool_test.yml): a CPU-saturated host, low memory, a disk filling up,
//! a failing and a slowing service fire; an idle host, a tmpfs and a
//! healthy service do not.
//!
//! Skips when `promtool` (Debian's `prometheus`) is missing, unless
//! `WHYSLOW_REQUIRE_PROMETHEUS=1` (dev/test sets it).

use std::path::Path;
use std::process::Command;

fn promtool(dir: &Path, args: &[&str]) -> Option<String> {
    let out = match Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            assert!(
                std::env::var("WHYSLOW_REQUIRE_PROMETHEUS").as_deref() != Ok("1"),
                "promtool is missing ({e}): apt-get install prometheus"
            );
            eprintln!("skipped: promtool not found (apt-get install prometheus)");
            return None;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    Some(text)
}

#[test]
fn the_built_in_rules_fire_on_planted_trouble_and_stay_quiet_otherwise() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        manifest.join("rules/default.yml"),
        dir.path().join("rules.yml"),
    )
    .expect("copy rules");
    std::fs::copy(
        manifest.join("tests/default_rules/promtool_test.yml"),
        dir.path().join("test.yml"),
    )
    .expect("copy test");
    let Some(checked) = promtool(dir.path(), &["check", "rules", "rules.yml"]) else {
        return;
    };
    assert!(checked.contains("SUCCESS: 14 rules found"), "{checked}");
    promtool(dir.path(), &["test", "rules", "test.yml"]);
}
