/**
 * The subscriber side of the PostgreSQL benchmark, in its own process: opens N `ws` connections,
 * each with two subscriptions and no filter — `pg` on `postgres:<table>` and `mem` on
 * `records:<object>` — and measures each delivery's latency twice: receive time (Date.now()) −
 * the event's `timestamp`, the commit time (PostgreSQL's for a row event, the server's for a
 * record event), and receive time − the row's `placed_at`, which the writer set just before it
 * sent the row (the same for both paths). All whole ms of the same machine's clock.
 *
 * Batch frames are scanned rather than parsed, so that this process stays cheaper than the server
 * it measures: every `"timestamp":"` in a batch begins an event's commit time and every
 * `"placed_at":"` its row's send time (no other member has these names). Latencies go into
 * histograms of whole ms.
 * Commands (../fanout/ipc.mjs): `connect`, `progress`, `collect`, `close`.
 */
import WebSocket from 'ws';
import { serve } from '../fanout/ipc.mjs';

const BATCH = Buffer.from('{"type":"batch"');
const PING = Buffer.from('{"type":"ping"');
const TIMESTAMP = Buffer.from('"timestamp":"');
const PLACED_AT = Buffer.from('"placed_at":"');
/** Latencies of up to 10 minutes, one bucket per ms; longer ones land in the last. */
const BUCKETS = 600_000;
const ZERO = 48;
const DOT = 46;

/** @type {WebSocket[]} */
const sockets = [];
let histogram = new Uint32Array(BUCKETS);
let sentHistogram = new Uint32Array(BUCKETS);
let count = 0;
let bytes = 0;
let frames = 0;
let lastRecv = 0;
const closes = new Map();
const unexpected = [];

/** Midnight UTC of the last day seen, so that a timestamp costs no Date.parse. */
let dayText = '';
let dayMs = 0;

const digits = (data, at, n) => {
  let value = 0;
  for (let i = at; i < at + n; i++) value = value * 10 + (data[i] - ZERO);
  return value;
};

/** `YYYY-MM-DDTHH:MM:SS[.fff…]Z` at `at` as ms since the epoch. */
function parseTimestamp(data, at) {
  const day = data.toString('latin1', at, at + 10);
  if (day !== dayText) {
    dayText = day;
    dayMs = Date.parse(`${day}T00:00:00.000Z`);
  }
  return (
    dayMs +
    digits(data, at + 11, 2) * 3_600_000 +
    digits(data, at + 14, 2) * 60_000 +
    digits(data, at + 17, 2) * 1000 +
    (data[at + 19] === DOT ? digits(data, at + 20, 3) : 0)
  );
}

/** Adds the latency of every `key` time in a frame to `into`; returns how many there were. */
function scan(data, key, now, into) {
  let n = 0;
  for (let at = data.indexOf(key); at !== -1; at = data.indexOf(key, at + key.length)) {
    into[Math.max(0, Math.min(BUCKETS - 1, now - parseTimestamp(data, at + key.length)))]++;
    n++;
  }
  return n;
}

/** Counts the deliveries of one server frame. */
function onFrame(ws, data) {
  const now = Date.now();
  bytes += data.length;
  if (data.subarray(0, BATCH.length).equals(BATCH)) {
    frames++;
    count += scan(data, TIMESTAMP, now, histogram);
    scan(data, PLACED_AT, now, sentHistogram);
    lastRecv = now;
  } else if (data.subarray(0, PING.length).equals(PING)) {
    const { t } = JSON.parse(data.toString());
    ws.send(JSON.stringify(t === undefined ? { type: 'pong' } : { type: 'pong', t }));
  } else if (unexpected.length < 5) {
    unexpected.push(data.toString().slice(0, 200));
  }
}

/** Opens one connection; resolves once both subscriptions are confirmed. */
async function open(base, key, channels) {
  const response = await fetch(`${base}/api/users/ws-auth/`, {
    headers: { authorization: `Bearer ${key}` },
  });
  if (!response.ok) throw new Error(`ws-auth answered ${response.status}: ${await response.text()}`);
  const { token, url } = await response.json();
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${url}?token=${token}`, {
    perMessageDeflate: false,
  });
  await new Promise((resolve, reject) => {
    let confirmed = 0;
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason} before subscribed`)));
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'welcome') {
        for (const [id, channel] of Object.entries(channels)) {
          ws.send(JSON.stringify({ type: 'subscribe', id, channel }));
        }
      } else if (message.type === 'subscribed') {
        if (++confirmed === Object.keys(channels).length) resolve(undefined);
      } else reject(new Error(`unexpected answer ${data.toString().slice(0, 200)}`));
    });
  });
  ws.removeAllListeners('message');
  ws.removeAllListeners('close');
  ws.removeAllListeners('error');
  ws.on('message', (data) => onFrame(ws, data));
  ws.on('close', (code) => closes.set(code, (closes.get(code) ?? 0) + 1));
  ws.on('error', () => {}); // a close follows, counted above
  sockets.push(ws);
}

serve({
  /** Opens `n` connections, `concurrency` at a time, each subscribed to `channels` ({ id: channel }). */
  async connect({ url, key, channels, n, concurrency }) {
    const started = Date.now();
    let opened = 0;
    const worker = async () => {
      while (opened < n) {
        opened++;
        await open(url, key, channels);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
    return { ms: Date.now() - started, open: sockets.length };
  },
  /** Deliveries since the last collect, and when the last one arrived. */
  progress() {
    return { count, lastRecv, closed: Object.fromEntries(closes), cpu: process.cpuUsage() };
  },
  /** The latency histograms (sparse: [ms, deliveries] pairs), deliveries and bytes since the last collect; starts over. */
  collect() {
    const sparse = (buckets) => {
      const pairs = [];
      for (let ms = 0; ms < BUCKETS; ms++) if (buckets[ms]) pairs.push([ms, buckets[ms]]);
      return pairs;
    };
    const result = {
      count,
      bytes,
      frames,
      lastRecv,
      histogram: sparse(histogram),
      sentHistogram: sparse(sentHistogram),
      closed: Object.fromEntries(closes),
      unexpected: unexpected.splice(0),
    };
    histogram = new Uint32Array(BUCKETS);
    sentHistogram = new Uint32Array(BUCKETS);
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
