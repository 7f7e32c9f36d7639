//! Which store the end-to-end suites run `serve` over: the embedded one,
//! or with `WHYSLOW_TEST_CLICKHOUSE=HOST:PORT[,HOST:PORT…]` (dev/test's
//! second run of the suites) ClickHouse: one server, or the shards of
//! dev/clickhouse-server's cluster `whyslow_test`.

use std::path::Path;

/// `--store clickhouse://…` for `data_dir` when `WHYSLOW_TEST_CLICKHOUSE`
/// is set, else nothing. The database is named after `data_dir`, so a
/// restart on the same directory finds its data again.
pub fn clickhouse_store(data_dir: &Path) -> Vec<String> {
    let Ok(addr) = std::env::var("WHYSLOW_TEST_CLICKHOUSE") else {
        return Vec::new();
    };
    let name: String = data_dir
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut args = vec![
        "--store".into(),
        format!("clickhouse://{addr}/t{}", name.trim_start_matches('_')),
    ];
    if addr.contains(',') {
        args.extend(["--clickhouse-cluster".into(), "whyslow_test".into()]);
    }
    args
}
