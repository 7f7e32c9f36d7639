#!/usr/bin/env python3
"""Sends metrics to an OTLP receiver with the official OpenTelemetry Python SDK.

One meter ("shop.meter" 1.0) on a resource with service.namespace "shop",
service.name SERVICE, service.instance.id "inst-1" and host.name "h1" records,
in two collection rounds (each flushed to the exporter):

  shop.orders              Counter        {order}  card: 3, then +2          -> 5
  shop.queue.size          UpDownCounter  {item}   +5 -2, then +1            -> 4
  http.server.request.duration Histogram  s        0.1 0.3 2.0, then 0.2 (inside a span: exemplars)
  payload.size             Histogram (exponential view) By  100 1000 5000, then 50
  room.temperature         Gauge          Cel      21.5
  process.cpu.utilization  ObservableGauge 1       0.25

with CUMULATIVE or DELTA temporality for counters, up-down counters and
histograms, over OTLP/gRPC or OTLP/HTTP (protobuf, gzip):

    python send_metrics.py --grpc 127.0.0.1:4317 --service checkout --temporality delta
    python send_metrics.py --http http://127.0.0.1:4318 --service checkout --temporality cumulative

Exit status 0 when every export succeeded.
"""

import argparse
import sys

from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider


def exporter_class(args):
    if args.grpc:
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter, {"endpoint": args.grpc, "insecure": True}
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter, {
        "endpoint": args.http.rstrip("/") + "/v1/metrics",
        "compression": Compression.Gzip,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--grpc")
    parser.add_argument("--http")
    parser.add_argument("--service", required=True)
    parser.add_argument("--temporality", choices=["cumulative", "delta"], required=True)
    args = parser.parse_args()
    if bool(args.grpc) == bool(args.http):
        parser.error("give exactly one of --grpc and --http")

    temporality = (
        AggregationTemporality.DELTA
        if args.temporality == "delta"
        else AggregationTemporality.CUMULATIVE
    )
    preferred = {
        Counter: temporality,
        UpDownCounter: temporality,
        Histogram: temporality,
        ObservableCounter: temporality,
        ObservableUpDownCounter: temporality,
    }
    results = []
    base, options = exporter_class(args)

    class Recording(base):
        def export(self, metrics_data, timeout_millis=10_000, **kwargs):
            result = super().export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            results.append(result)
            return result

    exporter = Recording(preferred_temporality=preferred, **options)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create(
        {
            "service.namespace": "shop",
            "service.name": args.service,
            "service.instance.id": "inst-1",
            "host.name": "h1",
        }
    )
    provider = MeterProvider(
        resource=resource,
        metric_readers=[reader],
        views=[
            View(
                instrument_name="payload.size",
                aggregation=ExponentialBucketHistogramAggregation(max_size=40, max_scale=4),
            )
        ],
    )
    tracer = TracerProvider(resource=resource).get_tracer("shop.tracer")
    meter = provider.get_meter("shop.meter", "1.0")
    orders = meter.create_counter("shop.orders", unit="{order}", description="Orders placed")
    queue = meter.create_up_down_counter("shop.queue.size", unit="{item}")
    duration = meter.create_histogram(
        "http.server.request.duration", unit="s", description="Request duration"
    )
    payload = meter.create_histogram("payload.size", unit="By")
    temperature = meter.create_gauge("room.temperature", unit="Cel")
    meter.create_observable_gauge(
        "process.cpu.utilization",
        callbacks=[lambda options: [Observation(0.25, {"cpu": "0"})]],
        unit="1",
    )

    orders.add(3, {"payment.method": "card"})
    queue.add(5)
    queue.add(-2)
    with tracer.start_as_current_span("checkout"):
        for value in (0.1, 0.3, 2.0):
            duration.record(value, {"http.route": "/checkout"})
    for value in (100, 1000, 5000):
        payload.record(value)
    temperature.set(21.5, {"room": "lab"})
    reader.force_flush()

    orders.add(2, {"payment.method": "card"})
    queue.add(1)
    duration.record(0.2, {"http.route": "/checkout"})
    payload.record(50)
    reader.force_flush()
    provider.shutdown()

    failed = [r for r in results if r != MetricExportResult.SUCCESS]
    print(f"{len(results)} exports, {len(failed)} failed")
    return 0 if results and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
