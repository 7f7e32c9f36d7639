//! Test support: a decoder that re-expands level-encoded flame graphs (as
//! Grafana's `levelsToTree` does) and checks their invariants, a builder
//! of [`MergedStacks`] from stack lists, and the router over a small
//! in-memory profile store with helpers to call it.

use crate::{AppState, QueryOptions};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use model::metrics::Labels;
use model::{Span, SpanKind, TraceId};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::profiles::{EmbeddedProfileStore, MergedStacks, ProfileWrite, StackSample};
use store::series::MemorySeriesStore;
use store::{DependencyLink, Operation, ProfileStore, SpanStore, StoreError, TraceQuery, WriteAck};
use tower::ServiceExt;

/// The CPU profile type of the fixture.
pub const CPU: &str = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
/// The memory profile type of the fixture.
pub const MEM: &str = "memory:alloc_space:bytes:space:bytes";
/// The fixture's first profile time, ms.
pub const T0_MS: i64 = 1_700_000_000_000;

/// Spans in memory: trace look-ups by id, searches by attribute and start.
pub struct StoredSpans(pub Vec<Span>);

impl SpanStore for StoredSpans {
    fn write(&self, _: Vec<Span>) -> Result<WriteAck, StoreError> {
        Err(StoreError::Closed)
    }
    fn services(&self) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }
    fn operations(&self, _: &str, _: Option<SpanKind>) -> Result<Vec<Operation>, StoreError> {
        Ok(Vec::new())
    }
    fn find_traces(&self, q: &TraceQuery) -> Result<Vec<Vec<Span>>, StoreError> {
        let hit = self.0.iter().find(|s| {
            q.start_min.is_none_or(|t| s.start_unix_nano >= t)
                && q.start_max.is_none_or(|t| s.start_unix_nano <= t)
                && q.tags.iter().all(|(k, v)| {
                    s.attributes
                        .iter()
                        .any(|a| &a.key == k && &a.value.to_text() == v)
                })
        });
        Ok(hit
            .and_then(|s| self.trace(s.trace_id).ok().flatten())
            .into_iter()
            .collect())
    }
    fn trace(&self, id: TraceId) -> Result<Option<Vec<Span>>, StoreError> {
        let spans: Vec<Span> = self
            .0
            .iter()
            .filter(|s| s.trace_id == id)
            .cloned()
            .collect();
        Ok((!spans.is_empty()).then_some(spans))
    }
    fn dependencies(&self, _: u64, _: u64) -> Result<Vec<DependencyLink>, StoreError> {
        Ok(Vec::new())
    }
}

fn profile(
    profile_type: &str,
    service: &str,
    time_ms: i64,
    samples: &[(&str, i64, Option<u64>, Option<u128>)],
) -> ProfileWrite {
    ProfileWrite {
        labels: Labels::from_pairs([
            (
                "__name__",
                profile_type.split(':').next().unwrap_or_default(),
            ),
            ("__profile_type__", profile_type),
            ("service_name", service),
        ]),
        time_ns: time_ms * 1_000_000,
        duration_ns: 10_000_000_000,
        samples: samples
            .iter()
            .map(|&(path, value, span_id, trace_id)| StackSample {
                frames: path.split(';').map(String::from).collect(),
                value,
                span_id,
                trace_id,
            })
            .collect(),
        ticks: Vec::new(),
        objects: Vec::new(),
    }
}

/// The stacks of service `app` (CPU, at `T0_MS`).
pub const APP: [(&str, i64); 3] = [("main;a;b", 30), ("main;a", 20), ("main;c", 50)];
/// The stacks of service `db` (CPU, at `T0_MS + 15 s`).
pub const DB: [(&str, i64); 1] = [("main;db;query", 40)];

/// The router over: `app` CPU (main;a;b 30 in span 1, main;a 20, main;c 50
/// in span 2 of trace 0xabc) at T0, `db` CPU (main;db;query 40) at T0+15 s,
/// `app` memory (main;alloc 1000) at T0.
pub fn app() -> axum::Router {
    let store = EmbeddedProfileStore::in_memory();
    let writes = vec![
        profile(
            CPU,
            "app",
            T0_MS,
            &[
                ("main;a;b", 30, Some(1), None),
                ("main;a", 20, None, None),
                ("main;c", 50, Some(2), Some(0xabc)),
            ],
        ),
        profile(
            CPU,
            "db",
            T0_MS + 15_000,
            &[("main;db;query", 40, None, None)],
        ),
        profile(MEM, "app", T0_MS, &[("main;alloc", 1000, None, None)]),
    ];
    drop(store.write(writes).expect("write"));
    let mut state = AppState::new(
        Arc::new(StoredSpans(Vec::new())),
        Arc::new(MemorySeriesStore::new()),
        QueryOptions::default(),
    );
    state.profiles = Arc::new(store);
    crate::router_for(state)
}

/// One request through the router: status, content type, body.
pub async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, String, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, content_type, bytes.to_vec())
}

/// A binary protobuf Connect call; the decoded answer or the status and error JSON.
pub async fn proto_call<Req: prost::Message, Resp: prost::Message + Default>(
    app: &axum::Router,
    method: &str,
    request: &Req,
) -> Result<Resp, (StatusCode, serde_json::Value)> {
    let path = format!("/querier.v1.QuerierService/{method}");
    let headers = [
        ("content-type", "application/proto"),
        ("connect-protocol-version", "1"),
    ];
    let (status, content_type, body) =
        send(app, "POST", &path, &headers, request.encode_to_vec()).await;
    if status != StatusCode::OK {
        return Err((status, serde_json::from_slice(&body).unwrap_or_default()));
    }
    assert_eq!(content_type, "application/proto");
    Ok(Resp::decode(body.as_slice()).expect("protobuf answer"))
}

/// A JSON Connect call: status and JSON body.
pub async fn json_call(
    app: &axum::Router,
    path: &str,
    request: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let headers = [("content-type", "application/json")];
    let (status, _, body) = send(
        app,
        "POST",
        path,
        &headers,
        request.to_string().into_bytes(),
    )
    .await;
    (status, serde_json::from_slice(&body).expect("JSON answer"))
}

/// A GET: status and JSON body.
pub async fn get_json(app: &axum::Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = send(app, "GET", uri, &[], Vec::new()).await;
    (status, serde_json::from_slice(&body).expect("JSON answer"))
}

/// One decoded node.
struct Node {
    x: Vec<i64>,
    total: Vec<i64>,
    self_value: Vec<i64>,
    path: String,
    children_total: Vec<i64>,
}

/// Expands levels of `stride` ints (4: single, 7: diff) into `"a;b;c" ->
/// self` per column, checking that names[0] is the root `"total"`, every
/// child lies inside its parent after the parent's self part, and children
/// and self add up to each parent's total.
pub fn expand(
    names: &[String],
    levels: &[Vec<i64>],
    stride: usize,
) -> Result<Vec<BTreeMap<String, i64>>, String> {
    let cols = (stride - 1) / 3;
    let mut out = vec![BTreeMap::new(); cols];
    if names.first().map(String::as_str) != Some("total") {
        return Err(format!("names[0] is not total: {names:?}"));
    }
    let mut above: Vec<Node> = Vec::new();
    for (depth, level) in levels.iter().enumerate() {
        if level.len() % stride != 0 {
            return Err(format!(
                "level {depth} length {} not / {stride}",
                level.len()
            ));
        }
        let mut prev_end = vec![0i64; cols];
        let mut nodes = Vec::new();
        for chunk in level.chunks(stride) {
            let mut node = Node {
                x: vec![0; cols],
                total: vec![0; cols],
                self_value: vec![0; cols],
                path: String::new(),
                children_total: vec![0; cols],
            };
            for c in 0..cols {
                node.x[c] = prev_end[c] + chunk[3 * c];
                node.total[c] = chunk[3 * c + 1];
                node.self_value[c] = chunk[3 * c + 2];
                prev_end[c] = node.x[c] + node.total[c];
            }
            let name = names
                .get(chunk[stride - 1] as usize)
                .ok_or_else(|| format!("bad name index {}", chunk[stride - 1]))?;
            if depth == 0 {
                if name != "total" || level.len() != stride {
                    return Err("level 0 must be the one root named total".into());
                }
            } else {
                let c = (0..cols)
                    .find(|&c| node.total[c] > 0)
                    .ok_or("node with zero totals")?;
                let parent = above
                    .iter_mut()
                    .find(|p| {
                        p.total[c] > 0
                            && p.x[c] <= node.x[c]
                            && node.x[c] + node.total[c] <= p.x[c] + p.total[c]
                    })
                    .ok_or_else(|| format!("{name} at level {depth} has no parent"))?;
                for c in 0..cols {
                    if node.total[c] > 0
                        && (node.x[c] < parent.x[c] + parent.self_value[c]
                            || node.x[c] + node.total[c] > parent.x[c] + parent.total[c])
                    {
                        return Err(format!("{name} at level {depth} outside its parent"));
                    }
                    parent.children_total[c] += node.total[c];
                }
                node.path = if parent.path.is_empty() {
                    name.clone()
                } else {
                    format!("{};{name}", parent.path)
                };
                for (map, &value) in out.iter_mut().zip(&node.self_value) {
                    if value != 0 {
                        *map.entry(node.path.clone()).or_insert(0) += value;
                    }
                }
            }
            nodes.push(node);
        }
        check_sums(&above)?;
        above = nodes;
    }
    check_sums(&above)?;
    Ok(out)
}

fn check_sums(nodes: &[Node]) -> Result<(), String> {
    for n in nodes {
        for c in 0..n.total.len() {
            if n.self_value[c] + n.children_total[c] != n.total[c] {
                return Err(format!(
                    "{}: self {} + children {} != total {}",
                    n.path, n.self_value[c], n.children_total[c], n.total[c]
                ));
            }
        }
    }
    Ok(())
}

/// Merged stacks holding `stacks` (`"a;b;c"`, self value).
pub fn stacks(list: &[(&str, i64)]) -> MergedStacks {
    let mut out = MergedStacks::default();
    let mut nodes: BTreeMap<(u32, String), u32> = BTreeMap::new();
    for (path, value) in list {
        let mut parent = 0u32;
        for frame in path.split(';') {
            let key = (parent, frame.to_string());
            let id = match nodes.get(&key) {
                Some(&id) => id,
                None => {
                    let name = match out.names.iter().position(|n| n == frame) {
                        Some(at) => at as u32,
                        None => {
                            out.names.push(frame.to_string());
                            out.names.len() as u32 - 1
                        }
                    };
                    out.nodes.push((parent, name));
                    out.self_values.push(0);
                    let id = out.nodes.len() as u32 - 1;
                    nodes.insert(key, id);
                    id
                }
            };
            parent = id + 1;
        }
        out.self_values[parent as usize - 1] += value;
    }
    out
}

/// `"a;b" -> self` of a stack list, merged.
pub fn expected(list: &[(&str, i64)]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for (path, value) in list {
        *out.entry(path.to_string()).or_insert(0) += value;
    }
    out.retain(|_, v| *v != 0);
    out
}
