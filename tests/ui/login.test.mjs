// Browser tests of `whyslow serve --auth-file` in headless Debian chromium:
// a page opened without a session goes to the login form and comes back after
// it, a wrong token (and a token that may only ingest) is refused with a
// message, the right one sets an HttpOnly, SameSite=Strict session cookie
// that scripts cannot read, and logging out ends the session. Stored data
// that looks like markup — a span name, an attribute value and a resource
// attribute, a metric label value, a profile frame name — shows as text on
// the trace, Metrics and Profiles pages: no element it describes exists and
// nothing it would run has run (window.__xss stays undefined). The UI runs
// under the Content-Security-Policy without a console error (a CSP violation is one).
//
// Data goes in through serve's real ingest paths with an ingest token (OTLP/HTTP
// JSON, remote_write, Pyroscope push). Tokens are hashed by `whyslow auth hash`.
// Screenshots: `login.png`, `login-error.png`, `login-trace.png`,
// `login-metrics.png`, `login-profiles.png`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { artifacts, openBrowser, postTraces, pushPprof, remoteWrite, repo, startServe } from './serve.mjs';
import { cpuPprof } from './pprof.mjs';

const READ = 'read-token-of-the-browser-tests-0001';
const INGEST = 'ingest-token-of-the-browser-tests-001';
const WRITE = { authorization: `Bearer ${INGEST}` };
const XSS_SPAN = '<img src=x onerror="window.__xss=1">';
const XSS_ATTR = '<script>window.__xss=2</script>';
const XSS_LABEL = '<img src=x onerror="window.__xss=3">';
const XSS_FRAME = '<svg onload="window.__xss=4">';
const TRACE = 'a5500000000000000000000000000001';
const ROOT = 'a550000000000001';
const CHILD = 'a550000000000002';
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const MS = 1_000_000;
const bin = path.join(repo, 'target', 'release', 'whyslow');

let serve, browser, page, dir;
const errors = [];
const shot = name => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

/** auth.txt with a read and an ingest token, lines from `whyslow auth hash`. */
function authFile() {
  if (!fs.existsSync(bin)) execFileSync('cargo', ['build', '--release', '--quiet', '-p', 'whyslow'], { cwd: repo, stdio: 'inherit' });
  const line = (role, token, name) =>
    execFileSync(bin, ['auth', 'hash', '--role', role, '--name', name], { input: `${token}\n` }).toString();
  const file = path.join(dir, 'auth.txt');
  fs.writeFileSync(file, line('read', READ, 'people') + line('ingest', INGEST, 'agents'));
  return file;
}

const attr = (key, value) => ({ key, value: { stringValue: value } });
const ns = ms => String(BigInt(Math.round(ms)) * 1_000_000n);

async function plant(t0) {
  const span = (spanId, parentSpanId, name, startMs, durMs, attributes = []) => ({
    traceId: TRACE, spanId, parentSpanId, name, kind: 2, startTimeUnixNano: ns(startMs), endTimeUnixNano: ns(startMs + durMs), attributes,
  });
  const traces = { resourceSpans: [{
    resource: { attributes: [attr('service.name', 'xss-shop'), attr('host.name', XSS_ATTR)] },
    scopeSpans: [{ scope: { name: 'login-test' }, spans: [
      span(ROOT, '', 'GET /cart', t0, 500),
      span(CHILD, ROOT, XSS_SPAN, t0 + 100, 200, [attr('payload', XSS_ATTR)]),
    ] }],
  }] };
  const sent = await postTraces(serve, traces, WRITE);
  assert.equal(sent.status, 200, await sent.text());
  const written = await remoteWrite(serve.ui, [{ labels: { __name__: 'xss_metric', payload: XSS_LABEL }, samples: [[t0 - 60e3, 1], [t0, 2]] }], WRITE);
  assert.equal(written.status, 204, await written.text());
  const profile = cpuPprof([
    { stack: ['main', 'serve', XSS_FRAME], ns: 600 * MS },
    { stack: ['main', 'serve', 'parse'], ns: 400 * MS },
  ], { timeNs: BigInt(t0 - 1000) * 1_000_000n, durationNs: 10_000 * MS, periodNs: 10 * MS });
  const pushed = await pushPprof(serve, { __name__: 'process_cpu', service_name: 'xss-shop' }, profile, WRITE);
  assert.equal(pushed.status, 200, await pushed.text());
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whyslow-ui-login-'));
  serve = await startServe(['--auth-file', authFile(), '--self-scrape-interval', '0']);
  await plant(Date.now() - 60e3);
  ({ browser, page } = await openBrowser(errors));
});

after(async () => {
  if (browser) await browser.close();
  if (serve) serve.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Nothing a payload describes exists or ran. */
async function assertInert(where) {
  const found = await page.evaluate(() => ({
    xss: window.__xss,
    elements: document.querySelectorAll('img[src="x"], [onerror], [onload], script:not([src])').length,
  }));
  assert.deepEqual(found, { xss: undefined, elements: 0 }, where);
}

async function submit(token) {
  await page.fill('#token', token);
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
}

test('a page without a session goes to the login form; wrong tokens are told why', async () => {
  await page.goto(`${serve.ui}/trace/${TRACE}`);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), `/trace/${TRACE}`);
  assert.equal(await page.getAttribute('input[name=next]', 'value'), `/trace/${TRACE}`);
  await shot('login.png');

  await submit('a-wrong-token-of-the-browser-test-01');
  assert.equal(await page.textContent('.error'), 'That token is not valid.');
  assert.equal(new URL(page.url()).pathname, '/login');
  await shot('login-error.png');
  await submit(INGEST);
  assert.match(await page.textContent('.error'), /ingest role, which may not read/);
  assert.deepEqual((await page.context().cookies()).map(c => c.name), [], 'no cookie for a refused login');
  // The refused logins' 401 and 403 are the only console errors so far.
  assert.ok(errors.every(e => /status of 40[13]/.test(e)), errors.join('\n'));
  errors.length = 0;
});

test('the right token lands on the page asked for with an HttpOnly, SameSite=Strict cookie', async () => {
  await submit(READ);
  assert.equal(page.url(), `${serve.ui}/trace/${TRACE}`);
  await page.waitForSelector('#timeline .tl-row');
  const cookies = await page.context().cookies();
  assert.equal(cookies.length, 1);
  const [cookie] = cookies;
  assert.equal(cookie.name, 'whyslow_session');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.secure, false, 'no TLS in this test');
  assert.equal(cookie.path, '/');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');
  assert.ok(await page.isVisible('form.logout button'));
});

test('span names and attribute values show as text and nothing runs', async () => {
  await page.waitForSelector(`#timeline .tl-row[data-span-id="${CHILD}"]`);
  assert.ok((await page.textContent('#timeline')).includes(XSS_SPAN), 'the span name is shown as text');
  await page.click(`#timeline .tl-row[data-span-id="${CHILD}"]`);
  await page.waitForSelector(`#span-detail:not([hidden]) [data-span-id="${CHILD}"]`);
  const detail = await page.textContent('#span-detail');
  assert.ok(detail.includes(XSS_ATTR), `the attribute value is shown as text: ${detail}`);
  await assertInert('trace page');
  await shot('login-trace.png');
});

test('metric label values show as text and nothing runs', async () => {
  await page.goto(`${serve.ui}/metrics-explorer?${new URLSearchParams({ q: 'xss_metric', range: '1h', tab: 'table' })}`);
  await page.waitForSelector('#result-table tbody tr');
  assert.ok((await page.textContent('#result-table')).includes(XSS_LABEL));
  await assertInert('metrics table');
  await page.goto(`${serve.ui}/metrics-explorer?${new URLSearchParams({ q: 'xss_metric', range: '1h' })}`);
  await page.waitForSelector('#metrics-chart .series-line');
  await assertInert('metrics chart');
  await shot('login-metrics.png');
});

test('profile frame names show as text and nothing runs', async () => {
  const query = encodeURIComponent(`${CPU}{service_name="xss-shop"}`);
  await page.goto(`${serve.ui}/profiles?query=${query}&from=now-1h&until=now`);
  await page.waitForFunction(n => window.whyslow && window.whyslow.frames().some(f => f.name === n), XSS_FRAME, { timeout: 15e3 });
  await page.waitForSelector('#top-table tbody tr');
  assert.ok((await page.textContent('#top-table')).includes(XSS_FRAME), 'the top table names the frame as text');
  // The tooltip is markup built around the name: hover the payload frame.
  await page.evaluate(() => document.getElementById('wf-canvas').scrollIntoView({ block: 'center' }));
  const frame = await page.evaluate(n => window.whyslow.frames().filter(f => f.name === n).sort((a, b) => b.width - a.width)[0], XSS_FRAME);
  await page.mouse.move(frame.x + frame.width / 2, frame.y + frame.height / 2);
  await page.waitForSelector('#wf-tooltip:not([hidden])');
  assert.ok((await page.textContent('#wf-tooltip')).includes(XSS_FRAME));
  await assertInert('profiles page');
  await shot('login-profiles.png');
  // (404s are the UI asking for what this data lacks, as in the other suites.)
  assert.deepEqual(errors.filter(e => !/status of 404/.test(e)), [], 'the UI runs under the CSP without errors');
});

test('logging out ends the session', async () => {
  await Promise.all([page.waitForURL(url => new URL(url).pathname === '/login'), page.click('form.logout button')]);
  assert.deepEqual((await page.context().cookies()).map(c => c.name), []);
  await page.goto(`${serve.ui}/search`);
  assert.equal(new URL(page.url()).pathname, '/login');
});
