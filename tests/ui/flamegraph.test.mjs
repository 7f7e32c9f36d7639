// Browser tests of the whyslow flamegraph pages, in headless Debian chromium
// driven by playwright-core (no browser download): load, search, click-to-zoom,
// tooltip, view switching, inversion, and the differential page.
//
// Pages: FLAMEGRAPH_HTML and DIFF_HTML (dev/test passes real recordings of
// tests/workload, ~70 % hot_a / 30 % hot_b); when unset, the fixture pages of
// `cargo run -p render --example write_fixture -- DIR` (main → hot_a 70 %,
// main → hot_b 30 %), whose exact numbers are checked too. Screenshots go to
// ARTIFACTS_DIR, default tests/artifacts/. Run: `cd tests/ui && npm ci && node --test`.

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
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let context;
let userDataDir;
let fixtureDir;
let pages = {};
// True when the pages are our own fixture, whose exact numbers the tests know;
// a real recording of tests/workload only promises the ~70/30 split.
let fixture = false;

/** The pages under test: from the environment, else written by the render example. */
function pagesUnderTest() {
  if (process.env.FLAMEGRAPH_HTML && process.env.DIFF_HTML) {
    return { flamegraph: process.env.FLAMEGRAPH_HTML, diff: process.env.DIFF_HTML };
  }
  fixture = true;
  fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whyslow-ui-fixture-'));
  execFileSync('cargo', ['run', '--quiet', '-p', 'render', '--example', 'write_fixture', '--', fixtureDir], {
    cwd: repo,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return { flamegraph: path.join(fixtureDir, 'flamegraph.html'), diff: path.join(fixtureDir, 'diff.html') };
}

before(async () => {
  pages = pagesUnderTest();
  fs.mkdirSync(artifacts, { recursive: true });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whyslow-ui-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    args: chromiumArgs,
    headless: true,
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    offline: true,
  });
});

after(async () => {
  await context?.close();
  for (const dir of [userDataDir, fixtureDir]) {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Opens `file` in a new tab; returns the tab and the console errors it logs. */
async function open(file) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('requestfailed', (req) => errors.push('request failed: ' + req.url()));
  await page.goto(pathToFileURL(path.resolve(file)).href);
  await page.waitForFunction(() => window.whyslow && window.whyslow.frames().length > 0);
  return { page, errors };
}

const frames = (page) => page.evaluate(() => window.whyslow.frames());
const state = (page) => page.evaluate(() => window.whyslow.state());
/** Whether a frame name is function `fn`, bare (`hot_a`) or with a path (`workload::hot_a`). */
const isFunction = (name, fn) => name === fn || name.endsWith('::' + fn);
/** The widest drawn frame of function `fn`. */
const widest = async (page, fn) => {
  const found = (await frames(page)).filter((f) => isFunction(f.name, fn)).sort((a, b) => b.width - a.width);
  assert.ok(found.length, `a frame of ${fn} is drawn`);
  return found[0];
};
const rootFrame = async (page) => (await frames(page)).find((f) => f.depth === 0);
/** Share (0..1) of the root's width drawn as frames of `fn`. */
const shareOf = async (page, fn) => {
  const all = await frames(page);
  const root = all.find((f) => f.depth === 0);
  return all.filter((f) => isFunction(f.name, fn) && !f.dimmed).reduce((sum, f) => sum + f.width, 0) / root.width;
};
const center = (f) => [f.x + f.width / 2, f.y + f.height / 2];
const rgb = (css) => css.match(/\d+/g).map(Number);
const shot = (page, name, fullPage = false) => page.screenshot({ path: path.join(artifacts, name), fullPage });

test('flamegraph page loads without errors and draws the 70/30 split', async () => {
  const { page, errors } = await open(pages.flamegraph);
  const s = await state(page);
  assert.ok(s.views.includes(s.view), `view ${s.view} is one of ${s.views}`);
  assert.equal(s.orientation, 'flame');
  assert.ok(s.total > 0);
  const hotA = await shareOf(page, 'hot_a');
  const hotB = await shareOf(page, 'hot_b');
  assert.ok(Math.abs(hotA / (hotA + hotB) - 0.7) < 0.08, `hot_a is ~70% of hot_a + hot_b (${hotA}, ${hotB})`);
  const a = await widest(page, 'hot_a');
  assert.ok(a.y < (await rootFrame(page)).y, 'flame layout: callees above the root');
  assert.match(await page.locator('#wf-meta').innerText(), /Total/);
  if (fixture) {
    assert.equal(s.view, 'cpu');
    assert.deepEqual(s.views, ['samples', 'cpu', 'off-cpu', 'wall']);
    assert.ok(Math.abs(hotA - 0.7) < 0.005);
    assert.equal(await page.locator('#wf-title').innerText(), 'workload (fixture)');
    assert.match(await page.locator('#wf-meta').innerText(), /10\.1 s/);
  }
  await shot(page, 'flamegraph.png', true);
  assert.deepEqual(errors, []);
  await page.close();
});

test('search highlights hot_a and reports about 70% matched', async () => {
  const { page, errors } = await open(pages.flamegraph);
  await page.keyboard.press('Control+f');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'wf-search');
  await page.keyboard.type('hot_a');
  const s = await state(page);
  assert.equal(s.search, 'hot_a');
  const expected = 100 * (await shareOf(page, 'hot_a'));
  assert.ok(Math.abs(s.matchedPercent - expected) < 0.5, `matched ${s.matchedPercent}% = drawn ${expected}%`);
  assert.ok(Math.abs(s.matchedPercent - 70) < (fixture ? 0.5 : 8), `matched ${s.matchedPercent}% ≈ 70%`);
  assert.match(await page.locator('#wf-matched').innerText(), /^matched: \d+\.\d+% of total$/);
  const a = await widest(page, 'hot_a');
  assert.equal(a.highlighted, true);
  assert.deepEqual(rgb(a.color), [224, 0, 224]);
  assert.equal((await widest(page, 'hot_b')).highlighted, false);
  // Regular expressions: both hot loops.
  const both = await page.evaluate(() => window.whyslow.search('hot_(a|b)$', { regex: true }));
  assert.ok(both.matchedPercent > s.matchedPercent);
  await shot(page, 'flamegraph-search.png');
  // Esc clears the search.
  await page.keyboard.press('Escape');
  assert.equal((await state(page)).search, '');
  assert.equal((await widest(page, 'hot_a')).highlighted, false);
  assert.deepEqual(errors, []);
  await page.close();
});

test('clicking hot_a zooms it to full width; Esc and the root reset', async () => {
  const { page, errors } = await open(pages.flamegraph);
  const root = await rootFrame(page);
  const a = await widest(page, 'hot_a');
  await page.mouse.click(...center(a));
  const s = await state(page);
  assert.equal(s.zoomed, a.name);
  assert.equal(s.zoomPath.at(-1), a.name);
  const zoomed = (await frames(page)).find((f) => f.name === a.name && f.depth === a.depth);
  assert.ok(Math.abs(zoomed.width - root.width) < 1, `hot_a spans ${zoomed.width} of ${root.width}px`);
  assert.equal(zoomed.dimmed, false);
  const ancestors = (await frames(page)).filter((f) => f.depth < a.depth);
  assert.equal(ancestors.length, a.depth, 'one ancestor per row below');
  assert.ok(ancestors.every((f) => f.dimmed && Math.abs(f.width - root.width) < 1), 'ancestors stay visible, dimmed');
  assert.ok(!(await frames(page)).some((f) => isFunction(f.name, 'hot_b')), 'hot_b leaves the view');
  if (fixture) {
    const mix = (await frames(page)).find((f) => f.name === 'hot_a::mix');
    assert.ok(Math.abs(mix.width / zoomed.width - 250 / 700) < 0.01);
  }
  assert.equal(await page.locator('#wf-reset').isEnabled(), true);
  await page.mouse.move(1, 1);
  await shot(page, 'flamegraph-zoomed.png');
  await page.keyboard.press('Escape');
  assert.equal((await state(page)).zoomed, null);
  await page.mouse.click(...center(await widest(page, 'hot_a')));
  assert.notEqual((await state(page)).zoomed, null);
  await page.mouse.click(...center(await rootFrame(page)));
  assert.equal((await state(page)).zoomed, null, 'clicking the root resets');
  assert.deepEqual(errors, []);
  await page.close();
});

test('hovering a frame shows its tooltip', async () => {
  const { page, errors } = await open(pages.flamegraph);
  const b = await widest(page, 'hot_b');
  const root = await rootFrame(page);
  await page.mouse.move(...center(b));
  const tooltip = page.locator('#wf-tooltip');
  await tooltip.waitFor({ state: 'visible' });
  const text = await tooltip.innerText();
  assert.ok(text.includes(b.name), text);
  const percent = Number(text.match(/([\d.]+)% of all/)[1]);
  assert.ok(Math.abs(percent - (100 * b.width) / root.width) < 0.5, `${percent}% of all`);
  assert.match(text, /Of caller\s+[\d.]+%\s+of \S+/);
  if (fixture) {
    assert.match(text, /src\/work\.rs:40/);
    assert.match(text, /3\.03 s\s+30\.0% of all/);
  }
  const s = await state(page);
  assert.equal(s.hovered, b.name);
  assert.equal(s.tooltipVisible, true);
  await shot(page, 'flamegraph-tooltip.png');
  await page.mouse.move(1, 1);
  await tooltip.waitFor({ state: 'hidden' });
  assert.deepEqual(errors, []);
  await page.close();
});

test('view selector, inversion and icicle re-lay-out the graph', async () => {
  const { page, errors } = await open(pages.flamegraph);
  const { views, view } = await state(page);
  if (views.length > 1) {
    for (const v of views) {
      await page.selectOption('#wf-view', v);
      assert.equal((await state(page)).view, v);
    }
    await page.selectOption('#wf-view', view);
  } else {
    assert.equal(await page.locator('#wf-view-wrap').isVisible(), false);
  }
  if (fixture) {
    await page.selectOption('#wf-view', 'off-cpu');
    assert.ok((await frames(page)).some((f) => f.name === 'schedule'));
    assert.ok(!(await frames(page)).some((f) => f.name === 'hot_a'), 'hot_a has no off-CPU time');
    await page.selectOption('#wf-view', 'cpu');
  }
  await page.click('#wf-invert');
  assert.equal((await state(page)).inverted, true);
  // Bottom-up: the functions with self time sit on the root, their callers above.
  const firstRow = (await frames(page)).filter((f) => f.depth === 1).map((f) => f.name);
  assert.ok(firstRow.some((n) => isFunction(n, 'hot_a')) && firstRow.some((n) => isFunction(n, 'hot_b')), String(firstRow));
  if (fixture) assert.deepEqual(firstRow.sort(), ['hot_a', 'hot_a::mix', 'hot_b', 'ksys_write']);
  await page.click('#wf-invert');
  await page.click('#wf-orient');
  assert.equal((await state(page)).orientation, 'icicle');
  const a = await widest(page, 'hot_a');
  assert.ok(a.y > (await rootFrame(page)).y, 'icicle layout: callees below the root');
  assert.deepEqual(errors, []);
  await page.close();
});

test('differential page draws after, coloured by change, with a table of changes', async () => {
  const { page, errors } = await open(pages.diff);
  const s = await state(page);
  assert.ok(s.total > 0);
  const b = await widest(page, 'hot_b');
  for (const f of await frames(page)) {
    const [r, g, bl] = rgb(f.color);
    // Grey (unchanged), towards red (grew) or towards blue (shrank): never green-dominant.
    assert.ok(g <= Math.max(r, bl) + 1, `${f.name}: ${f.color}`);
  }
  await page.mouse.move(...center(b));
  const tooltip = page.locator('#wf-tooltip');
  await tooltip.waitFor({ state: 'visible' });
  assert.match(await tooltip.innerText(), /before[\s\S]*after[\s\S]*change[\s\S]*pts/);
  await page.mouse.move(1, 1);
  const rows = page.locator('#wf-changes tbody tr');
  if (fixture) {
    const [ar, , ab] = rgb((await widest(page, 'hot_a')).color);
    const [br, , bb] = rgb(b.color);
    assert.ok(ab > ar, 'hot_a shrank: blue');
    assert.ok(br > bb, 'hot_b grew: red');
    const c = rgb((await widest(page, 'hot_c')).color);
    assert.ok(c[0] > c[2], 'hot_c is new: red');
    assert.ok(Math.abs(b.width / (await rootFrame(page)).width - 0.5) < 0.01, 'widths are after');
    assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => r.dataset.name).slice(0, 2).sort()), ['hot_a', 'hot_b']);
  }
  await shot(page, 'diff.png', true);
  if ((await rows.count()) > 0) {
    const name = await rows.first().getAttribute('data-name');
    await rows.first().click();
    assert.equal((await state(page)).search, '^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$');
    assert.ok((await frames(page)).filter((f) => f.name === name).every((f) => f.highlighted));
  } else {
    assert.match(await page.locator('#wf-changes').innerText(), /No function/);
  }
  assert.deepEqual(errors, []);
  await page.close();
});
