// Browser test of span profiles without an SDK: a span whose id no sample
// carries gets, in its Profile section (trace page), the whole-host agent's
// timed samples of its thread — or, when its `thread.id` names no sampled OS
// thread, of its whole process — taken during the span, and the section says
// which (`#span-profile-matched`, with the series selector as text).
//
// Data, through serve's real ingest paths (serve.mjs starts it): one trace of
// service `shop` over OTLP/HTTP JSON whose resource has `process.pid` 4200
// and a `host.name` that is an XSS payload — `GET /` (root) → `parse`
// (`thread.id` 4201) and `other` (`thread.id` 77, a thread the agent never
// sampled) — and one CPU profile pushed as Connect JSON
// (`POST /push.v1.PusherService/Push`) for the series `process_cpu`
// {service_name=shop, pid=4200, host=<the payload>}, holding a pprof encoded
// here whose samples carry the numeric labels `tid` and `timestamp` (ns), as
// the agent sends them: thread 4201 ran parse_json during `parse` (and once
// during `other`), thread 4202 ran gc once during `parse` and during
// `other`, and thread 4201 ran idle after the trace. No sample carries a span
// id. Screenshot: `span-profile-agent.png` in ARTIFACTS_DIR.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { artifacts, openBrowser, postTraces, pushPprof, startServe } from './serve.mjs';
import { cpuPprof } from './pprof.mjs';

const TRACE = '7c1e0a9b3d5f42e6a8b0c2d4e6f81357';
const ROOT = '1a2b3c4d5e6f7081';
const PARSE = '2b3c4d5e6f708192';
const OTHER = '3c4d5e6f708192a3';
const XSS = '<img src=x onerror="window.__xss=1">';
const PID = 4200;
const TID = 4201;
const MS = 1_000_000;
const TICK = 10 * MS; // each timed sample: 10 ms of CPU
// The selector the server names the process by (Rust's `{:?}` quoting, which
// JSON.stringify matches for this ASCII payload).
const SELECTOR = `{pid="${PID}",host=${JSON.stringify(XSS)}}`;
let serve, browser, page, now;
const errors = [];
const shot = name => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

/**
 * A pprof CPU profile of timed samples, as the agent sends them: `samples`
 * are [stack root first, ns, OS thread id, Unix time in ns (BigInt)], the
 * thread and time as numeric labels (`tid`, `timestamp` in nanoseconds).
 */
const pprof = (samples, timeNs) => cpuPprof(
  samples.map(([stack, ns, tid, at]) => ({ stack, ns, numLabels: [['tid', tid], ['timestamp', at, 'nanoseconds']] })),
  { timeNs, durationNs: 10_000 * MS, periodNs: TICK });

/* ---------- the fixture ---------- */

const strAttr = (key, value) => ({ key, value: { stringValue: value } });
const intAttr = (key, value) => ({ key, value: { intValue: String(value) } });
const ns = ms => BigInt(Math.round(ms)) * 1_000_000n;
const span = (spanId, parentSpanId, name, kind, startMs, durMs, attributes = []) => ({
  traceId: TRACE, spanId, parentSpanId, name, kind,
  startTimeUnixNano: String(ns(startMs)), endTimeUnixNano: String(ns(startMs + durMs)), attributes,
});

async function plant(t0) {
  const resource = { attributes: [strAttr('service.name', 'shop'), intAttr('process.pid', PID), strAttr('host.name', XSS)] };
  const traces = { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'ui-test' }, spans: [
    span(ROOT, '', 'GET /', 2, t0, 1500),
    span(PARSE, ROOT, 'parse', 1, t0 + 100, 500, [intAttr('thread.id', TID)]),
    span(OTHER, ROOT, 'other', 1, t0 + 800, 500, [intAttr('thread.id', 77)]),
  ] }] }] };
  const res = await postTraces(serve, traces);
  assert.equal(res.status, 200, await res.text());
  const at = ms => ns(t0 + ms);
  const parseJson = ['main', 'parse_json'], gc = ['main', 'gc'];
  const profile = pprof([
    // `parse` runs from t0+100 to t0+600 on thread 4201.
    ...[150, 250, 350, 450, 550].map(ms => [parseJson, TICK, TID, at(ms)]),
    [gc, TICK, 4202, at(300)], // another thread, during `parse`
    // `other` runs from t0+800 to t0+1300 on a thread no sample names.
    ...[900, 1100, 1200].map(ms => [gc, TICK, 4202, at(ms)]),
    [parseJson, TICK, TID, at(1000)],
    // After the trace.
    [['main', 'idle'], TICK, TID, at(1700)],
  ], ns(t0 - 1000));
  const labels = { __name__: 'process_cpu', service_name: 'shop', pid: String(PID), host: XSS };
  const pushed = await pushPprof(serve, labels, profile);
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
 * Waits until the flamegraph in the span's Profile section is span `spanId`'s
 * and shows `name`; resolves to {names, total, value of name, whether it sits in the span detail, title}.
 */
async function flameWith(name, spanId) {
  await page.waitForSelector('#span-profile #profiles-flame');
  await page.waitForFunction(([n, id]) => window.whyslow && window.whyslow.frames().some(f => f.name === n)
    && document.getElementById('wf-title').textContent.includes(`span ${id}`), [name, spanId], { timeout: 15e3 });
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

/** Opens span `id`'s Profile section; resolves to the matched note's {matched, text, code, next}. */
async function openProfile(id) {
  await page.click(`#timeline .tl-row[data-span-id="${id}"]`);
  await page.waitForSelector(`#span-detail:not([hidden]) [data-span-id="${id}"] #span-profile`);
  assert.equal(await page.$eval('#span-profile', d => d.open), false, 'closed until asked for');
  await page.click('#span-profile summary');
  await page.waitForSelector('#span-profile-matched');
  return page.$eval('#span-profile-matched', p => ({
    matched: p.dataset.matched,
    text: p.textContent,
    code: p.querySelector('code') && p.querySelector('code').textContent,
    next: p.nextElementSibling && p.nextElementSibling.id,
  }));
}

/** The payload stayed text everywhere in the span detail. */
async function noInjection() {
  assert.equal(await page.locator('#span-profile img').count(), 0, 'no element made of the payload in the Profile section');
  assert.equal(await page.locator('#span-detail img').count(), 0, 'nor anywhere in the span detail');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'the payload never ran');
}

test("a span no sample names shows its thread's samples during the span", async () => {
  await page.goto(`${serve.ui}/trace/${TRACE}`);
  await page.waitForSelector('#timeline .tl-row');
  const note = await openProfile(PARSE);
  assert.equal(note.matched, 'thread');
  assert.match(note.text, /^No samples carry this span's id: these are the agent's 5 samples of thread 4201 of /);
  assert.match(note.text, /taken during the span, matched by thread and time\.$/);
  assert.equal(note.code, SELECTOR, 'the selector, as text');
  assert.ok(note.code.includes('host=') && note.code.includes('<img src=x onerror='), note.code);
  assert.equal(note.next, 'span-profile-flame', 'followed by the flamegraph');
  await noInjection();

  const flame = await flameWith('parse_json', PARSE);
  assert.ok(flame.inSpanDetail, 'drawn inside the span detail');
  assert.equal(flame.total, 5 * TICK, "only thread 4201's samples during the span");
  assert.equal(flame.value, 5 * TICK);
  assert.ok(!flame.names.includes('gc'), `gc ran on another thread: ${flame.names.join(',')}`);
  assert.ok(!flame.names.includes('idle'), `idle ran after the span: ${flame.names.join(',')}`);
  assert.match(flame.title, new RegExp(`span ${PARSE}`));
  await shot('span-profile-agent.png');
});

test("a span whose thread.id names no sampled thread shows its process's samples during the span", async () => {
  const note = await openProfile(OTHER);
  assert.equal(note.matched, 'process');
  assert.match(note.text, /^No samples carry this span's id: these are the agent's 4 samples of any thread of /);
  assert.match(note.text, /matched by process and time\.$/);
  assert.equal(note.code, SELECTOR);
  await noInjection();

  const flame = await flameWith('gc', OTHER);
  assert.equal(flame.total, 4 * TICK, 'every thread of pid 4200 during the span');
  assert.equal(flame.value, 3 * TICK);
  assert.ok(flame.names.includes('parse_json'), 'thread 4201 ran during it too');
  assert.ok(!flame.names.includes('idle'), flame.names.join(','));
  assert.match(flame.title, new RegExp(`span ${OTHER}`));

  // The root names no thread: its process, over its 1.5 s.
  const root = await openProfile(ROOT);
  assert.equal(root.matched, 'process');
  const all = await flameWith('parse_json', ROOT);
  assert.equal(all.total, 10 * TICK, 'all but the sample after the trace');
  assert.ok(all.names.includes('gc') && !all.names.includes('idle'), all.names.join(','));
  await noInjection();
});

test('no console errors', () => {
  assert.deepEqual(errors.filter(e => !/status of 404/.test(e)), []);
});
