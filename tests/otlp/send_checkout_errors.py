#!/usr/bin/env python3
"""A "checkout" service instrumented with the official OpenTelemetry Python
SDK: RATE server spans a second for DURATION seconds (at most 120), every
fifth one failed (status ERROR), exported over OTLP/HTTP (protobuf). The SLO
test (crates/whyslow/tests/serve_slo.rs) plants this 20 % error rate and
expects serve's SLO burn-rate alert to fire.

    python send_checkout_errors.py --http http://127.0.0.1:4318 --rate 20 --duration 45
"""

import argparse
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", required=True)
    parser.add_argument("--rate", type=int, default=20)
    parser.add_argument("--duration", type=float, default=45)
    args = parser.parse_args()
    duration = min(args.duration, 120.0)
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{args.http}/v1/traces", timeout=10),
            schedule_delay_millis=500,
        )
    )
    tracer = provider.get_tracer("whyslow.slo-e2e", "0.1.0")
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < duration:
        for _ in range(args.rate):
            with tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER) as span:
                span.set_attribute("http.request.method", "POST")
                if sent % 5 == 0:
                    span.set_status(Status(StatusCode.ERROR, "card declined"))
                sent += 1
        time.sleep(1.0)
    provider.shutdown()
    print(sent, flush=True)


if __name__ == "__main__":
    main()
