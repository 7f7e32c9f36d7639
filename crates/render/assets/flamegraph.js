/* whyslow flamegraph engine: draws a call tree on a <canvas> (flame or icicle),
 * with hover tooltip, click to zoom, search highlighting, view switching and the
 * inverted (bottom-up) tree; exposes window.whyslow for tests and scripts.
 * The page script supplies the data as a "model" (see mount); this file knows no
 * profile format. Not the tree itself (flamegraph_tree.js).
 */
(function () {
  'use strict';
  const T = window.WhyslowTree;
  const ROW_PX = 18;
  const MIN_WIDTH_PX = 0.35;
  const FONT = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace';
  const HIGHLIGHT = [224, 0, 224];
  const $ = function (id) { return document.getElementById(id); };

  /* Mounts the flamegraph of `model` on the page's markup. The model gives:
   *   views: [{name, label}], view: first view name,
   *   build(view) -> finished Tree, unit(view) -> unit name,
   *   color(node, tree, inverted) -> [r, g, b] (computed once per node),
   *   tooltip(node, tree, {view, unit, inverted}) -> HTML,
   *   meta(view, tree) -> HTML of the header facts, legend: [{rgb, label}]. */
  function mount(model) {
    const canvas = $('wf-canvas');
    const chart = $('wf-chart');
    const ctx = canvas.getContext('2d');
    const tooltip = $('wf-tooltip');
    const hoverBox = $('wf-hover');
    const searchInput = $('wf-search');
    const regexButton = $('wf-regex');
    const state = {
      view: model.view,
      inverted: false,
      icicle: false,
      zoom: null,
      query: '',
      regex: false,
      matcher: null,
      matchCache: new Map(),
      matchedTotal: 0,
      hovered: null,
      tree: null,
    };
    const trees = new Map();
    let rects = [];
    let rows = [];
    let charPx = 7.2;
    let pendingDraw = 0;

    function treeFor(view, inverted) {
      const key = view + (inverted ? '/inverted' : '');
      if (!trees.has(key)) {
        const tree = inverted ? treeFor(view, false).inverted() : model.build(view);
        trees.set(key, tree);
      }
      return trees.get(key);
    }

    /* ---------- search ---------- */

    function matches(node) {
      if (!state.matcher) return false;
      let hit = state.matchCache.get(node.name);
      if (hit === undefined) {
        hit = state.matcher(node.name);
        state.matchCache.set(node.name, hit);
      }
      return hit;
    }

    function updateMatches() {
      const tree = state.tree;
      let total = 0;
      if (state.matcher) {
        const stack = tree.root.children.slice();
        while (stack.length) {
          const n = stack.pop();
          if (matches(n)) total += n.total;
          else for (const c of n.children) stack.push(c);
        }
      }
      state.matchedTotal = total;
      const label = $('wf-matched');
      if (state.query && state.matcher) {
        label.textContent = 'matched: ' + T.percent(total, tree.root.total) + ' of total';
        label.className = 'wf-matched active';
      } else if (state.query) {
        label.textContent = 'invalid regular expression';
        label.className = 'wf-matched error';
      } else {
        label.textContent = '';
        label.className = 'wf-matched';
      }
    }

    function setSearch(query, regex) {
      state.query = query;
      if (regex !== undefined) state.regex = regex;
      searchInput.value = query;
      regexButton.setAttribute('aria-pressed', String(state.regex));
      state.matchCache = new Map();
      state.matcher = null;
      if (query) {
        // Smart case: a query with a capital letter matches case.
        const flags = query === query.toLowerCase() ? 'i' : '';
        try {
          const re = new RegExp(state.regex ? query : T.escapeRegExp(query), flags);
          state.matcher = function (name) { return re.test(name); };
        } catch (e) {
          state.matcher = null;
        }
      }
      updateMatches();
      draw();
    }

    /* ---------- layout and drawing ---------- */

    function rowY(depth, rowCount) {
      return state.icicle ? depth * ROW_PX : (rowCount - 1 - depth) * ROW_PX;
    }

    function fitLabel(name, widthPx) {
      const chars = Math.floor((widthPx - 6) / charPx);
      if (chars >= name.length) return name;
      if (chars < 3) return '';
      return name.slice(0, chars - 2) + '..';
    }

    function draw() {
      const tree = state.tree;
      const zoom = state.zoom || tree.root;
      const width = Math.max(320, chart.clientWidth);
      const rowCount = tree.maxDepth + 1;
      const height = rowCount * ROW_PX;
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = width + 'px';
      canvas.style.height = height + 'px';
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      ctx.font = FONT;
      ctx.textBaseline = 'middle';
      charPx = ctx.measureText('MMMMMMMMMM').width / 10 || charPx;
      rects = [];
      rows = [];
      for (let d = 0; d < rowCount; d++) rows.push([]);
      const scale = zoom.total > 0 ? width / zoom.total : 0;
      const put = function (node, x, w, dimmed) {
        const r = { node: node, x: x, y: rowY(node.depth, rowCount), w: w, dimmed: dimmed };
        rects.push(r);
        rows[node.depth].push(r);
      };
      const ancestors = [];
      for (let a = zoom.parent; a; a = a.parent) ancestors.push(a);
      for (let i = ancestors.length - 1; i >= 0; i--) put(ancestors[i], 0, width, true);
      const stack = [zoom];
      while (stack.length) {
        const n = stack.pop();
        const w = n.total * scale;
        if (w < MIN_WIDTH_PX) continue;
        put(n, (n.x - zoom.x) * scale, w, false);
        for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
      }
      for (const r of rects) paint(r, tree);
      if (tree.root.total === 0) {
        ctx.fillStyle = '#5b6270';
        ctx.fillText('No samples in this view.', 8, ROW_PX / 2);
      }
      hideHover();
      renderChrome();
    }

    function paint(r, tree) {
      const highlighted = matches(r.node);
      // Colours are a function of the node and its tree, so each node keeps its own.
      if (!r.node.rgb) r.node.rgb = model.color(r.node, tree, state.inverted);
      let rgb = highlighted ? HIGHLIGHT : r.node.rgb;
      if (r.dimmed) rgb = rgb.map(function (c) { return c + (255 - c) * 0.55; });
      ctx.fillStyle = T.css(rgb);
      const w = r.w > 2 ? r.w - 1 : r.w;
      ctx.fillRect(r.x, r.y, w, ROW_PX - 1);
      const label = r.w > 3 * charPx + 6 ? fitLabel(r.node.name, r.w) : '';
      if (label) {
        const luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
        ctx.fillStyle = r.dimmed ? '#6b7280' : luminance < 100 ? '#ffffff' : '#1a1a1a';
        ctx.fillText(label, r.x + 3, r.y + ROW_PX / 2);
      }
    }

    function scheduleDraw() {
      if (pendingDraw) return;
      pendingDraw = window.requestAnimationFrame(function () {
        pendingDraw = 0;
        draw();
      });
    }

    /* Header facts, breadcrumbs, toggles: everything but the canvas. */
    function renderChrome() {
      const tree = state.tree;
      $('wf-meta').innerHTML = model.meta(state.view, tree);
      const crumbs = $('wf-crumbs');
      crumbs.textContent = '';
      const path = [];
      for (let n = state.zoom || tree.root; n; n = n.parent) path.unshift(n);
      path.forEach(function (n, i) {
        if (i) crumbs.appendChild(document.createTextNode(' › '));
        const b = document.createElement('button');
        b.className = 'wf-crumb';
        b.textContent = n.name;
        b.title = 'Zoom to ' + n.name;
        b.addEventListener('click', function () { zoomTo(n.parent ? n : null); });
        crumbs.appendChild(b);
      });
      $('wf-reset').disabled = !state.zoom;
      $('wf-invert').setAttribute('aria-pressed', String(state.inverted));
      $('wf-orient').setAttribute('aria-pressed', String(state.icicle));
    }

    /* ---------- interaction ---------- */

    function zoomTo(node) {
      state.zoom = node && node.parent ? node : null;
      draw();
    }

    function rectAt(clientX, clientY) {
      const box = canvas.getBoundingClientRect();
      const x = clientX - box.left;
      const y = clientY - box.top;
      const rowCount = state.tree.maxDepth + 1;
      const row = Math.floor(y / ROW_PX);
      const depth = state.icicle ? row : rowCount - 1 - row;
      const list = rows[depth];
      if (!list) return null;
      let lo = 0;
      let hi = list.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const r = list[mid];
        if (x < r.x) hi = mid - 1;
        else if (x >= r.x + r.w) lo = mid + 1;
        else return r;
      }
      return null;
    }

    function hideHover() {
      state.hovered = null;
      tooltip.hidden = true;
      hoverBox.hidden = true;
      $('wf-status').innerHTML = model.hint;
    }

    function showHover(r, clientX, clientY) {
      state.hovered = r.node;
      const tree = state.tree;
      tooltip.innerHTML = model.tooltip(r.node, tree, {
        view: state.view,
        unit: model.unit(state.view),
        inverted: state.inverted,
      });
      tooltip.hidden = false;
      const pad = 14;
      const tw = tooltip.offsetWidth;
      const th = tooltip.offsetHeight;
      let left = clientX + pad;
      let top = clientY + pad;
      if (left + tw > window.innerWidth - 4) left = Math.max(4, clientX - tw - pad);
      if (top + th > window.innerHeight - 4) top = Math.max(4, clientY - th - pad);
      tooltip.style.left = left + 'px';
      tooltip.style.top = top + 'px';
      const box = canvas.getBoundingClientRect();
      const chartBox = chart.getBoundingClientRect();
      hoverBox.hidden = false;
      hoverBox.style.left = box.left - chartBox.left + chart.scrollLeft + r.x + 'px';
      hoverBox.style.top = box.top - chartBox.top + chart.scrollTop + r.y + 'px';
      hoverBox.style.width = Math.max(1, r.w > 2 ? r.w - 1 : r.w) + 'px';
      hoverBox.style.height = ROW_PX - 1 + 'px';
      const unit = model.unit(state.view);
      $('wf-status').innerHTML = '<b>' + T.escapeHtml(r.node.name) + '</b> — ' +
        T.escapeHtml(T.formatValue(r.node.total, unit)) + ' (' +
        T.percent(r.node.total, tree.root.total) + ' of total)';
    }

    canvas.addEventListener('mousemove', function (e) {
      const r = rectAt(e.clientX, e.clientY);
      if (r) showHover(r, e.clientX, e.clientY);
      else hideHover();
      canvas.style.cursor = r ? 'pointer' : 'default';
    });
    canvas.addEventListener('mouseleave', hideHover);
    canvas.addEventListener('click', function (e) {
      const r = rectAt(e.clientX, e.clientY);
      if (r) zoomTo(r.node);
    });

    function setTree(view, inverted) {
      const path = state.zoom ? T.pathOf(state.zoom) : null;
      state.view = view;
      state.inverted = inverted;
      state.tree = treeFor(view, inverted);
      state.zoom = path ? state.tree.find(path) : null;
      state.matchCache = new Map();
      updateMatches();
      draw();
    }

    function reset() {
      if (state.query) setSearch('');
      state.zoom = null;
      draw();
    }

    const viewSelect = $('wf-view');
    if (model.views.length > 1) {
      for (const v of model.views) {
        const option = document.createElement('option');
        option.value = v.name;
        option.textContent = v.label;
        viewSelect.appendChild(option);
      }
      viewSelect.value = state.view;
      viewSelect.addEventListener('change', function () { setTree(viewSelect.value, state.inverted); });
    } else {
      $('wf-view-wrap').hidden = true;
    }
    searchInput.addEventListener('input', function () { setSearch(searchInput.value); });
    regexButton.addEventListener('click', function () { setSearch(searchInput.value, !state.regex); });
    $('wf-reset').addEventListener('click', function () { zoomTo(null); });
    $('wf-invert').addEventListener('click', function () { setTree(state.view, !state.inverted); });
    $('wf-orient').addEventListener('click', function () {
      state.icicle = !state.icicle;
      draw();
      if (!state.icicle) chart.scrollTop = chart.scrollHeight;
    });
    document.addEventListener('keydown', function (e) {
      if ((e.ctrlKey || e.metaKey) && (e.key === 'f' || e.key === 'F')) {
        e.preventDefault();
        searchInput.focus();
        searchInput.select();
      } else if (e.key === 'Escape') {
        reset();
        hideHover();
        searchInput.blur();
      }
    });
    window.addEventListener('resize', scheduleDraw);

    const legend = $('wf-legend');
    for (const item of model.legend) {
      const span = document.createElement('span');
      span.className = 'wf-legend-item';
      span.innerHTML = '<i style="background:' + T.css(item.rgb) + '"></i>' + T.escapeHtml(item.label);
      legend.appendChild(span);
    }

    setTree(state.view, false);
    chart.scrollTop = chart.scrollHeight;

    /* The test and scripting interface. Coordinates are viewport CSS pixels. */
    const api = {
      search: function (query, options) {
        setSearch(query || '', options && options.regex !== undefined ? options.regex : state.regex);
        const total = state.tree.root.total;
        return { matchedTotal: state.matchedTotal, matchedPercent: total ? (100 * state.matchedTotal) / total : 0 };
      },
      zoomTo: function (name) {
        let best = null;
        for (const n of state.tree.nodes) {
          if (n.name === name && n.parent && (!best || n.total > best.total)) best = n;
        }
        if (best || name === state.tree.root.name) zoomTo(best);
        return Boolean(best);
      },
      reset: reset,
      setView: function (view) {
        if (!model.views.some(function (v) { return v.name === view; })) return false;
        viewSelect.value = view;
        setTree(view, state.inverted);
        return true;
      },
      setInverted: function (inverted) { setTree(state.view, Boolean(inverted)); },
      setIcicle: function (icicle) { state.icicle = Boolean(icicle); draw(); },
      frames: function () {
        const box = canvas.getBoundingClientRect();
        return rects.map(function (r) {
          return {
            name: r.node.name,
            x: box.left + r.x,
            y: box.top + r.y,
            width: r.w,
            height: ROW_PX - 1,
            depth: r.node.depth,
            value: r.node.total,
            highlighted: matches(r.node),
            dimmed: r.dimmed,
            color: T.css(matches(r.node) ? HIGHLIGHT : r.node.rgb),
          };
        });
      },
      state: function () {
        const tree = state.tree;
        return {
          view: state.view,
          views: model.views.map(function (v) { return v.name; }),
          unit: model.unit(state.view),
          total: tree.root.total,
          inverted: state.inverted,
          orientation: state.icicle ? 'icicle' : 'flame',
          zoomed: state.zoom ? state.zoom.name : null,
          zoomPath: state.zoom ? T.pathOf(state.zoom) : [],
          search: state.query,
          regex: state.regex,
          matchedTotal: state.matchedTotal,
          matchedPercent: tree.root.total ? (100 * state.matchedTotal) / tree.root.total : 0,
          hovered: state.hovered ? state.hovered.name : null,
          tooltipVisible: !tooltip.hidden,
          nodes: tree.nodes.length,
          drawn: rects.length,
        };
      },
    };
    window.whyslow = api;
    return api;
  }

  window.WhyslowFlamegraph = { mount: mount };
})();
