// The single-page app shell: picks the page for the current path and keeps
// in-app links on pushState navigation. Pages: /search (also /), /trace/{id},
// /services. Each page module exports `render(root, params)`.
import { renderSearch } from '/static/search.js';
import { renderTrace } from '/static/trace.js';
import { renderServices } from '/static/services.js';

const root = document.getElementById('app');

function route() {
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  document.querySelectorAll('.topbar nav a').forEach(a => {
    a.classList.toggle('active', path.startsWith(a.getAttribute('href')));
  });
  root.replaceChildren();
  const trace = path.match(/^\/trace\/([0-9a-fA-F]+)$/);
  if (trace) return renderTrace(root, trace[1], query);
  if (path === '/services') return renderServices(root, query);
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
  if (url.origin !== location.origin || !/^\/(search|services|trace\/|$)/.test(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);
window.whyslowNavigate = navigate;
route();
