// Browser tests of the trace UI that `whyslow serve` embeds (crates/server/assets),
// in headless Debian chromium driven by playwright-core: search finds a trace,
// the trace page shows the header numbers and one bar per span, a click opens
// span detail, the statistics tab, a 10 000-span trace stays responsive, and
// the services page draws the dependency graph.
//
// Server: the real `whyslow serve` (target/release/whyslow, with a fresh data
// directory and ephemeral ports); the fixture traces of
// crates/server/examples/ui_fixture.rs are sent to it over OTLP/HTTP JSON first.
// WHYSLOW_UI_URL points the test at an already running server holding them instead.
// Screenshots go to ARTIFACTS_DIR (default tests/artifacts/).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { storeArgs } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const artifacts = process.env.ARTIFACTS_DIR || path.join(repo, 'tests', 'artifacts');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SAMPLE = '0af7651916cd43dd8448eb211c80319c';
const SLOW = '0af7651916cd43dd8448eb211c80319d';
const BIG = 'ffffffffffffffff0000000000010000';
const MANY = '0af7651916cd43dd8448eb211c80319e';

let server;
let base;
let browser;
let page;
const consoleErrors = [];

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('exit', code => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

// Starts `whyslow serve` and loads the fixture traces into it over OTLP/HTTP JSON.
async function startRealServer() {
  const fixture = path.join(os.tmpdir(), `whyslow-ui-fixture-${process.pid}.json`);
  await run('cargo', ['run', '--release', '--quiet', '-p', 'server', '--example', 'ui_fixture', '--', '--otlp-json', fixture]);
  const bin = path.join(repo, 'target', 'release', 'whyslow');
  if (!fs.existsSync(bin)) await run('cargo', ['build', '--release', '--quiet', '-p', 'whyslow']);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whyslow-ui-data-'));
  const lines = await new Promise((resolve, reject) => {
    server = spawn(bin, ['serve', '--data-dir', dataDir, '--otlp-grpc-port', '0', '--otlp-http-port', '0', '--http-port', '0', ...storeArgs()], {
      cwd: repo, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    server.stdout.on('data', chunk => {
      out += chunk;
      const found = out.split('\n').filter(l => l.includes('listening on'));
      if (found.length >= 3) resolve(found);
    });
    server.on('exit', code => reject(new Error(`whyslow serve exited with ${code}`)));
  });
  const url = l => l.match(/(http:\/\/[^/\s]+)/)[1];
  const otlp = url(lines.find(l => l.includes('/v1/traces')));
  const ui = url(lines.find(l => l.startsWith('UI')));
  const res = await fetch(`${otlp}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: fs.readFileSync(fixture),
  });
  assert.equal(res.status, 200, await res.text());
  fs.rmSync(fixture);
  return ui;
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  base = process.env.WHYSLOW_UI_URL || await startRealServer();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('console', msg => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', err => consoleErrors.push(String(err)));
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill();
});

const shot = name => page.screenshot({ path: path.join(artifacts, name), fullPage: false });

test('search finds the sample trace and lists it with a scatter plot', async () => {
  await page.goto(`${base}/search?service=frontend&lookback=2d`);
  await page.waitForSelector('#trace-list .trace-item');
  const items = await page.$$eval('#trace-list .trace-item', els => els.map(e => e.dataset.traceId));
  assert.deepEqual(items, [SAMPLE, SLOW], 'most recent first');
  assert.equal(await page.$$eval('#scatter circle', c => c.length), 2);
  await page.selectOption('#sort', 'Longest first');
  assert.equal(await page.getAttribute('#trace-list .trace-item', 'data-trace-id'), SLOW);
  const text = await page.textContent(`#trace-list [data-trace-id="${SAMPLE}"]`);
  assert.match(text, /frontend: GET \/dispatch/);
  assert.match(text, /242\.17ms/);
  assert.match(text, /3 Spans/);
  assert.match(text, /1 Error/);
  await shot('trace-search.png');
});

test('two ticked results open the compare view', async () => {
  await page.goto(`${base}/search?service=frontend&lookback=2d`);
  await page.waitForSelector('#trace-list .trace-item');
  assert.equal(await page.isDisabled('#compare-picked'), true);
  await page.check(`#trace-list [data-trace-id="${SAMPLE}"] input.pick`);
  assert.equal(await page.isDisabled('#compare-picked'), true);
  await page.check(`#trace-list [data-trace-id="${SLOW}"] input.pick`);
  await page.click('#compare-picked');
  await page.waitForSelector('#compare-table tbody tr');
  assert.equal(new URL(page.url()).pathname, `/trace/${SAMPLE}`);
  assert.match(await page.textContent('#compare-result'), /B − A duration: \+400ms/);
  const first = await page.$$eval('#compare-table tbody tr:first-child td', tds => tds.map(t => t.textContent));
  assert.deepEqual(first.slice(0, 2), ['driver', 'FindNearest']);
  assert.equal(first[10], '+400ms');
  await shot('trace-compare-two.png');
});

test('the form drives the URL and the search', async () => {
  await page.goto(`${base}/search`);
  await page.waitForSelector('#service option', { state: 'attached' });
  await page.selectOption('#service', 'driver');
  await page.waitForSelector('#operation option[value="FindNearest"]', { state: 'attached' });
  await page.fill('#minDuration', '100ms');
  await page.click('#find-traces');
  await page.waitForSelector('#trace-list .trace-item');
  assert.match(page.url(), /service=driver/);
  assert.match(page.url(), /minDuration=100ms/);
  await page.fill('#minDuration', '1s');
  await page.click('#find-traces');
  await page.waitForSelector('.result-count');
  assert.equal(await page.textContent('.result-count'), '0 Traces');
});

test('trace page: header numbers, one bar per span, critical path, span detail', async () => {
  await page.goto(`${base}/search?service=frontend&lookback=2d`);
  await page.click(`#trace-list [data-trace-id="${SAMPLE}"] a`);
  await page.waitForSelector('#timeline .tl-row');
  assert.equal(new URL(page.url()).pathname, `/trace/${SAMPLE}`);
  const stat = key => page.textContent(`#trace-header [data-stat="${key}"]`);
  assert.equal(await stat('duration'), '242.17ms');
  assert.equal(await stat('services'), '2');
  assert.equal(await stat('depth'), '3');
  assert.equal(await stat('spans'), '3');
  assert.equal(await page.$$eval('#timeline .tl-row .span-bar', b => b.length), 3);
  assert.equal(await page.$$eval('#timeline .tl-row.critical', r => r.length), 3);
  // Bars are to scale: the root fills the bar area, FindNearest (20..190 ms) is ~70 % of it.
  const widths = await page.$$eval('#timeline .tl-row .span-bar', bars => bars.map(b => b.getBoundingClientRect().width));
  assert.ok(Math.abs(widths[2] / widths[0] - 170 / 242.17) < 0.01, `bar widths ${widths}`);
  await shot('trace-timeline.png');

  await page.click('#timeline .tl-row[data-span-id="a000000000000003"]');
  await page.waitForSelector('#span-detail:not([hidden]) .detail-inner');
  const detail = await page.textContent('#span-detail');
  assert.match(detail, /driver: FindNearest/);
  assert.match(detail, /redis timeout/);
  assert.match(detail, /exception\.message/);
  assert.match(detail, /trace 0707/);
  // Lossless OTLP fields: the link's flags and the instrumentation scope's attributes.
  assert.match(detail, /flags 0x301 \(sampled, remote\)/);
  assert.match(detail, /Instrumentation scope: test-scope/);
  assert.match(await page.textContent('#span-detail table.scope'), /scope\.attr\s*s/);
  await shot('trace-span-detail.png');

  await page.click('.tabs [data-tab="Statistics"]');
  await page.waitForSelector('#stats-table tbody tr');
  assert.equal(await page.$$eval('#stats-table tbody tr', r => r.length), 3);
  await shot('trace-statistics.png');
});

test('12 services: 12 distinct colors, the same in legend and bars; a skewed span is moved and explained', async () => {
  await page.goto(`${base}/trace/${MANY}`);
  await page.waitForSelector('#timeline .tl-row');
  const legend = await page.$$eval('#service-legend .legend-item', items =>
    items.map(i => [i.dataset.service, getComputedStyle(i.querySelector('.swatch')).backgroundColor]));
  assert.equal(legend.length, 12);
  assert.equal(new Set(legend.map(([, color]) => color)).size, 12, JSON.stringify(legend));
  const legendColor = new Map(legend);
  const rows = await page.$$eval('#timeline .tl-row', r => r.map(row => ({
    service: row.dataset.service,
    bar: getComputedStyle(row.querySelector('.span-bar')).backgroundColor,
    mark: getComputedStyle(row.querySelector('.svc-mark')).backgroundColor,
    left: parseFloat(row.querySelector('.span-bar').style.left),
    width: parseFloat(row.querySelector('.span-bar').style.width),
  })));
  assert.equal(rows.length, 12);
  for (const row of rows) {
    assert.equal(row.bar, legendColor.get(row.service), row.service);
    assert.equal(row.mark, row.bar, row.service);
  }
  // payment's host clock is 250 ms ahead: adjusted back inside gateway (0–300 ms), centred.
  const payment = rows.find(r => r.service === 'payment');
  assert.ok(payment.left >= 0 && payment.left + payment.width <= 100.001, JSON.stringify(payment));
  assert.ok(Math.abs(payment.left - 140 / 3) < 0.1, JSON.stringify(payment));
  assert.equal(await page.textContent('#trace-header [data-stat="skew"]'), '1 span adjusted');
  assert.equal(await page.$$eval('#timeline .tl-row .warn-icon', w => w.length), 1);
  await shot('trace-12-services.png');
  await page.click('#timeline .tl-row[data-service="payment"]');
  await page.waitForSelector('#span-detail:not([hidden]) .detail-inner');
  assert.match(await page.textContent('#span-detail ul.warnings'), /This span's timestamps were adjusted by -285ms/);
  await shot('trace-clock-skew-detail.png');
  // The flamegraph paints with the same colors: sample the payment block's middle.
  await page.click('.tabs [data-tab="Flamegraph"]');
  await page.waitForSelector('#flame-canvas');
  const pixel = await page.$eval('#flame-canvas', c => {
    const r = c.getBoundingClientRect();
    const scale = c.width / r.width;
    const [red, green, blue] = c.getContext('2d').getImageData(Math.round(r.width * (150 / 300) * scale), Math.round((18 + 15) * scale), 1, 1).data;
    return `rgb(${red}, ${green}, ${blue})`;
  });
  assert.equal(pixel, legendColor.get('payment'));
  await shot('trace-12-services-flamegraph.png');
});

test('flamegraph view draws the spans and opens detail on click', async () => {
  await page.goto(`${base}/trace/${SAMPLE}?view=flamegraph`);
  await page.waitForSelector('#flame-canvas');
  const box = await page.$eval('#flame-canvas', c => { const r = c.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
  assert.equal(Math.round(box.h), 3 * 18);
  // Depth 2 (FindNearest, 20..190 of 242.17 ms): click its middle.
  await page.mouse.click(box.x + box.w * (105 / 242.17), box.y + 2 * 18 + 9);
  await page.waitForSelector('#span-detail:not([hidden]) .detail-inner');
  assert.match(await page.textContent('#span-detail'), /driver: FindNearest/);
  await shot('trace-flamegraph.png');
});

test('compare view shows per-operation differences', async () => {
  await page.goto(`${base}/trace/${SAMPLE}?compare=${BIG}`);
  await page.waitForSelector('#compare-table tbody tr');
  const text = await page.textContent('#compare-result');
  assert.match(text, /B − A duration: \+4\.76s/);
  const rows = await page.$$eval('#compare-table tbody tr', r => r.length);
  assert.ok(rows > 3, `${rows} rows`);
  await shot('trace-compare.png');
});

test('collapsing hides descendants', async () => {
  await page.goto(`${base}/trace/${SAMPLE}`);
  await page.waitForSelector('#timeline .tl-row');
  await page.click('#timeline .tl-row[data-span-id="a000000000000002"] .toggle');
  assert.equal(await page.$$eval('#timeline .tl-row', r => r.length), 2);
  await page.click('#timeline .tl-row[data-span-id="a000000000000002"] .toggle');
  assert.equal(await page.$$eval('#timeline .tl-row', r => r.length), 3);
});

test('a 10 000-span trace renders only what is visible and stays responsive', async () => {
  const t0 = Date.now();
  await page.goto(`${base}/trace/${BIG}`);
  await page.waitForSelector('#timeline .tl-row');
  const loadMs = Date.now() - t0;
  assert.equal(await page.textContent('#trace-header [data-stat="spans"]'), '10000');
  const inDom = await page.$$eval('#timeline .tl-row', r => r.length);
  assert.ok(inDom < 150, `${inDom} rows in the DOM`);
  // Scroll through the whole trace in steps and time each frame's re-render.
  const scrollMs = await page.evaluate(async () => {
    const vp = document.getElementById('timeline-viewport');
    const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const times = [];
    for (let i = 0; i <= 20; i++) {
      const t = performance.now();
      vp.scrollTop = (vp.scrollHeight * i) / 20;
      await frame();
      times.push(performance.now() - t);
    }
    return Math.max(...times);
  });
  const last = await page.$$eval('#timeline .tl-row', r => r.length);
  assert.ok(last > 0 && last < 150);
  const toggleMs = await page.evaluate(async () => {
    const t = performance.now();
    document.querySelector('.tl-tools button[title="Collapse all"]').click();
    document.querySelector('.tl-tools button[title="Expand all"]').click();
    return performance.now() - t;
  });
  const renderMs = +(await page.getAttribute('#timeline', 'data-render-max-ms'));
  console.log(`10k-span trace: load ${loadMs} ms, slowest row-window render ${renderMs} ms, ` +
    `worst scroll step (2 frames) ${scrollMs.toFixed(1)} ms, collapse+expand all ${toggleMs.toFixed(1)} ms`);
  assert.ok(renderMs < 50, `render ${renderMs} ms`);
  assert.ok(scrollMs < 250, `scroll step ${scrollMs} ms`);
  assert.ok(toggleMs < 500, `collapse/expand ${toggleMs} ms`);
  // Find a deep span by id: its ancestors expand and it scrolls into view.
  await page.click('.tl-tools button[title="Collapse all"]');
  await page.fill('#find-spans', '0000000000002710');
  await page.press('#find-spans', 'Enter');
  await page.waitForSelector('#timeline .tl-row.selected[data-span-id="0000000000002710"]');
  assert.equal(await page.textContent('#find-count'), '1 of 1');
  await shot('trace-10k.png');
});

test('services page draws the dependency graph with call counts', async () => {
  await page.goto(`${base}/services`);
  await page.waitForSelector('#dep-graph .dep-node');
  const nodes = await page.$$eval('#dep-graph .dep-node', n => n.map(e => e.dataset.service));
  assert.ok(nodes.includes('frontend') && nodes.includes('driver'), nodes.join(','));
  const rows = await page.$$eval('#dep-table tbody tr', r => r.map(e => e.textContent));
  assert.ok(rows.includes('frontenddriver2'), rows.join('|'));
  await shot('services.png');
});

test('unknown trace shows a message, no console errors anywhere', async () => {
  await page.goto(`${base}/trace/00000000000000000000000000000bad`);
  await page.waitForSelector('#trace-error');
  assert.match(await page.textContent('#trace-error'), /not found/);
  const unexpected = consoleErrors.filter(e => !/404/.test(e));
  assert.deepEqual(unexpected, []);
});
