// Shared by the metrics browser tests: starts the real `whyslow serve`
// (target/release/whyslow, a fresh data directory, ephemeral ports), feeds it
// through its real ingest paths — Prometheus remote_write 1.0 (protobuf in a
// snappy block, encoded here) and OTLP/HTTP JSON spans — and launches headless
// Debian chromium. Not a test file itself (no `.test.` in the name).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
export const artifacts = process.env.ARTIFACTS_DIR || path.join(repo, 'tests', 'artifacts');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('exit', code => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

let databases = 0;
/**
 * `--store clickhouse://ADDR/DB` (a fresh database each call) when dev/test
 * runs the trace browser tests again against the ClickHouse store
 * (WHYSLOW_UI_CLICKHOUSE=127.0.0.1:PORT, or the shards of dev/clickhouse-server's
 * cluster `whyslow_test` comma-separated), else nothing: the embedded store.
 */
export function storeArgs() {
  const addr = process.env.WHYSLOW_UI_CLICKHOUSE;
  if (!addr) return [];
  databases += 1;
  const store = ['--store', `clickhouse://${addr}/ui_${process.pid}_${databases}`];
  return addr.includes(',') ? [...store, '--clickhouse-cluster', 'whyslow_test'] : store;
}

/** Starts `whyslow serve` (plus `extraArgs`); resolves to `{ui, otlpHttp, stop()}` once it listens (at most 60 s). */
export async function startServe(extraArgs = []) {
  const bin = path.join(repo, 'target', 'release', 'whyslow');
  if (!fs.existsSync(bin)) await run('cargo', ['build', '--release', '--quiet', '-p', 'whyslow']);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'whyslow-ui-metrics-'));
  const server = spawn(bin, ['serve', '--data-dir', dataDir, '--otlp-grpc-port', '0', '--otlp-http-port', '0', '--http-port', '0', ...storeArgs(), ...extraArgs], {
    cwd: repo, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`whyslow serve did not report its ports in 60 s:\n${out}`)), 60e3);
    server.stdout.on('data', chunk => {
      out += chunk;
      const found = out.split('\n');
      if (found.some(l => l.startsWith('UI')) && found.some(l => l.includes('/v1/traces'))) { clearTimeout(timer); resolve(found); }
    });
    server.on('exit', code => { clearTimeout(timer); reject(new Error(`whyslow serve exited with ${code}`)); });
  });
  const url = l => l.match(/(http:\/\/[^/\s]+)/)[1];
  return {
    ui: url(lines.find(l => l.startsWith('UI'))),
    otlpHttp: url(lines.find(l => l.includes('/v1/traces'))),
    stop: () => {
      server.kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Headless chromium with one 1400×900 page; console errors collected into `errors`. */
export async function openBrowser(errors) {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('console', msg => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', err => errors.push(String(err)));
  return { browser, page };
}

// --- Prometheus remote_write 1.0: protobuf WriteRequest in a snappy block ---

const varint = n => {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
  return Buffer.from(out);
};
const field = (num, wire) => varint((num << 3) | wire);
const bytesField = (num, buf) => Buffer.concat([field(num, 2), varint(buf.length), buf]);
const doubleField = (num, v) => { const b = Buffer.alloc(8); b.writeDoubleLE(v); return Buffer.concat([field(num, 1), b]); };

/** `series`: [{labels: {__name__, …}, samples: [[ms, value], …]}] → WriteRequest bytes. */
function writeRequest(series) {
  return Buffer.concat(series.map(s => bytesField(1, Buffer.concat([
    ...Object.keys(s.labels).sort().map(k => bytesField(1, Buffer.concat([bytesField(1, Buffer.from(k)), bytesField(2, Buffer.from(String(s.labels[k])))]))),
    ...s.samples.map(([t, v]) => bytesField(2, Buffer.concat([doubleField(1, v), field(2, 0), varint(t)]))),
  ]))));
}

/** Snappy block format with literal elements only: valid, uncompressed. */
function snappyBlock(data) {
  const parts = [varint(data.length)];
  for (let i = 0; i < data.length; i += 65536) {
    const chunk = data.subarray(i, i + 65536), n = chunk.length - 1;
    parts.push(n < 60 ? Buffer.from([n << 2]) : n < 256 ? Buffer.from([60 << 2, n]) : Buffer.from([61 << 2, n & 0xff, n >> 8]), chunk);
  }
  return Buffer.concat(parts);
}

/** POSTs series to `/api/v1/write` (plus `headers`, e.g. authorization); resolves to the HTTP response. */
export function remoteWrite(base, series, headers = {}) {
  return fetch(`${base}/api/v1/write`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0', ...headers },
    body: snappyBlock(writeRequest(series)),
  });
}

/** GET `/api/v1/<path>`; resolves to the parsed envelope, or null when the route is missing or not JSON. */
export async function promApi(base, pathAndQuery) {
  try {
    const res = await fetch(`${base}/api/v1/${pathAndQuery}`);
    const body = await res.json();
    return body && body.status ? body : null;
  } catch {
    return null;
  }
}

/** POSTs OTLP/JSON `traces` to serve's OTLP/HTTP port (plus `headers`); resolves to the response. */
export function postTraces(serve, traces, headers = {}) {
  return fetch(`${serve.otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(traces) });
}

/**
 * Pushes one pprof `profile` (a Buffer) for the series `labels` ({name: value})
 * with Pyroscope's push API as Connect JSON (plus `headers`); resolves to the response.
 */
export function pushPprof(serve, labels, profile, headers = {}) {
  const push = { series: [{ labels: Object.entries(labels).map(([name, value]) => ({ name, value })),
    samples: [{ rawProfile: profile.toString('base64') }] }] };
  return fetch(`${serve.ui}/push.v1.PusherService/Push`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(push) });
}
