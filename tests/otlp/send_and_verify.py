#!/usr/bin/env python3
"""Sends traces to `whyslow serve` with the official OpenTelemetry Python SDK and
checks that every field comes back through the query API.

Over OTLP/gRPC (gzip) and OTLP/HTTP (protobuf), one trace each: a server span
with nested client/internal/producer children, attributes of every type the SDK
allows, events, a recorded exception, an error status, a link to a span of
another trace and one to a remote span context (link flags: has-is-remote,
is-remote, sampled), from a tracer with instrumentation-scope attributes. The
expected OTLP JSON is computed with the SDK's own encoder (`encode_spans` +
protobuf's `MessageToDict`), then compared field by field with
`GET /api/v3/traces/{id}`; `GET /api/traces/{id}` (Jaeger JSON, link flags and
scope tags included) and `GET /api/traces?service=` are checked too.

    python send_and_verify.py --grpc 127.0.0.1:4317 --http http://127.0.0.1:4318 \
        --query http://127.0.0.1:16686

With `--ca FILE` every connection is TLS trusting that CA: gRPC with channel
credentials, https:// URLs for OTLP/HTTP and the query API.

Exit status 0 when everything matched; the failures are printed otherwise.
"""

import argparse
import base64
import json
import os
import ssl
import sys
import time
import urllib.request

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

import grpc

FAILURES = []
# The TLS context of --ca for the query API (None: plain http).
SSL_CONTEXT = None


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print(f"FAIL: {what}", file=sys.stderr)


def record_spans(service):
    """Runs a small instrumented 'checkout' and returns the SDK's finished spans."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": service, "deployment.environment.name": "e2e", "host.name": "h1"}
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer(
        "whyslow.e2e",
        "0.1.0",
        schema_url="https://opentelemetry.io/schemas/1.26.0",
        attributes={"scope.team": "payments", "scope.shard": 3, "scope.canary": True},
    )
    # A context propagated from another process: the link's flags say "remote".
    remote = SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
        span_id=0x00F067AA0BA902B7,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )

    background = tracer.start_span("refresh cache", kind=SpanKind.CONSUMER)
    background.end()
    with tracer.start_as_current_span(
        "GET /checkout",
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": "GET",
            "http.route": "/checkout",
            "http.response.status_code": 500,
            "retry": False,
            "ratio": 0.25,
            "tags": ["a", "b"],
            "ids": [1, 2, 3],
            "flags": [True, False],
            "weights": [0.5, 1.5],
        },
    ) as root:
        root.add_event("request.received", {"bytes": 512, "client": "curl"})
        with tracer.start_as_current_span(
            "charge card",
            kind=SpanKind.CLIENT,
            links=[
                Link(background.get_span_context(), {"link.reason": "triggered-by"}),
                Link(remote, {"link.reason": "remote-caller"}),
            ],
            attributes={"payment.provider": "acme", "amount": 12.5},
        ) as charge:
            with tracer.start_as_current_span(
                "SELECT cards", kind=SpanKind.INTERNAL, attributes={"db.system.name": "postgresql"}
            ):
                time.sleep(0.002)
            try:
                raise ValueError("card declined")
            except ValueError as error:
                charge.record_exception(error)
                charge.set_status(Status(StatusCode.ERROR, "card declined"))
        with tracer.start_as_current_span("publish receipt", kind=SpanKind.PRODUCER) as publish:
            publish.set_status(Status(StatusCode.OK))
        root.set_status(Status(StatusCode.ERROR, "payment failed"))
    provider.shutdown()
    return memory.get_finished_spans()


def b64_to_hex(text):
    return base64.b64decode(text).hex()


def expected_otlp(spans):
    """The OTLP JSON the SDK's encoder produces for `spans`, ids as hex."""
    request = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource_spans in request.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = b64_to_hex(span[key])
                for link in span.get("links", []):
                    link["traceId"] = b64_to_hex(link["traceId"])
                    link["spanId"] = b64_to_hex(link["spanId"])
    return request


ANY_VALUE_KEYS = {"stringValue", "boolValue", "intValue", "doubleValue", "bytesValue"}


def normalize(value, key=None):
    """Drops proto3 default values (absent and default are the same), keeping AnyValue scalars."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = normalize(v, k)
            if k in ANY_VALUE_KEYS or v not in ("", 0, "0", [], {}, None, False):
                out[k] = v
        return out
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def spans_by_id(traces_data):
    """spanId → (span, resource, scope) from an OTLP JSON TracesData."""
    out = {}
    for resource_spans in traces_data.get("resourceSpans", []):
        resource = normalize(resource_spans.get("resource", {}))
        for scope_spans in resource_spans.get("scopeSpans", []):
            scope = normalize(scope_spans.get("scope", {}))
            for span in scope_spans.get("spans", []):
                out[span["spanId"]] = (normalize(span), resource, scope)
    return out


def get_json(url):
    with urllib.request.urlopen(url, timeout=10, context=SSL_CONTEXT) as response:
        return json.load(response)


def verify(query, spans, service):
    expected = spans_by_id(expected_otlp(spans))
    trace_ids = sorted({span.get_span_context().trace_id for span in spans})
    for trace_id in trace_ids:
        hex_id = f"{trace_id:032x}"
        got = spans_by_id(get_json(f"{query}/api/v3/traces/{hex_id}")["result"])
        want = {k: v for k, v in expected.items() if v[0]["traceId"] == hex_id}
        check(set(got) == set(want), f"{service}: spans of trace {hex_id}: got {sorted(got)}, want {sorted(want)}")
        for span_id, (want_span, want_resource, want_scope) in want.items():
            if span_id not in got:
                continue
            got_span, got_resource, got_scope = got[span_id]
            for field in sorted(set(want_span) | set(got_span)):
                check(
                    got_span.get(field) == want_span.get(field),
                    f"{service}: span {want_span['name']!r} field {field}: "
                    f"got {json.dumps(got_span.get(field))}, want {json.dumps(want_span.get(field))}",
                )
            check(got_resource == want_resource, f"{service}: resource: got {got_resource}, want {want_resource}")
            check(got_scope == want_scope, f"{service}: scope: got {got_scope}, want {want_scope}")
        verify_jaeger(query, hex_id, want, service)

    search = get_json(f"{query}/api/traces?service={service}&limit=20&lookback=1h")
    found = {t["traceID"] for t in search["data"]}
    for trace_id in trace_ids:
        check(f"{trace_id:032x}" in found, f"{service}: search by service did not find trace {trace_id:032x}")


def verify_jaeger(query, hex_id, want, service):
    """The Jaeger JSON view of the same spans: names, times, references (with link
    flags), kinds, errors, logs, and the instrumentation scope as tags."""
    data = get_json(f"{query}/api/traces/{hex_id}")["data"]
    check(len(data) == 1, f"{service}: /api/traces/{hex_id} returned {len(data)} traces")
    if not data:
        return
    trace = data[0]
    jaeger_spans = {s["spanID"]: s for s in trace["spans"]}
    for span_id, (span, _, scope) in want.items():
        got = jaeger_spans.get(span_id)
        check(got is not None, f"{service}: Jaeger view lacks span {span['name']!r}")
        if got is None:
            continue
        start = int(span["startTimeUnixNano"])
        end = int(span["endTimeUnixNano"])
        check(got["operationName"] == span["name"], f"{service}: operationName of {span['name']!r}")
        check(got["startTime"] == start // 1000, f"{service}: startTime of {span['name']!r}")
        check(got["duration"] == (end - start) // 1000, f"{service}: duration of {span['name']!r}")
        process = trace["processes"][got["processID"]]
        check(process["serviceName"] == service, f"{service}: serviceName {process['serviceName']!r}")
        refs = [(r["refType"], r["spanID"]) for r in got["references"]]
        if "parentSpanId" in span:
            check(("CHILD_OF", span["parentSpanId"]) in refs, f"{service}: parent of {span['name']!r}: {refs}")
        for link in span.get("links", []):
            check(("FOLLOWS_FROM", link["spanId"]) in refs, f"{service}: link of {span['name']!r}: {refs}")
            flags = [r.get("flags") for r in got["references"] if r["spanID"] == link["spanId"]]
            check(flags == [link.get("flags", 0)], f"{service}: link flags of {span['name']!r}: {flags} vs {link}")
        tags = {t["key"]: t["value"] for t in got["tags"]}
        check(tags.get("otel.scope.name") == scope.get("name"), f"{service}: otel.scope.name of {span['name']!r}")
        check(tags.get("otel.scope.version") == scope.get("version"), f"{service}: otel.scope.version")
        for attribute in scope.get("attributes", []):
            key = f"otel.scope.attributes.{attribute['key']}"
            value = attribute["value"]
            scalar = value.get("stringValue", value.get("boolValue"))
            if "intValue" in value:
                scalar = int(value["intValue"])
            check(tags.get(key) == scalar, f"{service}: scope tag {key}: {tags.get(key)!r} vs {value}")
        kinds = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
        check(tags.get("span.kind") == kinds[span["kind"]], f"{service}: span.kind of {span['name']!r}")
        if span.get("status", {}).get("code") == 2:
            check(tags.get("error") is True, f"{service}: error tag of {span['name']!r}")
            check(
                tags.get("otel.status_description") == span["status"]["message"],
                f"{service}: status message of {span['name']!r}",
            )
        for attribute in span.get("attributes", []):
            value = attribute["value"]
            if "stringValue" in value:
                check(tags.get(attribute["key"]) == value["stringValue"], f"{service}: tag {attribute['key']}")
            elif "intValue" in value:
                check(tags.get(attribute["key"]) == int(value["intValue"]), f"{service}: tag {attribute['key']}")
            elif "boolValue" in value or "doubleValue" in value:
                scalar = value.get("boolValue", value.get("doubleValue"))
                check(tags.get(attribute["key"]) == scalar, f"{service}: tag {attribute['key']}")
        logs = [next(f["value"] for f in log["fields"] if f["key"] == "event") for log in got["logs"]]
        check(logs == [e["name"] for e in span.get("events", [])], f"{service}: logs of {span['name']!r}: {logs}")


def export(exporter, spans, transport):
    result = exporter.export(spans)
    check(result == SpanExportResult.SUCCESS, f"{transport}: export returned {result}")
    exporter.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grpc", required=True, help="OTLP/gRPC host:port")
    parser.add_argument("--http", required=True, help="OTLP/HTTP base URL")
    parser.add_argument("--query", help="query API base URL (skip read-back when absent)")
    parser.add_argument("--ca", help="PEM CA file: speak TLS everywhere, trusting it")
    args = parser.parse_args()

    global SSL_CONTEXT
    tls = {"insecure": True}
    http_tls = {}
    if args.ca:
        with open(args.ca, "rb") as ca:
            tls = {"insecure": False, "credentials": grpc.ssl_channel_credentials(ca.read())}
        http_tls = {"certificate_file": args.ca}
        # requests lets REQUESTS_CA_BUNDLE (set on many machines) win over a
        # session's own CA file, which is how the HTTP exporter passes it.
        os.environ["REQUESTS_CA_BUNDLE"] = args.ca
        SSL_CONTEXT = ssl.create_default_context(cafile=args.ca)

    sent = []
    grpc_spans = record_spans("e2e-grpc")
    export(
        GrpcExporter(endpoint=args.grpc, compression=grpc.Compression.Gzip, timeout=10, **tls),
        grpc_spans,
        "gRPC",
    )
    sent.append(("e2e-grpc", grpc_spans))
    http_spans = record_spans("e2e-http")
    export(
        HttpExporter(
            endpoint=f"{args.http}/v1/traces",
            compression=HttpCompression.NoCompression,
            timeout=10,
            **http_tls,
        ),
        http_spans,
        "HTTP",
    )
    sent.append(("e2e-http", http_spans))
    count = sum(len(spans) for _, spans in sent)
    print(f"sent {count} spans over gRPC and HTTP")

    if args.query:
        for service, spans in sent:
            verify(args.query, spans, service)
        if not FAILURES:
            print(f"read back {count} spans: every field matches")
    if FAILURES:
        print(f"{len(FAILURES)} mismatches", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
