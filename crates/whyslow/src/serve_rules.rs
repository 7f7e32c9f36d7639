//! `serve --rules/--slo/--alertmanager/--alert-webhook`: loads the rule
//! files, the rules generated from SLO files and the built-in rules
//! (`rules/default.yml`, unless `--no-default-rules`) before anything starts
//! (a bad file stops serve with its line) and starts the rule evaluator
//! beside the listeners; it stops with them.

use crate::cli::ServeArgs;
use anyhow::{Context, Result};
use std::sync::Arc;
use store::SeriesStore;
use tokio::sync::watch;

/// The built-in rules: host saturation and per-service RED.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.yml");
/// How the built-in rules are named in the API and errors.
const DEFAULT_RULES_NAME: &str = "whyslow/default.yml";

/// The rule groups to evaluate and where their alerts go.
pub struct Loaded {
    /// Every rule group.
    pub groups: Vec<rules::GroupSpec>,
    /// Whom https receivers must prove to be (`--alert-tls-ca`, else the public roots).
    pub receiver_tls: Arc<tls::ClientConfig>,
}

/// Reads and checks every `--rules` file, every `--slo` file's generated
/// rules and the built-in rules, and `--alert-tls-ca`.
pub fn load(args: &ServeArgs) -> Result<Loaded> {
    let receiver_tls = tls::client_config(&tls::ClientFiles {
        ca: args.alert_tls_ca.clone(),
        identity: None,
    })
    .context("--alert-tls-ca")?;
    Ok(Loaded {
        groups: load_groups(args)?,
        receiver_tls,
    })
}

fn load_groups(args: &ServeArgs) -> Result<Vec<rules::GroupSpec>> {
    for url in args.alertmanagers.iter().chain(&args.alert_webhooks) {
        anyhow::ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "alert receiver {url:?}: give an http:// or https:// URL"
        );
    }
    let interval = args.rule_evaluation_interval;
    let mut groups = rules::file::load(&args.rules, interval)
        .context("loading the --rules files (fix the line named, or leave the file out)")?;
    for path in &args.slos {
        let slos = slo::load(path, &ingest::spanmetrics::histogram::DURATION_BUCKETS_MS)
            .context("loading the --slo file (fix the line named, or leave the file out)")?;
        let source = format!("{} (generated)", path.display());
        groups.extend(
            rules::file::parse(
                &slo::rule_file(&slos, &path.display().to_string()),
                &source,
                interval,
            )
            .with_context(|| {
                format!(
                    "the rules generated from {} (a whyslow bug)",
                    path.display()
                )
            })?,
        );
    }
    if !args.no_default_rules {
        groups.extend(
            rules::file::parse(DEFAULT_RULES, DEFAULT_RULES_NAME, interval).context(
                "the built-in rules (a whyslow bug; --no-default-rules leaves them out)",
            )?,
        );
    }
    if groups.is_empty() && (!args.alertmanagers.is_empty() || !args.alert_webhooks.is_empty()) {
        eprintln!(
            "whyslow: --alertmanager/--alert-webhook without rules: there are no alerts to send"
        );
    }
    Ok(groups)
}

/// Starts the evaluator when there are rule groups; `ui` is serve's own
/// base URL, `http(s)://host:port` (for alerts' `generatorURL`).
pub fn start(
    args: &ServeArgs,
    Loaded {
        groups,
        receiver_tls,
    }: Loaded,
    series: &Arc<dyn SeriesStore>,
    engine: &promql::Engine,
    ui: &str,
    stop: watch::Receiver<bool>,
) -> Option<rules::RulesRunner> {
    if groups.is_empty() {
        return None;
    }
    let rule_count: usize = groups.iter().map(|g| g.rules.len()).sum();
    println!(
        "Rules       {} group{} ({rule_count} rules); alerts to {} Alertmanager{} and {} webhook{}",
        groups.len(),
        if groups.len() == 1 { "" } else { "s" },
        args.alertmanagers.len(),
        if args.alertmanagers.len() == 1 {
            ""
        } else {
            "s"
        },
        args.alert_webhooks.len(),
        if args.alert_webhooks.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    let notify = rules::NotifyOptions {
        alertmanagers: args.alertmanagers.clone(),
        webhooks: args.alert_webhooks.clone(),
        external_url: ui.to_string(),
        tls: Some(receiver_tls),
    };
    let engine = engine
        .clone()
        .with_default_subquery_step_ms(args.rule_evaluation_interval.as_millis() as i64);
    Some(rules::RulesRunner::start(
        groups,
        Arc::clone(series),
        engine,
        &notify,
        stop,
    ))
}
