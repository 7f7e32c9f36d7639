//! `serve --store clickhouse://…`: connects, creates or migrates the schema
//! before any listener opens, starts retention, and hands out the
//! ClickHouse-backed store of each signal. Every signal then lives in
//! ClickHouse, so any number of `serve` instances over one database answer
//! the same.

use crate::cli::ServeArgs;
use anyhow::{Context, Result};
use std::sync::Arc;
use store::{ProfileStore, SeriesStore, SpanStore};

/// A connected, migrated ClickHouse database.
pub struct ClickHouse {
    client: Arc<chstore::Client>,
}

impl ClickHouse {
    /// Connects to `url` (`--store`), migrates the schema, starts retention.
    pub fn open(args: &ServeArgs, url: &str) -> Result<Self> {
        let mut url = chstore::ClickHouseUrl::parse(url)?;
        if url.password.is_none() {
            url.password = std::env::var("WHYSLOW_CLICKHOUSE_PASSWORD").ok();
        }
        let endpoints = url
            .endpoints
            .iter()
            .map(|e| e.0.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let database = url.database.clone();
        let client = Arc::new(chstore::Client::new(url)?);
        let handle = client.handle();
        let cluster = args.clickhouse_cluster.clone();
        let tier = client
            .wait(async move { chstore::schema::migrate(&handle, cluster.as_deref()).await })
            .with_context(|| {
                format!("preparing the ClickHouse database {database} at {endpoints}")
            })?;
        eprintln!(
            "whyslow: traces, metrics and profiles in ClickHouse {} at {endpoints}, database {database}{} (schema v{}, {} tables)",
            tier.version,
            args.clickhouse_cluster
                .as_deref()
                .map(|c| format!(", cluster {c}"))
                .unwrap_or_default(),
            chstore::schema::SCHEMA_VERSION,
            if tier.modern { "modern" } else { "base" },
        );
        client.spawn(chstore::retention::run(
            client.handle(),
            args.clickhouse_cluster.is_some(),
            args.retention,
        ));
        Ok(Self { client })
    }

    /// The span store, queueing at most `budget_bytes` not yet inserted.
    pub fn spans(&self, budget_bytes: u64) -> Arc<dyn SpanStore> {
        Arc::new(chstore::ClickHouseSpanStore::new(
            Arc::clone(&self.client),
            budget_bytes,
        ))
    }

    /// The metrics store, queueing at most `budget_bytes` not yet inserted.
    pub fn series(&self, budget_bytes: u64) -> Arc<dyn SeriesStore> {
        Arc::new(chstore::ClickHouseSeriesStore::new(
            Arc::clone(&self.client),
            budget_bytes,
        ))
    }

    /// The profile store, queueing at most `budget_bytes` not yet inserted.
    pub fn profiles(&self, budget_bytes: u64) -> Arc<dyn ProfileStore> {
        Arc::new(chstore::ClickHouseProfileStore::new(
            Arc::clone(&self.client),
            budget_bytes,
        ))
    }
}
