// Thin wrappers over the query API (Jaeger-compatible routes plus whyslow's
// analysis route). Every call resolves to the envelope's `data` or throws an
// Error carrying the server's message.

/** When the server wants a login (`serve --auth-file` renders a logout form)
 * and a call was refused for want of one (the session ended), go log in and
 * come back here. */
export function loginIfRefused(resp) {
  if (resp.status === 401 && document.querySelector('form.logout')) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
}

async function getJSON(url) {
  const resp = await fetch(url, { headers: { accept: 'application/json' } });
  loginIfRefused(resp);
  let body = null;
  try { body = await resp.json(); } catch { /* not JSON */ }
  if (!resp.ok) {
    const msg = body && body.errors && body.errors[0] ? body.errors[0].msg : resp.statusText;
    const err = new Error(`${resp.status}: ${msg}`);
    err.status = resp.status;
    throw err;
  }
  return body;
}

/** GET of a route answering errors as Connect JSON (`{code, message}`): the
 * body, or an Error with the server's message. */
export async function getConnectJSON(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  loginIfRefused(res);
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new Error(body && body.message ? `${body.code}: ${body.message}` : `${res.status} ${res.statusText}`);
  return body;
}

export const api = {
  services: async () => (await getJSON('/api/services')).data || [],
  operations: async service =>
    (await getJSON(`/api/services/${encodeURIComponent(service)}/operations`)).data || [],
  search: async params => (await getJSON(`/api/traces?${params}`)).data || [],
  trace: async id => (await getJSON(`/api/traces/${id}`)).data[0],
  analysis: async id => (await getJSON(`/api/traces/${id}/analysis`)).data,
  compare: async (a, b) => (await getJSON(`/api/compare?a=${a}&b=${encodeURIComponent(b)}`)).data,
  dependencies: async lookbackMs =>
    (await getJSON(`/api/dependencies?endTs=${Date.now()}&lookback=${lookbackMs}`)).data || [],
};
