/**
 * `createDevServer`: the Node shell around the engine — HTTP (REST, SSE, CORS), WebSocket on
 * `ws`, `--data` persistence, `--simulate`, `--audit`, static files beside the API (`--static`,
 * `static-files.ts`), and a graceful close.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROTOCOL_BOUNDS, type AuditType, type Limits } from '../../protocol/index.js';
import { ApiError } from '../engine/api-error.js';
import type { AuditHook } from '../engine/audit-trail.js';
import { ConfigError, resolveConfig, type ResolvedConfig } from '../engine/config.js';
import { demoConfig } from '../engine/demo-data.js';
import { Engine } from '../engine/engine.js';
import { corsHeaders, errorResponse, handleHttp, type StreamedResponse } from '../engine/rest.js';
import { startSimulation } from '../engine/simulator.js';
import { resolvePostgresConfig } from '../sources/postgres/config.js';
import { PostgresSource } from '../sources/postgres/postgres-source.js';
import { ClusterNode } from '../cluster/cluster-node.js';
import { openAuditSink, parseAuditTarget, type AuditSink } from './audit-sink.js';
import { DataFile } from './data-file.js';
import { loadDataFile } from './data-file-loader.js';
import { nodeClock } from './node-clock.js';
import { streamSse } from './sse-transport.js';
import { createStaticFiles } from './static-files.js';
import { createWebSocketEndpoint } from './ws-transport.js';

/** Options of `createDevServer`; the CLI maps its flags onto these. */
export type DevServerOptions = {
  /** A config value (validated; a bad one throws `ConfigError`). Default: the built-in demo. */
  config?: unknown;
  /** Limits that win over the config's (the CLI's `--flush-ms`, `--max-batch`, `--heartbeat-ms`). */
  limits?: Partial<Limits>;
  /** Port; 0 picks a free one. Default 8787. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Persist the store to this file and reload it on start. */
  data?: string;
  /**
   * Join a cluster of processes over this Redis (`redis://host:port`; wins over the config's
   * `cluster.redis`): PROTOCOL.md section 11. Every object must be kept in a table, and `data`
   * cannot be given (the history is the cluster's).
   */
  cluster?: string;
  /** Prefix of the cluster's Redis keys (tests; several clusters on one Redis). */
  clusterKeyPrefix?: string;
  /** Random record writes per second. */
  simulate?: number;
  /**
   * Where audit records go: a file they are appended to as JSON lines, `-` for standard output,
   * or `nats://[user:pass@]host[:port]` to publish each on `console.realtime.<type>`
   * (`nats-audit.ts`; the server does not wait for NATS). A bad `nats://` URL throws
   * `NatsAuditUrlError`.
   */
  audit?: string;
  /**
   * Serve files from these directories at every path outside the API (GET and HEAD; the first
   * directory holding a file wins; `index.html` for directories). A missing directory, or a
   * file in place of one, throws `StaticDirError`. Default: none, and every path is the API's.
   */
  staticDirs?: readonly string[];
};

/** A running dev server. */
export type DevServer = {
  /** `http://host:port`. */
  url: string;
  port: number;
  /** The engine: environments, records, hooks. */
  store: Engine;
  /** The PostgreSQL source, when the config has a `postgres` section. */
  postgres: PostgresSource | undefined;
  /** Registers an audit hook; returns its remover. */
  on(type: AuditType | '*', hook: AuditHook): () => void;
  /** Closes every connection with 1001, persists the data file, and stops listening. */
  close(): Promise<void>;
};

/**
 * Starts a dev server. Throws `ConfigError`, `DataFileError`, `StaticDirError`,
 * `NatsAuditUrlError` or `PostgresSetupError` for bad input, before listening.
 */
export async function createDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const config: ResolvedConfig = resolveConfig(
    clusterConfig(options.config ?? demoConfig(), options.cluster),
    options.limits,
  );
  const clusterUrl = config.cluster?.redis;
  if (clusterUrl !== undefined && options.data !== undefined) {
    throw new ConfigError([
      {
        path: 'cluster',
        message: "--data cannot be used in a cluster: the history is the cluster's, in Redis",
      },
    ]);
  }
  const auditTarget = options.audit ? parseAuditTarget(options.audit) : undefined;
  const staticFiles = options.staticDirs?.length ? createStaticFiles(options.staticDirs) : undefined;
  const loaded = options.data ? await loadDataFile(options.data) : undefined;
  const engine = new Engine(config, { clock: nodeClock, state: loaded?.state });
  // PostgreSQL is prepared before the data file's first snapshot, which then holds any history
  // it had to start anew (postgres-source.ts).
  const postgres = config.postgres
    ? await PostgresSource.prepare(engine, resolvePostgresConfig(config.postgres), {
        durable: options.data !== undefined,
        cluster: clusterUrl !== undefined,
      })
    : undefined;
  let dataFile: DataFile | undefined;
  try {
    dataFile = options.data
      ? await DataFile.open(options.data, engine, loaded?.journalBytes ?? 0)
      : undefined;
  } catch (error) {
    await postgres?.stop();
    throw error;
  }

  const auditSink: AuditSink | undefined = auditTarget ? openAuditSink(auditTarget) : undefined;
  if (auditSink) engine.on('*', (record) => auditSink.write(record));

  let cluster: ClusterNode | undefined;
  try {
    if (clusterUrl !== undefined) {
      cluster = await ClusterNode.start(engine, {
        url: clusterUrl,
        readsSlot: () => postgres?.status === 'streaming',
        ...(options.clusterKeyPrefix === undefined ? {} : { keyPrefix: options.clusterKeyPrefix }),
      });
    }
    if (postgres && cluster) postgres.clusterSync = cluster;
    await postgres?.start();
  } catch (error) {
    engine.shutdown();
    await postgres?.stop();
    await cluster?.stop();
    await dataFile?.close();
    await auditSink?.close();
    throw error;
  }

  const ws = createWebSocketEndpoint(engine);
  const http = createServer((req, res) => {
    if (!staticFiles?.handle(req, res)) answer(engine, req, res);
  });
  http.on('upgrade', ws.handleUpgrade);
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve());
    });
  } catch (error) {
    // Let go of what was opened, or a caller that catches this keeps a process that never ends.
    await postgres?.stop();
    await cluster?.stop();
    engine.shutdown();
    await dataFile?.close();
    await auditSink?.close();
    throw error;
  }
  const { port } = http.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const stopSimulation = options.simulate ? startSimulation(engine, options.simulate) : () => undefined;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    store: engine,
    postgres,
    on: (type, hook) => engine.on(type, hook),
    close: () =>
      (closing ??= (async () => {
        stopSimulation();
        await postgres?.stop(); // no change is committed after the final snapshot
        engine.shutdown();
        await cluster?.stop();
        await dataFile?.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          // Give close frames a moment to leave, then drop what is left (SSE streams, idle keep-alive).
          setTimeout(() => {
            for (const client of ws.server.clients) client.terminate();
            http.closeAllConnections();
          }, 100).unref();
        });
        ws.server.close();
        await auditSink?.close(); // last: the disconnects of the closing clients are audited too
      })()),
  };
}

function answer(engine: Engine, req: IncomingMessage, res: ServerResponse): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = () => {
    const response = errorResponse(
      new ApiError('payload_too_large', `the body is over ${PROTOCOL_BOUNDS.maxHttpBodyBytes} bytes`),
      // A browser reads the refusal only with CORS headers, like every other answer.
      engine.originAllowed(req.headers.origin) ? corsHeaders(engine, req.headers.origin) : {},
    );
    res.writeHead(response.status, { ...response.headers, connection: 'close' }).end(response.body);
  };
  if (declared > PROTOCOL_BOUNDS.maxHttpBodyBytes) {
    tooLarge();
    req.resume();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > PROTOCOL_BOUNDS.maxHttpBodyBytes) {
      refused = true;
      tooLarge();
      return;
    }
    chunks.push(chunk);
  });
  // A client that goes while its answer is prepared (a list matched in slices) stops that work.
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  req.on('end', async () => {
    if (refused) return;
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const result = await handleHttp(engine, {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers,
      body: chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined,
      signal: gone.signal,
    });
    if ('start' in result) streamSse(result, res);
    else if ('chunks' in result) streamBody(result, res);
    else res.writeHead(result.status, result.headers).end(result.body);
  });
}

/** Writes a streamed answer as fast as the client reads it: the next piece is made on `drain`. */
function streamBody(answer: StreamedResponse, res: ServerResponse): void {
  if (res.destroyed) {
    answer.done(); // the client went while the list was matched: its 'close' has passed
    return;
  }
  res.writeHead(answer.status, answer.headers);
  res.once('close', answer.done);
  const pump = (): void => {
    for (;;) {
      if (res.destroyed) {
        answer.done();
        return;
      }
      const piece = answer.chunks.next();
      if (piece.done) {
        res.end(answer.done);
        return;
      }
      if (!res.write(piece.value)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** The config with `--cluster`'s Redis URL in place of its own `cluster.redis`, when given. */
function clusterConfig(config: unknown, url: string | undefined): unknown {
  if (url === undefined || typeof config !== 'object' || config === null) return config;
  return { ...config, cluster: { redis: url } };
}
