// Browser tests of spans ↔ profiles (issue 11) in `whyslow serve`'s UI: a
// span's Profile section (trace page) shows the flamegraph of the samples
// that carry its span id, a span without any says so, and clicking a frame
// on the Profiles page lists the traces whose spans ran it, each linking to
// the trace opened on that span's profile. Stored names are shown as text.
//
// Data, through serve's real ingest paths (serve.mjs starts it): one trace of
// service `checkout` over OTLP/HTTP JSON — `GET /checkout` (root, marked
// with `pyroscope.profile.id` as pyroscope-otel marks local roots) →
// `compute price`, and a child span named like an XSS payload — and one CPU
// profile pushed as Connect JSON (`POST /push.v1.PusherService/Push`) holding
// a pprof encoded here whose samples carry `span_id` labels: `compute price`
// ran hot_loop (800 ms) and a frame named like an XSS payload (100 ms), its
// samples with `trace_id` too (as any SDK may); the root ran write_response
// (100 ms), tagged with the span id only (as pyroscope-otel does); idle
// (200 ms) ran in no span. Screenshots go to ARTIFACTS_DIR:
// `span-profile.png`, `span-profile-root.png`, `span-profile-traces.png`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { artifacts, openBrowser, postTraces, pushPprof, startServe } from './serve.mjs';
import { cpuPprof } from './pprof.mjs';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const TRACE = '5b8aa5a2d2c872e8321cf37308d69df2';
const ROOT = '051581bf3cb55c13';
const PRICE = '5fb397be34d26b51';
const DB = '0c9f3e2d1a4b5c6d';
const XSS = '<img src=x onerror="window.__xss=1">';
const MS = 1_000_000;
let serve, browser, page, now;
const errors = [];
const shot = name => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

/** A pprof CPU profile: `samples` are [stack root first, ns, span id or null, trace id or null]. */
const pprof = (samples, timeNs) => cpuPprof(
  samples.map(([stack, ns, span, trace]) => ({ stack, ns, labels: { span_id: span, trace_id: trace } })),
  { timeNs, durationNs: 10_000 * MS, periodNs: 10 * MS });

/* ---------- the fixture ---------- */

const attr = (key, value) => ({ key, value: { stringValue: value } });
const ns = ms => String(BigInt(Math.round(ms)) * 1_000_000n);
const span = (spanId, parentSpanId, name, kind, startMs, durMs, attributes = []) => ({
  traceId: TRACE, spanId, parentSpanId, name, kind, startTimeUnixNano: ns(startMs), endTimeUnixNano: ns(startMs + durMs), attributes,
});

async function plant(t0) {
  const traces = { resourceSpans: [{ resource: { attributes: [attr('service.name', 'checkout')] }, scopeSpans: [{ scope: { name: 'ui-test' }, spans: [
    span(ROOT, '', 'GET /checkout', 2, t0, 1500, [attr('pyroscope.profile.id', ROOT)]),
    span(PRICE, ROOT, 'compute price', 1, t0 + 100, 1000),
    span(DB, ROOT, XSS, 3, t0 + 1200, 200),
  ] }] }] };
  const res = await postTraces(serve, traces);
  assert.equal(res.status, 200, await res.text());
  const profile = pprof([
    [['main', 'handle_checkout', 'compute_price', 'hot_loop'], 800 * MS, PRICE, TRACE],
    [['main', 'handle_checkout', 'compute_price', XSS], 100 * MS, PRICE, TRACE],
    [['main', 'handle_checkout', 'write_response'], 100 * MS, ROOT],
    [['main', 'idle'], 200 * MS, null],
  ], BigInt(t0 - 1000) * 1_000_000n);
  const pushed = await pushPprof(serve, { __name__: 'process_cpu', service_name: 'checkout' }, profile);
  assert.equal(pushed.status, 200, await pushed.text());
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  serve = await startServe();
  now = Date.now();
  await plant(now - 60e3);
  ({ browser, page } = await openBrowser(errors));
});

after(async () => {
  if (browser) await browser.close();
  if (serve) serve.stop();
});

/**
 * Waits until the flamegraph (inside `within`, when given) shows `name`;
 * resolves to {names, total, value of name, whether it sits in the span detail, title}.
 */
async function flameWith(name, within) {
  if (within) await page.waitForSelector(`${within} #profiles-flame`);
  await page.waitForFunction(n => window.whyslow && window.whyslow.frames().some(f => f.name === n), name, { timeout: 15e3 });
  return page.evaluate(n => {
    const frames = window.whyslow.frames();
    return {
      names: [...new Set(frames.map(f => f.name))].sort(),
      total: window.whyslow.state().total,
      value: frames.filter(f => f.name === n).reduce((s, f) => s + f.value, 0),
      inSpanDetail: Boolean(document.getElementById('profiles-flame').closest('#span-detail')),
      title: document.getElementById('wf-title').textContent,
    };
  }, name);
}

/** Clicks the middle of the widest drawn frame named `name` (scrolled into view). */
async function clickFrame(name) {
  await page.evaluate(() => document.getElementById('wf-canvas').scrollIntoView({ block: 'center' }));
  const f = await page.evaluate(n => window.whyslow.frames().filter(x => x.name === n).sort((a, b) => b.width - a.width)[0], name);
  assert.ok(f, `a drawn frame ${name}`);
  await page.mouse.click(f.x + f.width / 2, f.y + f.height / 2);
}

test("a span's Profile section shows the flamegraph of its samples", async () => {
  await page.goto(`${serve.ui}/trace/${TRACE}`);
  await page.waitForSelector('#timeline .tl-row');
  await page.click(`#timeline .tl-row[data-span-id="${PRICE}"]`);
  await page.waitForSelector(`#span-detail:not([hidden]) [data-span-id="${PRICE}"] #span-profile`);
  assert.equal(await page.$eval('#span-profile', d => d.open), false, 'closed until asked for');
  await page.click('#span-profile summary');
  const flame = await flameWith('hot_loop', '#span-profile');
  assert.ok(flame.inSpanDetail, 'drawn inside the span detail');
  assert.equal(flame.total, 900 * MS, 'only the samples of this span');
  assert.equal(flame.value, 800 * MS);
  assert.ok(!flame.names.includes('write_response') && !flame.names.includes('idle'), flame.names.join(','));
  assert.ok(flame.names.includes(XSS), 'the payload frame is drawn by name');
  assert.match(flame.title, new RegExp(`span ${PRICE}`));
  await shot('span-profile.png');
});

test('another span shows its own samples, a span without any says so and offers its local root', async () => {
  await page.click(`#timeline .tl-row[data-span-id="${ROOT}"]`);
  await page.waitForSelector(`#span-detail [data-span-id="${ROOT}"] #span-profile`);
  await page.click('#span-profile summary');
  const flame = await flameWith('write_response', '#span-profile');
  assert.equal(flame.total, 100 * MS);
  assert.ok(!flame.names.includes('hot_loop'));

  await page.click(`#timeline .tl-row[data-span-id="${DB}"]`);
  await page.waitForSelector(`#span-detail [data-span-id="${DB}"] #span-profile`);
  // The engine left with the old content: parked, still in the document.
  assert.equal(await page.evaluate(() => {
    const root = document.getElementById('profiles-flame');
    return Boolean(root && root.isConnected && !root.closest('#span-detail'));
  }), true);
  await page.click('#span-profile summary');
  await page.waitForSelector('#span-profile-empty');
  assert.equal(await page.textContent('#span-profile-empty'), 'No profile samples for this span.');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'the span name stayed text');
  // pyroscope-otel tags samples with the local root span: offered, then shown.
  assert.equal(await page.textContent('#span-profile-root-button'), 'show the profile of GET /checkout');
  await page.click('#span-profile-root-button');
  const root = await flameWith('write_response', '#span-profile');
  assert.equal(root.total, 100 * MS);
  assert.match(await page.textContent('#span-profile-root'), new RegExp(`local root span GET /checkout \\(${ROOT}\\)`));
  await shot('span-profile-root.png');
});

test('a frame on the Profiles page lists the traces through it, linked to the span', async () => {
  const query = encodeURIComponent(`${CPU}{service_name="checkout"}`);
  await page.goto(`${serve.ui}/profiles?query=${query}&from=now-1h&until=now`);
  const flame = await flameWith('hot_loop', '#profiles-flame-box');
  assert.equal(flame.total, 1200 * MS, 'every sample of the service');
  assert.equal(await page.isHidden('#profiles-traces'), true, 'no list before a frame is picked');

  await clickFrame('hot_loop');
  await page.waitForSelector('#profiles-traces-list li');
  assert.equal(await page.textContent('#profiles-traces-title'), 'Traces through hot_loop');
  const items = await page.$$eval('#profiles-traces-list li', lis => lis.map(li => ({ trace: li.dataset.traceId, span: li.dataset.spanId })));
  assert.deepEqual(items, [{ trace: TRACE, span: PRICE }]);
  assert.equal(await page.textContent('#profiles-traces-list li a'), 'checkout: compute price');

  // The root frame spans both linked spans, heaviest first (the root's trace
  // found through its pyroscope.profile.id); idle's samples have none.
  await clickFrame('main');
  await page.waitForFunction(() => document.querySelectorAll('#profiles-traces-list li').length === 2);
  assert.deepEqual(await page.$$eval('#profiles-traces-list li', lis => lis.map(li => [li.dataset.spanId, li.dataset.traceId])),
    [[PRICE, TRACE], [ROOT, TRACE]]);
  assert.equal(await page.textContent('#profiles-traces-list li:nth-child(2) a'), 'checkout: GET /checkout');
  await clickFrame('idle');
  await page.waitForSelector('#profiles-traces-empty');

  // A payload-named frame is listed as text.
  await page.evaluate(() => window.whyslow.reset());
  await clickFrame(XSS);
  await page.waitForSelector('#profiles-traces-list li');
  assert.equal(await page.textContent('#profiles-traces-title'), `Traces through ${XSS}`);
  assert.equal(await page.evaluate(() => window.__xss), undefined);

  // Escape resets the zoom and hides the list.
  await page.keyboard.press('Escape');
  await page.waitForSelector('#profiles-traces', { state: 'hidden' });
  await clickFrame('hot_loop');
  await page.waitForSelector('#profiles-traces-list li a');
  await shot('span-profile-traces.png');

  await page.click('#profiles-traces-list li a');
  await page.waitForSelector(`#span-detail:not([hidden]) [data-span-id="${PRICE}"]`);
  assert.equal(new URL(page.url()).pathname, `/trace/${TRACE}`);
  const back = await flameWith('hot_loop', '#span-profile');
  assert.ok(back.inSpanDetail, "the trace opens on the span's profile");
  assert.equal(back.total, 900 * MS);
});

test('no console errors', () => {
  assert.deepEqual(errors.filter(e => !/status of 404/.test(e)), []);
});
