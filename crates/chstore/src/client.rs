//! Talks to ClickHouse over its HTTP interface (port 8123): statements and
//! RowBinary answers, RowBinary inserts. Every request runs on the store's
//! own small tokio runtime, so the synchronous store traits can wait for
//! an answer from any thread (`serve` reads from `spawn_blocking`) and the
//! batching writer runs beside them.
//!
//! Errors keep what the server said: 18.16 answers `Code: 60,
//! e.displayText() = DB::Exception: …`, current servers `Code: 60.
//! DB::Exception: … (UNKNOWN_TABLE)`; both are parsed for the code.

use crate::ClickHouseError;
use std::future::Future;
use std::time::Duration;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One server's HTTP address, `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(pub String);

/// What `--store clickhouse://…` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickHouseUrl {
    /// Every HTTP address given (one per shard when a cluster is named).
    pub endpoints: Vec<Endpoint>,
    /// The database the tables live in.
    pub database: String,
    /// User (`default` when not given).
    pub user: String,
    /// Password, if any.
    pub password: Option<String>,
}

impl ClickHouseUrl {
    /// Parses `clickhouse://[user[:password]@]HOST:PORT[,HOST:PORT…]/DATABASE`.
    pub fn parse(url: &str) -> Result<Self, ClickHouseError> {
        let bad = |why: &str| {
            ClickHouseError::Config(format!(
                "--store {url}: {why} (expected clickhouse://[user[:password]@]HOST:8123[,HOST:PORT…]/DATABASE)"
            ))
        };
        let rest = url
            .strip_prefix("clickhouse://")
            .ok_or_else(|| bad("the scheme must be clickhouse://"))?;
        let (authority, database) = rest
            .split_once('/')
            .ok_or_else(|| bad("no /DATABASE after the address"))?;
        let database = database.trim_end_matches('/');
        if database.is_empty()
            || !database
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(bad("the database name must be letters, digits and _"));
        }
        let (credentials, hosts) = match authority.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, authority),
        };
        let (user, password) = match credentials {
            Some(c) => match c.split_once(':') {
                Some((u, p)) => (u.to_string(), Some(p.to_string())),
                None => (c.to_string(), None),
            },
            None => ("default".to_string(), None),
        };
        let endpoints = hosts
            .split(',')
            .map(|h| {
                let (host, port) = h
                    .rsplit_once(':')
                    .ok_or_else(|| bad("every address needs :PORT"))?;
                if host.is_empty() || port.parse::<u16>().is_err() {
                    return Err(bad("every address needs a host and a numeric port"));
                }
                Ok(Endpoint(h.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            endpoints,
            database: database.to_string(),
            user,
            password,
        })
    }
}

/// An HTTP client for one ClickHouse database on one or more servers.
pub struct Client {
    handle: ClientHandle,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.handle.url.endpoints)
            .field("database", &self.handle.url.database)
            .finish_non_exhaustive()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // May run inside another runtime: never block here.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Client {
    /// A client with its own runtime (one worker thread).
    pub fn new(url: ClickHouseUrl) -> Result<Self, ClickHouseError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("clickhouse")
            .enable_all()
            .build()
            .map_err(|e| {
                ClickHouseError::Config(format!("cannot start the ClickHouse client: {e}"))
            })?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClickHouseError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            handle: ClientHandle { http, url },
            runtime: Some(runtime),
        })
    }

    /// Runs `future` on the client's runtime.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Some(runtime) = &self.runtime {
            runtime.spawn(future);
        }
    }

    /// Runs `future` on the client's runtime and waits for it from this
    /// (synchronous) thread.
    pub fn wait<T, F>(&self, future: F) -> Result<T, ClickHouseError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, ClickHouseError>> + Send + 'static,
    {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| ClickHouseError::Config("the ClickHouse client is closed".into()))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(future.await);
        });
        rx.recv()
            .map_err(|_| ClickHouseError::Config("the ClickHouse client stopped".into()))?
    }

    /// Runs the query `sql` (without a `FORMAT`) and waits for its
    /// RowBinary answer: what the stores' synchronous reads do.
    pub fn rows(&self, sql: &str) -> Result<bytes::Bytes, ClickHouseError> {
        let handle = self.handle();
        let sql = format!("{sql} FORMAT RowBinary");
        self.wait(async move { handle.query(sql).await })
    }

    /// A cheap handle for futures that outlive this borrow.
    pub fn handle(&self) -> ClientHandle {
        self.handle.clone()
    }
}

/// The part of a [`Client`] its futures need.
#[derive(Debug, Clone)]
pub struct ClientHandle {
    http: reqwest::Client,
    url: ClickHouseUrl,
}

impl ClientHandle {
    /// The database.
    pub fn database(&self) -> &str {
        &self.url.database
    }

    /// The servers.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.url.endpoints
    }

    fn request(&self, endpoint: &Endpoint, params: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let mut query: Vec<(&str, &str)> = vec![("user", &self.url.user)];
        if let Some(password) = &self.url.password {
            query.push(("password", password));
        }
        query.extend_from_slice(params);
        let url = reqwest::Url::parse_with_params(&format!("http://{}/", endpoint.0), &query)
            .unwrap_or_else(|_| reqwest::Url::parse("http://127.0.0.1:1/").expect("a valid URL"));
        self.http.post(url)
    }

    /// Runs `sql` on the first server that answers (in `--store` order)
    /// and returns its answer: any server of a cluster can answer through
    /// its `Distributed` tables.
    pub async fn query(&self, sql: String) -> Result<bytes::Bytes, ClickHouseError> {
        let database = self.url.database.clone();
        self.on_first_answering(&sql, |endpoint| {
            self.request(endpoint, &[("database", &database)])
                .body(sql.clone())
        })
        .await
    }

    /// Sends the request `build` makes for each server in `--store` order
    /// until one answers (an unreachable server is skipped; any answer,
    /// also a refusal, is final).
    async fn on_first_answering(
        &self,
        sql: &str,
        build: impl Fn(&Endpoint) -> reqwest::RequestBuilder,
    ) -> Result<bytes::Bytes, ClickHouseError> {
        let mut last = None;
        for endpoint in &self.url.endpoints {
            match send(endpoint, build(endpoint), sql).await {
                Err(e @ ClickHouseError::Unreachable { .. }) => last = Some(e),
                answer => return answer,
            }
        }
        Err(last.unwrap_or_else(|| ClickHouseError::Config("no ClickHouse address given".into())))
    }

    /// Runs `sql` on `endpoint` (in the client's database) and returns its answer.
    pub async fn query_on(
        &self,
        endpoint: &Endpoint,
        sql: String,
    ) -> Result<bytes::Bytes, ClickHouseError> {
        let database = self.url.database.clone();
        let request = self
            .request(endpoint, &[("database", &database)])
            .body(sql.clone());
        send(endpoint, request, &sql).await
    }

    /// Runs `sql` on `endpoint` outside any database (to create it).
    pub async fn query_without_database(
        &self,
        endpoint: &Endpoint,
        sql: String,
    ) -> Result<bytes::Bytes, ClickHouseError> {
        let request = self.request(endpoint, &[]).body(sql.clone());
        send(endpoint, request, &sql).await
    }

    /// Inserts a RowBinary body into `table` (`columns` in row order) on
    /// the first server that answers. Into a `Distributed` table the insert
    /// returns only once every shard has its rows (`insert_distributed_sync`):
    /// what is acknowledged is readable from any instance at once, and a
    /// shard that is down fails the insert instead of leaving rows in a
    /// spool the other shards' readers cannot see.
    pub async fn insert(
        &self,
        table: &str,
        columns: &str,
        body: Vec<u8>,
    ) -> Result<(), ClickHouseError> {
        let sql = format!(
            "INSERT INTO {}.{table} ({columns}) FORMAT RowBinary",
            self.url.database
        );
        let body = bytes::Bytes::from(body);
        self.on_first_answering(&sql, |endpoint| {
            self.request(
                endpoint,
                &[("query", &sql), ("insert_distributed_sync", "1")],
            )
            .body(body.clone())
        })
        .await
        .map(|_| ())
    }
}

async fn send(
    endpoint: &Endpoint,
    request: reqwest::RequestBuilder,
    sql: &str,
) -> Result<bytes::Bytes, ClickHouseError> {
    let answer = request
        .send()
        .await
        .map_err(|e| ClickHouseError::Unreachable {
            endpoint: endpoint.0.clone(),
            detail: e.to_string(),
        })?;
    let status = answer.status();
    let body = answer
        .bytes()
        .await
        .map_err(|e| ClickHouseError::Unreachable {
            endpoint: endpoint.0.clone(),
            detail: format!("reading the answer: {e}"),
        })?;
    if status.is_success() {
        return Ok(body);
    }
    let message = String::from_utf8_lossy(&body).trim().to_string();
    let code = error_code(&message);
    let message = match code {
        ALL_CONNECTION_TRIES_FAILED => shards_down(&message),
        _ => message,
    };
    Err(ClickHouseError::Server {
        endpoint: endpoint.0.clone(),
        code,
        message,
        statement: sql.chars().take(200).collect(),
    })
}

/// ClickHouse's code when a `Distributed` query could reach no replica of a shard.
const ALL_CONNECTION_TRIES_FAILED: u32 = 279;

/// What to say when a shard is down: which ones (the `(host:port)` its
/// log names), and that no partial answer was given.
fn shards_down(message: &str) -> String {
    let mut shards: Vec<&str> = message
        .split('(')
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(inside, _)| inside))
        .filter(|inside| inside.contains(':') && !inside.contains(' '))
        .collect();
    shards.sort_unstable();
    shards.dedup();
    format!(
        "shard {} cannot be reached (Code: 279, all connection tries failed); the query is not answered \
         rather than answered from the other shards alone",
        if shards.is_empty() { "?".to_string() } else { shards.join(", ") }
    )
}

/// The `Code: N` of a ClickHouse error text (0 when there is none).
pub fn error_code(message: &str) -> u32 {
    message
        .split("Code: ")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

/// A string as a ClickHouse literal: quoted, with `\` and `'` escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Bytes as a `FixedString` literal: `toFixedString(unhex('…'), N)`.
pub fn fixed_literal(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("toFixedString(unhex('{hex}'), {})", bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_store_urls() {
        let url = ClickHouseUrl::parse("clickhouse://u:p%w@127.0.0.1:8123,127.0.0.1:8124/traces")
            .unwrap();
        assert_eq!(url.user, "u");
        assert_eq!(url.password.as_deref(), Some("p%w"));
        assert_eq!(url.database, "traces");
        assert_eq!(
            url.endpoints,
            vec![
                Endpoint("127.0.0.1:8123".into()),
                Endpoint("127.0.0.1:8124".into())
            ]
        );
        let plain = ClickHouseUrl::parse("clickhouse://localhost:8123/whyslow").unwrap();
        assert_eq!((plain.user.as_str(), plain.password), ("default", None));
        for bad in [
            "http://localhost:8123/db",
            "clickhouse://localhost:8123",
            "clickhouse://localhost/db",
            "clickhouse://localhost:8123/bad-name",
        ] {
            assert!(ClickHouseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_error_codes_of_old_and_new_servers() {
        assert_eq!(
            error_code("Code: 60, e.displayText() = DB::Exception: Table x doesn't exist."),
            60
        );
        assert_eq!(error_code("Code: 279. DB::Exception: All connection tries failed. (ALL_CONNECTION_TRIES_FAILED)"), 279);
        assert_eq!(error_code("something else"), 0);
    }

    #[test]
    fn names_the_shards_that_are_down() {
        let log = "Code: 279, e.displayText() = DB::NetException: All connection tries failed. Log: \n\n\
                   Code: 210, e.displayText() = DB::NetException: Connection refused (127.0.0.1:19001), e.what() = DB::NetException\n\
                   Code: 210, e.displayText() = DB::NetException: Connection refused (127.0.0.1:19001)";
        let said = shards_down(log);
        assert!(
            said.starts_with("shard 127.0.0.1:19001 cannot be reached"),
            "{said}"
        );
    }

    #[test]
    fn quotes_literals() {
        assert_eq!(quote(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(fixed_literal(&[0xab, 1]), "toFixedString(unhex('ab01'), 2)");
    }
}
