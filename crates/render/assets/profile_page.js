/* whyslow flamegraph page: turns the embedded profile (script#whyslow-profile,
 * written by render::flamegraph_html) into one call tree per value view and
 * hands it to the engine with colours by frame kind and the tooltip. Not the
 * drawing (flamegraph.js) nor the differential page (diff_page.js).
 */
(function () {
  'use strict';
  const T = window.WhyslowTree;
  const data = JSON.parse(document.getElementById('whyslow-profile').textContent);
  const VIEW_LABELS = { samples: 'Samples', cpu: 'CPU', 'off-cpu': 'Off-CPU', wall: 'Wall' };
  /* Comments worth a warning colour: lost samples (not "lost samples: 0"), errors. */
  const WARNING = /lost[^0-9]*[1-9]|error|fail|truncat/i;
  const VIEW_NOUNS = { samples: 'samples', cpu: 'on-CPU time', 'off-cpu': 'off-CPU time', wall: 'wall time' };

  const stackCount = data.stack_frame.length;
  const stackParent = new Int32Array(stackCount);
  for (let i = 0; i < stackCount; i++) {
    const delta = data.stack_parent_delta[i];
    stackParent[i] = delta === 0 ? -1 : i - delta;
  }
  const frameNames = data.frames.map(function (f) { return data.strings[f[0]]; });
  const views = data.views.map(function (v) {
    return { name: v.name, label: VIEW_LABELS[v.name] || v.name, columns: v.columns, unit: v.unit };
  });
  const viewByName = new Map(views.map(function (v) { return [v.name, v]; }));
  const firstView = viewByName.has(data.view) ? data.view : views.length ? views[0].name : data.view;

  /* The call tree of one view: stack values summed per stack entry, then
   * stack entries merged by frame name under their parent. */
  function build(viewName) {
    const view = viewByName.get(viewName);
    const tree = new T.Tree('all');
    if (!view) return tree.finish();
    const samples = data.samples;
    const columns = view.columns.map(function (c) { return samples.values[c]; });
    const stackSelf = new Float64Array(stackCount);
    let rootSelf = 0;
    for (let i = 0; i < samples.stack.length; i++) {
      let v = 0;
      for (const column of columns) v += column[i];
      if (!v) continue;
      const s = samples.stack[i];
      if (s < 0) rootSelf += v;
      else stackSelf[s] += v;
    }
    const stackTotal = Float64Array.from(stackSelf);
    for (let i = stackCount - 1; i >= 0; i--) {
      if (stackParent[i] >= 0) stackTotal[stackParent[i]] += stackTotal[i];
    }
    const nodeOf = new Array(stackCount);
    for (let i = 0; i < stackCount; i++) {
      if (!stackTotal[i]) continue;
      const parent = stackParent[i] < 0 ? tree.root : nodeOf[stackParent[i]];
      const frame = data.stack_frame[i];
      const node = tree.child(parent, frameNames[frame], frame);
      node.self += stackSelf[i];
      nodeOf[i] = node;
    }
    tree.root.self = rootSelf;
    return tree.finish();
  }

  function unit(viewName) {
    const view = viewByName.get(viewName);
    return view ? view.unit : 'count';
  }

  function color(node) {
    if (node.info === null) return [200, 203, 210];
    const frame = data.frames[node.info];
    return T.kindColor(node.name, frame[3]);
  }

  function tooltip(node, tree, ctx) {
    const total = tree.root.total;
    const parent = node.parent;
    const rows = [
      ['Total', T.formatValue(node.total, ctx.unit), T.percent(node.total, total) + ' of all'],
    ];
    if (parent) {
      rows.push(['Of caller', T.percent(node.total, parent.total), 'of ' + parent.name]);
    }
    if (!ctx.inverted) rows.push(['Self', T.formatValue(node.self, ctx.unit), T.percent(node.self, total) + ' of all']);
    let html = '<div class="wf-tt-name">' + T.escapeHtml(node.name) + '</div>';
    if (node.info !== null) {
      const frame = data.frames[node.info];
      const file = data.strings[frame[1]];
      if (file) html += '<div class="wf-tt-loc">' + T.escapeHtml(file + (frame[2] ? ':' + frame[2] : '')) + '</div>';
    }
    html += '<table>' + rows.map(function (r) {
      return '<tr><th>' + r[0] + '</th><td>' + T.escapeHtml(r[1]) + '</td><td>' + T.escapeHtml(r[2]) + '</td></tr>';
    }).join('') + '</table>';
    const kind = node.info === null ? 'root' : T.KIND_NAMES[data.frames[node.info][3]] + ' code';
    html += '<div class="wf-tt-hint">' + kind + (ctx.inverted ? ' · callers above' : '') + ' · click to zoom</div>';
    return html;
  }

  function meta(viewName, tree) {
    const items = [];
    const u = unit(viewName);
    if (u === 'count') {
      items.push('<span>Total <b>' + T.formatCount(tree.root.total) + '</b> samples</span>');
    } else {
      items.push('<span>Total <b>' + T.escapeHtml(T.formatValue(tree.root.total, u)) + '</b> ' +
        T.escapeHtml(VIEW_NOUNS[viewName] || viewName) + '</span>');
    }
    const samplesView = viewByName.get('samples');
    if (samplesView && viewName !== 'samples') {
      let count = 0;
      for (const c of samplesView.columns) for (const v of data.samples.values[c]) count += v;
      items.push('<span><b>' + T.formatCount(count) + '</b> samples</span>');
    }
    if (data.duration_ns > 0) items.push('<span>Recorded <b>' + T.formatDuration(data.duration_ns) + '</b></span>');
    if (data.start_time_ns > 0) {
      const start = new Date(data.start_time_ns / 1e6);
      items.push('<span>' + T.escapeHtml(start.toISOString().replace('T', ' ').slice(0, 19)) + ' UTC</span>');
    }
    for (const comment of data.comments) {
      const warn = WARNING.test(comment) ? ' warn' : '';
      items.push('<span class="wf-chip' + warn + '">' + T.escapeHtml(comment) + '</span>');
    }
    return items.join('');
  }

  window.WhyslowFlamegraph.mount({
    views: views,
    view: firstView,
    build: build,
    unit: unit,
    color: color,
    tooltip: tooltip,
    meta: meta,
    hint: 'Click a frame to zoom · Ctrl+F to search · Esc to reset',
    legend: [
      { rgb: T.KIND_LEGEND[0], label: 'user' },
      { rgb: T.KIND_LEGEND[1], label: 'kernel' },
      { rgb: T.KIND_LEGEND[2], label: 'JIT' },
      { rgb: T.KIND_LEGEND[3], label: 'synthetic' },
      { rgb: [224, 0, 224], label: 'search match' },
    ],
  });
})();
