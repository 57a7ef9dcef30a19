/**
 * The server side of the fan-out benchmark, in its own process so that its CPU and RSS are its
 * own: `node [--import tsx] --expose-gc server-child.mjs <catalyst|raw> [flushIntervalMs]`.
 *
 * - `catalyst`: the dev server (`createDevServer`) with a bench config; writes are record creates
 *   through the engine's environment, exactly what a REST `POST` commits.
 * - `raw`: the baseline, a bare `ws` server with no protocol: a client says its group in the URL;
 *   each write is serialized as the very event JSON the dev server would send, and at the next
 *   turn of the event loop each connection of the record's group gets one batch frame.
 *
 * Every written record carries `t`, its commit time (`Date.now()`), for the clients' latency.
 * Commands (ipc.mjs): `start`, `stats`, `peak`, `steady`, `burst`, `exit`.
 */
import { createServer } from 'node:http';
import { getHeapSpaceStatistics } from 'node:v8';
import { WebSocketServer } from 'ws';
import { serve } from './ipc.mjs';

const [mode, flushArg] = process.argv.slice(2);
const KEY = 'sk_bench_fanout';
const OBJECT = 'items';
const TITLE = 'A benchmark record of about the size of a small real one';

/** One written record's fields before the server stamps it; `group` splits the records in half. */
function input(n) {
  return { id: `i${n}`, group: n % 2 ? 'b' : 'a', n, title: TITLE, t: Date.now() };
}

let peakRss = 0;
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 50).unref();

/** @type {{ url: string, write: (n: number) => number }} */
let server;

async function startCatalyst() {
  const { createDevServer } = await import('../../dev-server/node/server.ts');
  const limits = flushArg === undefined ? {} : { flushIntervalMs: Number(flushArg) };
  const dev = await createDevServer({
    port: 0,
    config: {
      keys: [{ key: KEY, client: 'bench', environment: 'production', role: 'secret' }],
      objects: [OBJECT],
      limits: { maxConnectionsPerClient: 100_000 },
    },
    limits,
  });
  const environment = dev.store.environment('bench', 'production');
  return {
    url: dev.url,
    write(n) {
      const record = input(n);
      environment.create(OBJECT, record);
      return record.t;
    },
  };
}

async function startRaw() {
  /** @type {Map<string, Set<import('ws').WebSocket>>} */
  const groups = new Map([
    ['a', new Set()],
    ['b', new Set()],
  ]);
  /** @type {Map<string, string[]>} */
  const pending = new Map([
    ['a', []],
    ['b', []],
  ]);
  let scheduled = false;
  let seq = 0;
  const http = createServer((req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const group = new URL(req.url ?? '/', 'http://x').searchParams.get('group') ?? 'a';
    groups.get(group)?.add(ws);
    ws.on('close', () => groups.get(group)?.delete(ws));
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(undefined)));
  const flush = () => {
    scheduled = false;
    for (const [group, events] of pending) {
      if (events.length === 0) continue;
      pending.set(group, []);
      for (let start = 0; start < events.length; start += 1000) {
        const frame = `{"type":"batch","events":[${events.slice(start, start + 1000).join(',')}]}`;
        for (const ws of groups.get(group) ?? []) ws.send(frame);
      }
    }
  };
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    write(n) {
      const fields = input(n);
      const now = new Date(fields.t).toISOString();
      const record = { ...fields, id: fields.id, createdAt: now, updatedAt: now };
      seq++;
      // The same bytes as the dev server's event for a `records:items` subscription `s1`.
      const event =
        `{"seq":${seq},"sub":"s1","change":"added","channel":"records:${OBJECT}","object":"${OBJECT}"` +
        `,"operation":"create","id":${JSON.stringify(record.id)},"timestamp":"${now}"` +
        `,"record":${JSON.stringify(record)}}`;
      pending.get(record.group)?.push(event);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return fields.t;
    },
  };
}

let written = 0;

serve({
  async start() {
    server = mode === 'raw' ? await startRaw() : await startCatalyst();
    return { url: server.url, key: KEY };
  },
  /**
   * Memory after a full GC, and CPU time so far. `youngGeneration` is what V8 holds for new
   * objects (its new space): sized by the recent allocation rate, part of the RSS.
   */
  stats() {
    globalThis.gc?.();
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const youngGeneration =
      getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
    return {
      rss,
      heapTotal,
      heapUsed,
      external,
      arrayBuffers,
      youngGeneration,
      cpu: process.cpuUsage(),
      now: Date.now(),
    };
  },
  /** The largest RSS seen since the last call. */
  peak() {
    const peak = Math.max(peakRss, process.memoryUsage.rss());
    peakRss = 0;
    return { rss: peak };
  },
  /** `rate` writes per second for `durationMs`; answers when the last one is written. */
  async steady({ rate, durationMs }) {
    const started = Date.now();
    const total = Math.round((rate * durationMs) / 1000);
    let done = 0;
    let firstT;
    while (done < total) {
      const due = Math.min(total, Math.floor(((Date.now() - started) * rate) / 1000) + 1);
      for (; done < due; done++) {
        const t = server.write(written++);
        firstT ??= t;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.floor(1000 / rate / 2))));
    }
    return { writes: total, firstT };
  },
  /** Exits (and so writes the CPU profile of `--cpu-prof`). */
  exit() {
    setTimeout(() => process.exit(0), 10);
  },
  /** `writes` writes in one turn of the event loop. */
  burst({ writes }) {
    let firstT;
    for (let i = 0; i < writes; i++) {
      const t = server.write(written++);
      firstT ??= t;
    }
    return { writes, firstT };
  },
});
