//! `--scrape-config FILE`: the part of Prometheus's configuration file that
//! says what to scrape. Same shape and defaults as `prometheus.yml`:
//!
//! ```yaml
//! global:
//!   scrape_interval: 15s     # default 1m
//!   scrape_timeout: 10s      # default 10s
//! scrape_configs:
//!   - job_name: node
//!     scrape_interval: 5s    # default: global
//!     scrape_timeout: 2s     # default: global, at most scrape_interval
//!     metrics_path: /metrics # default
//!     scheme: http           # default; https with tls_config
//!     authorization: {credentials_file: token}  # or basic_auth (see credentials)
//!     tls_config: {ca_file: ca.pem}
//!     honor_labels: false    # default
//!     honor_timestamps: true # default
//!     sample_limit: 0        # default: no limit; more samples fail the scrape
//!     body_size_limit: 0     # default: 64MB here (Prometheus: no limit)
//!     static_configs:
//!       - targets: ['localhost:9100']
//!         labels: {env: prod}
//! ```
//!
//! Parsed with `serde-saphyr`; unknown fields (relabeling, service
//! discovery, …) are refused with their line and column rather than ignored,
//! and so are invalid durations, targets and label names.

use super::credentials::{self, Authorization, AuthorizationConfig, BasicAuthConfig, TlsConfig};
use super::duration::parse_duration;
use super::fetch::MAX_BODY_BYTES;
use super::validate::{check_address, check_label_name, parse_size};
use crate::scrape::ScrapeError;
use model::metrics::Labels;
use serde::Deserialize;
use serde_saphyr::{Spanned, UserMessageFormatter};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// The job name `serve` scrapes its own `/metrics` under.
pub const SELF_JOB: &str = "whyslow";

const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    global: GlobalConfig,
    #[serde(default)]
    scrape_configs: Vec<JobConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlobalConfig {
    scrape_interval: Option<Spanned<String>>,
    scrape_timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobConfig {
    job_name: Spanned<String>,
    scrape_interval: Option<Spanned<String>>,
    scrape_timeout: Option<Spanned<String>>,
    metrics_path: Option<Spanned<String>>,
    scheme: Option<Spanned<String>>,
    #[serde(default)]
    honor_labels: bool,
    #[serde(default = "yes")]
    honor_timestamps: bool,
    #[serde(default)]
    sample_limit: u64,
    body_size_limit: Option<Spanned<String>>,
    authorization: Option<Spanned<AuthorizationConfig>>,
    basic_auth: Option<Spanned<BasicAuthConfig>>,
    tls_config: Option<Spanned<TlsConfig>>,
    #[serde(default)]
    static_configs: Vec<StaticConfig>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StaticConfig {
    #[serde(default)]
    targets: Vec<Spanned<String>>,
    #[serde(default)]
    labels: HashMap<Spanned<String>, String>,
}

/// One target to scrape, with everything its scraper needs.
#[derive(Debug, Clone)]
pub struct Target {
    /// `job` label value.
    pub job: String,
    /// `http://host:port/path`.
    pub url: String,
    /// `host:port` (the `instance` label unless a static label sets it).
    pub address: String,
    /// The metrics path (`/metrics`).
    pub path: String,
    /// Labels added to every scraped series: `job`, `instance` and the static labels.
    pub labels: Labels,
    /// Time between scrapes.
    pub interval: Duration,
    /// Longest one scrape may take.
    pub timeout: Duration,
    /// Scraped labels win over target labels (else they become `exported_*`).
    pub honor_labels: bool,
    /// Keep the timestamps a target writes (else every sample gets the scrape time).
    pub honor_timestamps: bool,
    /// Most sample lines one scrape may have (0 = no limit); more fail the scrape.
    pub sample_limit: u64,
    /// Largest body taken, before and after gzip.
    pub body_size_limit: usize,
    /// Serves the target's requests in this process instead of over TCP.
    pub in_process: Option<InProcess>,
    /// The `Authorization` header of each scrape.
    pub authorization: Option<Authorization>,
    /// TLS for `scheme: https`.
    pub tls: Option<tls::Client>,
}

/// A router that answers a target's scrapes in this process: `serve`'s own
/// `/metrics`, reached without a socket, so TLS and credentials (`--auth-file`)
/// on its port do not stand in the way. The request and response are the
/// same HTTP messages a scrape over TCP exchanges.
#[derive(Clone)]
pub struct InProcess(pub axum::Router);

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess(..)")
    }
}

impl Target {
    /// `http://{address}/metrics` as job `job` with Prometheus's defaults
    /// (every 1m, 10s timeout, target labels `job` and `instance`).
    pub fn new(job: &str, address: &str) -> Self {
        Self {
            job: job.to_string(),
            url: format!("http://{address}/metrics"),
            address: address.to_string(),
            path: "/metrics".to_string(),
            labels: Labels::from_pairs([("job", job), ("instance", address)]),
            interval: DEFAULT_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            honor_labels: false,
            honor_timestamps: true,
            sample_limit: 0,
            body_size_limit: MAX_BODY_BYTES,
            in_process: None,
            authorization: None,
            tls: None,
        }
    }

    /// `serve`'s own `/metrics` as job [`SELF_JOB`], every 15 s, answered
    /// by `router` in process; `address` (the UI port; loopback when it is
    /// the unspecified 0.0.0.0 or ::) names the `instance`.
    pub fn self_scrape(mut address: std::net::SocketAddr, router: axum::Router) -> Self {
        if address.ip().is_unspecified() {
            address.set_ip(if address.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        Self {
            interval: Duration::from_secs(15),
            in_process: Some(InProcess(router)),
            ..Self::new(SELF_JOB, &address.to_string())
        }
    }
}

/// Reads and checks a scrape configuration file.
pub fn load(path: &Path) -> Result<Vec<Target>, ScrapeError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScrapeError::Config {
        path: path.display().to_string(),
        why: format!("cannot read it: {e}"),
    })?;
    parse(&text, &path.display().to_string())
}

/// A YAML error as users read it: file name, line, column and what was
/// expected (serde-saphyr's user message, without its `error: ` prefix).
/// Shared by the YAML files `serve` reads (scrape configs, rule files).
pub fn yaml_error(e: &serde_saphyr::Error, source: &str) -> String {
    let mut options = serde_saphyr::RenderOptions::new(&UserMessageFormatter);
    options.source_name = Some(source);
    let rendered = e.render_with_options(options);
    rendered
        .strip_prefix("error: ")
        .unwrap_or(&rendered)
        .trim_end()
        .to_string()
}

/// Parses a scrape configuration; `source` names it in errors and its
/// directory is where relative credential and certificate files are.
pub fn parse(text: &str, source: &str) -> Result<Vec<Target>, ScrapeError> {
    let base = Path::new(source).parent().unwrap_or(Path::new(""));
    let bad = |why: String| ScrapeError::Config {
        path: source.to_string(),
        why,
    };
    let file = serde_saphyr::from_str::<Option<FileConfig>>(text)
        .map_err(|e| bad(yaml_error(&e, source)))?
        .unwrap_or_default();
    let at = |s: &serde_saphyr::Location, why: String| {
        bad(format!("line {} column {}: {why}", s.line(), s.column()))
    };
    let duration = |field: &Option<Spanned<String>>, default: Duration, what: &str| match field {
        None => Ok(default),
        Some(s) => {
            parse_duration(&s.value).map_err(|why| at(&s.referenced, format!("{what}: {why}")))
        }
    };
    let global_interval = duration(
        &file.global.scrape_interval,
        DEFAULT_INTERVAL,
        "scrape_interval",
    )?;
    let global_timeout = duration(
        &file.global.scrape_timeout,
        DEFAULT_TIMEOUT,
        "scrape_timeout",
    )?;
    if let Some(s) = &file.global.scrape_timeout {
        if global_timeout > global_interval {
            return Err(at(
                &s.referenced,
                format!(
                    "global scrape_timeout {} is longer than scrape_interval",
                    s.value
                ),
            ));
        }
    }
    let mut targets = Vec::new();
    let mut names = HashSet::new();
    for job in &file.scrape_configs {
        let name = &job.job_name.value;
        if name.is_empty() {
            return Err(at(&job.job_name.referenced, "job_name is empty".into()));
        }
        if name == SELF_JOB {
            return Err(at(
                &job.job_name.referenced,
                format!("job_name {SELF_JOB:?} is taken by serve's own /metrics; choose another"),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(at(
                &job.job_name.referenced,
                format!("job_name {name:?} is used twice"),
            ));
        }
        let interval = duration(&job.scrape_interval, global_interval, "scrape_interval")?;
        // As Prometheus: a job's timeout defaults to the global one, cut to its interval.
        let timeout = match &job.scrape_timeout {
            None => global_timeout.min(interval),
            Some(s) => {
                let timeout = duration(&job.scrape_timeout, global_timeout, "scrape_timeout")?;
                if timeout > interval {
                    return Err(at(
                        &s.referenced,
                        format!(
                            "scrape_timeout {} is longer than the job's scrape_interval",
                            s.value
                        ),
                    ));
                }
                timeout
            }
        };
        let path = match &job.metrics_path {
            None => "/metrics".to_string(),
            Some(p) if p.value.starts_with('/') && !p.value.contains(char::is_whitespace) => {
                p.value.clone()
            }
            Some(p) => {
                return Err(at(
                    &p.referenced,
                    format!("metrics_path {:?} must start with '/'", p.value),
                ))
            }
        };
        let body_size_limit = match &job.body_size_limit {
            None => MAX_BODY_BYTES,
            Some(s) => match parse_size(&s.value) {
                Some(0) => MAX_BODY_BYTES,
                Some(bytes) => bytes,
                None => {
                    return Err(at(
                        &s.referenced,
                        format!(
                            "body_size_limit: invalid size {:?} (examples: 10MB, 512KB, 0)",
                            s.value
                        ),
                    ))
                }
            },
        };
        let https = match &job.scheme {
            None => false,
            Some(scheme) => match scheme.value.as_str() {
                "http" => false,
                "https" => true,
                other => {
                    return Err(at(
                        &scheme.referenced,
                        format!("scheme {other:?} is neither http nor https"),
                    ))
                }
            },
        };
        let wrong = |(location, why): credentials::Wrong| at(&location, why);
        let authorization =
            credentials::authorization(job.authorization.as_ref(), job.basic_auth.as_ref(), base)
                .map_err(wrong)?;
        for group in &job.static_configs {
            let mut statics = Vec::new();
            for (label, value) in &group.labels {
                check_label_name(&label.value).map_err(|why| at(&label.referenced, why))?;
                statics.push((label.value.clone(), value.clone()));
            }
            for address in &group.targets {
                check_address(&address.value).map_err(|why| at(&address.referenced, why))?;
                let mut pairs = vec![
                    ("job".to_string(), name.clone()),
                    ("instance".to_string(), address.value.clone()),
                ];
                // Static labels may set job and instance themselves, as in Prometheus.
                pairs.extend(statics.iter().cloned());
                let tls = https
                    .then(|| {
                        let host = credentials::host_of(&address.value);
                        credentials::tls_client(job.tls_config.as_ref(), host, base)
                    })
                    .transpose()
                    .map_err(wrong)?;
                targets.push(Target {
                    job: name.clone(),
                    url: format!(
                        "{}://{}{path}",
                        if https { "https" } else { "http" },
                        address.value
                    ),
                    address: address.value.clone(),
                    path: path.clone(),
                    labels: Labels::from_pairs(pairs),
                    interval,
                    timeout,
                    honor_labels: job.honor_labels,
                    honor_timestamps: job.honor_timestamps,
                    sample_limit: job.sample_limit,
                    body_size_limit,
                    in_process: None,
                    authorization: authorization.clone(),
                    tls,
                });
            }
        }
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_prometheus() {
        let targets = parse(
            "scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['localhost:9100', 'b:1']\n        labels: {env: prod, instance: renamed}\n",
            "t.yml",
        )
        .expect("valid config");
        assert_eq!(targets.len(), 2);
        let t = &targets[0];
        assert_eq!(t.url, "http://localhost:9100/metrics");
        assert_eq!(
            (t.interval, t.timeout),
            (Duration::from_secs(60), Duration::from_secs(10))
        );
        assert!(!t.honor_labels && t.honor_timestamps);
        assert_eq!((t.sample_limit, t.body_size_limit), (0, 64 << 20));
        assert_eq!(
            t.labels,
            Labels::from_pairs([("job", "node"), ("instance", "renamed"), ("env", "prod")])
        );
    }

    #[test]
    fn jobs_inherit_the_global_interval_and_cut_the_timeout_to_it() {
        let targets = parse(
            "global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\nscrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    metrics_path: /m\n    sample_limit: 10\n    body_size_limit: 1MB\n    honor_labels: true\n    static_configs: [{targets: ['h:1']}]\n  - job_name: b\n    static_configs: [{targets: ['h:2']}]\n",
            "t.yml",
        )
        .expect("valid config");
        assert_eq!(
            (targets[0].interval, targets[0].timeout),
            (Duration::from_secs(5), Duration::from_secs(5))
        );
        assert_eq!(targets[0].url, "http://h:1/m");
        assert_eq!(
            (targets[0].sample_limit, targets[0].body_size_limit),
            (10, 1 << 20)
        );
        assert!(targets[0].honor_labels);
        assert_eq!(
            (targets[1].interval, targets[1].timeout),
            (Duration::from_secs(15), Duration::from_secs(10))
        );
        assert!(parse("", "empty.yml").expect("empty is valid").is_empty());
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        for (text, line, what) in [
            ("scrape_configs:\n  - job_name: a\n    relabel_configs: []\n", "3", "relabel_configs"),
            ("global:\n  scrape_interval: soon\n", "line 2", "scrape_interval"),
            ("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n", "line 4", "longer than"),
            ("scrape_configs:\n  - job_name: a\n  - job_name: a\n", "line 3", "used twice"),
            ("scrape_configs:\n  - job_name: whyslow\n", "line 2", "taken"),
            ("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://h:1/metrics']\n", "line 4", "without a scheme"),
            ("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['h:x']\n", "line 4", "invalid port"),
            ("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['h:1']\n        labels: {__scheme__: https}\n", "line 5", "relabeling"),
            ("scrape_configs:\n  - job_name: a\n    scheme: ftp\n", "line 3", "neither http nor https"),
            ("scrape_configs:\n  - job_name: a\n    metrics_path: metrics\n", "line 3", "start with '/'"),
            ("scrape_configs:\n  - job_name: a\n    body_size_limit: lots\n", "line 3", "invalid size"),
        ] {
            let e = parse(text, "scrape.yml").expect_err(text).to_string();
            assert!(e.contains("scrape.yml"), "{text}: {e}");
            assert!(e.contains(line), "{text}: {e}");
            assert!(e.contains(what), "{text}: {e}");
        }
    }
}
