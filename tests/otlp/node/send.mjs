// Sends one trace with the official OpenTelemetry JS SDK and prints what it sent.
//
//   node send.mjs grpc|proto|json ENDPOINT SERVICE
//
// ENDPOINT: http://127.0.0.1:4317 for grpc, http://127.0.0.1:4318/v1/traces for proto/json.
// Prints one JSON line: { traceId, scope, spans: [{ spanId, parentSpanId, name, kind, ... }] }
// so the test can compare every field with what whyslow's Jaeger API returns.
// The JS API's getTracer(name, version, { schemaUrl }) takes no scope attributes
// (TracerOptions has only schemaUrl), so only name and version are checked here;
// link flags are, one link local and one to a remote context.
import { trace, context, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';

const [protocol, endpoint, service] = process.argv.slice(2);
const exporters = {
  grpc: () => new GrpcExporter({ url: endpoint }),
  proto: () => new ProtoExporter({ url: endpoint }),
  json: () => new JsonExporter({ url: endpoint }),
};
if (!exporters[protocol] || !endpoint || !service) {
  console.error('usage: node send.mjs grpc|proto|json ENDPOINT SERVICE');
  process.exit(2);
}
const exporter = exporters[protocol]();
const memory = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.2.3', 'host.name': 'test-host' }),
  spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)],
});
const scope = { name: 'whyslow-node-test', version: '0.1.0', schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' };
const tracer = provider.getTracer(scope.name, scope.version, { schemaUrl: scope.schemaUrl });
// A context propagated from another process (W3C traceparent … -01).
const remote = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true };

// A separate trace to link to.
const other = tracer.startSpan('background-job');
other.end();

const root = tracer.startSpan('GET /checkout', {
  kind: SpanKind.SERVER,
  attributes: { 'http.request.method': 'GET', 'http.response.status_code': 500, 'retry': false, 'ratio': 0.25, 'tags': ['a', 'b'] },
});
const rootCtx = trace.setSpan(context.active(), root);
const child = tracer.startSpan('SELECT orders', {
  kind: SpanKind.CLIENT,
  attributes: { 'db.system': 'postgresql' },
  links: [
    { context: other.spanContext(), attributes: { 'link.reason': 'caused-by' } },
    { context: remote, attributes: { 'link.reason': 'remote-caller' } },
  ],
}, rootCtx);
child.addEvent('query.start', { 'db.rows': 3 });
child.end();
const inner = tracer.startSpan('render', { kind: SpanKind.INTERNAL }, rootCtx);
const err = new Error('template missing');
inner.recordException(err);
inner.setStatus({ code: SpanStatusCode.ERROR, message: 'template missing' });
inner.end();
root.setStatus({ code: SpanStatusCode.ERROR, message: 'internal error' });
root.end();

await provider.forceFlush();
// Read the record before shutdown: shutting down clears the in-memory exporter.
const kinds = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const spans = memory.getFinishedSpans().filter((s) => s.spanContext().traceId === root.spanContext().traceId);
await provider.shutdown();
console.log(JSON.stringify({
  traceId: root.spanContext().traceId,
  linkedTraceId: other.spanContext().traceId,
  scope,
  spans: spans.map((s) => ({
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? null,
    name: s.name,
    kind: kinds[s.kind],
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, attributes: e.attributes ?? {} })),
    // OTLP SpanFlags: W3C trace flags, 0x100 = is-remote known, 0x200 = is remote.
    links: s.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      flags: (l.context.traceFlags & 0xff) | 0x100 | (l.context.isRemote ? 0x200 : 0),
    })),
    status: { code: s.status.code, message: s.status.message ?? '' },
    startUs: Math.round(s.startTime[0] * 1e6 + s.startTime[1] / 1e3),
    durationUs: Math.round(s.duration[0] * 1e6 + s.duration[1] / 1e3),
  })),
}));
