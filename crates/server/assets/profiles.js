// The Profiles page (`/profiles`): continuous profiles from serve's
// Pyroscope-compatible store. Controls: profile type, service, a free label
// selector `{…}` (plus a label/value picker that adds matchers), a time range
// (last 15m…24h or custom). Shows the total over time (SelectSeries; drag on
// the chart to narrow the range), the merged flamegraph (/pyroscope/render,
// drawn by record's engine, profiles_flame.js) and a top table of functions
// (profiles_table.js). Diff mode compares a baseline range (and optionally a
// baseline selector) with a comparison range (/pyroscope/render-diff). The
// state lives in the URL: `?query=<type>{sel}&from=now-1h&until=now`
// (`from`/`until`: `now`, `now-<n><s|m|h|d|w>` or Unix ms), `view=flame|table`,
// diff mode `diff=1&leftFrom=…&leftUntil=…&rightFrom=…&rightUntil=…&leftQuery=…`.
// "Download pprof" fetches the shown selection (in diff mode the comparison)
// as a gzipped pprof file from /pyroscope/pprof.
import { el } from '/static/format.js';
import { fmtStamp } from '/static/units.js';
import { brushChart } from '/static/profiles_chart.js';
import { decodeFlamebearer, loadEngine, showFlame, hideFlame, redraw } from '/static/profiles_flame.js';
import { topTable } from '/static/profiles_table.js';

const PRESETS = ['15m', '1h', '6h', '24h'];
// Multiples of 10 s past 10 s: agents send every 10 s or 15 s, and steps of
// 15 s would alternate between one and two profiles (a zigzag).
const STEPS_S = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400];
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/* ---------- API ---------- */

async function answer(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new Error(body && body.message ? `${body.code}: ${body.message}` : `${res.status} ${res.statusText}`);
  return body;
}
const querier = (method, body) => fetch(`/querier.v1.QuerierService/${method}`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
}).then(answer);
const getJSON = (path, params) => fetch(`${path}?${new URLSearchParams(params)}`, { headers: { accept: 'application/json' } }).then(answer);

/* ---------- times and selectors ---------- */

/** `now`, `now-15m`, or Unix s/ms/µs/ns told apart by digit count (as the server does) → ms. */
export function parseTime(text, nowMs) {
  const t = String(text || '').trim();
  if (t === 'now') return nowMs;
  const rel = t.match(/^now-(\d+)([smhdw])$/);
  if (rel) return nowMs - rel[1] * UNIT_S[rel[2]] * 1e3;
  if (!/^\d+$/.test(t)) return NaN;
  return Number(t) / (t.length <= 10 ? 1e-3 : t.length <= 13 ? 1 : t.length <= 16 ? 1e3 : 1e6);
}

/** `type{sel}` → [type, sel]. */
const splitQuery = q => { const i = q.indexOf('{'); return i < 0 ? [q.trim(), '{}'] : [q.slice(0, i).trim(), q.slice(i).trim()]; };

/** The matchers of a selector, or null when it is not a plain list of `name op "value"`. */
function parseSel(sel) {
  const body = sel.trim().replace(/^\{/, '').replace(/\}$/, '');
  const re = /\s*([a-zA-Z_][\w.]*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  const out = [];
  let m;
  while (re.lastIndex < body.length && (m = re.exec(body))) { out.push({ name: m[1], op: m[2], value: m[3] }); if (!m[4]) break; }
  return re.lastIndex >= body.trimEnd().length || !body.trim() ? out : null;
}
const quote = v => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const unquote = v => v.replace(/\\(.)/g, '$1');
const formatSel = ms => `{${ms.map(m => `${m.name}${m.op}"${m.value}"`).join(', ')}}`;

/** `sel` with `name="value"` (first, or last) instead of any matcher on `name`; value null drops it. */
function withMatcher(sel, name, value, first) {
  const ms = parseSel(sel);
  if (!ms) return sel;
  const rest = ms.filter(m => m.name !== name);
  if (value === null) return formatSel(rest);
  const m = { name, op: '=', value: quote(value) };
  return formatSel(first ? [m, ...rest] : [...rest, m]);
}
const serviceOf = sel => { const m = (parseSel(sel) || []).find(x => x.name === 'service_name' && x.op === '='); return m ? unquote(m.value) : ''; };

/** What a profile type ID says: units for the engine and the chart, a noun for titles. */
export function typeInfo(id) {
  const [name = '', sampleType = '', unit = ''] = id.split(':');
  const nouns = { cpu: 'CPU time', wall: 'wall time', alloc_space: 'allocated bytes', inuse_space: 'in-use bytes',
    alloc_objects: 'allocated objects', inuse_objects: 'in-use objects' };
  const engineUnit = unit === 'nanoseconds' || unit === 'bytes' ? unit : /objects/.test(sampleType) ? 'objects' : 'count';
  return { name, sampleType, unit, engineUnit, noun: nouns[sampleType] || sampleType || 'samples',
    label: `${name} · ${sampleType}`, chartUnit: unit === 'nanoseconds' ? 's' : unit === 'bytes' ? 'bytes' : '',
    chartScale: unit === 'nanoseconds' ? 1e-9 : 1 };
}

const localInput = ms => new Date(ms - new Date(ms).getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
const fmtRange = (a, b) => `${fmtStamp(a)} → ${fmtStamp(b)}`;
const fmtStep = s => (s >= 3600 ? `${s / 3600} h` : s >= 60 ? `${s / 60} min` : `${s} s`);

/* ---------- the page ---------- */

export function renderProfiles(root, query) {
  const [type0, sel0] = splitQuery(query.get('query') || '');
  const state = {
    type: type0, sel: sel0, from: query.get('from') || 'now-1h', until: query.get('until') || 'now',
    view: ['flame', 'table'].includes(query.get('view')) ? query.get('view') : 'both', diff: query.get('diff') === '1',
    leftSel: query.get('leftQuery') ? splitQuery(query.get('leftQuery'))[1] : '',
    left: [query.get('leftFrom'), query.get('leftUntil')], right: [query.get('rightFrom'), query.get('rightUntil')],
    dragTarget: 'right',
  };
  const typeSel = el('select', { id: 'profile-type', title: 'profile type', onchange: () => run(true) });
  const service = el('select', { id: 'service', title: 'service_name', onchange: () => {
    selector.value = withMatcher(selector.value, 'service_name', service.value || null, true); run(true);
  } });
  const selector = el('input', { id: 'selector', class: 'selector-input', spellcheck: 'false', value: state.sel,
    placeholder: '{service_name="…", env="prod"}', title: 'label selector; Enter runs',
    onkeydown: e => { if (e.key === 'Enter') run(true); } });
  const labelName = el('select', { id: 'label-name', title: 'add a label filter', onchange: () => pickLabel() });
  const labelValue = el('select', { id: 'label-value', hidden: true, onchange: () => {
    if (labelValue.value) { selector.value = withMatcher(selector.value, labelName.value, labelValue.value, false); labelName.value = ''; labelValue.hidden = true; run(true); }
  } });
  const error = el('div', { class: 'query-error', id: 'query-error', hidden: true, role: 'alert' });
  const presetOf = () => (state.until === 'now' && /^now-\d+[smhdw]$/.test(state.from) ? state.from.slice(4) : 'custom');
  const ranges = [...new Set([...PRESETS, presetOf()].filter(r => r !== 'custom'))];
  const range = el('select', { id: 'range' }, [...ranges, 'custom'].map(r =>
    el('option', { value: r, selected: presetOf() === r }, r === 'custom' ? 'Custom…' : `Last ${r}`)));
  const now0 = Date.now();
  const start = el('input', { type: 'datetime-local', id: 'range-start', value: localInput(parseTime(state.from, now0) || now0 - 3600e3) });
  const end = el('input', { type: 'datetime-local', id: 'range-end', value: localInput(parseTime(state.until, now0) || now0) });
  const custom = el('span', { class: 'custom-range', hidden: range.value !== 'custom' }, start, el('span', { class: 'muted' }, '→'), end);
  range.addEventListener('change', () => { custom.hidden = range.value !== 'custom'; if (range.value !== 'custom') run(true); });
  let customEdited = false;
  for (const input of [start, end]) input.addEventListener('change', () => { customEdited = true; run(true); });
  let pickService = !query.get('query');
  const diffToggle = el('button', { type: 'button', id: 'diff-toggle', class: 'toggle', 'aria-pressed': String(state.diff),
    title: 'compare a baseline with a comparison: two ranges, or two selectors', onclick: () => { state.diff = !state.diff; run(true); } }, 'Diff');
  const info = el('span', { class: 'query-info muted', id: 'query-info' });
  const download = el('a', { id: 'download-pprof', download: '', hidden: true,
    style: { border: '1px solid var(--border)', borderRadius: '4px', padding: '4px 14px', background: '#fff', color: 'inherit', textDecoration: 'none' } },
  'Download pprof');
  const leftSel = el('input', { id: 'baseline-selector', class: 'selector-input', spellcheck: 'false', value: state.leftSel,
    placeholder: 'same selector', title: 'baseline label selector; empty: the same as above',
    onkeydown: e => { if (e.key === 'Enter') run(true); } });
  const target = t => el('button', { type: 'button', id: `drag-${t === 'left' ? 'baseline' : 'comparison'}`, 'data-target': t,
    onclick: () => { state.dragTarget = t; markTarget(); } }, t === 'left' ? 'Baseline' : 'Comparison');
  const targets = el('span', { class: 'state-filter drag-target', title: 'what dragging on the chart sets' }, target('left'), target('right'));
  const markTarget = () => targets.querySelectorAll('button').forEach(b => b.classList.toggle('active', b.dataset.target === state.dragTarget));
  const rangesText = el('span', { class: 'diff-ranges', id: 'diff-ranges' });
  const diffRow = el('div', { class: 'query-controls diff-controls', id: 'diff-controls', hidden: !state.diff },
    el('label', { class: 'inline' }, 'Baseline selector ', leftSel), rangesText,
    el('span', { class: 'inline muted' }, 'Drag on the chart sets ', targets));
  markTarget();

  const tabs = el('div', { class: 'tabs' }, [['flame', 'Flame graph'], ['table', 'Top table'], ['both', 'Both']].map(([v, label]) =>
    el('button', { type: 'button', 'data-view': v, class: v === state.view ? 'active' : '', onclick: () => setView(v, true) }, label)));
  const chartBox = el('div', { class: 'profiles-chart', id: 'profiles-chart-box' });
  const chartTitle = el('div', { class: 'red-chart-title', id: 'chart-title' });
  const message = el('div', { class: 'profiles-empty muted', id: 'profiles-message', hidden: true });
  const tableBox = el('div', { class: 'profiles-table', id: 'profiles-table' });
  const flameBox = el('div', { class: 'profiles-flame-box', id: 'profiles-flame-box' });
  const grid = el('div', { class: `profiles-grid view-${state.view}`, id: 'profiles-grid' }, tableBox, flameBox);
  const body = el('div', { class: 'metrics-body profiles-body', id: 'profiles-body' }, message, grid);
  const chartCard = el('div', { class: 'red-card profiles-chart-card' }, chartTitle, chartBox);
  const results = el('div', { class: 'profiles-results', id: 'profiles-results' }, chartCard, tabs, body);
  root.append(el('div', { class: 'metrics-page profiles-page' },
    el('div', { class: 'query-panel' },
      el('div', { class: 'query-row' }, typeSel, service, selector,
        el('button', { type: 'button', class: 'primary run', id: 'run-query', onclick: () => run(true) }, 'Show')),
      error,
      el('div', { class: 'query-controls' }, range, custom, labelName, labelValue, diffToggle, download, info),
      diffRow),
    results));

  function setView(v, push) {
    state.view = v;
    tabs.querySelectorAll('button').forEach(b => b.classList.toggle('active', b.dataset.view === v));
    grid.className = `profiles-grid view-${v}`;
    if (push) history.replaceState(null, '', urlOf());
    requestAnimationFrame(redraw);
  }

  function urlOf() {
    const p = new URLSearchParams();
    if (state.type) p.set('query', `${state.type}${state.sel}`);
    p.set('from', state.from);
    p.set('until', state.until);
    if (state.view !== 'both') p.set('view', state.view);
    if (state.diff) {
      p.set('diff', '1');
      if (state.leftSel) p.set('leftQuery', `${state.type}${state.leftSel}`);
      [['leftFrom', state.left[0]], ['leftUntil', state.left[1]], ['rightFrom', state.right[0]], ['rightUntil', state.right[1]]]
        .forEach(([k, v]) => v && p.set(k, v));
    }
    return `${location.pathname}?${p}`;
  }

  const fill = (select, items, current, blank) => {
    const values = [...new Set([...items.map(i => i.value), ...(current ? [current] : [])])];
    select.replaceChildren(...(blank ? [el('option', { value: '' }, blank)] : []),
      ...values.map(v => el('option', { value: v, selected: v === current }, (items.find(i => i.value === v) || { label: v }).label)));
  };

  /** Profile types, services and label names for the window; picks a type (and service) when none is set. */
  async function refreshLists(win) {
    const span = { start: String(win.startMs), end: String(win.endMs) };
    const types = ((await querier('ProfileTypes', span)).profileTypes || []).map(t => ({ value: t.ID, label: typeInfo(t.ID).label }));
    if (!state.type && types.length) state.type = types.find(t => /^process_cpu:/.test(t.value))?.value || types[0].value;
    fill(typeSel, types, state.type);
    if (!state.type) return types;
    const typed = `{__profile_type__="${quote(state.type)}"}`;
    const [services, names] = await Promise.all([
      querier('LabelValues', { name: 'service_name', matchers: [typed], ...span }),
      querier('LabelNames', { matchers: [typed], ...span })]);
    const list = (services.names || []).map(v => ({ value: v, label: v }));
    if (pickService && !serviceOf(selector.value) && list.length) {
      selector.value = withMatcher(selector.value, 'service_name', list[0].value, true);
    }
    pickService = false;
    fill(service, list, serviceOf(selector.value), 'All services');
    fill(labelName, (names.names || []).filter(n => !n.startsWith('__') && n !== 'service_name').map(n => ({ value: n, label: n })), '', '+ Label filter');
    return types;
  }

  async function pickLabel() {
    labelValue.hidden = !labelName.value;
    if (!labelName.value) return;
    const now = Date.now();
    const sel = withMatcher(selector.value, '__profile_type__', state.type, true);
    try {
      const r = await querier('LabelValues', { name: labelName.value, matchers: [sel], start: String(parseTime(state.from, now)), end: String(parseTime(state.until, now)) });
      fill(labelValue, (r.names || []).map(v => ({ value: v, label: v })), '', `${labelName.value} =`);
    } catch (e) { showError(e); }
  }

  function showError(e) {
    error.textContent = e.message || String(e);
    error.hidden = false;
  }

  /** Reads the controls into `state` (times of a custom range become Unix ms). */
  function readControls() {
    state.type = typeSel.value || state.type;
    state.sel = selector.value.trim() || '{}';
    state.leftSel = leftSel.value.trim();
    if (range.value !== 'custom') { state.from = `now-${range.value}`; state.until = 'now'; } else if (customEdited) {
      // The inputs hold minutes: read them only once edited, so ms ranges (a drag) survive.
      const s = Date.parse(start.value), e = Date.parse(end.value);
      if (Number.isFinite(s) && Number.isFinite(e)) { state.from = String(s); state.until = String(e); }
      customEdited = false;
    }
  }

  /** Sets the range to [fromMs, untilMs] (a drag in normal mode). */
  function zoomTo(fromMs, untilMs) {
    state.from = String(fromMs); state.until = String(untilMs);
    range.value = 'custom'; custom.hidden = false;
    start.value = localInput(fromMs); end.value = localInput(untilMs);
  }

  let generation = 0;
  async function run(push, fromControls = true) {
    if (fromControls) readControls();
    const mine = ++generation;
    const now = Date.now();
    const win = { startMs: parseTime(state.from, now), endMs: parseTime(state.until, now) };
    error.hidden = true;
    download.hidden = true;
    diffToggle.setAttribute('aria-pressed', String(state.diff));
    diffRow.hidden = !state.diff;
    if (!(win.startMs < win.endMs)) { showError(new Error(`bad range: from ${state.from} until ${state.until}`)); results.hidden = true; return; }
    const inWindow = r => { const a = parseTime(r[0], now), b = parseTime(r[1], now); return a < b && a < win.endMs && b > win.startMs; };
    if (state.diff && !(inWindow(state.left) && inWindow(state.right))) {
      const mid = Math.round((win.startMs + win.endMs) / 2);
      state.left = [String(win.startMs), String(mid)];
      state.right = [String(mid), String(win.endMs)];
    }
    try {
      if (!state.type || typeSel.options.length === 0 || push) await refreshLists(win);
    } catch (e) { if (mine === generation) { showError(e); results.hidden = true; } return; }
    if (mine !== generation) return;
    state.sel = selector.value.trim() || '{}';
    const url = urlOf();
    if (push && url !== location.pathname + location.search) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
    service.value = serviceOf(state.sel);
    results.hidden = false;
    chartCard.hidden = !state.type;
    if (!state.type) {
      return empty(win, `No profiles in this range (${fmtRange(win.startMs, win.endMs)}). Send some with “whyslow agent” or any Pyroscope client (POST /ingest, /push.v1.PusherService/Push).`);
    }
    setDownload(win, now);
    body.classList.add('loading');
    const t0 = performance.now();
    try {
      const [series, fb] = await Promise.all([loadSeries(win), loadFlame(win, now), loadEngine()]);
      if (mine !== generation) return;
      drawChart(win, series, now);
      const ticks = state.diff ? [fb.leftTicks || 0, fb.rightTicks || 0] : [fb.flamebearer.numTicks || 0];
      info.textContent = `${Math.round(performance.now() - t0)} ms`;
      if (!ticks.some(Boolean)) return empty(win, null);
      await drawFlame(fb, win, now);
    } catch (e) {
      if (mine !== generation) return;
      showError(e);
      results.hidden = true;
      download.hidden = true;
      hideFlame();
    } finally {
      if (mine === generation) body.classList.remove('loading');
    }
  }

  function empty(win, text) {
    message.textContent = text || `No profiles in this range (${fmtRange(win.startMs, win.endMs)}) for ${state.type}${state.sel}.`;
    message.hidden = false;
    grid.hidden = true;
    hideFlame();
    body.classList.remove('loading');
  }

  /** Points the download at the shown selection: the window, or in diff mode the comparison range. */
  function setDownload(win, now) {
    const [fromMs, untilMs] = state.diff ? state.right.map(v => parseTime(v, now)) : [win.startMs, win.endMs];
    const params = new URLSearchParams({ query: `${state.type}${state.sel}`, from: String(Math.floor(fromMs)), until: String(Math.ceil(untilMs)) });
    download.href = `/pyroscope/pprof?${params}`;
    download.title = `${state.diff ? 'the comparison' : 'this selection'} as a gzipped pprof file (go tool pprof FILE): ${state.type}${state.sel}, ${fmtRange(fromMs, untilMs)}`;
    download.hidden = false;
  }

  const stepOf = win => STEPS_S.find(s => (win.endMs - win.startMs) / 1e3 / s <= 240) || 86400;

  async function loadSeries(win) {
    const step = stepOf(win);
    const one = sel => querier('SelectSeries', { profileTypeID: state.type, labelSelector: sel, start: String(win.startMs),
      end: String(win.endMs), step, groupBy: [] }).then(r => (r.series || [])[0] || null);
    const sels = state.diff && state.leftSel && state.leftSel !== state.sel ? [state.sel, state.leftSel] : [state.sel];
    return { step, list: await Promise.all(sels.map(one)), sels };
  }

  function drawChart(win, { step, list, sels }, now) {
    const t = typeInfo(state.type);
    const n = Math.max(1, Math.ceil((win.endMs - win.startMs) / (step * 1e3)));
    const series = list.map((s, i) => {
      if (!s) return null;
      const values = new Array(n).fill(0);
      for (const p of s.points || []) {
        const k = Math.round((Number(p.timestamp) - win.startMs) / (step * 1e3));
        if (k >= 0 && k < n) values[k] += p.value * t.chartScale;
      }
      const name = sels.length > 1 ? `${i ? 'baseline' : 'comparison'} ${sels[i]}` : `${state.type}${sels[i]}`;
      const color = sels.length > 1 ? (i ? '#1f5fbf' : '#c62828') : undefined;
      return { name, points: values.map((v, k) => [win.startMs + k * step * 1e3, v]), color };
    }).filter(Boolean);
    const bands = state.diff ? [['left', state.left, 'baseline'], ['right', state.right, 'comparison']]
      .map(([cls, r, label]) => ({ cls: `band-${cls}`, label, fromMs: parseTime(r[0], now), untilMs: parseTime(r[1], now) })) : [];
    chartTitle.replaceChildren(`Total ${t.noun} per ${fmtStep(step)}`,
      el('span', { class: 'red-key' }, el('span', { class: 'muted' }, state.diff
        ? `drag across the chart to set the ${state.dragTarget === 'left' ? 'baseline' : 'comparison'} range`
        : 'drag across the chart to zoom into a range')));
    rangesText.replaceChildren(...bands.map(b => el('span', { class: 'diff-range' }, el('span', { class: `swatch ${b.cls}` }),
      `${b.label}: ${fmtRange(b.fromMs, b.untilMs)}`)));
    chartBox.replaceChildren(brushChart({ series, startMs: win.startMs, endMs: win.endMs, stepMs: step * 1e3, unit: t.chartUnit,
      height: 150, legend: sels.length > 1, id: 'profiles-chart', bands, onSelect }));
  }

  function onSelect(fromMs, untilMs) {
    if (!state.diff) {
      zoomTo(fromMs, untilMs);
      return run(true, false);
    }
    state[state.dragTarget] = [String(fromMs), String(untilMs)];
    state.dragTarget = state.dragTarget === 'left' ? 'right' : 'left';
    markTarget();
    return run(true, false);
  }

  async function loadFlame(win, now) {
    if (!state.diff) {
      return getJSON('/pyroscope/render', { query: `${state.type}${state.sel}`, from: String(win.startMs), until: String(win.endMs),
        format: 'json', 'max-nodes': '8192' });
    }
    const ms = v => String(parseTime(v, now));
    return getJSON('/pyroscope/render-diff', {
      leftQuery: `${state.type}${state.leftSel || state.sel}`, leftFrom: ms(state.left[0]), leftUntil: ms(state.left[1]),
      rightQuery: `${state.type}${state.sel}`, rightFrom: ms(state.right[0]), rightUntil: ms(state.right[1]), 'max-nodes': '8192',
    });
  }

  async function drawFlame(fb, win, now) {
    const t = typeInfo(state.type);
    const tree = decodeFlamebearer(fb.flamebearer, state.diff ? 7 : 4);
    const truncated = (fb.flamebearer.names || []).includes('other');
    const range = state.diff
      ? `baseline ${fmtRange(parseTime(state.left[0], now), parseTime(state.left[1], now))} · comparison ${fmtRange(parseTime(state.right[0], now), parseTime(state.right[1], now))}`
      : fmtRange(win.startMs, win.endMs);
    const title = state.diff && state.leftSel && state.leftSel !== state.sel
      ? `${t.label}: ${state.leftSel} → ${state.sel}` : `${t.label} ${state.sel}`;
    message.hidden = true;
    grid.hidden = false;
    const warn = state.diff && !(fb.leftTicks && fb.rightTicks)
      ? el('p', { class: 'warning', id: 'diff-warning' }, `The ${fb.leftTicks ? 'comparison' : 'baseline'} has no profiles: the shares compare with nothing.`) : null;
    const api = await showFlame(flameBox, tree, { diff: state.diff, unit: t.engineUnit, noun: t.noun, title, range, truncated });
    flameBox.replaceChildren(...[warn, document.getElementById('profiles-flame')].filter(Boolean));
    tableBox.replaceChildren(topTable(tree, { diff: state.diff, unit: t.engineUnit, onPick: name => {
      if (state.view === 'table') setView('both', true);
      api.search(`^${window.WhyslowTree.escapeRegExp(name)}$`, { regex: true });
    } }));
    requestAnimationFrame(redraw);
  }

  loadEngine().catch(() => { /* reported by the run that needs it */ });
  run(false);
}
