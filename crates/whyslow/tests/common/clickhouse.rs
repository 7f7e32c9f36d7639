//! Debian's `clickhouse-server` (18.16) for the ClickHouse store's tests: N
//! servers on free loopback ports, each a shard of one `remote_servers`
//! cluster named `whyslow_test`, in a temp dir; killed and removed on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The cluster name every server's `remote_servers` has.
pub const CLUSTER: &str = "whyslow_test";

/// One server.
pub struct Server {
    child: Option<Child>,
    dir: PathBuf,
    /// HTTP interface, `127.0.0.1:PORT`.
    pub http: String,
    /// Native port (what `Distributed` and error messages name).
    pub tcp_port: u16,
}

/// Shards of one cluster.
pub struct Cluster {
    /// The servers, shard 1 first.
    pub servers: Vec<Server>,
    root: PathBuf,
}

/// Where Debian installs the server (/usr/sbin, not on every user's PATH).
fn binary() -> Option<&'static Path> {
    ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
}

/// `clickhouse-server` when installed; with WHYSLOW_REQUIRE_CLICKHOUSE set
/// (dev/test) its absence fails the test instead of skipping it.
pub fn available(test: &str) -> bool {
    if binary().is_some() {
        return true;
    }
    assert!(
        std::env::var_os("WHYSLOW_REQUIRE_CLICKHOUSE").is_none(),
        "clickhouse-server is missing but WHYSLOW_REQUIRE_CLICKHOUSE is set"
    );
    eprintln!("SKIPPED {test}: no clickhouse-server (apt-get install clickhouse-server)");
    false
}

/// `n` distinct free loopback ports: all bound at once, so no two are the
/// same, then released for the servers to take.
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("bound address").port())
        .collect()
}

/// Attempts at starting a cluster: another test may take a port between
/// choosing it and the server binding it; then all ports are chosen again.
const ATTEMPTS: usize = 3;

impl Cluster {
    /// Starts `shards` servers and waits until each answers; on a failed
    /// start (a port taken meanwhile) tries again on new ports.
    pub fn start(name: &str, shards: usize) -> Self {
        let mut failures = Vec::new();
        for attempt in 1..=ATTEMPTS {
            match Self::try_start(name, shards) {
                Ok(cluster) => return cluster,
                Err(why) => {
                    eprintln!("clickhouse cluster {name}, attempt {attempt}: {why}");
                    failures.push(why);
                }
            }
        }
        panic!(
            "clickhouse cluster {name} did not start in {ATTEMPTS} attempts:\n{}",
            failures.join("\n")
        );
    }

    fn try_start(name: &str, shards: usize) -> Result<Self, String> {
        let root = std::env::temp_dir().join(format!("whyslow-ch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let ports: Vec<(u16, u16, u16)> = free_ports(3 * shards)
            .chunks(3)
            .map(|p| (p[0], p[1], p[2]))
            .collect();
        let replicas: String = ports
            .iter()
            .map(|(_, tcp, _)| {
                format!(
                    "<shard><replica><host>127.0.0.1</host><port>{tcp}</port></replica></shard>"
                )
            })
            .collect();
        let mut servers = Vec::new();
        for (i, &(http, tcp, interserver)) in ports.iter().enumerate() {
            let dir = root.join(format!("shard{}", i + 1));
            std::fs::create_dir_all(&dir).expect("server dir");
            let d = dir.display();
            std::fs::write(
                dir.join("users.xml"),
                "<yandex><profiles><default></default></profiles>\
                 <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>\
                 <profile>default</profile><quota>default</quota></default></users>\
                 <quotas><default></default></quotas></yandex>",
            )
            .expect("users.xml");
            std::fs::write(
                dir.join("config.xml"),
                format!(
                    "<yandex><logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/error.log</errorlog><console>0</console></logger>\
                     <http_port>{http}</http_port><tcp_port>{tcp}</tcp_port><interserver_http_port>{interserver}</interserver_http_port>\
                     <listen_host>127.0.0.1</listen_host><path>{d}/data/</path><tmp_path>{d}/tmp/</tmp_path>\
                     <user_files_path>{d}/user_files/</user_files_path><format_schema_path>{d}/format_schemas/</format_schema_path>\
                     <users_config>{d}/users.xml</users_config><default_profile>default</default_profile>\
                     <default_database>default</default_database><mark_cache_size>67108864</mark_cache_size>\
                     <remote_servers><{CLUSTER}>{replicas}</{CLUSTER}></remote_servers></yandex>"
                ),
            )
            .expect("config.xml");
            let mut server = Server {
                child: None,
                dir,
                http: format!("127.0.0.1:{http}"),
                tcp_port: tcp,
            };
            let started = server.try_start();
            servers.push(server);
            if let Err(why) = started {
                // Dropping the half-started cluster kills what runs.
                drop(Self { servers, root });
                return Err(why);
            }
        }
        Ok(Self { servers, root })
    }

    /// `clickhouse://HOST:PORT,…/DATABASE` with shard `first` listed first.
    pub fn url(&self, database: &str, first: usize) -> String {
        let mut hosts: Vec<&str> = self.servers.iter().map(|s| s.http.as_str()).collect();
        hosts.rotate_left(first);
        format!("clickhouse://{}/{database}", hosts.join(","))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for server in &mut self.servers {
            server.kill();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Server {
    /// Starts (or restarts) the server and waits until it answers `SELECT 1`.
    pub fn start(&mut self) {
        if let Err(why) = self.try_start() {
            panic!("{why}");
        }
    }

    /// [`Server::start`], saying why it failed: the server exited (its
    /// error log's last lines) or did not answer in 60 s.
    fn try_start(&mut self) -> Result<(), String> {
        let child = Command::new(binary().expect("clickhouse-server is installed"))
            .arg(format!(
                "--config-file={}",
                self.dir.join("config.xml").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clickhouse-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.query("SELECT 1").as_deref() != Some("1") {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                return Err(format!(
                    "clickhouse-server at {} exited ({status}): {}",
                    self.http,
                    self.error_log_tail()
                ));
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(format!(
                    "clickhouse-server at {} never answered in 60 s: {}",
                    self.http,
                    self.error_log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// The last lines of the server's error log, for failure messages.
    fn error_log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n");
        if tail.is_empty() {
            "(error.log is empty)".to_string()
        } else {
            tail
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs `sql` over HTTP; the trimmed answer, `None` when it failed.
    pub fn query(&self, sql: &str) -> Option<String> {
        let mut stream = TcpStream::connect(&self.http).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        // HTTP/1.0: the answer comes whole, not chunked.
        let head = format!(
            "POST / HTTP/1.0\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
            self.http,
            sql.len()
        );
        stream.write_all(head.as_bytes()).ok()?;
        stream.write_all(sql.as_bytes()).ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).ok()?;
        let text = String::from_utf8_lossy(&response);
        if !text.starts_with("HTTP/1.0 200") && !text.starts_with("HTTP/1.1 200") {
            return None;
        }
        let payload = text.split_once("\r\n\r\n")?.1;
        Some(payload.trim().to_string())
    }
}
