// Browser test of the `whyslow bench --report` page in headless Debian
// chromium (playwright-core, no browser download): the page opens offline
// without errors, draws a violin and box per command, a histogram with bars
// and a run-order strip per command, the summary table and the comparison.
//
// Page: BENCH_REPORT_HTML, else written here by the built binary
// (WHYSLOW_BIN, else target/release/whyslow, else `cargo run --release`) from
// `sleep 0.01` vs `sleep 0.02` with a planted slow run. Screenshot:
// ARTIFACTS_DIR/bench-report.png (default tests/artifacts/).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const artifacts = process.env.ARTIFACTS_DIR || path.join(repo, 'tests', 'artifacts');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

let context;
let userDataDir;
let workDir;
let reportPath;

/** Writes a report with the whyslow binary; returns its path. */
function writeReport() {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whyslow-ui-bench-'));
  const out = path.join(workDir, 'bench.html');
  const counter = path.join(workDir, 'counter');
  // The 4th execution of the second command (its 3rd timed run, after one
  // warmup) sleeps 0.1 s: an outlier to draw.
  const slow = `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; ` +
    'if [ $n -eq 4 ]; then sleep 0.1; else sleep 0.02; fi';
  const args = ['bench', '--runs', '12', '--warmup', '1', '--seed', '1', 'sleep 0.01', slow, '--report', out];
  const binary = process.env.WHYSLOW_BIN || path.join(repo, 'target', 'release', 'whyslow');
  if (fs.existsSync(binary)) {
    execFileSync(binary, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  } else {
    execFileSync('cargo', ['run', '--release', '--quiet', '-p', 'whyslow', '--', ...args], {
      cwd: repo,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return out;
}

before(async () => {
  reportPath = process.env.BENCH_REPORT_HTML || writeReport();
  fs.mkdirSync(artifacts, { recursive: true });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whyslow-ui-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    headless: true,
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    offline: true,
  });
});

after(async () => {
  await context?.close();
  for (const dir of [userDataDir, workDir]) {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Drawn size of every element matching `selector`. */
const boxes = (page, selector) =>
  page.$$eval(selector, (els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { width: r.width, height: r.height };
  }));

test('bench report draws every command\'s distribution, the table and the comparison', async () => {
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('request', (req) => { if (!req.url().startsWith('file:')) requests.push(req.url()); });
  await page.goto(pathToFileURL(path.resolve(reportPath)).href);

  const data = JSON.parse(await page.locator('#bench-data').textContent());
  const n = data.results.length;
  assert.ok(n >= 2, `${n} commands in the report`);

  // Overview: one violin and one box per command, with real area.
  const violins = await boxes(page, 'svg.violins path.violin');
  assert.equal(violins.length, n);
  assert.ok(violins.every((b) => b.width > 5 && b.height > 5), JSON.stringify(violins));
  assert.equal((await boxes(page, 'svg.violins rect.box')).length, n);
  assert.ok((await boxes(page, 'svg.violins .tick-label')).length >= 3, 'a labelled time axis');

  // Per command: a histogram whose bars count every run, and a run-order strip.
  assert.equal(await page.locator('svg.histogram').count(), n);
  for (let i = 0; i < n; i++) {
    const card = page.locator(`.card.command[data-index="${i}"]`);
    const bars = await card.locator('svg.histogram rect.bar').evaluateAll((els) =>
      els.map((e) => ({ height: e.getBoundingClientRect().height, runs: Number(e.textContent.match(/: (\d+) runs/)[1]) })));
    assert.ok(bars.length > 0 && bars.every((b) => b.height > 0), `command ${i} has drawn bars`);
    assert.equal(bars.reduce((sum, b) => sum + b.runs, 0), data.results[i].times.length, 'bars count every run');
    assert.equal(await card.locator('svg.run-order circle').count(), data.results[i].times.length);
  }

  // The planted slow run is drawn as an outlier, and warned about (when the page is ours).
  const outliers = data.results.reduce((sum, r) => sum + r.outliers.length, 0);
  assert.equal(await page.locator('svg.violins .outlier-dot').count(), outliers);
  if (!process.env.BENCH_REPORT_HTML) {
    assert.ok(data.results[1].outliers.includes(2), `timed run 3 is an outlier: ${data.results[1].outliers}`);
    assert.ok(await page.locator('svg.histogram rect.bar.outlier').count() >= 1);
    assert.match(await page.locator('.card.command[data-index="1"] .warning').innerText(), /statistical outlier/);
  }

  // Table and comparison.
  assert.equal(await page.locator('#summary tbody tr').count(), n);
  assert.match(await page.locator('#comparisons').innerText(), /is \d+\.\d\d ± \d+\.\d\d × faster than .* Welch's t-test/);

  await page.screenshot({ path: path.join(artifacts, 'bench-report.png'), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [], 'the page loads nothing from the network');
  await page.close();
});
