/**
 * The real dev server, seen from a browser test. `startDevServer()` asks the test runner's Node
 * side (`dev-server-plugin.ts`, through wtr's `executeServerCommand`) to start `createDevServer`
 * on a random port of 127.0.0.1 with the test config of `test/support/test-server.ts`, small
 * limits and a `--data` file; the returned handle writes records through REST, queries them,
 * reads `/healthz`, and stops and restarts the server.
 *
 * Each test file gets its own server, so files run in parallel without seeing each other's
 * writes; calling `startDevServer()` again in the same file replaces it with a fresh one.
 *
 * ```ts
 * import { connect } from '../../elements/connection/index.js';
 * import { startDevServer, type TestDevServer } from './support/dev-server.js';
 *
 * let server: TestDevServer;
 * before(async () => (server = await startDevServer({ limits: { flushIntervalMs: 10 } })));
 * after(() => server.close());
 *
 * it('shows a new order', async () => {
 *   const connection = connect({ url: server.url, apiKey: server.keys.acmePublic });
 *   // … subscribe, or render <live-record-list url=${server.url} api-key=…> …
 *   await server.create('orders', { id: 'o9', status: 'pending', total: 5 });
 *   await server.stop(); // clients see 1001 and retry
 *   await server.restart(); // same port, same data: clients resume with since/epoch
 *   expect((await server.healthz()).connections).to.equal(1);
 * });
 * ```
 *
 * The page's origin (wtr's) is the config's only allowed origin, so the browser's own `fetch`
 * and WebSocket reach the server as a real site's would. Writes made here go from Node, with no
 * origin, as a back office would make them.
 */
import { executeServerCommand } from '@web/test-runner-commands';
import type { LiveRecord, RecordListResponse } from '../../../protocol/index.js';
import {
  DEV_SERVER_COMMAND,
  type DevServerAction,
  type DevServerActions,
  type DevServerAnswer,
  type DevServerInfo,
  type Health,
  type RecordQuery,
  type RecordWrite,
  type StartOptions,
} from './dev-server-commands.js';

export type { Health, RecordQuery, RecordWrite, StartOptions } from './dev-server-commands.js';

/** Runs an action in Node; rejects with the Node side's message when it fails. */
async function command<A extends DevServerAction>(
  action: A,
  payload: DevServerActions[A]['payload'],
): Promise<DevServerActions[A]['result']> {
  const answer = await executeServerCommand<DevServerAnswer<DevServerActions[A]['result']>, unknown>(
    DEV_SERVER_COMMAND,
    { action, ...payload },
  );
  if (!answer.ok) throw new Error(`dev server ${action}: ${answer.error}`);
  return answer.result;
}

/**
 * Starts this test file's dev server (replacing one it started before) and resolves when it
 * listens. `options.limits` override the fast test limits (`flushIntervalMs: 20`,
 * `heartbeatMs: 60000`), e.g. `{ sessionTtlMs: 500 }` to see 4001 closes, `{ maxBufferedBytes: … }`
 * for 4009; `options.config` replaces top-level entries of the test config (`records`, `keys`, …).
 */
export async function startDevServer(options: StartOptions = {}): Promise<TestDevServer> {
  return new TestDevServer(await command('start', { options }));
}

/** A handle on this test file's dev server. Every method waits for the server's answer. */
export class TestDevServer {
  /** `http://127.0.0.1:PORT`, the `url` for `connect()` and the elements; unchanged by restarts. */
  readonly url: string;
  readonly port: number;
  /**
   * The test config's keys: `acmeSecret` and `acmePublic` (client acme, production: orders
   * o1–o3 and product p1), `acmeProductsOnly` (publishable, products only), `acmeStaging`
   * (acme, staging: empty), `globexSecret` (another client: order g1).
   */
  readonly keys: DevServerInfo['keys'];

  constructor(info: DevServerInfo) {
    this.url = info.url;
    this.port = info.port;
    this.keys = info.keys;
  }

  /** `POST /api/objects/:object/records`; resolves with the stored record (with its `id`). */
  async create(object: string, record: Record<string, unknown>, key?: string): Promise<LiveRecord> {
    return (await this.write([{ op: 'create', object, record, ...(key ? { key } : {}) }]))[0] as LiveRecord;
  }

  /** `PATCH /api/objects/:object/records/:id` (JSON merge patch); resolves with the new record. */
  async patch(object: string, id: string, patch: Record<string, unknown>, key?: string): Promise<LiveRecord> {
    return (await this.write([{ op: 'patch', object, id, patch, ...(key ? { key } : {}) }]))[0] as LiveRecord;
  }

  /** `DELETE /api/objects/:object/records/:id`. */
  async remove(object: string, id: string, key?: string): Promise<void> {
    await this.write([{ op: 'remove', object, id, ...(key ? { key } : {}) }]);
  }

  /**
   * Many REST writes in one round trip to Node, made one after another in order; resolves with
   * each write's record (`null` for a removal). Rejects at the first write the server refuses,
   * with its status and error body; the writes before it stay done.
   */
  write(writes: RecordWrite[]): Promise<(LiveRecord | null)[]> {
    return command('write', { writes });
  }

  /** `GET /api/objects/:object/records` with `where`, `sort`, `limit`, `fields`: the truth to compare with. */
  query(object: string, query: RecordQuery = {}): Promise<RecordListResponse> {
    return command('query', { object, query });
  }

  /**
   * Freezes this page for `ms` (no task of it runs, as in a tab the browser froze), making
   * `writes` `writesAfterMs` into the freeze; resolves once it runs again.
   */
  freeze(ms: number, writes: RecordWrite[] = [], writesAfterMs = 0): Promise<(LiveRecord | null)[]> {
    return command('freeze', { ms, writes, writesAfterMs });
  }

  /** `GET /healthz`: `connections` counts the open WebSocket and SSE connections. */
  healthz(): Promise<Health> {
    return command('healthz', {});
  }

  /**
   * Stops the server as Ctrl-C would: every connection is closed with 1001, the data file is
   * written, and the port stops answering (clients' ws-auth fetches fail) until `restart()`.
   */
  async stop(): Promise<void> {
    await command('stop', {});
  }

  /**
   * Starts the server again on the same port from its data file, so records, `seq`, `epoch` and
   * history survive and clients resume where they were. Stops it first when it is running.
   */
  async restart(): Promise<void> {
    await command('restart', {});
  }

  /** Stops the server and deletes its data file; the end of the run does this too. */
  async close(): Promise<void> {
    await command('close', {});
  }
}
