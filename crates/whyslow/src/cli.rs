//! The command line: clap definitions for every `whyslow` command.
//!
//! Only argument shapes live here; what a command does is in its `cmd_*.rs` file.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// whyslow: why is it slow, what would make it faster, and is this the best this machine can do?
#[derive(Debug, Parser)]
#[command(name = "whyslow", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sample a command, processes or the whole system: on-CPU and off-CPU, full stacks.
    #[command(
        after_help = "Examples:\n  whyslow record -- ./my-program --flag\n  whyslow record -p 1234 --duration 10s -o profile.pb.gz\n  whyslow record -a --duration 5s --off-cpu -o host.html\n\nOutput format follows the -o extension: .html (interactive flamegraph), .folded,\n.pb.gz/.pprof (pprof), .speedscope.json (speedscope), .perf-script (perf script text)."
    )]
    Record(RecordArgs),
    /// Re-render or convert a profile file (pprof, folded, speedscope, perf script, whyslow HTML).
    #[command(
        after_help = "Examples:\n  whyslow report profile.pb.gz                 # top table\n  whyslow report perf-script.txt -o flame.html  # convert perf script output\n  perf script | whyslow report - -o flame.html"
    )]
    Report(ReportArgs),
    /// Compare two profiles: differential flamegraph (red = grew, blue = shrank) and a table of changes.
    Diff(DiffArgs),
    /// Profile a built-in workload with a known shape (70 % hot_a, 30 % hot_b, then blocked) and write a flamegraph.
    Demo(DemoArgs),
    /// The tracing backend: OTLP (gRPC :4317, HTTP :4318) and Zipkin ingest, embedded store, query API and UI (:16686).
    #[command(
        after_help = "Examples:\n  whyslow serve\n  whyslow serve --data-dir /var/lib/whyslow --retention 3d --max-disk 50GB\n  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 ./my-service   # then open http://127.0.0.1:16686\n\nSizes use 1024-based units (512MB = 512 MiB); 0 means no disk limit."
    )]
    Serve(Box<ServeArgs>),
    /// HTTP load test: open model (--rate, --stages) or closed (-c only); coordinated-omission-correct latency.
    #[command(after_help = crate::cmd_load::AFTER_HELP)]
    Load(Box<LoadArgs>),
    /// Benchmark commands: mean, median, σ and confidence intervals, outliers, comparisons, baseline gate.
    #[command(after_help = crate::cmd_bench::AFTER_HELP)]
    Bench(Box<crate::cmd_bench::BenchArgs>),
    /// Host metrics with node_exporter's names: served for Prometheus at /metrics, pushed to `serve` with --server.
    #[command(after_help = crate::cmd_agent::AFTER_HELP)]
    Agent(AgentArgs),
    /// Service level objectives: generate recording rules and multi-window burn-rate alerts.
    #[command(after_help = crate::cmd_slo::AFTER_HELP)]
    Slo(crate::cmd_slo::SloArgs),
    /// The USE method in one command: utilisation, saturation and errors of CPU, memory, disks,
    /// network, file descriptors and this cgroup, with what to run next; exits 3 when saturated.
    #[command(after_help = crate::cmd_use::AFTER_HELP)]
    Use(UseArgs),
    /// Live view: USE summary per resource, per-CPU bars, process table (sort c/m/i/p, filter /, quit q).
    #[command(after_help = crate::top::AFTER_HELP)]
    Top(TopArgs),
    /// Count events of a command, processes or the whole system, in perf stat's layout; the
    /// reason where hardware counters are missing, and what is real instead.
    #[command(
        after_help = "Examples:\n  whyslow stat -- ./my-program --flag\n  whyslow stat -r 10 -- ./my-program\n  whyslow stat -e task-clock,cs,page-faults,sched:sched_switch -I 1000 -- ./server\n  whyslow stat -p 1234 --duration 10s\n  whyslow stat -a -x, -- sleep 1\n\nOutput goes to standard error, as perf stat's does (-o FILE writes a file). Exit code: the\ncommand's (127 when it does not exist). Without a hardware PMU (most VMs) hardware rows say\n<not supported> with the reason, then what is real: a wall-time breakdown (on-CPU, run-queue\nwait, blocked), rusage, steal and PSI over the run."
    )]
    Stat(StatArgs),
    /// Dynamic tracing with bpftrace's language (a subset) and output: tracepoints, uprobes,
    /// profile and interval probes, maps with count/sum/avg/min/max/stats/hist/lhist, printf.
    #[command(
        after_help = "Examples:\n  whyslow trace 'tracepoint:syscalls:sys_enter_write /comm == \"dd\"/ { @[pid] = count(); }'\n  whyslow trace -e 'tracepoint:syscalls:sys_enter_read { @bytes = hist(args.count); }' -c 'cat /etc/passwd'\n  whyslow trace 'uretprobe:/bin/bash:readline { printf(\"%s\\n\", str(retval)); }'\n  whyslow trace -l 'tracepoint:sched:*'\n  whyslow trace program.bt\n\nNeeds root (or CAP_BPF and CAP_PERFMON). Mounts tracefs when it is not mounted. Compiles\nto BPF itself (no LLVM); output and error layout are bpftrace 0.17's."
    )]
    Trace(TraceArgs),
    /// Tokens for `--auth-file`: `auth token` makes one, `auth hash` prints the file line of one
    /// read from standard input.
    #[command(
        after_help = "Examples:\n  whyslow auth token > agents.token\n  whyslow auth hash --role ingest --name agents < agents.token >> auth.txt\n  whyslow auth token | tee grafana.token | whyslow auth hash --role read --name grafana >> auth.txt\n\nauth.txt holds one line per token, ROLE HASH [NAME]: ingest (write any signal), read (APIs\nand UI) or admin (both). It holds hashes only; each client keeps its own token."
    )]
    Auth(AuthArgs),
    /// The built-in workload `demo` profiles (internal).
    #[command(name = "__demo-workload", hide = true)]
    DemoWorkload {
        /// Workload arguments: CPU_SECONDS BLOCKED_SECONDS PERCENT_A.
        args: Vec<String>,
    },
}

/// `whyslow auth`.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AuthCommand,
}

/// The `whyslow auth` commands.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Read a token (one line, at least 16 characters) from standard input and print its
    /// `--auth-file` line: ROLE HASH [NAME], HASH an argon2id hash with a fresh salt.
    Hash(AuthHashArgs),
    /// Print a fresh random token: 32 bytes from the OS random number generator, base64url.
    Token,
}

/// `whyslow auth hash`.
#[derive(Debug, Args)]
pub struct AuthHashArgs {
    /// What the token may do: ingest (write any signal), read (APIs and UI) or admin (both).
    #[arg(long, value_parser = parse_role, value_name = "ROLE")]
    pub role: auth::Role,
    /// Who holds the token, shown in logs; with Basic auth it must then be the user name.
    #[arg(long, value_parser = parse_token_name, value_name = "NAME")]
    pub name: Option<String>,
}

/// `whyslow top`.
#[derive(Debug, Args)]
pub struct TopArgs {
    /// How often to sample and redraw.
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    pub interval: Duration,
}

/// `whyslow agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Address to serve /metrics on (Prometheus text format), or `off`.
    #[arg(long, default_value = "127.0.0.1:9469", value_name = "ADDR:PORT")]
    pub listen: String,
    /// How often to push to --server.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub interval: Duration,
    /// `whyslow serve` (or any remote_write receiver) to push to, e.g. http://127.0.0.1:16686
    /// (path /api/v1/write unless the URL names one).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The `instance` label of pushed series (default: hostname:port of --listen, or the hostname).
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
    /// Leave out the per-process metrics (process-exporter's
    /// `namedprocess_namegroup_*`, one group per command name).
    #[arg(long)]
    pub no_process_metrics: bool,
    /// Also report each process group's proportional memory
    /// (memtype="proportionalResident"/"proportionalSwapped" from
    /// /proc/PID/smaps_rollup, process-exporter's -gather-smaps). Costs
    /// about twice the rest of the per-process metrics: the kernel walks
    /// every page table.
    #[arg(long, conflicts_with = "no_process_metrics")]
    pub gather_smaps: bool,
    /// Leave out the per-cgroup metrics (cAdvisor's `container_*{id}`).
    #[arg(long)]
    pub no_cgroup_metrics: bool,
    /// Do not profile (by default, with --server, every CPU is sampled
    /// continuously and profiles are shipped with Pyroscope's push API).
    #[arg(long)]
    pub no_profile: bool,
    /// Profiling samples per second per CPU (parca-agent's 19; the OTel eBPF profiler's 20).
    #[arg(long, default_value_t = 19, value_name = "HZ", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub profile_hz: u32,
    /// Also profile off-CPU time (from sched_switch, with the blocked stack;
    /// costs more on hosts that switch often).
    #[arg(long, conflicts_with = "no_profile")]
    pub off_cpu: bool,
    /// How often a profile is cut and shipped.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub profile_interval: Duration,
    /// A file holding the token (`whyslow auth token`) that pushes to --server carry as
    /// `Authorization: Bearer TOKEN`; it needs the ingest (or admin) role.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub token_file: Option<PathBuf>,
    /// Tokens that may read --listen's /metrics, one a line: ROLE HASH [NAME], as `serve
    /// --auth-file` takes them (read or admin roles pass).
    #[arg(long, value_name = "FILE")]
    pub auth_file: Option<PathBuf>,
    /// Serve /metrics beyond loopback without --auth-file and without the warning.
    #[arg(long, conflicts_with = "auth_file")]
    pub insecure_allow_anonymous: bool,
    /// TLS for --listen.
    #[command(flatten)]
    pub tls: ListenTlsArgs,
    /// PEM CA certificates to trust for an https:// --server (default: the public web roots).
    #[arg(long, value_name = "FILE", requires = "server")]
    pub tls_ca: Option<PathBuf>,
    /// PEM certificate to present to an https:// --server that requires client certificates
    /// (mutual TLS), with --tls-client-key.
    #[arg(long, value_name = "FILE", requires_all = ["tls_client_key", "server"])]
    pub tls_client_cert: Option<PathBuf>,
    /// PEM private key of --tls-client-cert.
    #[arg(long, value_name = "FILE", requires = "tls_client_cert")]
    pub tls_client_key: Option<PathBuf>,
}

/// TLS on every listener of a command (`serve`'s three ports, `agent --listen`).
#[derive(Debug, Clone, Args)]
pub struct ListenTlsArgs {
    /// Serve TLS (https, gRPC over TLS) with this PEM certificate chain, the server's certificate
    /// first; re-read on SIGHUP or when the file changes, without dropping connections.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, RSA or EC; not encrypted).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS: refuse, at the handshake, clients without a certificate issued by a CA in this
    /// PEM file.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

/// `whyslow use`.
#[derive(Debug, Args)]
pub struct UseArgs {
    /// How long to sample (rates and queue lengths are averages over it).
    #[arg(short = 'd', long, default_value = "5s", value_parser = parse_duration, value_name = "DURATION")]
    pub duration: Duration,
    /// Print the report as JSON (stable field names) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `whyslow demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the flamegraph.
    #[arg(
        short = 'o',
        long = "output",
        default_value = "whyslow-demo.html",
        value_name = "FILE"
    )]
    pub output: PathBuf,
    /// Seconds of CPU work (split 70/30 between hot_a and hot_b).
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub cpu_seconds: f64,
    /// Seconds blocked (half in sleep, half in read), shown by the off-CPU view.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub blocked_seconds: f64,
}

/// `whyslow serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the write-ahead log and blocks live (created when missing).
    #[arg(long, default_value = "./whyslow-data", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Keep traces in ClickHouse instead of the data directory, so any number of `serve` instances
    /// share them: clickhouse://[USER[:PASSWORD]@]HOST:8123[,HOST:PORT…]/DATABASE (HTTP interface;
    /// the password may come from WHYSLOW_CLICKHOUSE_PASSWORD). Tables are created at start.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// The remote_servers cluster whose shards --store lists (one HTTP address per shard): tables are
    /// created on every shard, with Distributed tables over them.
    #[arg(long, value_name = "NAME", requires = "store")]
    pub clickhouse_cluster: Option<String>,
    /// Address every listener binds to (use 0.0.0.0 to accept remote senders).
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: std::net::IpAddr,
    /// OTLP/gRPC port.
    #[arg(long, default_value_t = 4317, value_name = "PORT")]
    pub otlp_grpc_port: u16,
    /// OTLP/HTTP port (also Zipkin v2 JSON at /api/v2/spans).
    #[arg(long, default_value_t = 4318, value_name = "PORT")]
    pub otlp_http_port: u16,
    /// Port of the web UI and the Jaeger-compatible query API.
    #[arg(long, default_value_t = 16686, value_name = "PORT")]
    pub http_port: u16,
    /// Tokens that may use every listener, one a line: ROLE HASH [NAME] (`whyslow auth hash`
    /// prints them). ingest may write signals, read may use the APIs and the UI (browsers log in
    /// with the token), admin both. Clients send `Authorization: Bearer TOKEN` or Basic auth with
    /// the token as password.
    #[arg(long, value_name = "FILE")]
    pub auth_file: Option<PathBuf>,
    /// Take anyone's data and show it to anyone without the warning that binding beyond loopback
    /// without --auth-file prints.
    #[arg(long, conflicts_with = "auth_file")]
    pub insecure_allow_anonymous: bool,
    /// Delete traces and metric samples older than this (e.g. 7d, 12h, 30m; metrics count back from
    /// their newest sample).
    #[arg(long, default_value = "7d", value_parser = crate::cmd_serve::parse_age, value_name = "AGE")]
    pub retention: Duration,
    /// Disk for the whole data directory, traces and metrics together: over it the oldest block of
    /// either goes first (0 = no limit).
    #[arg(long, default_value = "20GB", value_parser = crate::cmd_serve::parse_bytes, value_name = "SIZE")]
    pub max_disk: u64,
    /// Where binaries and debug files are kept (repeatable): profile frames the agent could not name
    /// (`FILE+0xOFFSET` of a stripped file) are named from the file of the same GNU build id found
    /// here (`DIR/.build-id/AB/CDEF….debug`, `DIR/BUILD_ID/*`, `DIR/FILE`, or any file in DIR).
    #[arg(long, value_name = "DIR")]
    pub debuginfo_dir: Vec<PathBuf>,
    /// Memory for ingest. A quarter admits requests in flight: a request is charged its body size times
    /// its decode expansion (x12 OTLP protobuf, x18 OTLP JSON, x6 Zipkin) before the body is read, and
    /// one larger than that quarter is taken only when nothing else is in flight. 3/8 holds queued and
    /// recent spans; over either part senders are told to back off (429 + Retry-After /
    /// RESOURCE_EXHAUSTED + RetryInfo). 3/8 is the metrics store's: an eighth of it for its write queue
    /// (429 over it), the rest for its head (~350 B per active series plus samples): new series past it
    /// are refused (400 naming them) while existing series keep taking samples.
    #[arg(long, default_value = "512MB", value_parser = crate::cmd_serve::parse_bytes, value_name = "SIZE")]
    pub memory_budget: u64,
    /// Largest shift the query API applies to a span recorded on a skewed clock (Jaeger's
    /// max_clock_skew_adjust); 0 only reports skew in span warnings. `?raw=true` skips it per request.
    #[arg(long, default_value = "1s", value_parser = parse_duration_or_zero, value_name = "DURATION")]
    pub max_clock_skew_adjustment: Duration,
    /// Prometheus `scrape_configs` to scrape (YAML: job_name, scrape_interval, scrape_timeout,
    /// metrics_path, static_configs with targets and labels, honor_labels). `serve` always scrapes
    /// its own /metrics as job "whyslow".
    #[arg(long, value_name = "FILE")]
    pub scrape_config: Option<PathBuf>,
    /// How often serve scrapes its own /metrics into the series store as job "whyslow" (0 = never).
    #[arg(long, default_value = "15s", value_parser = parse_duration_or_zero, value_name = "DURATION")]
    pub self_scrape_interval: Duration,
    /// Most active metric series in total; samples of further new series are refused (and counted).
    #[arg(long, default_value_t = 2_000_000, value_name = "N")]
    pub max_series: u64,
    /// Most active series of one metric name; samples of further new series are refused (and counted).
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    pub max_series_per_metric: u64,
    /// Most samples one PromQL query may hold in memory (Prometheus's --query.max-samples).
    #[arg(long, default_value_t = 50_000_000, value_name = "N")]
    pub query_max_samples: u64,
    /// Longest a PromQL query may run (Prometheus's --query.timeout).
    #[arg(long, default_value = "2m", value_parser = parse_duration, value_name = "DURATION")]
    pub query_timeout: Duration,
    /// Longest time range one query may cover: trace search, dependencies, PromQL range query,
    /// profile selection (as Loki's max_query_length; 0 = no limit). Longer asks get 400.
    #[arg(long, default_value = "31d", value_parser = parse_duration_or_zero, value_name = "DURATION")]
    pub query_max_range: Duration,
    /// Most traces one trace search may return (its `limit`; 0 = no limit). Larger asks get 400.
    #[arg(long, default_value_t = 1500, value_name = "N")]
    pub query_max_traces: usize,
    /// Query requests one reader (a token's name, else the client address) runs at once; the
    /// rest wait their turn (at most 64 waiting, each up to --query-timeout), then get 429.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub query_max_per_reader: u32,
    /// Prometheus rule file (recording and alerting rules, unchanged); repeat for several. A file
    /// with an error is refused at start with its line. Rules and alerts: /api/v1/rules, /api/v1/alerts.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// How often rule groups without their own `interval` are evaluated (Prometheus's
    /// evaluation_interval).
    #[arg(long, default_value = "1m", value_parser = parse_duration, value_name = "DURATION")]
    pub rule_evaluation_interval: Duration,
    /// Alertmanager to send alerts to, as Prometheus does (API v2, e.g. http://127.0.0.1:9093);
    /// repeat for several.
    #[arg(long = "alertmanager", value_name = "URL")]
    pub alertmanagers: Vec<String>,
    /// URL that receives Alertmanager's webhook payload (version 4) directly when alerts fire and
    /// resolve, retried with backoff; for setups without an Alertmanager. Repeat for several.
    #[arg(long = "alert-webhook", value_name = "URL")]
    pub alert_webhooks: Vec<String>,
    /// PEM CA certificates that https:// --alertmanager and --alert-webhook receivers must have
    /// certificates from (default: the public web roots). `https://user:pass@host` sends Basic auth.
    #[arg(long, value_name = "FILE")]
    pub alert_tls_ca: Option<PathBuf>,
    /// SLO file (see `whyslow slo --help`): its error-ratio recording rules and multi-window
    /// burn-rate alerts are evaluated like a --rules file; the SLOs page shows their budgets.
    #[arg(long = "slo", value_name = "FILE")]
    pub slos: Vec<PathBuf>,
    /// Leave out the built-in rules (host saturation from `whyslow agent`'s metrics, error ratio
    /// and p99 jumps per traced service; `whyslow serve --print-default-rules` shows them).
    #[arg(long)]
    pub no_default_rules: bool,
    /// Print the built-in rule file and exit.
    #[arg(long)]
    pub print_default_rules: bool,
    /// TLS for every listener.
    #[command(flatten)]
    pub tls: ListenTlsArgs,
}

/// A duration that may be zero (`0` turns the feature off): the grammar of
/// [`load::parse_duration`].
pub fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
    load::parse_duration(text)
}

/// `whyslow load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Target URL (http:// or https://). Only loopback addresses unless --allow-remote.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Open model: constant arrival rate in requests per second.
    #[arg(short = 'R', long, value_name = "RPS", conflicts_with = "stages")]
    pub rate: Option<f64>,
    /// Open model: ramping arrival rate, DURATION:RPS per stage, linear within a stage (from 0).
    #[arg(long, value_name = "STAGES", conflicts_with = "duration")]
    pub stages: Option<String>,
    /// How long to run (e.g. 10s, 1m). Default 10s unless -n or --stages is given.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    #[arg(short = 'n', long = "requests", value_name = "N")]
    pub requests: Option<u64>,
    /// TCP connections; each carries one request at a time (open and closed model).
    #[arg(short = 'c', long, default_value_t = 10, value_name = "N")]
    pub connections: usize,
    /// Worker threads, each with its own event loop (default: CPU count).
    #[arg(short = 't', long, value_name = "N")]
    pub threads: Option<usize>,
    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,
    /// Request header 'Name: value'; repeat for several.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Request body.
    #[arg(
        short = 'd',
        long = "data",
        value_name = "BODY",
        conflicts_with = "body_file"
    )]
    pub body: Option<String>,
    /// Request body from a file.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// Per-request timeout (connect, send and the whole response).
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// HTTP/2 instead of HTTP/1.1: prior knowledge (h2c) for http://, ALPN h2 for https://.
    #[arg(long)]
    pub http2: bool,
    /// HTTP/2: concurrent streams per connection (each one request at a time).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub streams: usize,
    /// https://: also trust the CA certificates in this PEM file (e.g. a self-signed test server's).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// https://: accept any server certificate (for self-signed test servers only).
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Allow targets that are not on this machine's loopback interface.
    #[arg(long)]
    pub allow_remote: bool,
    /// Write the result as JSON (with full HDR histograms) to FILE, or `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Thresholds, e.g. 'p99<200ms,errors<1%,rps>900'; exit code 3 when one fails.
    #[arg(long, value_name = "THRESHOLDS")]
    pub slo: Option<String>,
    /// Add a W3C traceparent header (random trace id, sampled) to every request.
    #[arg(long)]
    pub traceparent: bool,
    /// Add traceparent to this fraction of requests only (implies --traceparent).
    #[arg(long, value_name = "FRACTION")]
    pub traceparent_sample: Option<f64>,
    /// Trace UI base URL (whyslow serve, Jaeger): slowest requests link to {URL}/trace/{id}.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// How many of the slowest requests to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub slowest: usize,
    /// TOML (.toml) or YAML (.yaml, .yml) file of weighted requests: a list 'request' of
    /// method, path or url, headers, body or body_file, weight.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// No live progress line.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Options shared by commands that write profiles.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output file; repeat for several. The extension chooses the format unless --format is given.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,
    /// Output format: html, folded, pprof, speedscope, perf-script.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Which value to show: cpu, off-cpu, wall (cpu + off-cpu), samples. Default: wall with --off-cpu, else cpu.
    #[arg(long, value_name = "VIEW")]
    pub view: Option<String>,
    /// Rows in the terminal top table (0 to skip it).
    #[arg(long, default_value_t = 15, value_name = "N")]
    pub top: usize,
    /// Title shown in the flamegraph.
    #[arg(long)]
    pub title: Option<String>,
}

/// `whyslow record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Profile these running processes (comma-separated PIDs), all their threads.
    #[arg(
        short = 'p',
        long = "pid",
        value_delimiter = ',',
        value_name = "PID[,PID]",
        conflicts_with = "all_cpus"
    )]
    pub pids: Vec<u32>,
    /// Profile the whole system, every CPU.
    #[arg(short = 'a', long = "all-cpus")]
    pub all_cpus: bool,
    /// Stop after this long (e.g. 10s, 500ms, 2m; a bare number is seconds).
    #[arg(short = 'd', long, value_parser = parse_duration, value_name = "DURATION")]
    pub duration: Option<Duration>,
    /// Sampling frequency in Hz per CPU.
    #[arg(short = 'F', long = "freq", default_value_t = 99, value_name = "HZ")]
    pub frequency_hz: u32,
    /// Also record off-CPU time (blocked in I/O, sleep, locks) from sched:sched_switch.
    #[arg(long)]
    pub off_cpu: bool,
    /// Bytes of user stack copied per sample for DWARF unwinding (max 65528).
    #[arg(long, default_value_t = 32768, value_name = "BYTES")]
    pub stack_size: u32,
    /// Use the software cpu-clock event even when hardware cycles are available.
    #[arg(long)]
    pub cpu_clock: bool,
    /// No progress line and no top table.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    /// The command to profile, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `whyslow stat`.
#[derive(Debug, Args)]
pub struct StatArgs {
    /// Events to count, comma-separated or repeated: perf's names (task-clock, cpu-clock,
    /// context-switches/cs, cpu-migrations, page-faults/faults, minor-faults, major-faults,
    /// cycles, instructions, branches, branch-misses, cache-references, cache-misses; `:u`/`:k`)
    /// or a tracepoint CATEGORY:NAME. Default: perf stat's set.
    #[arg(short = 'e', long = "event", value_name = "EVENT[,EVENT]")]
    pub events: Vec<String>,
    /// Run the command N times (1..=100) and print means with ± (relative standard error).
    #[arg(short = 'r', long = "repeat", default_value_t = 1, value_name = "N")]
    pub repeat: u32,
    /// Print the counts of every interval of MS milliseconds (at least 10).
    #[arg(short = 'I', long = "interval-print", value_name = "MS")]
    pub interval_ms: Option<u64>,
    /// One JSON object per event and line, like perf stat -j.
    #[arg(short = 'j', long = "json", conflicts_with = "field_separator")]
    pub json: bool,
    /// Separated values with SEP between fields, like perf stat -x.
    #[arg(short = 'x', long = "field-separator", value_name = "SEP")]
    pub field_separator: Option<String>,
    /// Count these running processes (comma-separated PIDs, all threads) until they exit,
    /// Ctrl-C or --duration.
    #[arg(
        short = 'p',
        long = "pid",
        value_delimiter = ',',
        value_name = "PID[,PID]",
        conflicts_with = "all_cpus"
    )]
    pub pids: Vec<u32>,
    /// Count system-wide, every CPU summed (while the command runs, else until Ctrl-C or --duration).
    #[arg(short = 'a', long = "all-cpus")]
    pub all_cpus: bool,
    /// Stop counting after this long (e.g. 10s, 500ms; a bare number is seconds); a command gets SIGTERM.
    #[arg(short = 'd', long, value_parser = parse_duration, value_name = "DURATION")]
    pub duration: Option<Duration>,
    /// Write the output to FILE instead of standard error.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The command to count (its arguments follow; `--` before it is optional).
    #[arg(trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `whyslow trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The program text, or a file holding it (with -l: a probe pattern).
    /// A ready-made tool instead: `whyslow trace TOOL [its options]` with
    /// TOOL one of runqlat, syscount, execsnoop, opensnoop, biolatency,
    /// offcputime, tcplife (`whyslow trace TOOL -h`).
    #[arg(value_name = "PROGRAM")]
    pub program: Option<String>,
    /// The program text (like bpftrace -e).
    #[arg(short = 'e', value_name = "PROGRAM", conflicts_with = "program")]
    pub expression: Option<String>,
    /// Run CMD (split on whitespace) once probes are attached; stop when it exits.
    #[arg(short = 'c', value_name = "CMD")]
    pub command: Option<String>,
    /// Trace only this process with uprobes; stop when it exits.
    #[arg(short = 'p', value_name = "PID")]
    pub pid: Option<i32>,
    /// List probes matching PATTERN (`tracepoint:cat:*`, `uprobe:/path:func*`) instead of tracing.
    #[arg(short = 'l', value_name = "PATTERN", num_args = 0..=1, default_missing_value = "")]
    pub list: Option<String>,
}

/// `whyslow report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Profile file to read (`-` for standard input); the format is detected from its content.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
    /// Input format when detection guesses wrong: html, folded, pprof, speedscope, perf-script.
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `whyslow diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline profile.
    #[arg(value_name = "BEFORE")]
    pub before: PathBuf,
    /// The profile to compare against the baseline.
    #[arg(value_name = "AFTER")]
    pub after: PathBuf,
    /// Differential flamegraph HTML to write.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "whyslow-diff.html"
    )]
    pub output: PathBuf,
    /// Which value to compare: cpu, off-cpu, wall, samples.
    #[arg(long, value_name = "VIEW")]
    pub view: Option<String>,
    /// Rows in the terminal table of changes (0 to skip it).
    #[arg(long, default_value_t = 15, value_name = "N")]
    pub top: usize,
}

/// Parses a positive duration: `10s`, `500ms`, `250us`, `2m`, `1h`, `1.5`
/// (seconds), with the grammar of [`load::parse_duration`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = load::parse_duration(text)?;
    if duration.is_zero() {
        return Err(format!("duration must be positive, got '{}'", text.trim()));
    }
    Ok(duration)
}

/// Parses an auth-file role: ingest, read or admin.
fn parse_role(text: &str) -> Result<auth::Role, String> {
    text.parse()
        .map_err(|_| format!("'{text}' is not a role; use ingest, read or admin"))
}

/// Parses a token NAME (letters, digits, `.`, `_`, `-`, `@`).
fn parse_token_name(text: &str) -> Result<String, String> {
    auth::check_name(text).map_err(|bad| bad.to_string())?;
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_duration_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration_or_zero("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration_or_zero("1s"), Ok(Duration::from_secs(1)));
    }
}
