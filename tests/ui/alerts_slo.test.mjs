// Browser tests of the Alerts and SLO pages of `whyslow serve`, with rules
// and SLOs evaluated by serve itself: a rule file (--rules) whose alert fires
// on a planted queue depth, an SLO file (--slo) for a service failing 10 % of
// its requests against a 99.9 % objective, and the built-in rules. The
// Alerts page lists rules by state, filters, shows when an alert was
// pending/firing, and opens its evidence (the expression's graph and
// exemplar traces of the service); the SLO page shows budget left, burn
// rates and the burn-rate alert.
//
// Data: remote_write (queue depth; the service's span counters for the last
// 10 minutes) and OTLP/HTTP spans (for exemplars). Screenshots go to
// ARTIFACTS_DIR.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { artifacts, openBrowser, promApi, remoteWrite, startServe } from './serve.mjs';

let serve, browser, page, dir;
const errors = [];
const shot = name => page.screenshot({ path: path.join(artifacts, name), fullPage: true });
const hex = (n, width) => n.toString(16).padStart(width, '0');
const traceIds = [];

const RULES = `groups:
  - name: queues
    interval: 1s
    rules:
      - alert: HighQueueDepth
        expr: queue_depth > 5
        for: 2s
        labels: {severity: page}
        annotations:
          summary: "Queue {{ $labels.queue }} holds {{ $value }} messages"
      - alert: NeverFires
        expr: queue_depth > 1000
`;
const SLOS = `slos:
  - name: checkout-availability
    service: checkout
    objective: 99.9
`;

const attr = (key, value) => ({ key, value: { stringValue: value } });
function spans(b) {
  const now = Date.now(), out = [];
  for (let i = 0; i < 20; i++) {
    const traceId = hex((0x9e3779b1 * (b * 64 + i + 1)) % 2 ** 32, 8) + hex(0x5100 + b, 8) + hex(i + 1, 16);
    traceIds.push(traceId);
    const start = now - 1000 + i * 20, dur = 20 + i * 7;
    out.push({
      traceId, spanId: hex(b * 100 + i + 1, 16), name: 'POST /checkout', kind: 2,
      startTimeUnixNano: String(BigInt(start) * 1000000n), endTimeUnixNano: String(BigInt(start + dur) * 1000000n),
      status: i % 10 === 0 ? { code: 2, message: 'card declined' } : {},
    });
  }
  return { resourceSpans: [{ resource: { attributes: [attr('service.name', 'checkout')] }, scopeSpans: [{ scope: { name: 'ui-test' }, spans: out }] }] };
}

/** The last 10 minutes of checkout's span counters at 15 s: 9 good and 1 failed request a second. */
function history() {
  const now = Date.now(), ok = [], failed = [], queue = [], calm = [];
  for (let t = now - 600e3, i = 0; t <= now; t += 15e3, i++) {
    ok.push([Math.round(t), 135 * i]);
    failed.push([Math.round(t), 15 * i]);
  }
  for (let t = now - 30e3; t <= now; t += 5e3) { queue.push([Math.round(t), 12]); calm.push([Math.round(t), 1]); }
  const calls = status => ({ __name__: 'traces_span_metrics_calls_total', service_name: 'checkout', span_name: 'POST /checkout', span_kind: 'SPAN_KIND_SERVER', status_code: status, job: 'history' });
  return [
    { labels: calls('STATUS_CODE_UNSET'), samples: ok },
    { labels: calls('STATUS_CODE_ERROR'), samples: failed },
    { labels: { __name__: 'queue_depth', queue: 'orders', job: 'mq' }, samples: queue },
    { labels: { __name__: 'queue_depth', queue: 'billing', job: 'mq' }, samples: calm },
  ];
}

async function until(what, fn, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
}

const firing = async name => {
  const res = await promApi(serve.ui, 'alerts');
  return !!res && res.data.alerts.some(a => a.labels.alertname === name && a.state === 'firing');
};

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whyslow-ui-alerts-'));
  fs.writeFileSync(path.join(dir, 'rules.yml'), RULES);
  fs.writeFileSync(path.join(dir, 'slo.yml'), SLOS);
  serve = await startServe(['--rules', path.join(dir, 'rules.yml'), '--slo', path.join(dir, 'slo.yml'), '--rule-evaluation-interval', '1s']);
  const res = await remoteWrite(serve.ui, history());
  assert.equal(res.status, 204, await res.text());
  for (let b = 0; b < 3; b++) {
    const r = await fetch(`${serve.otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spans(b)) });
    assert.equal(r.status, 200, await r.text());
  }
  await until('HighQueueDepth and the SLO burn alert to fire', async () => (await firing('HighQueueDepth')) && firing('ErrorBudgetBurn'), 30e3);
  ({ browser, page } = await openBrowser(errors));
});

after(async () => {
  if (browser) await browser.close();
  if (serve) serve.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the Alerts page lists rules by state and filters them', async () => {
  await page.goto(`${serve.ui}/alerts`);
  await page.waitForSelector('#alert-list .alert-card');
  const cards = await page.$$eval('#alert-list .alert-card', c => c.map(x => `${x.dataset.alert}:${x.dataset.state}`));
  assert.ok(cards.indexOf('HighQueueDepth:firing') >= 0, cards.join(' '));
  assert.ok(cards.indexOf('NeverFires:inactive') > cards.indexOf('HighQueueDepth:firing'), 'firing before inactive');
  assert.ok(cards.some(c => c.startsWith('ErrorBudgetBurn:firing')), 'the SLO page alert');
  assert.ok(cards.some(c => c.startsWith('HostCpuSaturated:')), 'the built-in rules are on');
  const card = '#alert-list .alert-card[data-alert="HighQueueDepth"]';
  assert.equal(await page.$$eval(`${card} .active-alert`, a => a.length), 1, 'only the orders queue');
  assert.match(await page.textContent(`${card} .alert-summary`), /^Queue orders holds 12 messages$/);
  assert.match(await page.textContent(`${card} .active-alert-head`), /queue="orders"/);
  // When it was pending and firing: the strip from the ALERTS series.
  await page.waitForSelector(`${card} .alert-history rect[data-state="firing"]`, { state: 'attached' });
  await shot('alerts.png');
  await page.click('#state-filter button[data-state="firing"]');
  await page.waitForSelector('#alert-list');
  const shown = await page.$$eval('#alert-list .alert-card', c => c.map(x => x.dataset.state));
  assert.ok(shown.length >= 2 && shown.every(s => s === 'firing'), shown.join(' '));
  assert.equal(new URL(page.url()).searchParams.get('state'), 'firing');
});

test('a firing alert opens its evidence: the expression and traces of its service', async () => {
  await page.goto(`${serve.ui}/alerts?state=firing`);
  const card = '#alert-list .alert-card[data-alert="HighQueueDepth"]';
  await page.click(`${card} .evidence-toggle`);
  await page.waitForSelector(`${card} .alert-evidence .series-line`, { state: 'attached' });
  assert.equal(await page.$$eval(`${card} .alert-evidence .series-line`, l => l.length), 1, 'the orders series only');
  // The SLO alert names its service: exemplar traces of checkout, once serve
  // has flushed span metrics (every 15 s).
  const slo = '#alert-list .alert-card[data-alert="ErrorBudgetBurn"] .active-alert >> nth=0';
  let ids = [];
  const deadline = Date.now() + 45e3;
  while (Date.now() < deadline && !ids.length) {
    await page.goto(`${serve.ui}/alerts?state=firing`);
    await page.click(`${slo} >> .evidence-toggle`);
    await page.waitForSelector(`${slo} >> .evidence-traces :is(a, .error, .muted + .muted)`);
    ids = await page.$$eval('.evidence-traces a.trace-chip', a => a.map(x => x.getAttribute('href').split('/').pop()));
    if (!ids.length) await new Promise(r => setTimeout(r, 3000));
  }
  assert.ok(ids.length > 0 && ids.every(id => traceIds.includes(id)), ids.join(','));
  await shot('alerts-evidence.png');
  await page.click('.evidence-traces a.trace-chip >> nth=0');
  await page.waitForURL(/\/trace\//);
});

test('the SLO page shows budget left, burn rates and the burn alert', async () => {
  await page.goto(`${serve.ui}/slo?range=15m`);
  await page.waitForSelector('#slo-list .slo-card[data-slo="checkout-availability"]');
  const card = '#slo-list .slo-card[data-slo="checkout-availability"]';
  const text = await page.textContent(card);
  assert.match(text, /objective 99\.9% over 30d/);
  assert.match(await page.textContent(`${card} .state-badge`), /page firing/);
  const left = parseFloat(await page.textContent(`${card} .budget-left`));
  assert.ok(left < 100, `budget left ${left}`);
  await page.waitForSelector(`${card} .slo-charts .burn .series-line`, { state: 'attached' });
  await page.waitForSelector(`${card} .slo-charts .budget .series-line`, { state: 'attached' });
  await shot('slo.png');
  // 4xx: the browser's own favicon request.
  assert.deepEqual(errors.filter(e => !/status of 4\d\d/.test(e)), []);
});
