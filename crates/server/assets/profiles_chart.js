// The Profiles page's time series of the profile total: chart.js's
// lineChart, plus a brush on top of it — drag across the plot to pick a
// time range (`onSelect(fromMs, untilMs)`) — and shaded bands marking the
// diff mode's baseline and comparison ranges. The overlay layer is aligned
// to the chart's own plot rectangle (its `.overlay` rect), so mouse x maps
// to time with chart.js's margins without restating them.
import { el } from '/static/format.js';
import { lineChart } from '/static/chart.js';
import { fmtStamp } from '/static/units.js';

const MIN_DRAG_PX = 4;
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/**
 * `opts`: lineChart's options, plus `bands` [{fromMs, untilMs, cls, label}]
 * and `onSelect(fromMs, untilMs)`. Returns the chart element.
 */
export function brushChart(opts) {
  const chart = lineChart(opts);
  const span = Math.max(1, opts.endMs - opts.startMs);
  const frac = t => clamp((t - opts.startMs) / span, 0, 1);
  const sel = el('div', { class: 'brush-sel', hidden: true });
  const layer = el('div', { class: 'brush-layer', id: opts.id && `${opts.id}-brush` },
    (opts.bands || []).map(b => el('div', {
      class: `brush-band ${b.cls}`, 'data-band': b.cls,
      title: `${b.label}: ${fmtStamp(b.fromMs)} → ${fmtStamp(b.untilMs)}`,
      style: { left: `${100 * frac(b.fromMs)}%`, width: `${100 * Math.max(0, frac(b.untilMs) - frac(b.fromMs))}%` },
    }, el('span', { class: 'band-label' }, b.label))), sel);
  chart.append(layer);
  const plot = () => chart.querySelector('.chart-svg .overlay');

  function sync() {
    const o = plot();
    if (!o) return;
    const r = o.getBoundingClientRect(), c = chart.getBoundingClientRect();
    Object.assign(layer.style, {
      left: `${r.left - c.left}px`, top: `${r.top - c.top}px`, width: `${r.width}px`, height: `${r.height}px`,
    });
  }
  // chart.js redraws from its own ResizeObserver; align after it.
  new ResizeObserver(() => requestAnimationFrame(sync)).observe(chart);
  requestAnimationFrame(() => requestAnimationFrame(sync));

  chart.addEventListener('mousedown', e => {
    if (e.button !== 0 || !e.target.classList || !e.target.classList.contains('overlay')) return;
    e.preventDefault();
    sync();
    const r = plot().getBoundingClientRect();
    const x0 = clamp(e.clientX - r.left, 0, r.width);
    const at = x => opts.startMs + (x / r.width) * span;
    const move = ev => {
      const x = clamp(ev.clientX - r.left, 0, r.width);
      sel.hidden = Math.abs(x - x0) < MIN_DRAG_PX;
      sel.style.left = `${Math.min(x, x0)}px`;
      sel.style.width = `${Math.abs(x - x0)}px`;
      sel.title = `${fmtStamp(at(Math.min(x, x0)))} → ${fmtStamp(at(Math.max(x, x0)))}`;
    };
    const up = ev => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      sel.hidden = true;
      const x = clamp(ev.clientX - r.left, 0, r.width);
      if (Math.abs(x - x0) < MIN_DRAG_PX) return;
      opts.onSelect(Math.round(at(Math.min(x, x0))), Math.round(at(Math.max(x, x0))));
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  });
  return chart;
}
