/**
 * The server side of the PostgreSQL benchmark, in its own process so that its CPU is its own:
 * `node --import tsx server-child.mjs`. The real dev server (`createDevServer`) with one exposed
 * table `orders` (PROTOCOL.md section 10) and one in-memory object `orders_mem` of the same shape,
 * both in acme/production, flush interval 0.
 *
 * Commands (../fanout/ipc.mjs): `start` ({ postgresUrl, table, object, key }), `stats`, `arrivals`,
 * `exit`.
 */
import { serve } from '../fanout/ipc.mjs';

/** @type {import('../../dev-server/node/server.ts').DevServer | undefined} */
let dev;

/**
 * Commit → server: for each row the PostgreSQL source hands to the engine, Date.now() − its
 * transaction's commit time (whole ms), counted per ms. The source calls `commitRows` once per
 * run of changes of one environment, after decoding and mapping them: wrapping it on the
 * environment (a bench-only instrument) sees every row as it arrives.
 */
let arrivals = new Map();

function instrument(environment) {
  const commitRows = environment.commitRows.bind(environment);
  environment.commitRows = (changes) => {
    const now = Date.now();
    for (const change of changes) {
      const ms = Math.max(0, now - Date.parse(change.timestamp));
      arrivals.set(ms, (arrivals.get(ms) ?? 0) + 1);
    }
    return commitRows(changes);
  };
}

serve({
  async start({ postgresUrl, table, object, key }) {
    const { createDevServer } = await import('../../dev-server/node/server.ts');
    dev = await createDevServer({
      port: 0,
      config: {
        keys: [{ key, client: 'acme', environment: 'production', role: 'secret' }],
        objects: [object],
        limits: { maxConnectionsPerClient: 100_000 },
        postgres: {
          url: postgresUrl,
          tables: [{ client: 'acme', environment: 'production', table }],
        },
      },
      limits: { flushIntervalMs: 0 },
    });
    instrument(dev.store.environment('acme', 'production'));
    return { url: dev.url };
  },
  /** The commit → server histogram ([ms, rows] pairs) since the last call; starts over. */
  arrivals() {
    const sparse = [...arrivals].sort((a, b) => a[0] - b[0]);
    arrivals = new Map();
    return sparse;
  },
  /** CPU time so far (µs) and memory, for a phase's server CPU. */
  stats() {
    const { rss, heapUsed } = process.memoryUsage();
    return { cpu: process.cpuUsage(), rss, heapUsed, now: Date.now(), postgres: dev?.postgres?.status };
  },
  /** Closes the server (its replication connection too) and exits. */
  async exit() {
    await Promise.race([dev?.close(), new Promise((resolve) => setTimeout(resolve, 3000))]);
    setTimeout(() => process.exit(0), 10);
  },
});
