// The service dependency graph (who calls whom, with call counts) over a
// chosen lookback, laid out in columns from callers to callees and drawn as
// SVG, with the table of calls. Clicking a service searches its traces. Part
// of the Services page.
import { api } from '/static/api.js';
import { el, svg, serviceColor, useServiceColors } from '/static/format.js';

const LOOKBACKS = [['1h', 3600e3], ['6h', 6 * 3600e3], ['24h', 86400e3], ['2d', 2 * 86400e3], ['7d', 7 * 86400e3]];

/** Fills `section` with the graph; `query` holds `lookback` (default 24h). */
export async function renderDependencies(section, query) {
  const chosen = query.get('lookback') || '24h';
  const select = el('select', {
    id: 'dep-lookback', onchange: e => {
      const p = new URLSearchParams(query);
      p.set('lookback', e.target.value);
      window.whyslowNavigate(`/services?${p}`);
    },
  }, LOOKBACKS.map(([k]) => el('option', { value: k, selected: k === chosen }, `Last ${k}`)));
  const box = el('div', { class: 'dep-graph', id: 'dep-graph' }, el('p', { class: 'muted' }, 'Loading…'));
  section.append(el('h2', {}, 'Service dependencies ', select), box);
  const ms = (LOOKBACKS.find(([k]) => k === chosen) || LOOKBACKS[2])[1];
  let links, services;
  try {
    [links, services] = await Promise.all([api.dependencies(ms), api.services()]);
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error' }, e.message));
    return;
  }
  box.replaceChildren(graph(links, services), linkTable(links));
}

/** Column of each service: the longest call chain reaching it, after cutting
 * the edges that close cycles (found by depth-first search). */
function layers(names, links) {
  const out = new Map(names.map(n => [n, []]));
  for (const l of links) if (l.parent !== l.child) out.get(l.parent).push(l.child);
  const state = new Map();
  const forward = [];
  const visit = n => {
    state.set(n, 1);
    for (const c of out.get(n)) {
      if (!state.has(c)) { forward.push([n, c]); visit(c); } else if (state.get(c) === 2) forward.push([n, c]);
    }
    state.set(n, 2);
  };
  for (const n of names) if (!state.has(n)) visit(n);
  const layer = new Map(names.map(n => [n, 0]));
  for (let pass = 0; pass < names.length; pass++) {
    let changed = false;
    for (const [a, b] of forward) {
      if (layer.get(a) + 1 > layer.get(b)) { layer.set(b, layer.get(a) + 1); changed = true; }
    }
    if (!changed) break;
  }
  return layer;
}

function graph(links, services) {
  const names = [...new Set([...services, ...links.flatMap(l => [l.parent, l.child])])].sort();
  if (!names.length) return el('p', { class: 'muted' }, 'No services yet.');
  useServiceColors(names);
  const layer = layers(names, links);
  const sparse = [];
  for (const n of names) (sparse[layer.get(n)] ||= []).push(n);
  const columns = sparse.filter(Boolean);
  const NW = 170, NH = 36, GX = 110, GY = 26, P = 20;
  const pos = new Map();
  columns.forEach((col, c) => col.forEach((n, r) => pos.set(n, { x: P + c * (NW + GX), y: P + r * (NH + GY) })));
  const W = P * 2 + columns.length * (NW + GX) - GX;
  const hasBack = links.some(l => l.parent === l.child || layer.get(l.child) <= layer.get(l.parent));
  const H = P * 2 + Math.max(...columns.map(c => c.length)) * (NH + GY) - GY + (hasBack ? 70 : 0);
  const maxCalls = Math.max(1, ...links.map(l => l.callCount));
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'dep-svg' },
    svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }))));
  for (const l of links) {
    const a = pos.get(l.parent), b = pos.get(l.child);
    const width = 1 + 3 * Math.sqrt(l.callCount / maxCalls);
    let d, lx, ly;
    if (l.parent === l.child) {
      d = `M${a.x + NW - 30},${a.y} C${a.x + NW},${a.y - 40} ${a.x + NW + 30},${a.y} ${a.x + NW},${a.y + 10}`;
      lx = a.x + NW + 10; ly = a.y - 18;
    } else {
      const x1 = a.x + NW, y1 = a.y + NH / 2, x2 = b.x, y2 = b.y + NH / 2;
      const back = x2 <= x1;
      d = back ? `M${a.x + NW / 2},${a.y + NH} C${a.x + NW / 2},${a.y + NH + 60} ${b.x + NW / 2},${b.y + NH + 60} ${b.x + NW / 2},${b.y + NH}`
        : `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`;
      lx = back ? (a.x + b.x + NW) / 2 : (x1 + x2) / 2; ly = back ? Math.max(a.y, b.y) + NH + 50 : (y1 + y2) / 2 - 6;
    }
    root.append(svg('path', { d, class: 'dep-edge', 'stroke-width': width, 'marker-end': 'url(#arrow)' }),
      svg('text', { x: lx, y: ly, class: 'dep-count', 'text-anchor': 'middle' }, l.callCount));
  }
  for (const [n, p] of pos) {
    const g = svg('g', { class: 'dep-node', 'data-service': n, onclick: () => window.whyslowNavigate(`/search?service=${encodeURIComponent(n)}`) },
      svg('rect', { x: p.x, y: p.y, width: NW, height: NH, rx: 6, style: `stroke:${serviceColor(n)}` }),
      svg('rect', { x: p.x, y: p.y, width: 6, height: NH, rx: 2, style: `fill:${serviceColor(n)}` }),
      svg('text', { x: p.x + NW / 2 + 3, y: p.y + NH / 2 + 5, 'text-anchor': 'middle' }, n.length > 22 ? `${n.slice(0, 21)}…` : n),
      svg('title', {}, n));
    root.append(g);
  }
  return el('div', { class: 'dep-scroll' }, root);
}

function linkTable(links) {
  if (!links.length) return el('p', { class: 'muted' }, 'No calls between services in this window.');
  const rows = [...links].sort((a, b) => b.callCount - a.callCount);
  return el('table', { class: 'stats-table dep-table', id: 'dep-table' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Caller'), el('th', {}, 'Callee'), el('th', {}, 'Calls'))),
    el('tbody', {}, rows.map(l => el('tr', {}, el('td', {}, l.parent), el('td', {}, l.child), el('td', { class: 'num' }, l.callCount)))));
}
