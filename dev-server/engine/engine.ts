/**
 * The dev server engine: every rule of catalyst-realtime.v1 with no I/O of its own. The Node
 * shell and the browser mock are thin transports over one `Engine`: they hand it sockets
 * (`openWebSocket`, `startSse`) and HTTP requests (`handleHttp` in `rest.ts`), and it answers.
 */
import {
  CODE,
  PATHS,
  type AuditType,
  type CodeName,
  type HealthResponse,
  type Limits,
  type SubscriptionSpec,
  type WsAuthResponse,
} from '../../protocol/index.js';
import { ApiError } from './api-error.js';
import './english-errors.js';
import { AuditTrail, type AuditHook } from './audit-trail.js';
import { isoTime, systemClock, type Clock } from './clock.js';
import type { ResolvedConfig } from './config.js';
import { Connection } from './connection.js';
import type { EngineCore, KeyRecord, Refusal } from './engine-core.js';
import { Environment, type CommitListener } from './environment.js';
import { FlushScheduler } from './flush-scheduler.js';
import { newConnectionId, newEpoch } from './ids.js';
import type { ClusterAdmission } from './cluster-admission.js';
import type { PersistedState, PostgresProgress } from './persisted-state.js';
import { parseLsn } from '../sources/postgres/lsn.js';
import type { EngineSocket, SocketHandle } from './socket.js';
import { TokenStore } from './tokens.js';
import { WorkQueue } from './work-queue.js';

/** How an engine is built. */
export type EngineOptions = {
  config: ResolvedConfig;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** State saved by `exportState` (the `--data` file); it wins over the config's seed records. */
  state?: PersistedState;
};

export type { SocketHandle } from './socket.js';

/** The handle of a socket the engine refused: nothing it sends matters any more. */
const IGNORED: SocketHandle = {
  receive: () => undefined,
  frameTooBig: () => undefined,
  closed: () => undefined,
};

/** A transport-agnostic catalyst-realtime.v1 server. */
export class Engine implements EngineCore {
  readonly clock: Clock;
  readonly limits: Limits;
  readonly audit: AuditTrail;
  readonly scheduler: FlushScheduler;
  readonly work: WorkQueue;
  readonly startedAt: number;
  private readonly keys = new Map<string, KeyRecord>();
  private readonly tokens: TokenStore<KeyRecord>;
  private readonly environments = new Map<string, Environment>();
  private readonly connections = new Set<Connection>();
  private readonly perClient = new Map<string, number>();
  private readonly requestsInFlight = new Map<string, number>();
  private readonly commitListeners = new Set<CommitListener>();
  /** Set by `shutdown`: nothing new is accepted, so no commit can miss the final snapshot. */
  stopped = false;
  /**
   * How far the PostgreSQL source got: moved on by every row commit, persisted with `--data`,
   * and where the source starts again (PROTOCOL.md section 10).
   */
  postgresProgress: PostgresProgress | undefined;
  /** In a cluster, its tokens and connection counts (cluster-admission.ts); else this process's. */
  admission: ClusterAdmission | undefined;
  /** What `/healthz` adds to `ok`, `connections` and `uptimeMs`: `postgres`, `cluster`. */
  readonly health: Pick<HealthResponse, 'postgres' | 'cluster'> = {};

  constructor(
    readonly config: ResolvedConfig,
    options: Omit<EngineOptions, 'config'> = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.limits = config.limits;
    this.audit = new AuditTrail(this.clock);
    this.scheduler = new FlushScheduler(this.clock, this.limits.flushIntervalMs);
    this.work = new WorkQueue(this.clock);
    this.tokens = new TokenStore(this.clock, this.limits.tokenTtlMs);
    this.startedAt = this.clock.now();
    for (const key of config.keys) {
      this.keys.set(key.key, {
        ...key,
        readable: key.role === 'publishable' && key.objects ? new Set(key.objects) : undefined,
        readableTables: key.role === 'publishable' && key.tables ? new Set(key.tables) : undefined,
      });
      this.environment(key.client, key.environment);
    }
    for (const table of config.postgres?.tables ?? []) {
      const { client, environment, schema = 'public', object } = table;
      this.environment(client, environment).exposeTable({ schema, table: table.table, object });
    }
    const restored = new Set<Environment>();
    this.postgresProgress = options.state?.postgres;
    for (const state of options.state?.environments ?? []) {
      const env = this.environment(state.client, state.environment);
      env.importState(state);
      restored.add(env);
      for (const commit of state.history) if (commit.kind === 'row') this.notePostgresProgress(commit);
    }
    for (const [client, environments] of Object.entries(config.records ?? {})) {
      for (const [name, byObject] of Object.entries(environments)) {
        const env = this.environment(client, name);
        if (restored.has(env)) continue;
        for (const [object, records] of Object.entries(byObject)) env.seed(object, records);
      }
    }
  }

  // ---- hooks ---------------------------------------------------------------------------------

  /** Registers an audit hook (`'connect'`, `'auth.denied'`, … or `'*'`); returns its remover. */
  on(type: AuditType | '*', hook: AuditHook): () => void {
    return this.audit.on(type, hook);
  }

  /** Registers a listener for every commit, before fan-out (persistence, sinks); returns its remover. */
  onCommit(listener: CommitListener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  // ---- keys and tokens -----------------------------------------------------------------------

  /** The key of an `Authorization: Bearer <key>` header; throws 401 `unauthorized`. */
  authorize(authorization: string | undefined): KeyRecord {
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) throw new ApiError('unauthorized', 'send the API key as "Authorization: Bearer <key>"');
    const key = this.keys.get(match[1] as string);
    if (!key) throw new ApiError('unauthorized', 'unknown API key');
    return key;
  }

  /** A one-time ws-auth token for a key. */
  issueToken(key: KeyRecord): WsAuthResponse | Promise<WsAuthResponse> {
    const answer = (token: string, expiresAt: number): WsAuthResponse => ({
      token,
      expiresAt: isoTime(expiresAt),
      environment: key.environment,
      url: PATHS.websocket,
    });
    if (this.admission) {
      return this.admission.issue(this.keyIdOf(key)).then(({ token, expiresAt }) => answer(token, expiresAt));
    }
    const { token, expiresAt } = this.tokens.issue(key);
    return answer(token, expiresAt);
  }

  /**
   * A key's id in the cluster: its place in the config, which every process shares (a token
   * carries it through Redis instead of the key itself).
   */
  private keyIdOf(key: KeyRecord): string {
    return `k${this.config.keys.findIndex((k) => k.key === key.key)}`;
  }

  /** The key of a cluster key id, if this process's config has it. */
  private keyOfId(id: string): KeyRecord | undefined {
    const config = this.config.keys[Number(id.slice(1))];
    return id.startsWith('k') && config ? this.keys.get(config.key) : undefined;
  }

  /** Whether a request's `Origin` may use the API. No `Origin` (not a browser) is let through. */
  originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    const allowed = this.config.allowedOrigins;
    return allowed.includes('*') || allowed.includes(origin);
  }

  /**
   * Spends a token and checks the quota of its client — in a cluster, the cluster's token and
   * quota (asynchronously; rejects with `ApiError` `unavailable` while Redis cannot be reached).
   */
  admit(token: string): { key: KeyRecord } | Refusal | Promise<{ key: KeyRecord } | Refusal> {
    if (this.admission) return this.admitInCluster(this.admission, token);
    const result = this.tokens.consume(token);
    if ('refused' in result) {
      const refusal: Refusal = {
        refused: result.refused,
        message:
          result.refused === 'token_expired'
            ? 'the token is older than tokenTtlMs'
            : 'unknown or already used token',
      };
      if (result.key) refusal.key = result.key;
      return refusal;
    }
    const open = this.perClient.get(result.key.client) ?? 0;
    if (open >= this.limits.maxConnectionsPerClient) {
      return {
        refused: 'quota_exceeded',
        message: `client "${result.key.client}" already has ${open} connections (maxConnectionsPerClient)`,
        key: result.key,
      };
    }
    return result;
  }

  private async admitInCluster(
    admission: ClusterAdmission,
    token: string,
  ): Promise<{ key: KeyRecord } | Refusal> {
    const spent = await admission.consume(token);
    const key = spent.keyId === undefined ? undefined : this.keyOfId(spent.keyId);
    if ('refused' in spent) {
      const refusal: Refusal = {
        refused: spent.refused,
        message:
          spent.refused === 'token_expired'
            ? 'the token is older than tokenTtlMs'
            : 'unknown or already used token',
      };
      if (key) refusal.key = key;
      return refusal;
    }
    if (!key)
      return { refused: 'token_invalid', message: "the token names a key this process's config lacks" };
    const quota = await admission.tryOpen(key.client, this.limits.maxConnectionsPerClient);
    if (!quota.ok) {
      return {
        refused: 'quota_exceeded',
        message: `client "${key.client}" already has ${quota.open} connections in the cluster (maxConnectionsPerClient)`,
        key,
      };
    }
    return { key };
  }

  /**
   * A connection admitted by the cluster went before it was opened here: its slot goes back.
   * (Nothing to do without a cluster: a local slot is taken only when the connection opens.)
   */
  releaseAdmission(key: KeyRecord): void {
    this.admission?.closed(key.client);
  }

  /**
   * Counts one request of `client` being answered (a records list, matched then streamed) toward
   * `maxConcurrentRequestsPerClient`; throws 429 `quota_exceeded` past it. Returns the function
   * that gives the slot back (once; later calls do nothing).
   */
  takeRequestSlot(client: string): () => void {
    const open = this.requestsInFlight.get(client) ?? 0;
    if (open >= this.limits.maxConcurrentRequestsPerClient) {
      throw new ApiError(
        'quota_exceeded',
        `client "${client}" already has ${open} requests being answered (maxConcurrentRequestsPerClient); read or cancel one first`,
      );
    }
    this.requestsInFlight.set(client, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.requestsInFlight.get(client) ?? 1) - 1;
      if (left > 0) this.requestsInFlight.set(client, left);
      else this.requestsInFlight.delete(client);
    };
  }

  /** Audits an SSE attempt refused before its stream started (WebSocket refusals audit themselves). */
  auditSseRefusal(refusal: Refusal): void {
    const subject = {
      connectionId: newConnectionId(),
      client: refusal.key?.client,
      environment: refusal.key?.environment,
    };
    this.audit.emit('auth.denied', subject, {
      reason: refusal.refused,
      message: refusal.message,
      transport: 'sse',
    });
    if (refusal.refused === 'quota_exceeded') {
      this.audit.emit('session.suspended', subject, {
        code: CODE.quota_exceeded,
        reason: refusal.refused,
        transport: 'sse',
      });
    }
  }

  // ---- connections ---------------------------------------------------------------------------

  /** Attaches a WebSocket: authenticated by the URL's token, or by an `auth` frame within 5 s. */
  openWebSocket(socket: EngineSocket, token: string | undefined): SocketHandle {
    if (this.stopped) {
      socket.close(1001, 'server shutting down');
      return IGNORED;
    }
    const connection = new Connection(this, socket, 'websocket');
    connection.startWebSocket(token);
    return connection;
  }

  /** Attaches an SSE stream whose token was admitted, and subscribes its subscriptions. */
  startSse(socket: EngineSocket, key: KeyRecord, subscriptions: readonly SubscriptionSpec[]): SocketHandle {
    const connection = new Connection(this, socket, 'sse');
    connection.startSse(key, subscriptions);
    // SSE is read-only: nothing the client sends reaches the connection.
    return { ...IGNORED, closed: (code) => connection.closed(code) };
  }

  /** Every environment made so far (each key's, and those of state loaded or seeded). */
  environmentList(): Environment[] {
    return [...this.environments.values()];
  }

  /** The environment of a (client, environment) pair, created on first use. */
  environment(client: string, name: string): Environment {
    const id = `${client}\u0000${name}`;
    let env = this.environments.get(id);
    if (!env) {
      env = new Environment(
        client,
        name,
        this.config.objects,
        this.limits.historySize,
        this.limits.historyBytes,
        newEpoch(this.clock.now()),
        this.clock,
        (e, c) => {
          for (const listener of this.commitListeners) listener(e, c);
          if (c.kind === 'row') this.postgresProgress = { lsn: c.lsn, end: c.end, applied: c.index + 1 };
        },
        { scheduler: this.scheduler, work: this.work, maxRoomMembers: this.limits.maxRoomMembers },
      );
      this.environments.set(id, env);
    }
    return env;
  }

  /** A connection was admitted. */
  opened(connection: Connection): void {
    this.connections.add(connection);
    const client = connection.client as string;
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
  }

  /** An admitted connection's socket is gone (not merely closed by the server): its quota is free. */
  closed(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    const client = connection.client as string;
    this.admission?.closed(client);
    const left = (this.perClient.get(client) ?? 1) - 1;
    if (left > 0) this.perClient.set(client, left);
    else this.perClient.delete(client);
  }

  /**
   * Closes every open connection (of one client, when given) from the server side with a protocol
   * code, exactly as the engine closes one itself: audited, torn down, its client's quota freed.
   * For transports and fakes that need a server-initiated close on demand — the browser mock's
   * "expire the session" (4001), "deny" (4003) and "exceed the quota" (4008). Returns how many closed.
   */
  closeConnections(
    name: CodeName,
    options: { client?: string; environment?: Environment; reason?: string } = {},
  ): number {
    let count = 0;
    for (const connection of [...this.connections]) {
      if (options.client !== undefined && connection.client !== options.client) continue;
      if (options.environment !== undefined && connection.environment !== options.environment) continue;
      if (connection.ended) continue; // closed already, its socket still going
      connection.close(name, options.reason);
      count++;
    }
    return count;
  }

  /** Connections whose sockets are open, WebSocket and SSE (the ones the quota counts). */
  get connectionCount(): number {
    return this.connections.size;
  }

  // ---- persistence and shutdown --------------------------------------------------------------

  /**
   * Everything `--data` keeps: each environment's records, seq, epoch and history. A consistent
   * view taken at once: it copies references only (records and commits are never mutated).
   */
  exportState(): PersistedState {
    const state: PersistedState = {
      environments: [...this.environments.values()].map((env) => env.exportState()),
    };
    if (this.postgresProgress) state.postgres = this.postgresProgress;
    return state;
  }

  /**
   * Starts a new history for an environment (a new epoch; `seq` goes on): its old one cannot be
   * continued, e.g. the PostgreSQL slot it was read from is gone. Clients resuming with the old
   * epoch get `resumed: false` and a fresh snapshot.
   */
  restartHistory(env: Environment): void {
    env.restartHistory(newEpoch(this.clock.now()));
  }

  /** Moves the PostgreSQL progress on to a loaded row commit, if it is further. */
  private notePostgresProgress(commit: { lsn: string; end: string; index: number }): void {
    const known = this.postgresProgress;
    const end = parseLsn(commit.end);
    if (known) {
      const knownEnd = parseLsn(known.end);
      if (end < knownEnd || (end === knownEnd && commit.index + 1 <= known.applied)) return;
    }
    this.postgresProgress = { lsn: commit.lsn, end: commit.end, applied: commit.index + 1 };
  }

  /** Flushes queued events and closes every connection with 1001. */
  shutdown(): void {
    this.stopped = true;
    for (const connection of [...this.connections]) connection.close('going_away');
    this.scheduler.stop();
    this.work.stop();
  }
}
