//! The tables whyslow keeps in ClickHouse, created and migrated at start.
//!
//! One logical schema, two renderings chosen from `SELECT version()`: the
//! base one runs on ClickHouse 18.16 (Debian's, what dev/test runs: plain
//! types, no codecs, no `LowCardinality` without a setting), the modern one
//! (20.1 and later, what users run) adds per-column codecs and
//! `LowCardinality`. Rows are the same on both (RowBinary does not tell
//! `LowCardinality(String)` from `String`), so writers and queries are too.
//!
//! With a cluster (`--clickhouse-cluster NAME`), each table is a local
//! `*_local` table on every shard plus a `Distributed` table of the plain
//! name on every shard, sharded by trace id so a trace lives on one shard.
//! Tables are created on each shard's HTTP address from `--store` (18.16
//! has no `ON CLUSTER` without ZooKeeper). `IF NOT EXISTS` everywhere, so
//! instances starting together race harmlessly.
//!
//! `whyslow_schema` records the version applied; a whyslow older than the
//! database's schema refuses to start instead of writing rows it does not
//! know the shape of.

use crate::client::{quote, ClientHandle, Endpoint};
use crate::rowbinary::RowReader;
use crate::ClickHouseError;

/// The schema version this whyslow writes.
pub const SCHEMA_VERSION: u32 = 1;

/// What the server can do, from its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// `SELECT version()`.
    pub version: String,
    /// Codecs, `LowCardinality`, `DateTime64`, skip indexes (20.1 and later).
    pub modern: bool,
}

impl Tier {
    /// The tier of a server version string (`18.16.1`, `24.8.4.13`).
    pub fn of(version: &str) -> Self {
        let major: u32 = version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        Self {
            version: version.to_string(),
            modern: major >= 20,
        }
    }
}

/// One column: its base type and, for modern servers, the type with codec.
pub(crate) struct Column {
    name: &'static str,
    base: &'static str,
    modern: &'static str,
}

pub(crate) const fn col(name: &'static str, base: &'static str, modern: &'static str) -> Column {
    Column { name, base, modern }
}

/// One table of the schema.
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub engine: &'static str,
    pub partition_by: &'static str,
    pub order_by: &'static str,
    pub granularity: u32,
    /// The `Distributed` sharding expression.
    pub shard_by: &'static str,
}

/// Every table, signal by signal.
const TABLES: &[&[&Table]] = &[
    crate::span_tables::TABLES,
    crate::series_tables::TABLES,
    crate::profile_tables::TABLES,
];

fn tables() -> impl Iterator<Item = &'static Table> {
    TABLES.iter().flat_map(|t| t.iter().copied())
}

/// The columns of a table, comma-separated in row order (for inserts).
pub fn columns_of(table: &str) -> String {
    tables()
        .find(|t| t.name == table)
        .map(|t| {
            t.columns
                .iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Names of the tables the schema has (as queries name them).
pub fn table_names() -> Vec<&'static str> {
    tables().map(|t| t.name).collect()
}

/// `CREATE TABLE` of one table: `name` (`*_local` with a cluster).
fn create_table(database: &str, table: &Table, tier: &Tier, name: &str) -> String {
    let columns = table
        .columns
        .iter()
        .map(|c| format!("{} {}", c.name, if tier.modern { c.modern } else { c.base }))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "CREATE TABLE IF NOT EXISTS {database}.{name} ({columns}) ENGINE = {} PARTITION BY {} ORDER BY {} SETTINGS index_granularity = {}",
        table.engine, table.partition_by, table.order_by, table.granularity
    )
}

/// `CREATE TABLE` of the `Distributed` table over a cluster's local tables.
fn create_distributed(database: &str, table: &Table, cluster: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {database}.{name} AS {database}.{name}_local ENGINE = Distributed({cluster}, {database}, {name}_local, {shard})",
        name = table.name,
        shard = table.shard_by,
    )
}

/// The `CREATE TABLE` statements of every table for one server, in order:
/// with a cluster each local table and then its `Distributed` table.
pub fn create_statements(database: &str, tier: &Tier, cluster: Option<&str>) -> Vec<String> {
    let mut statements = Vec::new();
    for table in tables() {
        match cluster {
            Some(cluster) => {
                let local = format!("{}_local", table.name);
                statements.push(create_table(database, table, tier, &local));
                statements.push(create_distributed(database, table, cluster));
            }
            None => statements.push(create_table(database, table, tier, table.name)),
        }
    }
    statements
}

/// Creates or migrates the schema on every server of `client`; returns the
/// tier of the first. With `cluster`, checks that every shard of that
/// `remote_servers` cluster was given.
pub async fn migrate(
    client: &ClientHandle,
    cluster: Option<&str>,
) -> Result<Tier, ClickHouseError> {
    let database = client.database().to_string();
    let first = client
        .endpoints()
        .first()
        .cloned()
        .ok_or_else(|| ClickHouseError::Config("no ClickHouse address given".into()))?;
    let version = client
        .query_without_database(&first, "SELECT version() FORMAT RowBinary".into())
        .await?;
    let tier = Tier::of(&RowReader::new(&version).string()?);
    if let Some(cluster) = cluster {
        check_cluster(client, &first, cluster).await?;
    } else if client.endpoints().len() > 1 {
        return Err(ClickHouseError::Config(
            "several ClickHouse addresses need --clickhouse-cluster NAME: the remote_servers cluster they are the shards of".into(),
        ));
    }
    for endpoint in client.endpoints() {
        migrate_server(client, endpoint, &database, &tier, cluster).await?;
    }
    Ok(tier)
}

async fn check_cluster(
    client: &ClientHandle,
    first: &Endpoint,
    cluster: &str,
) -> Result<(), ClickHouseError> {
    let answer = client
        .query_without_database(
            first,
            format!(
                "SELECT toUInt64(uniqExact(shard_num)) FROM system.clusters WHERE cluster = {} FORMAT RowBinary",
                quote(cluster)
            ),
        )
        .await?;
    let shards = RowReader::new(&answer).u64()?;
    let given = client.endpoints().len() as u64;
    if shards == 0 {
        return Err(ClickHouseError::Config(format!(
            "ClickHouse at {} has no cluster {cluster:?} in its remote_servers",
            first.0
        )));
    }
    if shards != given {
        return Err(ClickHouseError::Config(format!(
            "cluster {cluster:?} has {shards} shards but --store gives {given} address(es): give every shard's HTTP address \
             (clickhouse://HOST1:8123,HOST2:8123/DATABASE) so whyslow can create its tables on each"
        )));
    }
    Ok(())
}

async fn migrate_server(
    client: &ClientHandle,
    endpoint: &Endpoint,
    database: &str,
    tier: &Tier,
    cluster: Option<&str>,
) -> Result<(), ClickHouseError> {
    client
        .query_without_database(
            endpoint,
            format!("CREATE DATABASE IF NOT EXISTS {database}"),
        )
        .await?;
    client
        .query_on(
            endpoint,
            format!(
                "CREATE TABLE IF NOT EXISTS {database}.whyslow_schema (version UInt32, applied DateTime) ENGINE = MergeTree ORDER BY version"
            ),
        )
        .await?;
    let answer = client
        .query_on(
            endpoint,
            format!(
                "SELECT toUInt64(max(version)) FROM {database}.whyslow_schema FORMAT RowBinary"
            ),
        )
        .await?;
    let applied = RowReader::new(&answer).u64()?;
    if applied > u64::from(SCHEMA_VERSION) {
        return Err(ClickHouseError::Schema(format!(
            "ClickHouse database {database} at {} has whyslow schema version {applied}, newer than this whyslow's \
             ({SCHEMA_VERSION}): upgrade whyslow to use it",
            endpoint.0
        )));
    }
    for statement in create_statements(database, tier, cluster) {
        client.query_on(endpoint, statement).await?;
    }
    if applied < u64::from(SCHEMA_VERSION) {
        client
            .query_on(
                endpoint,
                format!("INSERT INTO {database}.whyslow_schema VALUES ({SCHEMA_VERSION}, now())"),
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_major_version() {
        assert!(!Tier::of("18.16.1").modern);
        assert!(Tier::of("24.8.4.13").modern);
        assert!(Tier::of("26.9.2.1").modern);
        assert!(!Tier::of("garbage").modern);
    }

    #[test]
    fn base_ddl_has_no_modern_clauses_and_modern_ddl_has_them() {
        let base = create_table(
            "db",
            &crate::span_tables::SPAN_INDEX,
            &Tier::of("18.16.1"),
            "span_index",
        );
        assert!(
            !base.contains("CODEC") && !base.contains("LowCardinality"),
            "{base}"
        );
        assert!(
            base.contains("PARTITION BY day ORDER BY (service, name, start_ns, trace_id, span_id)")
        );
        let modern = create_table(
            "db",
            &crate::span_tables::SPAN_INDEX,
            &Tier::of("24.8"),
            "span_index",
        );
        assert!(
            modern.contains("LowCardinality(String)") && modern.contains("CODEC(Delta, ZSTD(1))")
        );
        let dist = create_distributed("db", &crate::span_tables::SPANS, "two_shards");
        assert_eq!(
            dist,
            "CREATE TABLE IF NOT EXISTS db.spans AS db.spans_local ENGINE = Distributed(two_shards, db, spans_local, cityHash64(trace_id))"
        );
        assert_eq!(columns_of("span_ops"), "day, service, name, kind");
    }
}
