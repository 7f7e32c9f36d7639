// The Profiles page's flamegraph: `whyslow record`'s engine
// (/static/flamegraph_tree.js → window.WhyslowTree, /static/flamegraph.js →
// window.WhyslowFlamegraph, its markup and CSS, served unchanged from
// crates/render/assets/), loaded once as classic scripts and mounted once per
// page load. Each query result becomes a new "view" of the one mounted engine
// (the engine has no unmount), so search, zoom, tooltips and window.whyslow
// keep working across queries. Also decodes Pyroscope flamebearer levels
// (single and diff) into the engine's Tree. A zoomed frame lists the traces
// whose spans ran it (profiles_traces.js) when the view has a query to ask
// with: the Profiles page's own (its URL), or `info.links`. The span detail's
// Profile section (span_profile.js) shows its flamegraph with this engine too.
// Not the page (profiles.js) nor the top table (profiles_table.js).
import { tracesPanel } from '/static/profiles_traces.js';

let loading = null;
let engine = null;
let seq = 0;

function script(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

/** Loads the engine's CSS, scripts and markup once; resolves to window.WhyslowTree. */
export function loadEngine() {
  if (!loading) {
    loading = (async () => {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = '/static/flamegraph.css';
      document.head.append(link);
      // flamegraph.js reads window.WhyslowTree when it runs: strictly in order.
      await script('/static/flamegraph_tree.js');
      await script('/static/flamegraph.js');
      const res = await fetch('/static/flamegraph.html');
      if (!res.ok) throw new Error(`could not load /static/flamegraph.html: ${res.status}`);
      return res.text();
    })().catch(e => { loading = null; throw e; });
  }
  return loading;
}

/* ---------- flamebearer → Tree ---------- */

/**
 * The call tree of a flamebearer. `width` is 4 (`[x, total, self, name]`) or
 * 7 for a diff (`[xl, totl, selfl, xr, totr, selfr, name]`; left goes to
 * `self2`, the engine's "before", right to `self`, "after"). x offsets are
 * delta-encoded per level; a node's parent is the node of the level above
 * whose x range holds it. Self values are re-derived as total minus the
 * children's totals, so totals add up whatever the server put in `self`.
 */
export function decodeFlamebearer(fb, width) {
  const T = window.WhyslowTree;
  const names = fb.names || [];
  const tree = new T.Tree(names[0] || 'total');
  const diff = width === 7;
  let parents = [];
  const settle = list => {
    for (const e of list) {
      e.node.self += Math.max(0, e.right - e.kidsRight);
      if (diff) e.node.self2 += Math.max(0, e.left - e.kidsLeft);
    }
  };
  for (let depth = 0; depth < (fb.levels || []).length; depth++) {
    const level = fb.levels[depth];
    const current = [];
    let prevL = 0, prevR = 0, p = 0;
    for (let i = 0; i + width - 1 < level.length; i += width) {
      const xl = prevL + level[i], left = level[i + 1];
      prevL = xl + left;
      let xr = xl, right = left;
      if (diff) { xr = prevR + level[i + 3]; right = level[i + 4]; prevR = xr + right; }
      const e = { xl, left: diff ? left : 0, xr, right, kidsLeft: 0, kidsRight: 0, node: tree.root };
      if (depth > 0) {
        if (left <= 0 && right <= 0) continue;
        // Which side to place by: one where the node has a width.
        const useRight = !diff || left <= 0;
        const x = useRight ? xr : xl;
        const inside = q => (useRight ? q.xr <= x && x < q.xr + q.right : q.xl <= x && x < q.xl + q.left);
        while (p < parents.length && !inside(parents[p])) p++;
        const parent = parents[p];
        if (!parent) continue;
        e.node = tree.child(parent.node, names[level[i + width - 1]] ?? '?', null);
        parent.kidsLeft += e.left;
        parent.kidsRight += e.right;
      }
      current.push(e);
    }
    settle(parents);
    parents = current;
  }
  settle(parents);
  return tree.finish();
}

/* ---------- models ---------- */

const esc = t => window.WhyslowTree.escapeHtml(t);

/** A single profile's tooltip and colours (as record's profile page, without source locations). */
function singleKind(info) {
  const T = window.WhyslowTree;
  return {
    color: node => (!node.parent ? [200, 203, 210] : node.name === 'other' ? T.kindColor(node.name, 3) : T.kindColor(node.name, 0)),
    tooltip(node, tree, ctx) {
      const total = tree.root.total;
      const rows = [['Total', T.formatValue(node.total, ctx.unit), `${T.percent(node.total, total)} of all`]];
      if (node.parent) rows.push(['Of caller', T.percent(node.total, node.parent.total), `of ${node.parent.name}`]);
      if (!ctx.inverted) rows.push(['Self', T.formatValue(node.self, ctx.unit), `${T.percent(node.self, total)} of all`]);
      const kind = !node.parent ? 'all profiles merged' : node.name === 'other' ? 'frames cut by the node limit' : 'function';
      return `<div class="wf-tt-name">${esc(node.name)}</div><table>${rows.map(r =>
        `<tr><th>${r[0]}</th><td>${esc(r[1])}</td><td>${esc(r[2])}</td></tr>`).join('')}</table>` +
        `<div class="wf-tt-hint">${kind}${ctx.inverted ? ' · callers above' : ''} · click to zoom</div>`;
    },
    meta(tree) {
      return [`<span>Total <b>${esc(T.formatValue(tree.root.total, info.unit))}</b> ${esc(info.noun)}</span>`,
        `<span>${esc(info.range)}</span>`,
        info.truncated ? '<span class="wf-chip warn">small frames folded into “other”</span>' : ''].join('');
    },
    hint: info.links ? 'Click a frame to zoom and list the traces through it · Ctrl+F to search · Esc to reset'
      : 'Click a frame to zoom · Ctrl+F to search · Esc to reset',
    legend: [{ rgb: T.kindColor('a', 0), label: 'function (hue by name)' }, { rgb: T.KIND_LEGEND[3], label: 'other (cut)' },
      { rgb: [224, 0, 224], label: 'search match' }],
  };
}

/* Change of a node's share of its profile's total, -1..1 (as record's diff page). */
function delta(node, tree, inverted) {
  const after = tree.root.total, before = tree.root.total2;
  const a = inverted ? node.total : node.self, b = inverted ? node.total2 : node.self2;
  return (after ? a / after : 0) - (before ? b / before : 0);
}

/** The differential tooltip and colours: record's diff page (red grew, blue shrank, pale under 10 points). */
function diffKind(info) {
  const T = window.WhyslowTree;
  const largest = (tree, inverted) => {
    const key = inverted ? 'maxDeltaInverted' : 'maxDelta';
    if (tree[key] === undefined) {
      tree[key] = 0;
      for (const n of tree.nodes) if (n.parent) tree[key] = Math.max(tree[key], Math.abs(delta(n, tree, inverted)));
    }
    return tree[key];
  };
  const points = d => {
    const p = 100 * d;
    const cls = p > 0.0005 ? 'up' : p < -0.0005 ? 'down' : '';
    return `<span class="${cls}">${p > 0 ? '+' : p < 0 ? '−' : '±'}${Math.abs(p).toFixed(Math.abs(p) >= 10 ? 1 : 2)} pts</span>`;
  };
  return {
    color: (node, tree, inverted) => (!node.parent ? [200, 203, 210]
      : T.diffColor(delta(node, tree, inverted) / Math.max(largest(tree, inverted), 0.1))),
    tooltip(node, tree, ctx) {
      const after = tree.root.total, before = tree.root.total2;
      const f = v => esc(T.formatValue(v, ctx.unit));
      const share = (a, b) => (after ? a / after : 0) - (before ? b / before : 0);
      const row = (label, a, b) => `<tr><th>${label}</th><td>${f(b)} (${T.percent(b, before)})</td><td>${f(a)} (${T.percent(a, after)})</td><td>${points(share(a, b))}</td></tr>`;
      return `<div class="wf-tt-name">${esc(node.name)}</div><table><tr><th></th><th>baseline</th><th>comparison</th><th>change</th></tr>` +
        row('Total', node.total, node.total2) + (ctx.inverted ? '' : row('Self', node.self, node.self2)) +
        '</table><div class="wf-tt-hint">shares of each profile’s total · width is the comparison · click to zoom</div>';
    },
    meta(tree) {
      return [`<span>Baseline <b>${esc(T.formatValue(tree.root.total2, info.unit))}</b></span>`,
        `<span>Comparison <b>${esc(T.formatValue(tree.root.total, info.unit))}</b></span>`,
        `<span>${esc(info.noun)}, shares of each total</span>`,
        info.truncated ? '<span class="wf-chip warn">small frames folded into “other”</span>' : ''].join('');
    },
    hint: 'Width: comparison · red: self share grew · blue: shrank · click to zoom · Ctrl+F to search',
    legend: [[1, 'grew'], [0.4, 'grew a little'], [0, 'unchanged'], [-0.4, 'shrank a little'], [-1, 'shrank']]
      .map(([i, label]) => ({ rgb: T.diffColor(i), label })),
  };
}

/* ---------- the one mounted engine ---------- */

function mountOnce(markup) {
  const root = document.createElement('div');
  root.className = 'profiles-flame';
  root.id = 'profiles-flame';
  root.innerHTML = markup;
  // Parked (hidden, in the document) while another page shows: the engine
  // looks its elements up by id on Escape and on window resize.
  const park = document.createElement('div');
  park.hidden = true;
  park.append(root);
  document.body.append(park);
  const data = new Map(); // view name → {tree, kind, unit}
  const built = [];
  const model = {
    views: [{ name: 'none', label: 'none' }],
    view: 'none',
    build(view) {
      const d = data.get(view);
      const T = window.WhyslowTree;
      const tree = d ? d.tree : new T.Tree('total').finish();
      tree.kind = d ? d.kind : singleKind({ unit: 'count', noun: '', range: '' });
      // The engine inverts on demand: keep its inverted trees to free them later.
      const invert = tree.inverted;
      tree.inverted = function () { const inv = invert.call(this); inv.kind = this.kind; built.push(inv); return inv; };
      built.push(tree);
      return tree;
    },
    unit: view => (data.get(view) || { unit: 'count' }).unit,
    color: (node, tree, inverted) => tree.kind.color(node, tree, inverted),
    tooltip: (node, tree, ctx) => tree.kind.tooltip(node, tree, ctx),
    meta: (view, tree) => tree.kind.meta(tree),
    hint: '',
    legend: [],
  };
  const api = window.WhyslowFlamegraph.mount(model);
  const traces = tracesPanel();
  root.append(traces.element);
  engine = { root, park, api, model, data, built, traces, active: false };
  // The engine zooms on clicks (frames, breadcrumbs, reset) and resets on
  // Escape; these listeners run after its own, so they see the new zoom.
  const follow = () => { if (engine.active) traces.follow(api.state().zoomed); };
  root.addEventListener('click', follow);
  window.addEventListener('keydown', e => { if (e.key === 'Escape') follow(); });
  window.addEventListener('whyslow:route', () => { park.append(root); engine.active = false; });
  // While parked, Ctrl+F is the browser's again (the engine would take it for its hidden search box).
  window.addEventListener('keydown', e => {
    if (!engine.active && (e.ctrlKey || e.metaKey) && (e.key === 'f' || e.key === 'F')) e.stopPropagation();
  }, true);
  return engine;
}

/** Redraws at the container's current width (the engine itself redraws on window resize only). */
export function redraw() {
  if (engine) engine.api.setIcicle(engine.api.state().orientation === 'icicle');
}

/**
 * Where a single flamegraph's frames find their traces: the Profiles page's
 * query and range (its URL holds them), none in diff mode or on other pages.
 */
function pageLinks(info) {
  const p = new URLSearchParams(location.search);
  if (info.diff || location.pathname !== '/profiles' || !p.get('query')) return null;
  return { query: p.get('query'), from: p.get('from') || 'now-1h', until: p.get('until') || 'now', unit: info.unit };
}

/**
 * Shows `tree` (from decodeFlamebearer) in `container`. `info`: {diff, unit
 * (engine unit name), noun, title, range, truncated, links}; `links`
 * ({query, from, until, unit} for /api/profiles/span-hits, or null) says
 * where a zoomed frame's traces come from, by default the Profiles page's
 * query. Zoom and search carry over to the new tree when its frames allow.
 * Resolves to the engine's API.
 */
export async function showFlame(container, tree, info) {
  const markup = await loadEngine();
  const e = engine || mountOnce(markup);
  container.append(e.root);
  e.active = true;
  info = { ...info, links: info.links === undefined ? pageLinks(info) : info.links };
  e.traces.use(info.links);
  const kind = info.diff ? diffKind(info) : singleKind(info);
  const name = `q${++seq}`;
  const stale = e.built.splice(0);
  e.data.clear();
  e.data.set(name, { tree, kind, unit: info.unit });
  e.model.views = [{ name, label: name }];
  e.model.hint = kind.hint;
  document.getElementById('wf-title').textContent = info.title;
  const legend = document.getElementById('wf-legend');
  legend.replaceChildren(...kind.legend.map(item => {
    const span = document.createElement('span');
    span.className = 'wf-legend-item';
    const swatch = document.createElement('i');
    swatch.style.background = window.WhyslowTree.css(item.rgb);
    span.append(swatch, item.label);
    return span;
  }));
  e.api.setView(name);
  // The engine keeps every view's tree; empty the old ones so memory stays flat.
  for (const t of stale) { t.nodes = []; t.root.children = []; }
  e.traces.follow(e.api.state().zoomed);
  return e.api;
}

/** Leaves the engine mounted but out of sight (an empty result or an error). */
export function hideFlame() {
  if (engine) { engine.park.append(engine.root); engine.active = false; }
}
