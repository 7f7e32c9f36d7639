// Browser tests of the Profiles page (`/profiles`) of `whyslow serve`: the
// service picker, the total time series, the flamegraph (record's engine,
// checked through window.whyslow) and the top table agree on the planted hot
// function; dragging on the chart narrows the range (URL and flamegraph
// follow, Back restores); diff mode compares two ranges and two selectors;
// a selector matching nothing shows the empty message, a malformed one the
// API's error inline; "Download pprof" saves the selection as gzipped pprof.
//
// Data: folded CPU profiles sent to a real `whyslow serve` through its
// Pyroscope-compatible `POST /ingest` (serve.mjs starts it): service `shop`
// burns `hot_a` 50–41 minutes ago and `hot_b` 20–11 minutes ago, service
// `cart` `json_encode` throughout. Screenshots go to ARTIFACTS_DIR.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { artifacts, openBrowser, startServe } from './serve.mjs';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const MIN = 60e3;
let serve, browser, page, skip = '', now;
const errors = [];
const shot = name => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

/** POSTs folded `lines` as one 10 s CPU profile of `app` at `atMs`. */
async function ingest(base, app, atMs, lines) {
  const from = Math.floor(atMs / 1e3);
  const params = new URLSearchParams({ name: `${app}.cpu{env=test}`, from, until: from + 10, format: 'folded', sampleRate: 100 });
  return fetch(`${base}/ingest?${params}`, { method: 'POST', body: `${lines.join('\n')}\n` });
}

/** shop: 10 profiles of hot_a (80) + cold (20) from 50 min ago, 10 of hot_b (60) + cold (40) from 20 min ago; cart throughout. */
async function plant(base) {
  const sent = [];
  for (let k = 0; k < 10; k++) {
    sent.push(ingest(base, 'shop', now - 50 * MIN + k * MIN, ['main;work;hot_a 80', 'main;work;cold 20']));
    sent.push(ingest(base, 'shop', now - 20 * MIN + k * MIN, ['main;work;hot_b 60', 'main;work;cold 40']));
    sent.push(ingest(base, 'cart', now - 50 * MIN + k * 4 * MIN, ['main;serve;json_encode 70', 'main;serve;io 30']));
  }
  return Promise.all(sent);
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  serve = await startServe();
  now = Date.now();
  const responses = await plant(serve.ui);
  const bad = responses.find(r => !r.ok);
  const probe = await fetch(`${serve.ui}/querier.v1.QuerierService/ProfileTypes`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ start: String(now - 3600e3), end: String(now) }),
  });
  if (bad && bad.status === 404) skip = 'POST /ingest answers 404: Pyroscope ingest is not wired into serve in this build';
  else if (bad) assert.fail(`/ingest: ${bad.status} ${await bad.text()}`);
  else if (!probe.ok) skip = `the Pyroscope query API is missing from this build: ProfileTypes answers ${probe.status}`;
  if (skip) console.log(`profiles page tests SKIPPED: ${skip}`);
  ({ browser, page } = await openBrowser(errors));
});

after(async () => {
  if (browser) await browser.close();
  if (serve) serve.stop();
});

/** Waits until the flamegraph shows a frame named `name`; resolves to {share of name, total, names}. */
async function flameWith(name) {
  await page.waitForFunction(n => window.whyslow && window.whyslow.frames().some(f => f.name === n), name, { timeout: 15e3 });
  return page.evaluate(n => {
    const frames = window.whyslow.frames(), state = window.whyslow.state();
    const value = frames.filter(f => f.name === n).reduce((s, f) => s + f.value, 0);
    return { share: value / state.total, total: state.total, unit: state.unit, names: [...new Set(frames.map(f => f.name))].sort() };
  }, name);
}
const topRows = () => page.$$eval('#top-table tbody tr', rows => rows.map(r => r.dataset.name));
const params = () => new URL(page.url()).searchParams;

test('picking a service shows its flamegraph, top table and total over time', async t => {
  if (skip) return t.skip(skip);
  await page.goto(`${serve.ui}/profiles`);
  // Without a query the page picks the CPU type and the first service (cart).
  await flameWith('json_encode');
  assert.equal(await page.inputValue('#profile-type'), CPU);
  assert.deepEqual(await page.$$eval('#service option', o => o.map(x => x.value)), ['', 'cart', 'shop']);
  assert.equal(params().get('query'), `${CPU}{service_name="cart"}`);
  await page.selectOption('#service', 'shop');
  const flame = await flameWith('hot_a');
  assert.equal(await page.inputValue('#selector'), '{service_name="shop"}');
  assert.equal(params().get('query'), `${CPU}{service_name="shop"}`);
  assert.equal(params().get('from'), 'now-1h');
  // 20 profiles of 100 samples at 100 Hz: 20 s of CPU; hot_a is 800 of 2000 samples.
  assert.equal(flame.unit, 'nanoseconds');
  assert.equal(flame.total, 20e9);
  assert.ok(Math.abs(flame.share - 0.4) < 1e-9, `hot_a share ${flame.share}`);
  assert.deepEqual(flame.names, ['cold', 'hot_a', 'hot_b', 'main', 'total', 'work']);
  assert.match(await page.textContent('#wf-meta'), /Total\s*20\.0 s\s*CPU time/);
  // The top table: hot_a first by self; by total, main; by name, cold.
  await page.waitForSelector('#top-table tbody tr');
  assert.deepEqual((await topRows()).slice(0, 3), ['hot_a', 'cold', 'hot_b']);
  assert.match(await page.textContent('#top-table tbody tr:first-child'), /8\.00 s\s*40\.0%/);
  await page.click('#top-table th[data-key="total"]');
  assert.deepEqual((await topRows()).slice(0, 2), ['main', 'work']);
  await page.click('#top-table th[data-key="name"]');
  assert.equal((await topRows())[0], 'cold');
  // A row searches the flamegraph.
  await page.click('#top-table tr[data-name="hot_a"]');
  const search = await page.evaluate(() => window.whyslow.state());
  assert.ok(Math.abs(search.matchedPercent - 40) < 1e-6, `matched ${search.matchedPercent}`);
  await page.evaluate(() => window.whyslow.search(''));
  // The total over time: one line at 30 s steps over the hour, non-zero in the planted minutes.
  const d = await page.$eval('#profiles-chart .series-line', p => p.getAttribute('d'));
  const ys = d.split(/[ML]/).filter(Boolean).map(p => Number(p.split(',')[1]));
  assert.equal(ys.length, 120);
  assert.equal(new Set(ys).size > 1, true, 'the line rises where profiles are');
  assert.match(await page.textContent('#chart-title'), /Total CPU time per 30 s/);
  assert.ok((await page.$$eval('#profiles-chart .tick', t => t.map(x => x.textContent))).some(x => /s$/.test(x)));
  await shot('profiles.png');
});

/** Drags on the chart's plot from time `a` to time `b` (ms). */
async function dragChart(a, b) {
  const box = await page.$eval('#profiles-chart .overlay', r => { const x = r.getBoundingClientRect(); return { x: x.x, y: x.y, w: x.width, h: x.height }; });
  const u = new URL(page.url()).searchParams;
  const t0 = Date.now();
  const start = /^\d+$/.test(u.get('from')) ? Number(u.get('from')) : t0 - 3600e3;
  const end = /^\d+$/.test(u.get('until')) ? Number(u.get('until')) : t0;
  const x = t => box.x + ((t - start) / (end - start)) * box.w;
  await page.mouse.move(x(a), box.y + box.h / 2);
  await page.mouse.down();
  await page.mouse.move((x(a) + x(b)) / 2, box.y + box.h / 3, { steps: 4 });
  await page.mouse.move(x(b), box.y + box.h / 3, { steps: 4 });
  await page.mouse.up();
}

test('dragging on the chart narrows the range; Back restores it', async t => {
  if (skip) return t.skip(skip);
  await page.goto(`${serve.ui}/profiles?query=${encodeURIComponent(`${CPU}{service_name="shop"}`)}&from=now-1h&until=now`);
  await flameWith('hot_a');
  await dragChart(now - 25 * MIN, now - 5 * MIN);
  await page.waitForFunction(() => /^\d+$/.test(new URL(location.href).searchParams.get('from')));
  const from = Number(params().get('from')), until = Number(params().get('until'));
  assert.ok(Math.abs(from - (now - 25 * MIN)) < 1.5 * MIN, `from ${new Date(from).toISOString()}`);
  assert.ok(Math.abs(until - (now - 5 * MIN)) < 1.5 * MIN, `until ${new Date(until).toISOString()}`);
  await page.waitForFunction(() => !window.whyslow.frames().some(f => f.name === 'hot_a'));
  const flame = await flameWith('hot_b');
  assert.ok(Math.abs(flame.share - 0.6) < 1e-9, `hot_b share ${flame.share}`);
  assert.equal(flame.total, 10e9);
  assert.equal((await topRows())[0], 'hot_b');
  assert.equal(await page.inputValue('#range'), 'custom');
  // The chart now spans the dragged range.
  const d = await page.$eval('#profiles-chart .series-line', p => p.getAttribute('d'));
  assert.ok(d.split(/[ML]/).filter(Boolean).length <= 121, 'finer steps over 20 minutes');
  await shot('profiles-zoomed.png');
  await page.goBack();
  await flameWith('hot_a');
  assert.equal(params().get('from'), 'now-1h');
});

test('diff mode compares two ranges, then two selectors', async t => {
  if (skip) return t.skip(skip);
  await page.goto(`${serve.ui}/profiles?query=${encodeURIComponent(`${CPU}{service_name="shop"}`)}&from=now-1h&until=now`);
  await flameWith('hot_a');
  // The toggle splits the hour: baseline the first half (hot_a), comparison the second (hot_b).
  await page.click('#diff-toggle');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('diff') === '1' && /Baseline/.test(document.getElementById('wf-meta').textContent));
  const meta = await page.textContent('#wf-meta');
  assert.match(meta, /Baseline\s*10\.0 s/);
  assert.match(meta, /Comparison\s*10\.0 s/);
  assert.equal(await page.isVisible('#diff-controls'), true);
  assert.equal(await page.$$eval('#profiles-chart .brush-band', b => b.length), 2);
  // Width is the comparison: hot_b at 60 %, hot_a gone; colours red for grew, blue for shrank.
  const flame = await flameWith('hot_b');
  assert.ok(Math.abs(flame.share - 0.6) < 1e-9, `hot_b ${flame.share}`);
  const colors = await page.evaluate(() => Object.fromEntries(window.whyslow.frames().map(f => [f.name, f.color])));
  const rgb = c => c.match(/\d+/g).map(Number);
  assert.ok(rgb(colors.hot_b)[0] > rgb(colors.hot_b)[2] + 60, `hot_b grew: ${colors.hot_b}`);
  assert.ok(rgb(colors.cold)[0] > rgb(colors.cold)[2], `cold grew a little: ${colors.cold}`);
  // The table lists the biggest changes: hot_a −80 points, hot_b +60, cold +20.
  assert.deepEqual((await topRows()).slice(0, 3), ['hot_a', 'hot_b', 'cold']);
  assert.match(await page.textContent('#top-table tr[data-name="hot_a"]'), /−80\.0 pts/);
  assert.match(await page.textContent('#top-table tr[data-name="hot_b"]'), /\+60\.0 pts/);
  assert.equal(await page.$$eval('#top-table td.grew', c => c.length), 2);
  await shot('profiles-diff.png');
  // A drag sets the comparison range (the default target), then the target flips to the baseline.
  await dragChart(now - 55 * MIN, now - 35 * MIN);
  await page.waitForFunction(() => Number(new URL(location.href).searchParams.get('rightUntil')) < Date.now() - 30 * 60e3);
  const early = await flameWith('hot_a');
  assert.ok(Math.abs(early.share - 0.8) < 1e-9, `hot_a ${early.share}`);
  assert.equal(await page.getAttribute('#drag-baseline', 'class'), 'active');
  // A second selector: cart as the baseline, over the same ranges.
  await page.fill('#baseline-selector', '{service_name="cart"}');
  await page.press('#baseline-selector', 'Enter');
  await page.waitForFunction(() => /→/.test(document.getElementById('wf-title').textContent));
  assert.equal(params().get('leftQuery'), `${CPU}{service_name="cart"}`);
  assert.equal(await page.$$eval('#profiles-chart .series-line', p => p.length), 2);
  assert.ok((await topRows()).includes('json_encode'));
  await shot('profiles-diff-selectors.png');
  // Off again: the single flamegraph of the whole hour.
  await page.click('#diff-toggle');
  await page.waitForFunction(() => /^Total/.test(document.getElementById('wf-meta').textContent));
  assert.equal(params().get('diff'), null);
  assert.equal((await flameWith('hot_a')).total, 20e9);
  assert.equal(await page.isVisible('#diff-controls'), false);
});

test('a selector that matches nothing shows the empty message', async t => {
  if (skip) return t.skip(skip);
  await page.goto(`${serve.ui}/profiles?query=${encodeURIComponent(`${CPU}{service_name="nope"}`)}&from=now-1h&until=now`);
  await page.waitForSelector('#profiles-message:not([hidden])');
  assert.match(await page.textContent('#profiles-message'), /^No profiles in this range/);
  assert.equal(await page.isVisible('#profiles-grid'), false);
  assert.equal(await page.isHidden('#query-error'), true);
  assert.match(await page.textContent('#profiles-chart'), /no data/);
  await shot('profiles-empty.png');
});

test('a malformed selector shows the API error inline', async t => {
  if (skip) return t.skip(skip);
  await page.goto(`${serve.ui}/profiles?query=${encodeURIComponent(`${CPU}{service_name="shop"}`)}&from=now-1h&until=now`);
  await flameWith('hot_a');
  await page.fill('#selector', '{service_name="shop"');
  await page.press('#selector', 'Enter');
  await page.waitForSelector('#query-error:not([hidden])');
  assert.match(await page.textContent('#query-error'), /^invalid_argument: .*selector/);
  assert.equal(await page.isVisible('#profiles-flame'), false);
  await shot('profiles-error.png');
  // Fixed, it draws again.
  await page.fill('#selector', '{service_name="shop", env="test"}');
  await page.click('#run-query');
  await page.waitForSelector('#profiles-flame', { state: 'visible' });
  await flameWith('hot_a');
  assert.equal(await page.isHidden('#query-error'), true);
});

test('the label picker adds a matcher to the selector', async t => {
  if (skip) return t.skip(skip);
  await page.goto(`${serve.ui}/profiles?query=${encodeURIComponent(`${CPU}{service_name="shop"}`)}&from=now-1h&until=now`);
  await flameWith('hot_a');
  await page.selectOption('#label-name', 'env');
  await page.waitForSelector('#label-value option[value="test"]', { state: 'attached' });
  await page.selectOption('#label-value', 'test');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('query').endsWith('env="test"}'));
  assert.equal(await page.inputValue('#selector'), '{service_name="shop", env="test"}');
  assert.equal(await page.isHidden('#label-value'), true);
  await page.waitForFunction(() => /env="test"/.test(document.getElementById('wf-title').textContent));
  assert.equal((await flameWith('hot_a')).total, 20e9);
});

test('leaving and coming back keeps one working flamegraph', async t => {
  if (skip) return t.skip(skip);
  await page.goto(`${serve.ui}/profiles?query=${encodeURIComponent(`${CPU}{service_name="shop"}`)}&from=now-1h&until=now`);
  await flameWith('hot_a');
  await page.click('.topbar a[href="/alerts"]');
  await page.waitForFunction(() => location.pathname === '/alerts');
  assert.equal(await page.isVisible('#profiles-flame'), false);
  // The engine's CSS does not restyle other pages, and Ctrl+F is the browser's there.
  assert.deepEqual(await page.evaluate(() => { const s = getComputedStyle(document.body); return [s.fontSize, s.backgroundColor]; }),
    ['14px', 'rgb(245, 246, 248)']);
  await page.evaluate(() => window.addEventListener('keydown', e => {
    if (e.key === 'f') setTimeout(() => { window.findKeyTaken = e.defaultPrevented; });
  }, true));
  await page.keyboard.press('Control+f');
  await page.waitForFunction(() => window.findKeyTaken !== undefined);
  assert.equal(await page.evaluate(() => window.findKeyTaken), false);
  await page.click('.topbar a[href="/profiles"]');
  await flameWith('json_encode');
  assert.equal(await page.$$eval('#wf-canvas', c => c.length), 1);
  assert.ok((await page.evaluate(() => window.whyslow.state())).drawn > 3);
  // Here Ctrl+F goes to the flamegraph's search box, as on record's pages.
  await page.evaluate(() => { window.findKeyTaken = undefined; });
  await page.keyboard.press('Control+f');
  await page.waitForFunction(() => window.findKeyTaken !== undefined);
  assert.equal(await page.evaluate(() => [window.findKeyTaken, document.activeElement.id].join()), 'true,wf-search');
});

test('Download pprof saves the shown selection as a gzipped pprof file', async t => {
  if (skip) return t.skip(skip);
  await page.goto(`${serve.ui}/profiles?query=${encodeURIComponent(`${CPU}{service_name="shop"}`)}&from=now-1h&until=now`);
  await flameWith('hot_a');
  const link = page.locator('#download-pprof');
  assert.equal(await link.textContent(), 'Download pprof');
  const href = new URL(await link.getAttribute('href'), serve.ui);
  assert.equal(href.pathname, '/pyroscope/pprof');
  assert.equal(href.searchParams.get('query'), `${CPU}{service_name="shop"}`);
  const from = Number(href.searchParams.get('from')), until = Number(href.searchParams.get('until'));
  assert.ok(Math.abs(until - from - 3600e3) < 2e3, `the hour shown: ${from}..${until}`);
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'shop.pb.gz');
  const bytes = fs.readFileSync(await download.path());
  assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
  const raw = zlib.gunzipSync(bytes);
  for (const name of ['hot_a', 'hot_b', 'cold', 'main', 'work']) assert.ok(raw.includes(name), `${name} in the string table`);
  // The page itself stays as it was.
  assert.equal(new URL(page.url()).pathname, '/profiles');
  assert.equal((await flameWith('hot_a')).total, 20e9);
});

test('no console errors', async t => {
  if (skip) return t.skip(skip);
  assert.deepEqual(errors.filter(e => !/status of 4\d\d/.test(e)), []);
});
