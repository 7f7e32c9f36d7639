//! ClickHouse as `serve`'s store, for more than one machine: any number of
//! stateless `serve` instances over one ClickHouse database (one server or a
//! `remote_servers` cluster of shards), the same store traits as the
//! embedded engine, so every API and the UI work unchanged.
//!
//! - [`client`]: the HTTP interface, statements and RowBinary inserts.
//! - [`rowbinary`]: the row format both ClickHouse 18.16 and current servers take.
//! - [`schema`]: versioned tables, created and migrated at start; the
//!   clauses current servers offer (codecs, `LowCardinality`) are added from
//!   `SELECT version()`, the base schema runs on 18.16.
//! - [`retention`]: daily partitions older than `--retention` dropped hourly.
//! - [`spans`]: [`ClickHouseSpanStore`], the [`store::SpanStore`] over it;
//!   [`span_sql`] the SQL of its reads.
//! - [`profiles`]: [`ClickHouseProfileStore`], the [`store::ProfileStore`]
//!   over it; [`profile_rows`] the rows and stable hashes of its writes,
//!   [`profile_sql`] the SQL of its reads.
//!
//! Durability: a write is acknowledged only after ClickHouse answered its
//! inserts (into `Distributed` tables synchronously: once every shard has
//! its rows, so an acknowledged span is readable from every instance at
//! once; a shard that is down makes writes fail with 503). Nothing is
//! acknowledged from memory, so a `serve` killed with -9 loses only writes
//! its senders were never told succeeded, and they retry those. No local
//! WAL: a second copy of the data on the instance would make it stateful.

pub mod batch;
pub mod client;
pub mod profile_rows;
pub mod profile_sql;
mod profile_tables;
pub mod profiles;
pub mod retention;
pub mod rowbinary;
pub mod schema;
pub mod series;
pub mod series_sql;
mod series_tables;
pub mod span_sql;
mod span_tables;
pub mod spans;

pub use client::{ClickHouseUrl, Client};
pub use profiles::ClickHouseProfileStore;
pub use series::ClickHouseSeriesStore;
pub use spans::ClickHouseSpanStore;

/// What went wrong talking to ClickHouse.
#[derive(Debug, thiserror::Error)]
pub enum ClickHouseError {
    /// The URL or options are wrong.
    #[error("{0}")]
    Config(String),
    /// No answer from a server.
    #[error("cannot reach ClickHouse at {endpoint}: {detail}")]
    Unreachable {
        /// `host:port`.
        endpoint: String,
        /// The transport error.
        detail: String,
    },
    /// The server refused a statement.
    #[error("ClickHouse at {endpoint} refused `{statement}`: {message}")]
    Server {
        /// `host:port`.
        endpoint: String,
        /// ClickHouse's error code (`Code: N`), 0 when it gave none.
        code: u32,
        /// What it said.
        message: String,
        /// The statement (its first 200 characters).
        statement: String,
    },
    /// An answer did not decode.
    #[error("cannot read ClickHouse's answer: {0}")]
    Decode(String),
    /// The database's schema cannot be used by this whyslow.
    #[error("{0}")]
    Schema(String),
}

impl From<ClickHouseError> for store::StoreError {
    fn from(e: ClickHouseError) -> Self {
        store::StoreError::Unavailable(e.to_string())
    }
}
