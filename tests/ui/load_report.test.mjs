// Browser test of the `whyslow load --report` page, in headless Debian chromium
// driven by playwright-core: the page is self-contained (no network), draws the
// percentile spectrum, histogram, heatmap and throughput charts, lists the
// slowest requests as trace links, and shows a stall as corrected latency only.
//
// Page: LOAD_REPORT_HTML when set; otherwise this test starts a node:http server
// on 127.0.0.1 (2 ms responses, every 50th at 60 ms) and runs the real
// `target/release/whyslow load` against it (built when missing).
// Screenshots go to ARTIFACTS_DIR (default tests/artifacts/): load-report.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const artifacts = process.env.ARTIFACTS_DIR || path.join(repo, 'tests', 'artifacts');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TRACE_SERVER = 'http://127.0.0.1:16686';

let browser;
let workDir;
let reportPath;
let fixture = false;

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

/** Runs whyslow load against a planted node:http server and returns the report path. */
async function writeReport() {
  fixture = true;
  const bin = path.join(repo, 'target', 'release', 'whyslow');
  if (!fs.existsSync(bin)) await run('cargo', ['build', '--release', '--quiet', '-p', 'whyslow']);
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whyslow-load-report-'));
  let n = 0;
  const server = http.createServer((req, res) => {
    n += 1;
    setTimeout(() => res.end('ok'), n % 50 === 0 ? 60 : 2);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const out = path.join(workDir, 'report.html');
  try {
    await run(bin, ['load', url, '--rate', '200', '--duration', '4s', '-c', '8', '--quiet',
      '--traceparent', '--server', TRACE_SERVER, '--slo', 'p99<5s,errors<1%', '--report', out]);
  } finally {
    server.close();
  }
  return out;
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  reportPath = process.env.LOAD_REPORT_HTML || await writeReport();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

/** Opens the report; returns the page, console errors and every non-file request. */
async function open() {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  const network = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('request', (req) => { if (!req.url().startsWith('file:')) network.push(req.url()); });
  await page.goto(pathToFileURL(path.resolve(reportPath)).href);
  await page.waitForFunction(() => window.whyslowLoad && window.whyslowLoad.drawn.throughput);
  return { page, errors, network };
}

test('the report draws all four charts without errors or network', async () => {
  const { page, errors, network } = await open();
  const { drawn, data } = await page.evaluate(() => window.whyslowLoad);
  assert.ok(drawn.spectrum.corrected > 20, `spectrum has ${drawn.spectrum.corrected} corrected points`);
  assert.ok(drawn.spectrum.uncorrected > 20, `spectrum has ${drawn.spectrum.uncorrected} uncorrected points`);
  assert.ok(drawn.histogram > 2, `histogram has ${drawn.histogram} bars`);
  assert.ok(drawn.heatmap >= data.series.intervals.length, `heatmap has ${drawn.heatmap} cells`);
  assert.equal(drawn.throughput.responses, data.series.intervals.length);
  assert.equal(drawn.throughput.errors, data.series.intervals.length);
  for (const id of ['spectrum', 'histogram', 'heatmap', 'throughput']) {
    const box = await page.locator(`#${id}`).boundingBox();
    assert.ok(box.width > 400 && box.height > 200, `#${id} is laid out (${box.width}×${box.height})`);
    const shapes = await page.locator(`#${id} path, #${id} rect`).count();
    assert.ok(shapes > 0, `#${id} has shapes`);
  }
  // Lines really span the plot: the corrected spectrum path has a visible extent.
  const extent = await page.locator('#spectrum path[data-series="corrected"]').boundingBox();
  assert.ok(extent.width > 300, `spectrum line is ${extent.width}px wide`);
  if (fixture) {
    assert.equal(data.model, 'open');
    assert.equal(data.target_rps, 200);
    assert.equal(drawn.throughput.target, data.series.intervals.length);
    // 2 % of responses were planted at 60 ms: the histogram shows both modes.
    const slow = data.latency_bars.uncorrected.filter(([lo, , c]) => lo > 40000 && c > 0);
    assert.ok(slow.length > 0, 'a bar near 60 ms');
    assert.match(await page.locator('#outcomes').innerText(), /PASS p99<5s/);
  }
  await page.screenshot({ path: path.join(artifacts, 'load-report.png'), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(network, [], 'the report loads nothing from the network');
  await page.close();
});

test('the slowest requests link to their traces', async () => {
  const { page, errors } = await open();
  const links = await page.$$eval('#slowest a', (as) => as.map((a) => a.getAttribute('href')));
  const data = await page.evaluate(() => window.whyslowLoad.data);
  if (fixture || data.trace_server) {
    assert.equal(links.length, data.slowest.length);
    assert.ok(links.length > 0);
    for (const href of links) assert.match(href, /\/trace\/[0-9a-f]{32}$/);
    if (fixture) assert.ok(links.every((href) => href.startsWith(`${TRACE_SERVER}/trace/`)));
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('the charts redraw to the new width on resize', async () => {
  const { page, errors } = await open();
  await page.setViewportSize({ width: 900, height: 1000 });
  await page.waitForTimeout(400);
  const box = await page.locator('#throughput').boundingBox();
  const viewBoxWidth = Number((await page.getAttribute('#throughput', 'viewBox')).split(' ')[2]);
  assert.ok(box.width < 900);
  assert.ok(Math.abs(viewBoxWidth - box.width) < 2, `drawn for ${viewBoxWidth}px, laid out at ${box.width}px`);
  assert.deepEqual(errors, []);
  await page.close();
});
