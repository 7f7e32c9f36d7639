//! Service-graph metrics as Tempo's metrics-generator names them:
//! `traces_service_graph_request_total`, `…_request_failed_total` and the
//! histograms `…_request_server_seconds` and `…_request_client_seconds`
//! (buckets 0.1·2^k s), labels `client`, `server`, `connection_type`.
//!
//! An edge is a CLIENT (or PRODUCER) span and the SERVER (or CONSUMER) span
//! whose parent is that client span, in the same trace. The first half to
//! arrive waits in a bounded map ([`EdgeWait`]) for the other for up to
//! `wait`; when it expires unpaired it may still become an edge to a
//! *virtual node* (`connection_type="virtual_node"`): a client span naming
//! its peer (`peer.service`, `db.name`, `db.system`) gets that as server. A
//! root SERVER span (no parent) is an edge from client `user` at once (Tempo
//! emits it when the half expires; same series, 10 s sooner). A CLIENT span
//! with `db.name` or `db.system` is a `database` edge at once when it names
//! the database (`peer.service`, `server.address`, `network.peer.address`
//! [`:port`], `db.name`). An edge failed when either half has error status.

pub use super::edge::{edge_span, ConnectionType, EdgeSpan};

use super::edge::Half;
use super::hash::KeyedState;
use super::histogram::{
    plain, series_labels, ExemplarData, Histogram, Snapshot, SERVICE_GRAPH_BUCKETS_S,
};
use super::red::OVERFLOW_LABEL;
use super::table::Table;
use model::metrics::{Label, TimeSeries};
use model::{SpanId, TraceId};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counter of requests between two nodes.
pub const REQUEST_TOTAL: &str = "traces_service_graph_request_total";
/// Counter of failed requests between two nodes.
pub const REQUEST_FAILED_TOTAL: &str = "traces_service_graph_request_failed_total";
/// Histogram family of request time seen by the server, seconds.
pub const REQUEST_SERVER_SECONDS: &str = "traces_service_graph_request_server_seconds";
/// Histogram family of request time seen by the client, seconds.
pub const REQUEST_CLIENT_SECONDS: &str = "traces_service_graph_request_client_seconds";

struct Pending {
    seq: u64,
    trace_id: TraceId,
    client: Option<Half>,
    server: Option<Half>,
    connection: ConnectionType,
    failed: bool,
    peer_node: Option<String>,
}

/// `(client, server, connection type)` of an edge series.
pub type EdgeKey = (Box<str>, Box<str>, ConnectionType);

struct EdgeSeries {
    /// `None` for the overflow series.
    key: Option<Arc<EdgeKey>>,
    total: u64,
    failed: u64,
    server: Histogram,
    client: Histogram,
}

/// Unpaired halves waiting for their other side, and the edge series.
pub struct EdgeWait {
    pending: HashMap<(TraceId, SpanId), Pending, KeyedState>,
    /// Insertion order with deadlines; entries whose `seq` no longer matches
    /// the map were paired already and are skipped.
    order: VecDeque<(Instant, u64, (TraceId, SpanId))>,
    next_seq: u64,
    wait: Duration,
    max_pending: usize,
    edges: Table<EdgeSeries>,
    /// Halves refused because `max_pending` were waiting.
    pub dropped: u64,
    /// Halves that expired without becoming an edge.
    pub unpaired: u64,
}

impl EdgeWait {
    /// Halves wait `wait`, at most `max_pending` at once; at most
    /// `max_edges` edge series.
    pub fn new(wait: Duration, max_pending: usize, max_edges: usize, max_key_bytes: usize) -> Self {
        Self {
            pending: HashMap::with_hasher(KeyedState::default()),
            order: VecDeque::new(),
            next_seq: 0,
            wait,
            max_pending,
            edges: Table::new(max_edges, max_key_bytes),
            dropped: 0,
            unpaired: 0,
        }
    }

    /// Halves waiting now.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Entries in the expiry queue (paired ones linger until compacted).
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.order.len()
    }

    /// Edge series held (without the overflow series).
    pub fn edges(&self) -> usize {
        self.edges.series()
    }

    /// Adds one half at `now` (expiring what is due first).
    pub fn add(&mut self, mut span: EdgeSpan, now: Instant) {
        self.expire(now);
        if span.root {
            let mut edge = pending_of(span, 0);
            edge.connection = ConnectionType::VirtualNode;
            self.complete(&edge, Some("user"), None);
            return;
        }
        if let Some(database) = span.database.take() {
            let edge = pending_of(span, 0);
            self.complete(&edge, None, Some(&database));
            return;
        }
        if let Some(waiting) = self.pending.get_mut(&span.key) {
            if span.client_side {
                waiting.client = Some(span.half);
                waiting.peer_node = span.peer_node;
                waiting.connection = span.connection;
            } else {
                waiting.server = Some(span.half);
                if span.connection == ConnectionType::MessagingSystem {
                    waiting.connection = span.connection;
                }
            }
            waiting.failed |= span.failed;
            if waiting.client.is_some() && waiting.server.is_some() {
                if let Some(done) = self.pending.remove(&span.key) {
                    self.complete(&done, None, None);
                }
            }
            return;
        }
        if self.pending.len() >= self.max_pending {
            self.dropped += 1;
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = span.key;
        self.order.push_back((now + self.wait, seq, key));
        self.pending.insert(key, pending_of(span, seq));
        if self.order.len() > 4 * self.max_pending + 1024 {
            let pending = &self.pending;
            self.order
                .retain(|(_, seq, key)| pending.get(key).is_some_and(|p| p.seq == *seq));
        }
    }

    /// Ends the wait of halves older than `wait` at `now`: a client half
    /// naming its peer becomes an edge to that virtual node; others are
    /// counted as unpaired.
    pub fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, seq, key)) = self.order.front() {
            if deadline > now {
                break;
            }
            self.order.pop_front();
            if self.pending.get(&key).is_none_or(|p| p.seq != seq) {
                continue;
            }
            let Some(mut edge) = self.pending.remove(&key) else {
                continue;
            };
            edge.connection = ConnectionType::VirtualNode;
            match (&edge.client, &edge.server, edge.peer_node.take()) {
                (Some(_), None, Some(peer)) => self.complete(&edge, None, Some(&peer)),
                _ => self.unpaired += 1,
            }
        }
    }

    /// Records a finished edge; `client`/`server` name a side that has no half.
    fn complete(&mut self, edge: &Pending, client: Option<&str>, server: Option<&str>) {
        fn name(half: &Option<Half>) -> &str {
            half.as_ref()
                .map_or("", |h| h.resource.service_name.as_str())
        }
        let client_name = client.unwrap_or_else(|| name(&edge.client));
        let server_name = server.unwrap_or_else(|| name(&edge.server));
        let connection = edge.connection;
        let hash = self.edges.hash((client_name, server_name, connection));
        let index = self.edges.find_or_insert(
            hash,
            |e| {
                e.key.as_deref().is_some_and(|(c, s, t)| {
                    *t == connection && &**c == client_name && &**s == server_name
                })
            },
            client_name.len() + server_name.len(),
            || {
                EdgeSeries::new(Some(Arc::new((
                    client_name.into(),
                    server_name.into(),
                    connection,
                ))))
            },
            || EdgeSeries::new(None),
        );
        let Some(series) = self.edges.get_mut(index) else {
            return;
        };
        series.total += 1;
        series.failed += u64::from(edge.failed);
        // A database edge is timed by its client span on both sides, as Tempo does.
        let server_half = edge
            .server
            .as_ref()
            .or(if connection == ConnectionType::Database {
                edge.client.as_ref()
            } else {
                None
            });
        let trace_id = edge.trace_id;
        let observe = |histogram: &mut Histogram, half: Option<&Half>| {
            let seconds = half.map_or(0.0, |h| h.seconds);
            let exemplar = half.map(|h| ExemplarData {
                trace_id,
                span_id: Some(h.span_id),
                value: seconds,
                timestamp_ms: h.end_ms,
            });
            histogram.observe(&SERVICE_GRAPH_BUCKETS_S, seconds, exemplar);
        };
        observe(&mut series.server, server_half);
        observe(&mut series.client, edge.client.as_ref());
    }

    /// The values of every edge series at `timestamp_ms` (cheap; see
    /// [`GraphSnapshot::write`]).
    pub fn snapshot(&mut self, timestamp_ms: i64) -> GraphSnapshot {
        GraphSnapshot(
            self.edges
                .entries_mut()
                .filter(|series| series.total > 0)
                .map(|series| EdgeValues {
                    key: series.key.clone(),
                    total: series.total,
                    failed: series.failed,
                    server: series.server.snapshot(timestamp_ms),
                    client: series.client.snapshot(timestamp_ms),
                })
                .collect(),
        )
    }
}

struct EdgeValues {
    key: Option<Arc<EdgeKey>>,
    total: u64,
    failed: u64,
    server: Snapshot,
    client: Snapshot,
}

/// Service-graph values at one flush, detached from the live table.
pub struct GraphSnapshot(Vec<EdgeValues>);

impl GraphSnapshot {
    /// Appends the edge series at `timestamp_ms`.
    pub fn write(&self, timestamp_ms: i64, out: &mut Vec<TimeSeries>) {
        for edge in &self.0 {
            let labels = edge_labels(edge.key.as_deref());
            out.push(plain(
                series_labels(REQUEST_TOTAL, &labels, None),
                timestamp_ms,
                edge.total as f64,
            ));
            out.push(plain(
                series_labels(REQUEST_FAILED_TOTAL, &labels, None),
                timestamp_ms,
                edge.failed as f64,
            ));
            let bounds = &SERVICE_GRAPH_BUCKETS_S;
            edge.server
                .write(REQUEST_SERVER_SECONDS, bounds, &labels, timestamp_ms, out);
            edge.client
                .write(REQUEST_CLIENT_SECONDS, bounds, &labels, timestamp_ms, out);
        }
    }
}

fn pending_of(span: EdgeSpan, seq: u64) -> Pending {
    let (client, server) = if span.client_side {
        (Some(span.half), None)
    } else {
        (None, Some(span.half))
    };
    Pending {
        seq,
        trace_id: span.key.0,
        client,
        server,
        connection: span.connection,
        failed: span.failed,
        peer_node: span.peer_node,
    }
}

impl EdgeSeries {
    fn new(key: Option<Arc<EdgeKey>>) -> Self {
        Self {
            key,
            total: 0,
            failed: 0,
            server: Histogram::new(&SERVICE_GRAPH_BUCKETS_S),
            client: Histogram::new(&SERVICE_GRAPH_BUCKETS_S),
        }
    }
}

/// The labels of an edge key (without `__name__`).
fn edge_labels(key: Option<&EdgeKey>) -> Vec<Label> {
    let label = |name: &str, value: &str| Label {
        name: name.to_string(),
        value: value.to_string(),
    };
    match key {
        Some((client, server, connection)) => vec![
            label("client", client),
            label("connection_type", connection.label()),
            label("server", server),
        ],
        None => vec![label(OVERFLOW_LABEL, "true")],
    }
}
