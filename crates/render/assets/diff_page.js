/* whyslow differential flamegraph page: turns the embedded comparison
 * (script#whyslow-diff, written by render::diff_html) into a call tree in
 * AFTER's shape, coloured by the change of each frame's share of self time,
 * and links the table of top changes to the search. Not the drawing (flamegraph.js).
 */
(function () {
  'use strict';
  const T = window.WhyslowTree;
  const data = JSON.parse(document.getElementById('whyslow-diff').textContent);
  const VIEW_LABELS = { samples: 'samples', cpu: 'on-CPU time', 'off-cpu': 'off-CPU time', wall: 'wall time' };

  /* The merged tree: self = after, self2 = before. */
  function build() {
    const tree = new T.Tree(data.strings[data.node_name[0]] || 'all');
    const count = data.node_name.length;
    const nodeOf = new Array(count);
    nodeOf[0] = tree.root;
    tree.root.self = data.after_self[0] || 0;
    tree.root.self2 = data.before_self[0] || 0;
    for (let i = 1; i < count; i++) {
      const parent = nodeOf[i - data.node_parent_delta[i]];
      const node = tree.child(parent, data.strings[data.node_name[i]], null);
      node.self = data.after_self[i];
      node.self2 = data.before_self[i];
      nodeOf[i] = node;
    }
    return tree.finish();
  }

  /* Change of a node's share of its profile's total, -1..1. Normal trees use
   * the self share (what the frame itself costs); inverted trees the total
   * share, which for their first row is the function's self share. */
  function delta(node, tree, inverted) {
    const after = tree.root.total;
    const before = tree.root.total2;
    const a = inverted ? node.total : node.self;
    const b = inverted ? node.total2 : node.self2;
    return (after ? a / after : 0) - (before ? b / before : 0);
  }

  function largestDelta(tree, inverted) {
    const key = inverted ? 'maxDeltaInverted' : 'maxDelta';
    if (tree[key] === undefined) {
      let max = 0;
      for (const n of tree.nodes) {
        if (n.parent) max = Math.max(max, Math.abs(delta(n, tree, inverted)));
      }
      tree[key] = max;
    }
    return tree[key];
  }

  /* Change (in shares of the total) drawn at full colour when no change is
   * larger: 10 percentage points, so noise-level changes stay pale. */
  const FULL_COLOR_DELTA = 0.1;

  /* Intensity ∝ the change, full at the largest change of the tree or at
   * FULL_COLOR_DELTA, whichever is larger. */
  function color(node, tree, inverted) {
    if (!node.parent) return [200, 203, 210];
    const scale = Math.max(largestDelta(tree, inverted), FULL_COLOR_DELTA);
    return T.diffColor(delta(node, tree, inverted) / scale);
  }

  function points(d) {
    const p = 100 * d;
    const text = (p > 0 ? '+' : p < 0 ? '−' : '±') + Math.abs(p).toFixed(Math.abs(p) >= 10 ? 1 : 2) + ' pts';
    const cls = p > 0.0005 ? 'up' : p < -0.0005 ? 'down' : '';
    return '<span class="' + cls + '">' + text + '</span>';
  }

  function tooltip(node, tree, ctx) {
    const after = tree.root.total;
    const before = tree.root.total2;
    const f = function (v) { return T.escapeHtml(T.formatValue(v, ctx.unit)); };
    const share = function (a, b) {
      return (after ? a / after : 0) - (before ? b / before : 0);
    };
    let html = '<div class="wf-tt-name">' + T.escapeHtml(node.name) + '</div><table>';
    html += '<tr><th></th><th>before</th><th>after</th><th>change</th></tr>';
    html += '<tr><th>Total</th><td>' + f(node.total2) + ' (' + T.percent(node.total2, before) + ')</td><td>' +
      f(node.total) + ' (' + T.percent(node.total, after) + ')</td><td>' +
      points(share(node.total, node.total2)) + '</td></tr>';
    if (!ctx.inverted) {
      html += '<tr><th>Self</th><td>' + f(node.self2) + ' (' + T.percent(node.self2, before) + ')</td><td>' +
        f(node.self) + ' (' + T.percent(node.self, after) + ')</td><td>' +
        points(share(node.self, node.self2)) + '</td></tr>';
    }
    html += '</table><div class="wf-tt-hint">shares of each profile’s total · width is after · click to zoom</div>';
    return html;
  }

  function meta(view, tree) {
    const u = data.unit;
    const items = [
      '<span>Before <b>' + T.escapeHtml(T.formatValue(tree.root.total2, u)) + '</b></span>',
      '<span>After <b>' + T.escapeHtml(T.formatValue(tree.root.total, u)) + '</b></span>',
      '<span>' + T.escapeHtml(VIEW_LABELS[data.view] || data.view) + ', shares of each total</span>',
    ];
    const seen = new Set();
    for (const comment of data.before_comments.concat(data.after_comments)) {
      if (seen.has(comment)) continue;
      seen.add(comment);
      const warn = /lost[^0-9]*[1-9]|error|fail|truncat/i.test(comment) ? ' warn' : '';
      items.push('<span class="wf-chip' + warn + '">' + T.escapeHtml(comment) + '</span>');
    }
    return items.join('');
  }

  const api = window.WhyslowFlamegraph.mount({
    views: [{ name: data.view, label: data.view }],
    view: data.view,
    build: build,
    unit: function () { return data.unit; },
    color: color,
    tooltip: tooltip,
    meta: meta,
    hint: 'Width: after · red: self share grew · blue: shrank · click to zoom · Ctrl+F to search',
    legend: [
      { rgb: T.diffColor(1), label: 'grew' },
      { rgb: T.diffColor(0.4), label: 'grew a little' },
      { rgb: T.diffColor(0), label: 'unchanged' },
      { rgb: T.diffColor(-0.4), label: 'shrank a little' },
      { rgb: T.diffColor(-1), label: 'shrank' },
    ],
  });

  const rows = document.querySelectorAll('#wf-changes tbody tr');
  rows.forEach(function (row) {
    row.addEventListener('click', function () {
      api.search('^' + T.escapeRegExp(row.getAttribute('data-name')) + '$', { regex: true });
      window.scrollTo({ top: 0, behavior: 'smooth' });
    });
  });
})();
