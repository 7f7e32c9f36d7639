#!/usr/bin/env python3
"""Sends one span over OTLP/gRPC and one over OTLP/HTTP with the official
OpenTelemetry Python SDK, with whatever headers OTEL_EXPORTER_OTLP_HEADERS
gives the exporters (e.g. `authorization=Bearer%20TOKEN`), and prints each
exporter's result. Used by crates/whyslow/tests/serve_auth.rs, and by
serve_tls.rs over TLS: https:// endpoints, OTEL_EXPORTER_OTLP_CERTIFICATE
naming the CA (REQUESTS_CA_BUNDLE, when set, overrides it for OTLP/HTTP).

    OTEL_EXPORTER_OTLP_HEADERS='authorization=Bearer%20TOKEN' \
        python send_with_token.py --grpc 127.0.0.1:4317 --http http://127.0.0.1:4318 \
        --service NAME

Prints `grpc SUCCESS|FAILURE` and `http SUCCESS|FAILURE`, one a line.
"""

import argparse
import logging

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def finished_span(service, name):
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("whyslow.auth").start_as_current_span(name):
        pass
    return memory.get_finished_spans()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--grpc", required=True)
    parser.add_argument("--http", required=True)
    parser.add_argument("--service", required=True)
    args = parser.parse_args()
    # A refused export is expected in half the runs: keep stderr short.
    logging.basicConfig(level=logging.CRITICAL)

    # Neither exporter is given headers: they read OTEL_EXPORTER_OTLP_HEADERS.
    grpc = GrpcExporter(endpoint=args.grpc, insecure=True, timeout=10)
    print("grpc", grpc.export(finished_span(args.service, "over grpc")).name, flush=True)
    grpc.shutdown()
    http = HttpExporter(endpoint=args.http + "/v1/traces", timeout=10)
    print("http", http.export(finished_span(args.service, "over http")).name, flush=True)
    http.shutdown()


if __name__ == "__main__":
    main()
