//! Retention in ClickHouse: every table is partitioned by day, and once an
//! hour whole days older than `--retention` are dropped on every server
//! (`ALTER TABLE … DROP PARTITION`), as Coroot does even where TTL exists:
//! it works on 18.16 (no TTL there), frees the space at once, and never
//! rewrites parts. Instances running it together drop the same partitions;
//! a partition already gone is no error.

use crate::client::{quote, ClientHandle};
use crate::rowbinary::{day_of_ns, RowReader};
use crate::schema::table_names;
use crate::span_sql::date_literal;
use crate::ClickHouseError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often old partitions are looked for.
pub const EVERY: Duration = Duration::from_secs(3600);

/// The first day kept for a retention (days strictly before it are dropped).
pub fn first_kept_day(now_unix_ns: u64, retention: Duration) -> u16 {
    let retention_ns = u64::try_from(retention.as_nanos()).unwrap_or(u64::MAX);
    day_of_ns(now_unix_ns.saturating_sub(retention_ns))
}

/// The daily partitions of `tables` before `first_kept`: `table, partition`.
pub fn old_partitions(database: &str, tables: &[String], first_kept: u16) -> String {
    let list = tables
        .iter()
        .map(|t| quote(t))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT DISTINCT table, partition FROM system.parts WHERE database = {} AND table IN ({list}) \
         AND active AND toDate(partition) < {} ORDER BY table, partition",
        quote(database),
        date_literal(first_kept)
    )
}

/// Drops, on every server, the daily partitions before `first_kept`.
/// Returns how many were dropped.
pub async fn drop_old_partitions(
    client: &ClientHandle,
    cluster: bool,
    first_kept: u16,
) -> Result<usize, ClickHouseError> {
    let database = client.database().to_string();
    let tables: Vec<String> = table_names()
        .into_iter()
        .map(|t| {
            if cluster {
                format!("{t}_local")
            } else {
                t.to_string()
            }
        })
        .collect();
    let mut dropped = 0;
    for endpoint in client.endpoints() {
        let answer = client
            .query_on(
                endpoint,
                format!(
                    "{} FORMAT RowBinary",
                    old_partitions(&database, &tables, first_kept)
                ),
            )
            .await?;
        let mut rows = RowReader::new(&answer);
        while !rows.is_done() {
            let table = rows.string()?;
            let partition = rows.string()?;
            client
                .query_on(
                    endpoint,
                    format!(
                        "ALTER TABLE {database}.{table} DROP PARTITION {}",
                        quote(&partition)
                    ),
                )
                .await?;
            dropped += 1;
        }
    }
    Ok(dropped)
}

/// Drops old partitions every [`EVERY`] until the runtime stops.
pub async fn run(client: ClientHandle, cluster: bool, retention: Duration) {
    loop {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        match drop_old_partitions(&client, cluster, first_kept_day(now, retention)).await {
            Ok(0) => {}
            Ok(n) => eprintln!("whyslow: retention dropped {n} daily ClickHouse partitions"),
            Err(e) => {
                eprintln!("whyslow: ClickHouse retention failed (trying again in an hour): {e}")
            }
        }
        tokio::time::sleep(EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_whole_days_within_the_retention() {
        let day = 86_400_000_000_000u64;
        // Noon of day 100 with 7 days of retention keeps day 93 (partly within) onwards.
        assert_eq!(
            first_kept_day(100 * day + day / 2, Duration::from_secs(7 * 86_400)),
            93
        );
        assert_eq!(first_kept_day(5, Duration::from_secs(86_400)), 0);
    }
}
