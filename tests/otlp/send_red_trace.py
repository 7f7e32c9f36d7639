#!/usr/bin/env python3
"""Sends one trace across three services with the official OpenTelemetry Python
SDK over OTLP/HTTP (protobuf), for the span-metrics test
(crates/ingest/tests/spanmetrics_python.rs) to check the RED and service-graph
series derived from it.

frontend: SERVER "GET /checkout" (root) -> CLIENT "POST /orders"
  orders: SERVER "POST /orders" (error) -> CLIENT "INSERT orders"
          (db.system=postgresql, db.name=orders_db)
       -> CLIENT "GET /stock" -> inventory: SERVER "GET /stock"

Each service has its own TracerProvider (its own resource); the parent context
crosses "process" boundaries as a remote SpanContext, as W3C propagation would
carry it. Prints one JSON line: the trace id and each span's id by name.

    python send_red_trace.py --http http://127.0.0.1:4318
"""

import argparse
import json
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags


class Checked(OTLPSpanExporter):
    """Fails loudly when the receiver refuses an export."""

    def export(self, spans):
        result = super().export(spans)
        if result != SpanExportResult.SUCCESS:
            raise SystemExit(f"export of {len(spans)} spans failed: {result}")
        return result


def tracer(service, endpoint, providers):
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        SimpleSpanProcessor(Checked(endpoint=f"{endpoint}/v1/traces", timeout=10))
    )
    providers.append(provider)
    return provider.get_tracer("whyslow.red-e2e", "0.1.0")


def remote(span):
    """The span's context as the next process would receive it."""
    ctx = span.get_span_context()
    parent = SpanContext(
        trace_id=ctx.trace_id,
        span_id=ctx.span_id,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(parent))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", required=True, help="OTLP/HTTP base URL")
    args = parser.parse_args()
    providers = []
    frontend = tracer("frontend", args.http, providers)
    orders = tracer("orders", args.http, providers)
    inventory = tracer("inventory", args.http, providers)
    ids = {}

    def keep(span):
        ids[span.name] = ids.get(span.name, []) + [f"{span.get_span_context().span_id:016x}"]

    with frontend.start_as_current_span("GET /checkout", kind=SpanKind.SERVER) as root:
        keep(root)
        time.sleep(0.003)
        with frontend.start_as_current_span("POST /orders", kind=SpanKind.CLIENT) as call:
            keep(call)
            with orders.start_as_current_span(
                "POST /orders", kind=SpanKind.SERVER, context=remote(call)
            ) as handler:
                keep(handler)
                with orders.start_as_current_span(
                    "INSERT orders",
                    kind=SpanKind.CLIENT,
                    attributes={"db.system": "postgresql", "db.name": "orders_db"},
                ) as query:
                    keep(query)
                    time.sleep(0.002)
                with orders.start_as_current_span("GET /stock", kind=SpanKind.CLIENT) as stock:
                    keep(stock)
                    with inventory.start_as_current_span(
                        "GET /stock", kind=SpanKind.SERVER, context=remote(stock)
                    ) as check:
                        keep(check)
                        time.sleep(0.001)
                handler.set_status(Status(StatusCode.ERROR, "out of stock"))
    for provider in providers:
        provider.shutdown()
    print(json.dumps({"trace_id": f"{root.get_span_context().trace_id:032x}", "spans": ids}))


if __name__ == "__main__":
    main()
