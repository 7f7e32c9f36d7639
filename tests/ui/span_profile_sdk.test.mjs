// Browser test of spans ↔ profiles with the real SDKs (issue 11): the
// pyroscope-io SDK profiles a CPU-bound Python app (tests/pyroscope/push_cpu.py,
// in the target/otlp-venv dev/test builds), pyroscope-otel tags the samples of
// its `hot-request` span and the OTel SDK sends that span over OTLP/HTTP, all
// to a real `whyslow serve`. The trace page opened on that span shows, in its
// Profile section, the hot loop the span ran and not the cold loop that ran
// after it; on the Profiles page the hot loop's frame lists that span's trace.
// Skipped without the venv unless WHYSLOW_REQUIRE_OTLP_VENV is set.
// Screenshot: `span-profile-sdk.png`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, openBrowser, repo, startServe } from './serve.mjs';

const python = path.join(repo, 'target', 'otlp-venv', 'bin', 'python');
const script = path.join(repo, 'tests', 'pyroscope', 'push_cpu.py');
const APP = 'wsui-sdk';
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const missing = !fs.existsSync(python);
if (missing && process.env.WHYSLOW_REQUIRE_OTLP_VENV) throw new Error(`${python} is missing but WHYSLOW_REQUIRE_OTLP_VENV is set`);
const skip = missing && 'no target/otlp-venv (dev/test installs pyroscope-io into it)';
let serve, browser, page, ids;
const errors = [];

before(async () => {
  if (missing) return;
  serve = await startServe();
  const stdout = await new Promise((resolve, reject) => {
    execFile(python, [script, '--server', serve.ui, '--otlp', serve.otlpHttp, '--seconds', '4', '--app', APP],
      { cwd: repo, timeout: 120e3 },
      (err, out, stderr) => (err ? reject(new Error(`push_cpu.py: ${err.message}\n${stderr}`)) : resolve(out)));
  });
  ids = JSON.parse(stdout.trim().split('\n').pop());
  ({ browser, page } = await openBrowser(errors));
});

after(async () => {
  if (browser) await browser.close();
  if (serve) serve.stop();
});

const frameNames = () => page.evaluate(() => [...new Set(window.whyslow.frames().map(f => f.name))]);
const waitForFrame = name => page.waitForFunction(
  n => window.whyslow && window.whyslow.frames().some(f => f.name === n), name, { timeout: 20e3 });

test("the real SDK's span shows its own profile in the trace view", { skip }, async () => {
  await page.goto(`${serve.ui}/trace/${ids.trace_id}?span=${ids.span_id}&profile=1`);
  await page.waitForSelector(`#span-detail:not([hidden]) [data-span-id="${ids.span_id}"] #span-profile`);
  await waitForFrame('wsprof_hot_loop');
  const names = await frameNames();
  assert.ok(!names.includes('wsprof_cold_loop'), `only the span's samples: ${names.join(', ')}`);
  await page.screenshot({ path: path.join(artifacts, 'span-profile-sdk.png'), fullPage: true });
});

test("the hot loop's frame lists the real SDK's trace", { skip }, async () => {
  const query = encodeURIComponent(`${CPU}{service_name="${APP}"}`);
  await page.goto(`${serve.ui}/profiles?query=${query}`);
  await waitForFrame('wsprof_hot_loop');
  // Python stacks are deep and the hot loop sits near the root: drawn as an
  // icicle, it is at the top of the canvas.
  await page.evaluate(() => {
    window.whyslow.setIcicle(true);
    document.getElementById('wf-canvas').scrollIntoView({ block: 'start' });
  });
  const f = await page.evaluate(() => window.whyslow.frames()
    .filter(x => x.name === 'wsprof_hot_loop').sort((a, b) => b.width - a.width)[0]);
  assert.ok(f && f.y > 0 && f.y < 900, `the frame is on screen: ${JSON.stringify(f)}`);
  await page.mouse.click(f.x + f.width / 2, f.y + f.height / 2);
  await page.waitForSelector('#profiles-traces-list li a');
  const hrefs = await page.$$eval('#profiles-traces-list li a', as => as.map(a => a.getAttribute('href')));
  assert.ok(hrefs.some(h => h.includes(ids.trace_id) && h.includes(ids.span_id)), hrefs.join(' '));
  // The browser's own favicon request is the only 404.
  assert.deepEqual(errors.filter(e => !/status of 404/.test(e)), []);
});
