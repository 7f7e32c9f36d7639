// The Profiles page's top table: one row per function of the shown profile
// (the same decoded flamebearer the flamegraph draws), with self and total
// (a recursive function counted once per stack), sortable by any column.
// In diff mode the columns are the baseline's and the comparison's self
// shares and their change. Clicking a row searches the flamegraph for that
// function. Not the flamegraph (profiles_flame.js).
import { el } from '/static/format.js';

const MAX_ROWS = 500;

/** Per-function sums over a Tree: [{name, self, total, self2, total2}]. */
export function functionStats(tree) {
  const byName = new Map();
  const stack = tree.root.children.map(n => [n, new Set()]);
  while (stack.length) {
    const [node, above] = stack.pop();
    let s = byName.get(node.name);
    if (!s) byName.set(node.name, (s = { name: node.name, self: 0, total: 0, self2: 0, total2: 0 }));
    s.self += node.self;
    s.self2 += node.self2;
    // Recursion: only the outermost frame of a name counts towards its total.
    if (!above.has(node.name)) { s.total += node.total; s.total2 += node.total2; }
    if (node.children.length) {
      const next = above.has(node.name) ? above : new Set(above).add(node.name);
      for (const c of node.children) stack.push([c, next]);
    }
  }
  return [...byName.values()];
}

/**
 * The table for `tree`. `opts`: {diff, unit, onPick(name)}. Returns the
 * element; sorting happens in place.
 */
export function topTable(tree, opts) {
  const T = window.WhyslowTree;
  const after = tree.root.total, before = tree.root.total2;
  const stats = functionStats(tree).filter(s => s.total || s.total2);
  for (const s of stats) s.change = (after ? s.self / after : 0) - (before ? s.self2 / before : 0);
  const value = v => T.formatValue(v, opts.unit);
  const columns = opts.diff ? [
    { key: 'name', label: 'Function' },
    { key: 'self2', label: 'Baseline self', cell: s => share(s.self2, before, value(s.self2)) },
    { key: 'self', label: 'Comparison self', cell: s => share(s.self, after, value(s.self)) },
    { key: 'change', label: 'Change', abs: true, cell: s => change(s.change) },
  ] : [
    { key: 'name', label: 'Function' },
    { key: 'self', label: 'Self', cell: s => share(s.self, after, value(s.self), true) },
    { key: 'total', label: 'Total', cell: s => share(s.total, after, value(s.total), true) },
  ];
  let sortKey = opts.diff ? 'change' : 'self', desc = true;
  const tbody = el('tbody');
  const thead = el('thead', {}, el('tr', {}, columns.map(c => el('th', {
    class: c.key === 'name' ? 'sortable' : 'sortable num', 'data-key': c.key,
    title: `sort by ${c.label.toLowerCase()}`,
    onclick: () => { desc = sortKey === c.key ? !desc : c.key !== 'name'; sortKey = c.key; fill(); },
  }, c.label, el('span', { class: 'sort-mark' })))));
  const table = el('table', { class: 'stats-table top-table', id: 'top-table' }, thead, tbody);
  const note = el('p', { class: 'muted small top-note' });
  const root = el('div', { class: 'top-table-wrap' }, table, note);

  function fill() {
    const col = columns.find(c => c.key === sortKey);
    const sign = desc ? -1 : 1;
    const key = s => (col.abs ? Math.abs(s[sortKey]) : s[sortKey]);
    stats.sort((a, b) => (sortKey === 'name' ? sign * (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
      : sign * (key(a) - key(b))) || (a.name < b.name ? -1 : 1));
    thead.querySelectorAll('th').forEach(th => {
      th.classList.toggle('sorted', th.dataset.key === sortKey);
      th.querySelector('.sort-mark').textContent = th.dataset.key === sortKey ? (desc ? ' ▾' : ' ▴') : '';
    });
    tbody.replaceChildren(...stats.slice(0, MAX_ROWS).map(s => el('tr', {
      'data-name': s.name, title: 'show in the flamegraph',
      onclick: e => {
        tbody.querySelectorAll('tr.picked').forEach(r => r.classList.remove('picked'));
        e.currentTarget.classList.add('picked');
        opts.onPick(s.name);
      },
    }, el('td', { class: 'fn' }, s.name), columns.slice(1).map(c => c.cell(s)))));
    note.textContent = stats.length > MAX_ROWS ? `showing ${MAX_ROWS} of ${stats.length} functions` : `${stats.length} functions`;
  }
  fill();
  return root;
}

function share(v, whole, text, bar) {
  const pct = whole ? (100 * v) / whole : 0;
  return el('td', { class: 'num' }, bar ? el('span', { class: 'pct-bar', style: { width: `${Math.min(100, pct)}%` } }) : null,
    el('span', { class: 'v' }, text), ' ', el('span', { class: 'muted pct' }, `${pct >= 10 || pct === 0 ? pct.toFixed(1) : pct.toFixed(2)}%`));
}

function change(d) {
  const p = 100 * d;
  const cls = p > 0.0005 ? 'grew' : p < -0.0005 ? 'shrank' : 'muted';
  return el('td', { class: `num ${cls}` }, `${p > 0 ? '+' : p < 0 ? '−' : '±'}${Math.abs(p).toFixed(Math.abs(p) >= 10 ? 1 : 2)} pts`);
}
