/**
 * A bystander's latency as the protocol shows it: a connection of its own that sends
 * `{"type":"ping","t"}` every few milliseconds and times each `pong`. The server answers a ping
 * from the same event loop that serves everyone else, so a server busy with someone else's storm
 * shows here as a late pong. The pinging runs in a worker thread: the storm's own clients live in
 * the test's main thread, and their work must not show up as the server's latency.
 */
import { Worker } from 'node:worker_threads';
import { getToken } from '../../support/raw-client.js';

/** What a probe measured. */
export type PingReport = {
  /** Round trips, in ms, in the order their pongs came. */
  samples: number[];
  /** Pings whose pong never came. */
  unanswered: number;
  /** Whether the server closed the probe's connection. */
  closed: boolean;
};

// Plain JavaScript: a worker evaluates it as a script (tsx does not load TypeScript into workers).
const PINGER = `
const { parentPort, workerData } = require('node:worker_threads');
const { WebSocket } = require('ws');
const { url, intervalMs } = workerData;
const samples = [];
const sent = new Map();
let next = 0;
let timer;
const ws = new WebSocket(url);
ws.on('error', (error) => parentPort.postMessage({ type: 'error', message: String(error) }));
ws.once('message', () => {
  timer = setInterval(() => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const t = ++next;
    sent.set(t, performance.now());
    ws.send('{"type":"ping","t":' + t + '}');
  }, intervalMs);
  ws.on('message', (data) => {
    const now = performance.now();
    if (data.length > 200) return;
    const message = JSON.parse(data.toString());
    if (message.type !== 'pong' || typeof message.t !== 'number' || !sent.has(message.t)) return;
    samples.push(now - sent.get(message.t));
    sent.delete(message.t);
  });
  parentPort.postMessage({ type: 'ready' });
});
parentPort.on('message', async ({ timeoutMs }) => {
  clearInterval(timer);
  const deadline = Date.now() + timeoutMs;
  while (sent.size > 0 && Date.now() < deadline && ws.readyState === WebSocket.OPEN) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  parentPort.postMessage({ type: 'report', samples, unanswered: sent.size, closed: ws.readyState !== WebSocket.OPEN });
  ws.close();
});
`;

type FromWorker = { type: 'ready' } | { type: 'error'; message: string } | ({ type: 'report' } & PingReport);

/** Times ping → pong on its own connection, from a worker thread. */
export class PingProbe {
  private constructor(private readonly worker: Worker) {}

  /** Connects with `key` and starts pinging every `intervalMs`. */
  static async start(url: string, key: string, intervalMs = 10): Promise<PingProbe> {
    const token = await getToken({ url }, key);
    const worker = new Worker(PINGER, {
      eval: true,
      workerData: {
        url: `${url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
        intervalMs,
      },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (message: FromWorker) => {
        if (message.type === 'ready') resolve();
        else reject(new Error(`the ping probe failed: ${JSON.stringify(message)}`));
      });
      worker.once('error', reject);
    });
    return new PingProbe(worker);
  }

  /** Stops pinging, waits up to `timeoutMs` for the pongs still due, and closes. */
  async stop(timeoutMs = 5000): Promise<PingReport> {
    const report = new Promise<PingReport>((resolve, reject) => {
      this.worker.on('message', (message: FromWorker) => {
        if (message.type === 'report') resolve(message);
      });
      this.worker.once('error', reject);
    });
    this.worker.postMessage({ timeoutMs });
    try {
      const { samples, unanswered, closed } = await report;
      return { samples, unanswered, closed };
    } finally {
      await this.worker.terminate();
    }
  }
}
