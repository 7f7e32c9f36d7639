//! `whyslow top` end to end: the real binary in a real terminal, tmux at
//! 80×24. The test waits for the first frame, reads the screen with
//! `capture-pane -p`, sorts by memory (`m`), filters by the name of a probe
//! process it started (`/` + name), quits with `q`, and checks that the
//! process exited 0 and the terminal was restored (same `stty -g` before and
//! after, alternate screen off); Ctrl-C and SIGTERM do the same; closing
//! its terminal (the tmux server killed) makes it exit. Each test has its own tmux socket (`-L`),
//! killed at the end; every wait is bounded.
//!
//! Skips with a message when tmux is missing, unless WHYSLOW_REQUIRE_TMUX=1
//! (dev/test sets it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TMUX: &str = "tmux";
const WAIT: Duration = Duration::from_secs(15);

fn tmux_available(test: &str) -> bool {
    let found = Command::new(TMUX)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("WHYSLOW_REQUIRE_TMUX").as_deref() != Ok("1"),
            "tmux is missing and WHYSLOW_REQUIRE_TMUX=1: apt-get install tmux"
        );
        eprintln!("SKIP {test}: tmux is not installed (apt-get install tmux)");
    }
    found
}

/// A tmux server on its own socket with one 80×24 session; killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, command: &[&str]) -> Self {
        let tmux = Tmux {
            socket: format!("whyslow-{name}-{}", std::process::id()),
        };
        let mut args = vec!["new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "--"];
        args.extend_from_slice(command);
        let out = tmux.run(&args);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(TMUX)
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    fn capture(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "t"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn display(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "t", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    fn literal(&self, text: &str) {
        assert!(self
            .run(&["send-keys", "-t", "t", "-l", text])
            .status
            .success());
    }

    /// Polls the screen until `ok` holds; panics with the last screen after [`WAIT`].
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + WAIT;
        loop {
            let screen = self.capture();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < until,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// A `sleep` copied under a name no other process has, so the filter can find it.
struct Probe {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Probe {
    fn start(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path: PathBuf = dir.path().join(name);
        std::fs::copy(sleep_binary(), &path).expect("copy sleep");
        let child = Command::new(&path)
            .arg("120")
            .spawn()
            .expect("start the probe");
        Probe { child, _dir: dir }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sleep_binary() -> &'static Path {
    ["/usr/bin/sleep", "/bin/sleep"]
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .expect("a sleep binary")
}

/// The table rows under the `PID` header: each row's whitespace-separated cells.
fn rows(screen: &str) -> Vec<Vec<String>> {
    screen
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("PID"))
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .take_while(|cells| cells.first().is_some_and(|c| c.parse::<u32>().is_ok()))
        .collect()
}

/// "0", "812", "1.5K", "123M" back to bytes.
fn size(text: &str) -> f64 {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, ' '),
    };
    let power = " KMGTP".find(unit).expect("a size unit");
    digits.parse::<f64>().expect("a size") * 1024f64.powi(power as i32)
}

fn non_increasing(values: &[f64]) -> bool {
    values.windows(2).all(|w| w[0] >= w[1])
}

#[test]
fn top_in_tmux_sorts_filters_and_restores_the_terminal() {
    if !tmux_available("top_in_tmux_sorts_filters_and_restores_the_terminal") {
        return;
    }
    let probe = Probe::start("wstopprobe");
    let bin = env!("CARGO_BIN_EXE_whyslow");
    let script = r#"before=$(stty -g); "$0" top --interval 500ms; rc=$?; after=$(stty -g)
[ "$before" = "$after" ] && echo "tty restored"; echo "top exited $rc"; sleep 60"#;
    let tmux = Tmux::start("top", &["sh", "-c", script, bin]);

    // The first frame with measurements: header, summary lines, table sorted by CPU %.
    let screen = tmux.wait_for("the first measured frame", |s| {
        s.contains("CPU  ") && rows(s).len() > 3
    });
    let lines: Vec<&str> = screen.lines().collect();
    assert!(lines[0].starts_with("whyslow top  "), "{screen}");
    assert!(lines[0].contains(" CPUs  every 500ms"), "{screen}");
    for resource in ["CPU  ", "MEM  ", "DISK ", "NET  "] {
        assert!(
            lines.iter().any(|l| l.starts_with(resource)),
            "{resource}: {screen}"
        );
    }
    assert!(
        screen.contains("PID USER     S  THR   CPU%   RSS READ/s WRITE/s COMMAND"),
        "{screen}"
    );
    assert!(screen.contains("sort CPU%"), "{screen}");
    let cpu: Vec<f64> = rows(&screen)
        .iter()
        .map(|r| r[4].parse().expect("CPU%"))
        .collect();
    assert!(non_increasing(&cpu), "{screen}");
    assert!(lines.len() <= 24 && lines.iter().all(|l| l.chars().count() <= 80));

    // `m`: sorted by RSS, largest first.
    tmux.keys(&["m"]);
    let screen = tmux.wait_for("sort by memory", |s| s.contains("sort RSS"));
    let rss: Vec<f64> = rows(&screen).iter().map(|r| size(&r[5])).collect();
    assert!(rss.len() > 3 && non_increasing(&rss), "{screen}");

    // `/` + a name: only the probe is left; Esc brings everything back.
    tmux.keys(&["/"]);
    tmux.literal("wstopprobe");
    tmux.keys(&["Enter"]);
    let pid = probe.child.id().to_string();
    let screen = tmux.wait_for("the filtered table", |s| {
        s.contains("filter \"wstopprobe\"") && rows(s).len() == 1
    });
    let only = &rows(&screen)[0];
    assert_eq!(only[0], pid, "{screen}");
    assert!(only.last().is_some_and(|c| c == "120"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the filter cleared", |s| {
        !s.contains("filter \"") && rows(s).len() > 3
    });

    // `q`: exits 0, leaves the alternate screen, and puts the tty back as it was.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("top to exit", |s| s.contains("top exited"));
    assert!(screen.contains("top exited 0"), "{screen}");
    assert!(screen.contains("tty restored"), "{screen}");
    assert!(
        !screen.contains("whyslow top"),
        "still on the TUI screen: {screen}"
    );
    assert_eq!(tmux.display("#{alternate_on}"), "0");
    assert_eq!(tmux.display("#{cursor_flag}"), "1", "cursor hidden");
}

#[test]
fn top_in_tmux_quits_on_ctrl_c() {
    if !tmux_available("top_in_tmux_quits_on_ctrl_c") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_whyslow");
    let script = r#"before=$(stty -g); "$0" top; rc=$?
[ "$before" = "$(stty -g)" ] && echo "tty restored"; echo "top exited $rc"; sleep 60"#;
    let tmux = Tmux::start("top-ctrl-c", &["sh", "-c", script, bin]);
    tmux.wait_for("the first frame", |s| s.starts_with("whyslow top"));
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("top to exit", |s| s.contains("top exited"));
    assert!(screen.contains("top exited 0"), "{screen}");
    assert!(screen.contains("tty restored"), "{screen}");
    assert_eq!(tmux.display("#{alternate_on}"), "0");
}

#[test]
fn top_in_tmux_restores_the_terminal_on_sigterm() {
    if !tmux_available("top_in_tmux_restores_the_terminal_on_sigterm") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_whyslow");
    let script = r#"before=$(stty -g); "$0" top </dev/tty & pid=$!; sleep 2; kill -TERM $pid; wait $pid; rc=$?
[ "$before" = "$(stty -g)" ] && echo "tty restored"; echo "top exited $rc"; sleep 60"#;
    let tmux = Tmux::start("top-term", &["sh", "-c", script, bin]);
    let screen = tmux.wait_for("top to exit", |s| s.contains("top exited"));
    assert!(screen.contains("top exited 0"), "{screen}");
    assert!(screen.contains("tty restored"), "{screen}");
    assert_eq!(tmux.display("#{alternate_on}"), "0");
}

#[test]
fn top_exits_when_its_terminal_closes() {
    if !tmux_available("top_exits_when_its_terminal_closes") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_whyslow");
    let tmux = Tmux::start("top-hup", &[bin, "top", "--interval", "500ms"]);
    tmux.wait_for("the first frame", |s| s.starts_with("whyslow top"));
    let pid = tmux.display("#{pane_pid}");
    let stat = format!("/proc/{pid}/stat");
    // Killing the tmux server closes the pane's terminal under top.
    drop(tmux);
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let state = std::fs::read_to_string(&stat).unwrap_or_default();
        let gone = state
            .rsplit_once(") ")
            .is_none_or(|(_, rest)| rest.starts_with('Z'));
        if gone {
            break;
        }
        if Instant::now() > until {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            panic!("whyslow top (pid {pid}) still runs 10 s after its terminal closed: {state}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn top_without_a_terminal_says_so_and_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_whyslow"))
        .arg("top")
        .stdin(Stdio::null())
        .output()
        .expect("run whyslow top");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs a terminal") && stderr.contains("whyslow use"),
        "{stderr}"
    );
}
