// A small SVG time-series line chart for the metrics pages: one colour per
// series, lines broken at gaps, y axis in the series' unit, time axis on round
// local times, a hover rule with a tooltip (time, values, labels), an optional
// legend (click isolates a series, Ctrl/⌘-click toggles one) and optional
// exemplar points (diamonds; clicking one calls `onExemplar`). It redraws on
// resize, so it always fills its container's width.
import { el, svg, PALETTE } from '/static/format.js';
import { fmtValue, fmtStamp, fmtTick, niceTicks, timeTicks } from '/static/units.js';

const M = { left: 58, right: 14, top: 10, bottom: 24 };

/** The colour of series `i`: the shared palette, then golden-angle hues. */
export const seriesColor = i => (i < PALETTE.length ? PALETTE[i] : `hsl(${Math.round((i * 137.508) % 360)}, 55%, 48%)`);

/** Index of the point in `pts` (sorted by time) nearest to `t`. */
function nearest(pts, t) {
  let lo = 0, hi = pts.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (pts[mid][0] < t) lo = mid; else hi = mid;
  }
  return Math.abs(pts[lo][0] - t) <= Math.abs(pts[hi][0] - t) ? lo : hi;
}

/** Typical spacing of a series' points (for gap detection when no step is given). */
function medianGap(series) {
  const gaps = [];
  for (const s of series) for (let i = 1; i < s.points.length && gaps.length < 2000; i++) gaps.push(s.points[i][0] - s.points[i - 1][0]);
  gaps.sort((a, b) => a - b);
  return gaps.length ? gaps[gaps.length >> 1] : Infinity;
}

/**
 * `opts`: `series` [{name, labels?, points: [[ms, value], …], color?}],
 * `startMs`, `endMs`, `stepMs?`, `unit`, `height` (px, default 220),
 * `legend` (default true), `exemplars` [{t, v, labels, series?}],
 * `onExemplar(ex)`, `id`, `yMin` (default: 0 or the smallest value).
 * Returns the chart's root element.
 */
export function lineChart(opts) {
  const series = opts.series.map((s, i) => ({ ...s, color: s.color || seriesColor(i) }));
  const height = opts.height || 220;
  const unit = opts.unit || '';
  const exemplars = opts.exemplars || [];
  const hidden = new Set();
  const gapMs = 1.5 * (opts.stepMs || medianGap(series));
  const box = el('div', { class: 'chart-plot' });
  const tip = el('div', { class: 'chart-tip', hidden: true });
  const root = el('div', { class: 'chart', id: opts.id, 'data-series-count': series.length }, box, tip);
  let width = 0;

  const legend = opts.legend === false ? null : el('div', { class: 'chart-legend' });
  if (legend) {
    series.forEach((s, i) => legend.append(el('div', {
      class: 'legend-entry', title: 'click: show only this series; Ctrl/⌘-click: show or hide it', 'data-index': i,
      onclick: e => {
        if (e.ctrlKey || e.metaKey) { if (hidden.has(i)) hidden.delete(i); else hidden.add(i); } else {
          const alone = !hidden.has(i) && hidden.size === series.length - 1;
          hidden.clear();
          if (!alone) series.forEach((_, j) => { if (j !== i) hidden.add(j); });
        }
        legend.querySelectorAll('.legend-entry').forEach(n => n.classList.toggle('off', hidden.has(+n.dataset.index)));
        draw();
      },
    }, el('span', { class: 'swatch', style: { background: s.color } }), el('span', { class: 'legend-text' }, s.name))));
    root.append(legend);
  }

  function draw() {
    width = box.clientWidth || opts.width || 600;
    const shown = series.filter((_, i) => !hidden.has(i));
    const values = shown.flatMap(s => s.points.map(p => p[1])).filter(Number.isFinite);
    const shownEx = exemplars.filter(ex => Number.isFinite(ex.v) && ex.t >= opts.startMs && ex.t <= opts.endMs);
    values.push(...shownEx.map(ex => ex.v));
    let lo = opts.yMin !== undefined ? opts.yMin : Math.min(0, ...values);
    let hi = values.length ? Math.max(...values) : 1;
    if (hi <= lo) hi = lo + (Math.abs(lo) || 1);
    const ticks = niceTicks(lo, hi, Math.max(2, Math.round(height / 45)));
    // Round the top up to a labelled tick, so the highest line sits under a number.
    const tickStep = ticks.length > 1 ? ticks[1] - ticks[0] : 0;
    if (tickStep && ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + tickStep);
    hi = Math.max(hi, ticks[ticks.length - 1]);
    lo = Math.min(lo, ticks[0]);
    const W = width, H = height, iw = W - M.left - M.right, ih = H - M.top - M.bottom;
    const x = t => M.left + ((t - opts.startMs) / Math.max(1, opts.endMs - opts.startMs)) * iw;
    const y = v => M.top + ih - ((v - lo) / (hi - lo)) * ih;
    // Enough significant digits to tell neighbouring ticks apart (1.25k, 1.5k).
    const maxAbs = Math.max(...ticks.map(Math.abs));
    const tickDigits = tickStep ? Math.max(2, Math.min(6, Math.ceil(Math.log10(maxAbs / tickStep)) + 2)) : 3;
    const root2 = svg('svg', { width: W, height: H, class: 'chart-svg' });
    for (const v of ticks) {
      root2.append(svg('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: 'grid' }),
        svg('text', { x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmtValue(v, unit, tickDigits)));
    }
    const { ticks: tt, step } = timeTicks(opts.startMs, opts.endMs, Math.max(2, Math.floor(iw / 90)));
    for (const t of tt) {
      root2.append(svg('line', { x1: x(t), x2: x(t), y1: M.top + ih, y2: M.top + ih + 4, class: 'axis' }),
        svg('text', { x: x(t), y: H - 6, 'text-anchor': 'middle', class: 'tick' }, fmtTick(t, step)));
    }
    root2.append(svg('line', { x1: M.left, x2: W - M.right, y1: M.top + ih, y2: M.top + ih, class: 'axis' }));
    series.forEach((s, i) => {
      if (hidden.has(i)) return;
      let d = '', run = 0, prev = null;
      const singles = [];
      for (const [t, v] of s.points) {
        const ok = Number.isFinite(v);
        if (!ok || (prev && t - prev[0] > gapMs)) { if (run === 1) singles.push(prev); run = 0; }
        if (!ok) { prev = null; continue; }
        d += `${run ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
        run++;
        prev = [t, v];
      }
      if (run === 1) singles.push(prev);
      root2.append(svg('path', { d: d || 'M0,0', class: 'series-line', stroke: s.color, 'data-index': i }));
      for (const [t, v] of singles) root2.append(svg('circle', { cx: x(t), cy: y(v), r: 2.5, fill: s.color, class: 'series-dot' }));
    });
    const rule = svg('line', { y1: M.top, y2: M.top + ih, class: 'hover-rule', visibility: 'hidden' });
    const dots = svg('g', { class: 'hover-dots' });
    const overlay = svg('rect', { x: M.left, y: M.top, width: iw, height: ih, class: 'overlay' });
    root2.append(rule, dots, overlay);
    overlay.addEventListener('mousemove', e => hover(e, { x, y, lo, hi, ih, rule, dots }));
    overlay.addEventListener('mouseleave', () => { tip.hidden = true; rule.setAttribute('visibility', 'hidden'); dots.replaceChildren(); });
    for (const ex of shownEx) {
      const cx = x(ex.t), cy = y(ex.v), r = 4.5;
      const diamond = svg('path', {
        d: `M${cx},${cy - r}L${cx + r},${cy}L${cx},${cy + r}L${cx - r},${cy}Z`, class: 'exemplar',
        'data-trace-id': ex.labels.trace_id || ex.labels.traceID || '',
      });
      diamond.addEventListener('mouseenter', () => showTip(cx, cy, [
        el('div', { class: 'tip-time' }, `Exemplar · ${fmtStamp(ex.t)}`),
        el('div', { class: 'tip-row' }, el('b', {}, fmtValue(ex.v, unit, 4))),
        Object.entries(ex.labels).map(([k, v]) => el('div', { class: 'tip-labels' }, `${k}="${v}"`)),
        opts.onExemplar ? el('div', { class: 'muted' }, 'click to open the trace') : null]));
      diamond.addEventListener('mouseleave', () => { tip.hidden = true; });
      if (opts.onExemplar) diamond.addEventListener('click', () => opts.onExemplar(ex));
      root2.append(diamond);
    }
    if (!shown.some(s => s.points.length) && !shownEx.length) {
      root2.append(svg('text', { x: M.left + iw / 2, y: M.top + ih / 2, 'text-anchor': 'middle', class: 'no-data' }, 'no data'));
    }
    box.replaceChildren(root2);
  }

  function showTip(px, py, content) {
    tip.replaceChildren(...content.flat().filter(Boolean));
    tip.hidden = false;
    const left = px + 14 + tip.offsetWidth > width ? px - 14 - tip.offsetWidth : px + 14;
    tip.style.left = `${Math.max(0, left)}px`;
    tip.style.top = `${Math.max(0, py - 10)}px`;
  }

  function hover(e, g) {
    const r = e.currentTarget.ownerSVGElement.getBoundingClientRect();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    const t = opts.startMs + ((px - M.left) / (width - M.left - M.right)) * (opts.endMs - opts.startMs);
    const hits = [];
    series.forEach((s, i) => {
      if (hidden.has(i) || !s.points.length) return;
      const p = s.points[nearest(s.points, t)];
      if (Math.abs(p[0] - t) <= gapMs && Number.isFinite(p[1])) hits.push({ s, p, dist: Math.abs(g.y(p[1]) - py) });
    });
    if (!hits.length) { tip.hidden = true; g.rule.setAttribute('visibility', 'hidden'); g.dots.replaceChildren(); return; }
    hits.sort((a, b) => a.dist - b.dist);
    const at = hits[0].p[0];
    g.rule.setAttribute('x1', g.x(at));
    g.rule.setAttribute('x2', g.x(at));
    g.rule.setAttribute('visibility', 'visible');
    g.dots.replaceChildren(...hits.map(h => svg('circle', { cx: g.x(h.p[0]), cy: g.y(h.p[1]), r: 3.5, fill: h.s.color, class: 'hover-dot' })));
    const few = hits.length <= 6;
    const rows = (few ? hits : hits.slice(0, 1)).map((h, k) => el('div', { class: `tip-row${k === 0 ? ' nearest' : ''}` },
      el('span', { class: 'swatch', style: { background: h.s.color } }),
      el('span', { class: 'tip-name' }, h.s.name), ' ', el('b', {}, fmtValue(h.p[1], unit, 4))));
    // Labels in full when the row's name is cut short.
    const labels = hits[0].s.labels && (!few || hits[0].s.name.length > 60) ? Object.entries(hits[0].s.labels).map(([k, v]) => el('div', { class: 'tip-labels' }, `${k}="${v}"`)) : [];
    showTip(g.x(at), py, [el('div', { class: 'tip-time' }, fmtStamp(at)), rows, few ? null : el('div', { class: 'muted' }, `nearest of ${hits.length} series`), labels]);
  }

  const ro = new ResizeObserver(() => { if (box.clientWidth && box.clientWidth !== width) draw(); });
  ro.observe(box);
  requestAnimationFrame(() => { if (!width) draw(); });
  return root;
}
