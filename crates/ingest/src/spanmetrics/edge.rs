//! The edge half a span brings to the service graph, read without any lock:
//! which side it is (CLIENT/PRODUCER or SERVER/CONSUMER), the key it pairs
//! on (trace id and the client's span id), its duration and status, and for
//! client spans the peer it names (`peer.service`, `db.name`, `db.system`)
//! and, for database calls, the database's node name as Tempo picks it
//! (`peer.service`, `server.address`, `network.peer.address[:port]`,
//! `db.name`; resource attributes first).

use model::{AttrValue, KeyValue, Resource, Span, SpanId, SpanKind, StatusCode, TraceId};
use std::sync::Arc;

/// `connection_type` label values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionType {
    /// Service to service (label absent).
    Direct,
    /// Producer to consumer.
    MessagingSystem,
    /// Client span to a database.
    Database,
    /// One side is not instrumented.
    VirtualNode,
}

impl ConnectionType {
    /// The label value ("" for a direct call: no label).
    pub fn label(self) -> &'static str {
        match self {
            Self::Direct => "",
            Self::MessagingSystem => "messaging_system",
            Self::Database => "database",
            Self::VirtualNode => "virtual_node",
        }
    }
}

/// One side of an edge.
#[derive(Debug, Clone)]
pub(super) struct Half {
    pub(super) resource: Arc<Resource>,
    pub(super) span_id: SpanId,
    pub(super) seconds: f64,
    pub(super) end_ms: i64,
}

/// What a client, producer, server or consumer span brings to an edge;
/// extracted without holding the lock.
#[derive(Debug, Clone)]
pub struct EdgeSpan {
    pub(super) key: (TraceId, SpanId),
    pub(super) client_side: bool,
    pub(super) root: bool,
    pub(super) connection: ConnectionType,
    pub(super) failed: bool,
    pub(super) half: Half,
    /// Client spans: the first of `peer.service`, `db.name`, `db.system`.
    pub(super) peer_node: Option<String>,
    /// Database client spans: the database's node name, when one is given.
    pub(super) database: Option<String>,
}

/// The attributes an edge reads, found in one pass over a list.
#[derive(Default)]
struct PeerAttrs<'a> {
    peer_service: Option<&'a AttrValue>,
    db_name: Option<&'a AttrValue>,
    db_system: Option<&'a AttrValue>,
    server_address: Option<&'a AttrValue>,
    peer_address: Option<&'a AttrValue>,
    peer_port: Option<&'a AttrValue>,
}

impl<'a> PeerAttrs<'a> {
    fn of(attrs: &'a [KeyValue]) -> Self {
        let mut found = Self::default();
        for kv in attrs {
            let slot = match kv.key.as_str() {
                "peer.service" => &mut found.peer_service,
                "db.name" => &mut found.db_name,
                "db.system" => &mut found.db_system,
                "server.address" => &mut found.server_address,
                "network.peer.address" => &mut found.peer_address,
                "network.peer.port" => &mut found.peer_port,
                _ => continue,
            };
            slot.get_or_insert(&kv.value);
        }
        found
    }
}

/// A non-empty text value.
fn text(value: Option<&AttrValue>) -> Option<String> {
    value.map(AttrValue::to_text).filter(|t| !t.is_empty())
}

/// The edge half of `span`, or `None` for internal and unspecified spans.
pub fn edge_span(span: &Span) -> Option<EdgeSpan> {
    let (client_side, messaging) = match span.kind {
        SpanKind::Client => (true, false),
        SpanKind::Producer => (true, true),
        SpanKind::Server => (false, false),
        SpanKind::Consumer => (false, true),
        SpanKind::Internal | SpanKind::Unspecified => return None,
    };
    let parent = span.parent_span_id.filter(|p| !p.is_zero());
    let key = if client_side {
        (span.trace_id, span.span_id)
    } else {
        (span.trace_id, parent.unwrap_or_default())
    };
    let mut edge = EdgeSpan {
        key,
        client_side,
        root: !client_side && parent.is_none(),
        connection: if messaging {
            ConnectionType::MessagingSystem
        } else {
            ConnectionType::Direct
        },
        failed: span.status.code == StatusCode::Error,
        half: Half {
            resource: Arc::clone(&span.resource),
            span_id: span.span_id,
            seconds: span.duration_nanos() as f64 / 1e9,
            end_ms: i64::try_from(span.end_unix_nano / 1_000_000).unwrap_or(i64::MAX),
        },
        peer_node: None,
        database: None,
    };
    if client_side {
        let on_span = PeerAttrs::of(&span.attributes);
        edge.peer_node = text(on_span.peer_service)
            .or_else(|| text(on_span.db_name))
            .or_else(|| text(on_span.db_system));
        if on_span.db_name.is_some() || on_span.db_system.is_some() || has_db(&span.resource) {
            // Resource attributes first, as Tempo looks them up.
            let on_resource = PeerAttrs::of(&span.resource.attributes);
            let pick = |get: for<'b> fn(&PeerAttrs<'b>) -> Option<&'b AttrValue>| {
                text(get(&on_resource)).or_else(|| text(get(&on_span)))
            };
            edge.connection = ConnectionType::Database;
            let address = pick(|a| a.peer_address).map(|host| match pick(|a| a.peer_port) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            });
            edge.database = pick(|a| a.peer_service)
                .or_else(|| pick(|a| a.server_address))
                .or(address)
                .or_else(|| pick(|a| a.db_name));
        }
    }
    Some(edge)
}

/// Whether a resource says its spans talk to a database (`db.name`/`db.system`).
fn has_db(resource: &Resource) -> bool {
    resource
        .attributes
        .iter()
        .any(|kv| kv.key == "db.name" || kv.key == "db.system")
}
