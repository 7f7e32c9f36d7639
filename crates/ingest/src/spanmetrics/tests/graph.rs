//! Service graph: pairing client and server spans in either order,
//! messaging and database edges, `user` for root spans, expiry into virtual
//! nodes, and the bounds on waiting halves.

use super::*;
use crate::spanmetrics::{SpanMetrics, SpanMetricsOptions};
use model::{Span, SpanId, SpanKind};
use std::time::{Duration, Instant};

const EDGE: &str = r#"client="frontend", server="backend""#;

/// An edge histogram series: `le` sorts between `client` and `server`.
fn edge_bucket(family: &str, le: &str) -> String {
    format!(r#"{family}_bucket{{client="frontend", le="{le}", server="backend"}}"#)
}

#[test]
fn a_client_span_and_its_server_child_make_one_edge_in_either_order() {
    for server_first in [false, true] {
        let metrics = SpanMetrics::new(SpanMetricsOptions::default());
        let now = Instant::now();
        let client = span("frontend", "GET", SpanKind::Client, (1, 2, Some(1)), 300.0);
        let server = failed(span(
            "backend",
            "GET /",
            SpanKind::Server,
            (1, 3, Some(2)),
            250.0,
        ));
        let (first, second) = if server_first {
            (server, client)
        } else {
            (client, server)
        };
        metrics.observe(&[first], now);
        assert_eq!(metrics.stats().pending_edges, 1);
        metrics.observe(&[second], now);
        assert_eq!(metrics.stats().pending_edges, 0);
        let batch = metrics.collect(1, now);
        assert_eq!(
            value(
                &batch,
                &format!("traces_service_graph_request_total{{{EDGE}}}")
            ),
            1.0
        );
        assert_eq!(
            value(
                &batch,
                &format!("traces_service_graph_request_failed_total{{{EDGE}}}")
            ),
            1.0
        );
        let bucket = |side: &str, le: &str| {
            let family = format!("traces_service_graph_request_{side}_seconds");
            value(&batch, &edge_bucket(&family, le))
        };
        assert_eq!(
            (bucket("server", "0.2"), bucket("server", "0.4")),
            (0.0, 1.0)
        );
        assert_eq!(
            (bucket("client", "0.2"), bucket("client", "0.4")),
            (0.0, 1.0)
        );
        assert_eq!(bucket("client", "+Inf"), 1.0);
        let sum = value(
            &batch,
            &format!("traces_service_graph_request_client_seconds_sum{{{EDGE}}}"),
        );
        assert!((sum - 0.3).abs() < 1e-9);
        let exemplar_bucket = find(
            &batch,
            &edge_bucket("traces_service_graph_request_server_seconds", "0.4"),
        )
        .expect("server bucket");
        assert_eq!(
            exemplar_bucket.exemplars[0].labels.get("span_id"),
            Some(&*"03".repeat(8))
        );
    }
}

#[test]
fn producer_and_consumer_make_a_messaging_edge() {
    let metrics = SpanMetrics::new(SpanMetricsOptions::default());
    let now = Instant::now();
    metrics.observe(
        &[
            span(
                "orders",
                "publish",
                SpanKind::Producer,
                (1, 2, Some(1)),
                1.0,
            ),
            span(
                "billing",
                "process",
                SpanKind::Consumer,
                (1, 3, Some(2)),
                5.0,
            ),
        ],
        now,
    );
    let batch = metrics.collect(1, now);
    let series = r#"traces_service_graph_request_total{client="orders", connection_type="messaging_system", server="billing"}"#;
    assert_eq!(value(&batch, series), 1.0);
}

#[test]
fn a_root_server_span_is_called_by_user_at_once() {
    let metrics = SpanMetrics::new(SpanMetricsOptions::default());
    let now = Instant::now();
    metrics.observe(
        &[span(
            "frontend",
            "GET /",
            SpanKind::Server,
            (1, 1, None),
            10.0,
        )],
        now,
    );
    assert_eq!(metrics.stats().pending_edges, 0);
    let batch = metrics.collect(1, now);
    let series = r#"traces_service_graph_request_total{client="user", connection_type="virtual_node", server="frontend"}"#;
    assert_eq!(value(&batch, series), 1.0);
}

#[test]
fn a_database_client_span_is_an_edge_to_the_database_at_once() {
    let metrics = SpanMetrics::new(SpanMetricsOptions::default());
    let now = Instant::now();
    let query = with_attrs(
        span("backend", "SELECT", SpanKind::Client, (1, 4, Some(3)), 20.0),
        &[("db.system", "postgresql"), ("db.name", "orders")],
    );
    let cached = with_attrs(
        span("backend", "GET", SpanKind::Client, (1, 5, Some(3)), 1.0),
        &[("db.system", "redis"), ("server.address", "cache.local")],
    );
    metrics.observe(&[query, cached], now);
    let batch = metrics.collect(1, now);
    assert_eq!(
        value(
            &batch,
            r#"traces_service_graph_request_total{client="backend", connection_type="database", server="orders"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &batch,
            r#"traces_service_graph_request_server_seconds_bucket{client="backend", connection_type="database", le="0.1", server="cache.local"}"#
        ),
        1.0
    );
}

#[test]
fn unpaired_halves_expire_after_the_wait_into_virtual_nodes_or_nothing() {
    let options = SpanMetricsOptions {
        edge_wait: Duration::from_secs(10),
        ..SpanMetricsOptions::default()
    };
    let metrics = SpanMetrics::new(options);
    let start = Instant::now();
    metrics.observe(
        &[
            with_attrs(
                span("frontend", "pay", SpanKind::Client, (1, 2, Some(1)), 100.0),
                &[("peer.service", "payments-api")],
            ),
            span("frontend", "GET", SpanKind::Client, (1, 3, Some(1)), 100.0),
            span("backend", "GET /", SpanKind::Server, (2, 4, Some(7)), 100.0),
        ],
        start,
    );
    let early = metrics.collect(1, start + Duration::from_secs(9));
    assert!(early
        .series
        .iter()
        .all(|s| s.labels.get("client").is_none()));
    assert_eq!(metrics.stats().pending_edges, 3);

    let late = metrics.collect(2, start + Duration::from_secs(10));
    let virtual_edge = r#"traces_service_graph_request_total{client="frontend", connection_type="virtual_node", server="payments-api"}"#;
    assert_eq!(value(&late, virtual_edge), 1.0);
    let stats = metrics.stats();
    assert_eq!((stats.pending_edges, stats.unpaired_edge_spans), (0, 2));
    // A server span that comes after its client expired is not paired with it.
    metrics.observe(
        &[span(
            "payments",
            "pay",
            SpanKind::Server,
            (1, 9, Some(2)),
            1.0,
        )],
        start + Duration::from_secs(11),
    );
    assert_eq!(metrics.stats().pending_edges, 1);
}

#[test]
fn waiting_halves_are_bounded_and_the_excess_is_dropped() {
    let options = SpanMetricsOptions {
        max_pending_edges: 10,
        ..SpanMetricsOptions::default()
    };
    let metrics = SpanMetrics::new(options);
    let now = Instant::now();
    let spans: Vec<Span> = (0..50)
        .map(|i| span("a", "call", SpanKind::Client, (i, i, Some(200)), 1.0))
        .collect();
    metrics.observe(&spans, now);
    let stats = metrics.stats();
    assert_eq!((stats.pending_edges, stats.dropped_edge_spans), (10, 40));
}

#[test]
fn many_paired_edges_keep_the_expiry_queue_bounded() {
    let options = SpanMetricsOptions {
        max_pending_edges: 4,
        ..SpanMetricsOptions::default()
    };
    let metrics = SpanMetrics::new(options);
    let now = Instant::now();
    for i in 0..20_000u32 {
        let mut client = span("a", "c", SpanKind::Client, (1, 0, Some(0)), 1.0);
        client.span_id = SpanId(u64::from(i + 1).to_be_bytes());
        let mut server = span("b", "s", SpanKind::Server, (1, 0, None), 1.0);
        server.parent_span_id = Some(client.span_id);
        metrics.observe(&[client, server], now);
    }
    let batch = metrics.collect(1, now);
    assert_eq!(
        value(
            &batch,
            r#"traces_service_graph_request_total{client="a", server="b"}"#
        ),
        20_000.0
    );
    let graph = lock(&metrics.graph);
    assert_eq!(graph.pending(), 0);
    assert!(graph.queued() <= 4 * 4 + 1024 + 1, "{}", graph.queued());
}
