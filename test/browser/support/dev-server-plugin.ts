/**
 * The Node side of the browser tests: a web-test-runner plugin that runs the real dev server
 * (`createDevServer`) for the pages, one per test file so files may run in parallel, and
 * answers the `catalyst-dev-server` command (`dev-server-commands.ts`): start, REST writes and
 * queries, `/healthz`, stop and restart on the same port with the same `--data` file.
 *
 * Loaded by `web-test-runner.config.js` through tsx. The page side is `dev-server.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestRunnerPlugin } from '@web/test-runner-core';
import type { PlaywrightLauncher } from '@web/test-runner-playwright';
import type { Page } from 'playwright-core';
import { createDevServer, type DevServer } from '../../../dev-server/node/server.js';
import {
  HealthResponseSchema,
  PATHS,
  RecordListResponseSchema,
  RecordSchema,
  type LiveRecord,
} from '../../../protocol/index.js';
import { FAST_LIMITS, KEYS, testConfig } from '../../support/test-server.js';
import {
  DEV_SERVER_COMMAND,
  type DevServerActions,
  type DevServerAnswer,
  type DevServerCommandPayload,
  type DevServerInfo,
  type RecordQuery,
  type RecordWrite,
  type StartOptions,
} from './dev-server-commands.js';

/** One test file's dev server: kept across stop/restart with its port and data file. */
class SessionServer {
  private server: DevServer | undefined;
  private port = 0;

  private constructor(
    private readonly options: StartOptions,
    private readonly pageOrigin: string,
    private readonly dataDir: string,
  ) {}

  static async start(options: StartOptions, pageOrigin: string): Promise<SessionServer> {
    const session = new SessionServer(options, pageOrigin, await mkdtemp(join(tmpdir(), 'catalyst-wtr-')));
    await session.listen();
    return session;
  }

  get info(): DevServerInfo {
    return { url: `http://127.0.0.1:${this.port}`, port: this.port, keys: { ...KEYS } };
  }

  /** Starts (again) on the remembered port, or a free one the first time, reloading the data file. */
  async listen(): Promise<DevServerInfo> {
    if (this.server) return this.info;
    this.server = await createDevServer({
      // The page is served by wtr from another origin; only that origin may call the API.
      config: testConfig({ allowedOrigins: [this.pageOrigin], ...this.options.config }),
      limits: { ...FAST_LIMITS, ...this.options.limits },
      port: this.port,
      host: '127.0.0.1',
      data: join(this.dataDir, 'data.json'),
    });
    this.port = this.server.port;
    return this.info;
  }

  /** Closes every connection with 1001 and stops listening; the data file stays. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  async write(writes: RecordWrite[]): Promise<(LiveRecord | null)[]> {
    const results: (LiveRecord | null)[] = [];
    for (const write of writes) {
      const base = `${PATHS.recordsPrefix}${encodeURIComponent(write.object)}/records`;
      const key = write.key ?? KEYS.acmeSecret;
      if (write.op === 'create') {
        results.push(RecordSchema.parse(await this.rest('POST', base, key, write.record)));
      } else if (write.op === 'patch') {
        results.push(
          RecordSchema.parse(
            await this.rest('PATCH', `${base}/${encodeURIComponent(write.id)}`, key, write.patch),
          ),
        );
      } else {
        await this.rest('DELETE', `${base}/${encodeURIComponent(write.id)}`, key);
        results.push(null);
      }
    }
    return results;
  }

  async query(object: string, query: RecordQuery = {}) {
    const params = new URLSearchParams();
    if (query.where !== undefined) params.set('where', JSON.stringify(query.where));
    if (query.sort) params.set('sort', query.sort.join(','));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.fields) params.set('fields', query.fields.join(','));
    const path = `${PATHS.recordsPrefix}${encodeURIComponent(object)}/records?${params}`;
    return RecordListResponseSchema.parse(await this.rest('GET', path, query.key ?? KEYS.acmeSecret));
  }

  async healthz() {
    return HealthResponseSchema.parse(await this.rest('GET', PATHS.healthz));
  }

  /**
   * One HTTP request without connection reuse (`agent: false`): a pooled socket to a server that
   * was stopped and restarted on the same port would fail the next write.
   */
  private rest(method: string, path: string, key?: string, body?: unknown): Promise<unknown> {
    if (!this.server) return Promise.reject(new Error(`${method} ${path}: the dev server is stopped`));
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: false,
          headers: {
            ...(key ? { authorization: `Bearer ${key}` } : {}),
            ...(text === undefined ? {} : { 'content-type': 'application/json' }),
          },
        },
        (res) => {
          let answer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (answer += chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) {
              reject(new Error(`${method} ${path} answered ${status}: ${answer}`));
              return;
            }
            try {
              resolve(answer === '' ? null : JSON.parse(answer));
            } catch {
              reject(
                new Error(`${method} ${path} answered ${status} with a body that is not JSON: ${answer}`),
              );
            }
          });
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }
}

/**
 * The plugin. Each test file (wtr session) gets its own server on `start`; a second `start`
 * replaces it; `close`, or the end of the run, closes it and deletes its data file.
 */
export function devServerPlugin(): TestRunnerPlugin<DevServerCommandPayload> {
  const servers = new Map<string, SessionServer>();
  let pageOrigin = 'http://localhost:8000';

  async function handle(
    sessionId: string,
    payload: DevServerCommandPayload,
    page: () => Page,
  ): Promise<unknown> {
    if (payload.action === 'start') {
      await servers.get(sessionId)?.close();
      servers.delete(sessionId);
      const server = await SessionServer.start(payload.options ?? {}, pageOrigin);
      servers.set(sessionId, server);
      return server.info satisfies DevServerActions['start']['result'];
    }
    const server = servers.get(sessionId);
    if (!server) throw new Error(`no dev server for this test file: call startDevServer() first`);
    switch (payload.action) {
      case 'write':
        return server.write(payload.writes);
      case 'query':
        return server.query(payload.object, payload.query);
      case 'healthz':
        return server.healthz();
      case 'stop':
        await server.stop();
        return true;
      case 'restart':
        await server.stop();
        return server.listen();
      case 'close':
        await server.close();
        servers.delete(sessionId);
        return true;
      case 'freeze': {
        // Page Lifecycle's `frozen` (Page.setWebLifecycleState) has no effect on the test page:
        // Playwright launches Chromium with renderer backgrounding off. Stopping its JavaScript in
        // the debugger does what freezing does to it: no task runs, network input waits.
        const cdp = await page().context().newCDPSession(page());
        const started = Date.now();
        await cdp.send('Debugger.enable');
        await cdp.send('Debugger.pause');
        try {
          await new Promise((resolve) => setTimeout(resolve, payload.writesAfterMs));
          const written = await server.write(payload.writes);
          await new Promise((resolve) =>
            setTimeout(resolve, Math.max(0, payload.ms - (Date.now() - started))),
          );
          return written;
        } finally {
          await cdp.send('Debugger.resume');
          await cdp.detach();
        }
      }
    }
  }

  return {
    name: 'catalyst-dev-server',
    serverStart({ config }) {
      pageOrigin = `${config.http2 ? 'https' : 'http'}://${config.hostname}:${config.port}`;
    },
    async serverStop() {
      await Promise.all([...servers.values()].map((server) => server.close()));
      servers.clear();
    },
    async executeCommand({ command, payload, session }) {
      if (command !== DEV_SERVER_COMMAND) return undefined;
      if (!payload || typeof payload !== 'object' || !('action' in payload)) {
        return { ok: false, error: `${DEV_SERVER_COMMAND} needs a payload with an action` };
      }
      // wtr reads a null or undefined answer as "not my command": every action answers a value.
      try {
        const page = () => (session.browser as PlaywrightLauncher).getPage(session.id);
        return {
          ok: true,
          result: await handle(session.id, payload, page),
        } satisfies DevServerAnswer<unknown>;
      } catch (error) {
        return { ok: false, error: (error as Error).message } satisfies DevServerAnswer<unknown>;
      }
    },
  };
}
