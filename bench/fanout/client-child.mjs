/**
 * The client side of the fan-out benchmark, in its own process: opens N `ws` connections with
 * one subscription each (`where` matches half the records: group `a` on even connections, `b`
 * on odd ones) and measures each delivery's latency, receive time − the record's commit time `t`.
 *
 * Batch frames are scanned rather than parsed, so that this process stays cheaper than the server
 * it measures: every `"t":` in a batch is a record's commit time (no other member is named `t`).
 * Commands (ipc.mjs): `connect`, `progress`, `collect`, `close`.
 */
import WebSocket from 'ws';
import { serve } from './ipc.mjs';

const BATCH = Buffer.from('{"type":"batch"');
const PING = Buffer.from('{"type":"ping"');
const T_KEY = Buffer.from('"t":');
const DIGIT_0 = 48;

/** @type {WebSocket[]} */
const sockets = [];
let latencies = [];
let count = 0;
let bytes = 0;
let frames = 0;
let lastRecv = 0;
const closes = new Map();
const unexpected = [];

/** Counts the deliveries of one server frame. */
function onFrame(ws, data) {
  const now = Date.now();
  bytes += data.length;
  if (data.subarray(0, BATCH.length).equals(BATCH)) {
    frames++;
    for (let at = data.indexOf(T_KEY); at !== -1; at = data.indexOf(T_KEY, at + T_KEY.length)) {
      let t = 0;
      for (let i = at + T_KEY.length, c = data[i]; c >= DIGIT_0 && c <= DIGIT_0 + 9; c = data[++i]) {
        t = t * 10 + (c - DIGIT_0);
      }
      latencies.push(now - t);
      count++;
    }
    lastRecv = now;
  } else if (data.subarray(0, PING.length).equals(PING)) {
    const { t } = JSON.parse(data.toString());
    ws.send(JSON.stringify(t === undefined ? { type: 'pong' } : { type: 'pong', t }));
  } else if (unexpected.length < 5) {
    unexpected.push(data.toString().slice(0, 200));
  }
}

/** Opens one connection; resolves once it is subscribed (raw: open). */
async function open(base, mode, key, index) {
  const group = index % 2 ? 'b' : 'a';
  const wsBase = base.replace(/^http/, 'ws');
  let ws;
  if (mode === 'raw') {
    ws = new WebSocket(`${wsBase}/raw?group=${group}`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
  } else {
    const response = await fetch(`${base}/api/users/ws-auth/`, {
      headers: { authorization: `Bearer ${key}` },
    });
    if (!response.ok) throw new Error(`ws-auth answered ${response.status}: ${await response.text()}`);
    const { token, url } = await response.json();
    ws = new WebSocket(`${wsBase}${url}?token=${token}`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason} before subscribed`)));
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString());
        if (message.type === 'welcome') {
          ws.send(
            JSON.stringify({
              type: 'subscribe',
              id: 's1',
              channel: 'records:items',
              filter: { where: { group } },
            }),
          );
        } else if (message.type === 'subscribed') resolve(undefined);
        else reject(new Error(`unexpected answer ${data.toString().slice(0, 200)}`));
      });
    });
    ws.removeAllListeners('message');
    ws.removeAllListeners('close');
    ws.removeAllListeners('error');
  }
  ws.on('message', (data) => onFrame(ws, data));
  ws.on('close', (code) => closes.set(code, (closes.get(code) ?? 0) + 1));
  ws.on('error', () => {}); // a close follows, counted above
  sockets.push(ws);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

serve({
  /** Opens `n` more connections, `concurrency` at a time. */
  async connect({ url, mode, key, n, concurrency }) {
    const started = Date.now();
    const end = sockets.length + n;
    let next = sockets.length;
    const worker = async () => {
      while (next < end) await open(url, mode, key, next++);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
    return { ms: Date.now() - started, open: sockets.length };
  },
  /** Deliveries so far and when the last one arrived. */
  progress() {
    return { count, lastRecv, closed: Object.fromEntries(closes) };
  },
  /** Latency percentiles, deliveries and bytes since the last collect; starts over. */
  collect() {
    const sorted = Float64Array.from(latencies).sort();
    const result = {
      count,
      bytes,
      frames,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : NaN,
      closed: Object.fromEntries(closes),
      unexpected: unexpected.splice(0),
    };
    latencies = [];
    count = 0;
    bytes = 0;
    frames = 0;
    return result;
  },
  close() {
    for (const ws of sockets) ws.terminate();
    setTimeout(() => process.exit(0), 50);
  },
});
