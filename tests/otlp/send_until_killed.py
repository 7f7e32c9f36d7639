#!/usr/bin/env python3
"""Sends traces with the official OpenTelemetry Python SDK's OTLP/HTTP exporter
until the server stops answering, and prints the id of every trace the server
acknowledged (the exporter returned SUCCESS), one per line, as it happens.

Used by crates/whyslow/tests/serve_clickhouse.rs: the test kills the `serve`
instance with -9 while THREADS senders export, then checks that every printed
trace can be read from another instance.

    python send_until_killed.py --http http://127.0.0.1:4318 --seconds 10 --threads 8
"""

import argparse
import sys
import threading
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

PRINT = threading.Lock()


def one_trace(tracer, memory):
    """A 3-span trace (web → db → fetch); its finished spans and trace id."""
    memory.clear()
    with tracer.start_as_current_span("GET /cart", kind=SpanKind.SERVER) as root:
        with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT):
            with tracer.start_as_current_span("fetch", kind=SpanKind.INTERNAL):
                pass
    return memory.get_finished_spans(), root.get_span_context().trace_id


def sender(endpoint, deadline):
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-crash-test"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("whyslow.e2e")
    # A short timeout: once the server is gone the exporter gives up quickly.
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=3)
    while time.time() < deadline:
        spans, trace_id = one_trace(tracer, memory)
        try:
            result = exporter.export(spans)
        except Exception:  # the connection dropped mid-request
            return
        if result != SpanExportResult.SUCCESS:
            return
        with PRINT:
            print(f"{trace_id:032x}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    deadline = time.time() + args.seconds
    threads = [threading.Thread(target=sender, args=(args.http, deadline)) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
