"""A CPU-bound Python app profiled by the real pyroscope-io SDK, with
pyroscope-otel linking its spans to its samples and the OTel SDK sending
those spans over OTLP/HTTP. Used by crates/whyslow/tests/serve_profiles.rs.

Usage: push_cpu.py --server http://127.0.0.1:PORT --otlp http://127.0.0.1:PORT
                   --seconds N --app NAME [--basic-auth USER:PASSWORD]
With --basic-auth the SDK sends its basic-auth option (serve_auth.rs: the
token as password); the OTLP exporter takes OTEL_EXPORTER_OTLP_HEADERS.
Prints one JSON line: {"trace_id": "...", "span_id": "..."} of the span
that ran the hot loop.
"""

import argparse
import json
import time

import pyroscope
from pyroscope.otel import PyroscopeSpanProcessor
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter


def wsprof_hot_loop(until):
    x = 0
    while time.monotonic() < until:
        for i in range(2000):
            x = (x * 31 + i) % 1000003
    return x


def wsprof_cold_loop(until):
    x = 0
    while time.monotonic() < until:
        x += sum(range(200))
    return x


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--otlp", required=True)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--app", default="wsprof-app")
    parser.add_argument("--basic-auth", default=":")
    args = parser.parse_args()
    user, _, password = args.basic_auth.partition(":")

    pyroscope.configure(
        application_name=args.app,
        server_address=args.server,
        sample_rate=100,
        upload_interval=1,
        tags={"region": "test-1"},
        basic_auth_username=user,
        basic_auth_password=password,
    )
    provider = TracerProvider(resource=Resource.create({"service.name": args.app}))
    provider.add_span_processor(PyroscopeSpanProcessor())
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=args.otlp + "/v1/traces"))
    )
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("wsprof")

    start = time.monotonic()
    with tracer.start_as_current_span("hot-request") as span:
        ctx = span.get_span_context()
        wsprof_hot_loop(start + args.seconds * 0.75)
    wsprof_cold_loop(time.monotonic() + args.seconds * 0.25)
    provider.shutdown()
    # The SDK reports every upload_interval; give it two more to send the
    # last one, then shut it down (which flushes).
    time.sleep(2.5)
    pyroscope.shutdown()
    print(json.dumps({"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}))


if __name__ == "__main__":
    main()
