// The single-page app shell: picks the page for the current path and keeps
// in-app links on pushState navigation. Pages: /search (also /), /trace/{id},
// /services, /metrics-explorer (also /graph), /alerts, /slo, /profiles. Each
// page module exports `render(root, params)`. Before a page is replaced,
// `whyslow:route` fires on window (the Profiles page parks its flamegraph).
import { renderSearch } from '/static/search.js';
import { renderTrace } from '/static/trace.js';
import { renderServices } from '/static/services.js';
import { renderMetrics } from '/static/metrics.js';
import { renderAlerts } from '/static/alerts.js';
import { renderSlo } from '/static/slo.js';
import { renderProfiles } from '/static/profiles.js';

const root = document.getElementById('app');

function route() {
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  document.querySelectorAll('.topbar nav a').forEach(a => {
    const href = a.getAttribute('href');
    a.classList.toggle('active', path.startsWith(href) || (href === '/metrics-explorer' && path === '/graph'));
  });
  window.dispatchEvent(new Event('whyslow:route'));
  root.replaceChildren();
  const trace = path.match(/^\/trace\/([0-9a-fA-F]+)$/);
  if (trace) return renderTrace(root, trace[1], query);
  if (path === '/services') return renderServices(root, query);
  if (path === '/metrics-explorer' || path === '/graph') return renderMetrics(root, query);
  if (path === '/alerts') return renderAlerts(root, query);
  if (path === '/slo') return renderSlo(root, query);
  if (path === '/profiles') return renderProfiles(root, query);
  return renderSearch(root, query);
}

export function navigate(url) {
  history.pushState(null, '', url);
  route();
}

document.addEventListener('click', e => {
  const a = e.target.closest('a[href]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !/^\/(search|services|metrics-explorer|graph|alerts|slo|profiles|trace\/|$)/.test(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);
window.whyslowNavigate = navigate;
route();
