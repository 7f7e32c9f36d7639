// Browser tests of RED on the Services page of `whyslow serve`: every traced
// service gets request rate, error % and p50/p95/p99 charts (a service with no
// server spans falls back to all span kinds), a focused service lists its
// operations with rows that expand to their charts, exemplar points on the
// duration chart open their trace, and a span's detail links to its
// operation's RED.
//
// Data: spans of three services sent as OTLP/HTTP JSON to a real `whyslow
// serve` in batches a second apart; serve derives the span metrics
// (traces_span_metrics_*) from them. Screenshots go to ARTIFACTS_DIR.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { artifacts, openBrowser, promApi, startServe } from './serve.mjs';

let serve, browser, page, skip = '', noRed = '';
const errors = [];
const shot = name => page.screenshot({ path: path.join(artifacts, name) });
const BATCHES = 4, TRACES = 15;
const hex = (n, width) => n.toString(16).padStart(width, '0');
const traceIds = [];

// Deterministic pseudo-random numbers in [0, 1).
let seed = 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };

const attr = (key, value) => ({ key, value: { stringValue: value } });
const span = (traceId, id, parent, name, kind, startMs, durMs, error) => ({
  traceId, spanId: hex(id, 16), parentSpanId: parent ? hex(parent, 16) : '', name, kind,
  startTimeUnixNano: String(BigInt(Math.round(startMs * 1e3)) * 1000n),
  endTimeUnixNano: String(BigInt(Math.round((startMs + durMs) * 1e3)) * 1000n),
  status: error ? { code: 2, message: 'boom' } : {},
});
const resource = (service, spans) => ({ resource: { attributes: [attr('service.name', service)] }, scopeSpans: [{ scope: { name: 'ui-test' }, spans }] });

/** One OTLP export request: `TRACES` traces of frontend → customer, and `TRACES` worker jobs. */
function batch(b) {
  const frontend = [], customer = [], worker = [];
  const now = Date.now();
  for (let i = 0; i < TRACES; i++) {
    const n = b * 1000 + i * 10 + 1;
    const traceId = hex(0xabc000 + b, 16) + hex(n, 16);
    traceIds.push(traceId);
    const start = now - 2000 + i * 50;
    const db = 5 + rnd() * (i % 5 === 0 ? 400 : 40);
    const err = i % 4 === 1;
    customer.push(span(traceId, n + 2, n + 1, 'GET /customer', 2, start + 3, db + 4, err), span(traceId, n + 3, n + 2, 'SQL SELECT', 1, start + 5, db, false));
    frontend.push(span(traceId, n, 0, 'GET /dispatch', 2, start, db + 20, err), span(traceId, n + 1, n, 'HTTP GET /customer', 3, start + 2, db + 8, err));
    const jobTrace = hex(0xdef000 + b, 16) + hex(n, 16);
    const job = 30 + rnd() * 120;
    worker.push(span(jobTrace, n + 5, 0, 'process order', 5, start, job, i % 7 === 0), span(jobTrace, n + 6, n + 5, 'charge card', 1, start + 2, job - 10, false));
  }
  return { resourceSpans: [resource('frontend', frontend), resource('customer', customer), resource('worker', worker)] };
}

const countQuery = `query?query=${encodeURIComponent('count_over_time(traces_span_metrics_calls_total{service_name="customer",span_kind="SPAN_KIND_SERVER"}[5m])')}`;

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  serve = await startServe();
  if (!(await promApi(serve.ui, 'query?query=1'))) skip = 'GET /api/v1/query is missing from this build (Prometheus API, branch "api", not merged)';
  // serve writes span metrics every 15 s as cumulative counters, so rate() needs
  // traffic across flushes: send a batch every 2 s until the counter has 3
  // samples (two increases), at most 60 s.
  const deadline = Date.now() + 60e3;
  let flushed = false;
  for (let b = 0; Date.now() < deadline && !flushed; b++) {
    const res = await fetch(`${serve.otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch(b)) });
    assert.equal(res.status, 200, await res.text());
    await new Promise(r => setTimeout(r, 2000));
    if (skip || b < BATCHES) continue;
    const count = await promApi(serve.ui, countQuery);
    flushed = !!count && count.status === 'success' && count.data.result.some(r => Number(r.value[1]) >= 3);
  }
  if (!skip && !flushed) noRed = 'fewer than 3 samples of traces_span_metrics_calls_total after 60 s (span-derived RED metrics, branch "red", or the PromQL evaluator, branch "promql", not in this build)';
  if (skip || noRed) console.log(`services RED tests SKIPPED in part: ${skip || noRed}`);
  ({ browser, page } = await openBrowser(errors));
});

after(async () => {
  if (browser) await browser.close();
  if (serve) serve.stop();
});

const seriesIn = sel => page.$$eval(`${sel} .series-line`, p => p.filter(x => x.getAttribute('d').includes('L')).length);

test('every traced service gets rate, error and duration charts', async t => {
  if (skip || noRed) return t.skip(skip || noRed);
  await page.goto(`${serve.ui}/services?range=5m`);
  await page.waitForSelector('#red-services .red-card');
  const cards = await page.$$eval('#red-services .red-card', c => c.map(x => x.dataset.service));
  assert.deepEqual(cards, ['customer', 'frontend', 'worker']);
  for (const s of cards) {
    const card = `#red-services .red-card[data-service="${s}"]`;
    assert.equal(await seriesIn(`${card} .red-chart.rate`), 1, `${s} rate`);
    assert.equal(await seriesIn(`${card} .red-chart.errors`), 1, `${s} errors`);
    assert.equal(await seriesIn(`${card} .red-chart.latency`), 3, `${s} p50/p95/p99`);
  }
  assert.equal(await page.textContent('.red-card[data-service="worker"] .badge'), 'all spans');
  assert.equal(await page.textContent('.red-card[data-service="customer"] .badge'), 'server spans');
  // customer: the server spans of traces i % 4 == 1 failed.
  const failed = [...Array(TRACES).keys()].filter(i => i % 4 === 1).length;
  const errPct = await page.textContent('.red-card[data-service="customer"] [data-stat="errors"] b');
  assert.ok(Math.abs(parseFloat(errPct) - 100 * failed / TRACES) < 2, errPct);
  // The dependency graph is still there.
  await page.waitForSelector('#dep-graph .dep-node');
  await shot('services-red.png');
});

test('a focused service lists its operations; a row expands to its charts', async t => {
  if (skip || noRed) return t.skip(skip || noRed);
  await page.goto(`${serve.ui}/services?service=customer&range=5m`);
  await page.waitForSelector('#ops-table .op-row');
  assert.equal(await seriesIn('#service-latency'), 3);
  const ops = await page.$$eval('#ops-table .op-row', r => r.map(x => `${x.dataset.operation}|${x.dataset.kind}`));
  assert.deepEqual(ops, ['GET /customer|SPAN_KIND_SERVER', 'SQL SELECT|SPAN_KIND_INTERNAL']);
  await page.click('#ops-table .op-row[data-operation="SQL SELECT"]');
  await page.waitForSelector('#ops-table .op-detail:not([hidden]) .red-chart.latency .series-line');
  assert.equal(new URL(page.url()).searchParams.get('operation'), 'SQL SELECT');
  await shot('services-red-operation.png');
  // A chart's title opens its query on the Metrics page.
  await page.click('.red-card.focus .red-chart.rate .red-chart-title a');
  await page.waitForSelector('#metrics-chart .series-line');
  assert.equal(new URL(page.url()).searchParams.get('q'),
    'sum(rate(traces_span_metrics_calls_total{service_name="customer", span_kind="SPAN_KIND_SERVER"}[1m]))');
});

test('exemplars on the duration chart open their trace', async t => {
  if (skip || noRed) return t.skip(skip || noRed);
  await page.goto(`${serve.ui}/services?service=customer&range=5m`);
  await page.waitForSelector('#ops-table .op-row');
  const count = await page.$$eval('#service-latency .exemplar', e => e.length);
  if (!count) return t.skip('no exemplars from /api/v1/query_exemplars (span metrics without exemplars in this build)');
  const ids = await page.$$eval('#service-latency .exemplar', e => e.map(x => x.dataset.traceId));
  assert.ok(ids.every(id => traceIds.includes(id)), ids.join(','));
  await page.hover('#service-latency .exemplar >> nth=0');
  await page.waitForSelector('#service-latency .chart-tip:not([hidden])');
  assert.match(await page.textContent('#service-latency .chart-tip'), /trace_id|traceID/);
  await shot('services-red-service.png');
  await page.click('#service-latency .exemplar >> nth=0', { force: true });
  await page.waitForSelector('#timeline .tl-row');
  assert.equal(new URL(page.url()).pathname, `/trace/${ids[0]}`);
});

test("a span's detail links to its operation's RED", async t => {
  const traceId = traceIds[5];
  await page.goto(`${serve.ui}/trace/${traceId}`);
  await page.waitForSelector('#timeline .tl-row');
  await page.click('#timeline .tl-row[data-service="customer"]:has-text("GET /customer")');
  await page.waitForSelector('#span-detail:not([hidden]) #red-link');
  await page.click('#red-link');
  await page.waitForSelector(skip ? '#red-error' : '#ops-table .op-row.open');
  const url = new URL(page.url());
  assert.equal(url.pathname, '/services');
  assert.deepEqual([url.searchParams.get('service'), url.searchParams.get('operation'), url.searchParams.get('kind')],
    ['customer', 'GET /customer', 'SPAN_KIND_SERVER']);
  assert.ok(['5m', '15m'].includes(url.searchParams.get('range')), `a short range around the recent span: ${url}`);
  if (skip) return t.skip(`link checked; ${skip}`);
  assert.equal(await page.getAttribute('#ops-table .op-row.open', 'data-operation'), 'GET /customer');
  if (!noRed) await page.waitForSelector('#ops-table .op-detail:not([hidden]) .red-chart.rate .series-line');
  await shot('services-red-from-span.png');
});

test('no console errors', async t => {
  if (skip) return t.skip(skip);
  assert.deepEqual(errors.filter(e => !/status of 4\d\d/.test(e)), []);
});
