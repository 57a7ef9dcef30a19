/**
 * Open connections per client across every process of a cluster, so that
 * `maxConnectionsPerClient` counts the whole cluster (PROTOCOL.md section 11), and the cluster's
 * live processes ("nodes", for `/healthz` `cluster.nodes`).
 *
 * Design (keys under one hash tag, `{conns}`, so the scripts stay legal if Redis is sharded):
 *
 * - Each process is a node with an id and keeps, per client, its own count in Redis: a hash
 *   `<prefix>rt:{conns}:client:<client>` with one field per node. `tryOpen` is one Lua script
 *   (connection-scripts.ts): it sums the live nodes' fields and adds one to the caller's only
 *   under the limit, so concurrent opens on any number of processes never overshoot it.
 * - Liveness is a heartbeat with a deadline: a sorted set `<prefix>rt:{conns}:nodes` of node id →
 *   the Redis time after which the node counts as dead, pushed `nodeTtlMs` ahead every
 *   `heartbeatMs`. A process that dies without cleaning up (`SIGKILL`, a lost host) stops
 *   counting within `nodeTtlMs`: the sum skips its fields and removes them. A sorted set rather
 *   than a key per node (`SET node:<id> PX …`) because the scripts then touch only the keys they
 *   name, and counting live nodes is one `ZCOUNT`, not a `SCAN`.
 * - This process's own counts in memory are the truth; Redis holds a copy. When the copy may be
 *   wrong (a call failed or timed out while Redis was down or hung, or the node was given up for
 *   dead during a stall and others dropped its fields, or Redis restarted empty), the client is
 *   marked and its field rewritten at the next heartbeat, once no call of that client is on its
 *   way (calls on one connection run in Redis in the order they were sent, so a rewrite sent then
 *   cannot be overtaken by an older call). Until then a client's count may be off by the calls
 *   that failed: it errs toward refusing while Redis is back within a heartbeat.
 *
 * Fields of dead nodes are removed when their client next opens a connection; those of a client
 * that never connects again stay (a few bytes each) and are never counted.
 *
 * Failures: while Redis cannot be reached, `tryOpen` and `nodes` reject at once (or after
 * `commandTimeoutMs` when Redis hangs) with `ClusterUnavailableError`, and `closed` resolves at
 * once; the count in memory is kept right all the same. A heartbeat that fails for another reason
 * (a bug of ours) goes to `onError`.
 */
import { CHANNEL_NAME_PATTERN } from '../../protocol/index.js';
import { ClusterUnavailableError } from './cluster-unavailable-error.js';
import { CommandConnection, type CommandConnectionOptions, type LuaScript } from './command-connection.js';
import { CLOSED_SCRIPT, HEARTBEAT_SCRIPT, LIVE_NODES_SCRIPT, TRY_OPEN_SCRIPT } from './connection-scripts.js';

/** How to reach Redis, who this node is and how fast a dead one is given up. */
export type ClusterConnectionsOptions = CommandConnectionOptions & {
  /** Put before every key, so that several clusters (or test runs) share a Redis. */
  keyPrefix?: string;
  /** This process's id in the cluster (`/healthz` `cluster.node`); a fresh `n_…` by default. */
  nodeId?: string;
  /** How often this node tells Redis it is alive. */
  heartbeatMs?: number;
  /** How long after its last heartbeat a silent node stops counting. */
  nodeTtlMs?: number;
};

/** The defaults of `ClusterConnectionsOptions`. */
export const CLUSTER_CONNECTIONS_DEFAULTS = {
  keyPrefix: '',
  heartbeatMs: 3000,
  // Three heartbeats may be lost (a GC pause, a slow Redis) before a live node is given up.
  nodeTtlMs: 10_000,
} as const;

/** `tryOpen`'s answer: a slot was taken, or the client has `open` connections, the maximum. */
export type OpenAttempt = { ok: true; open: number } | { ok: false; open: number };

/** A client's connections on this node as this node knows them. */
type LocalCount = {
  /** Admitted by `tryOpen` and not yet `closed`. */
  open: number;
  /** `tryOpen`/`closed` calls sent and not yet answered. */
  inFlight: number;
  /** Redis's copy may differ from `open`: rewrite it at the next heartbeat. */
  stale: boolean;
};

/** Connection counts per client across the cluster (see the file comment). */
export class ClusterConnections {
  private readonly local = new Map<string, LocalCount>();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly nodesKey: string;
  private closing = false;
  private beating: Promise<void> | undefined;

  private constructor(
    private readonly connection: CommandConnection,
    /** This node's id. */
    readonly node: string,
    private readonly keyPrefix: string,
    private readonly nodeTtlMs: number,
    heartbeatMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.nodesKey = `${keyPrefix}rt:{conns}:nodes`;
    this.timer = setInterval(() => void this.heartbeat(), heartbeatMs);
    this.timer.unref?.();
    // Back after an outage: say so at once, and rewrite what failed meanwhile.
    connection.onReady(() => void this.heartbeat());
  }

  /**
   * Connects and announces this node; rejects with `ClusterUnavailableError` when Redis does not
   * answer within `connectTimeoutMs`.
   */
  static async connect(options: ClusterConnectionsOptions): Promise<ClusterConnections> {
    const { keyPrefix, nodeId, heartbeatMs, nodeTtlMs, ...connectionOptions } = options;
    const node = nodeId ?? `n_${globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;
    if (!CHANNEL_NAME_PATTERN.test(node)) {
      throw new TypeError(`node id "${node}" must be 1-128 letters, digits, "_", "-", "." or ":"`);
    }
    const beat = heartbeatMs ?? CLUSTER_CONNECTIONS_DEFAULTS.heartbeatMs;
    const ttl = nodeTtlMs ?? CLUSTER_CONNECTIONS_DEFAULTS.nodeTtlMs;
    if (!(Number.isSafeInteger(beat) && beat > 0 && Number.isSafeInteger(ttl) && ttl > beat)) {
      throw new RangeError(`heartbeatMs (${beat}) must be a positive whole number below nodeTtlMs (${ttl})`);
    }
    const connection = await CommandConnection.connect(connectionOptions, 'connection counts');
    const counts = new ClusterConnections(
      connection,
      node,
      keyPrefix ?? CLUSTER_CONNECTIONS_DEFAULTS.keyPrefix,
      ttl,
      beat,
      options.onError ??
        ((error) => console.error(`dev server: cluster connection counts: ${String(error)}`)),
    );
    try {
      await counts.beat();
    } catch (error) {
      await counts.close();
      throw error;
    }
    return counts;
  }

  /** Whether the connection to Redis is up now (for `/healthz`). */
  get available(): boolean {
    return this.connection.available;
  }

  /**
   * Takes one of `client`'s `max` connection slots in the cluster, or tells how many are open.
   * Atomic across processes. On `ClusterUnavailableError` no slot is taken (a slot Redis took
   * anyway, when the call only timed out, is given back at the next heartbeat).
   */
  async tryOpen(client: string, max: number): Promise<OpenAttempt> {
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`max must be a count, not ${max}`);
    const key = this.clientKey(client);
    const count = this.countOf(client);
    count.inFlight++;
    let reply: number[];
    try {
      reply = numbers(await this.script(TRY_OPEN_SCRIPT, [this.nodesKey, key], [String(max)]));
    } catch (error) {
      count.stale = true;
      throw error;
    } finally {
      count.inFlight--;
    }
    const [taken, open = 0, rejoined] = reply;
    if (taken === 1) count.open++;
    else this.forgetIfIdle(client, count);
    if (rejoined === 1) this.rejoined();
    return { ok: taken === 1, open };
  }

  /**
   * Gives back a slot `tryOpen` took for `client` (its connection is gone). The count in memory
   * drops at once. Resolves once Redis has it, or at once while Redis cannot be reached: then
   * Redis's copy follows at the first heartbeat after Redis is back. It does not reject with
   * `ClusterUnavailableError`, since the caller could do nothing about it: a connection's close
   * may call it without waiting.
   */
  async closed(client: string): Promise<void> {
    const key = this.clientKey(client);
    const count = this.local.get(client);
    if (!count || count.open === 0) return;
    count.open--;
    count.inFlight++;
    try {
      const [rejoined] = numbers(await this.script(CLOSED_SCRIPT, [this.nodesKey, key], []));
      if (rejoined === 1) this.rejoined();
    } catch (error) {
      count.stale = true;
      if (!(error instanceof ClusterUnavailableError)) throw error;
    } finally {
      count.inFlight--;
      this.forgetIfIdle(client, count);
    }
  }

  /** How many nodes are alive in the cluster, this one included (`/healthz` `cluster.nodes`). */
  async nodes(): Promise<number> {
    return Number(await this.connection.eval(LIVE_NODES_SCRIPT, [this.nodesKey], []));
  }

  /**
   * Leaves the cluster: stops the heartbeat, removes this node's counts and its entry (so its
   * connections stop counting at once, not after `nodeTtlMs`), and closes the connection. When
   * Redis cannot be reached, the counts stop counting after `nodeTtlMs` all the same.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    await this.beating;
    const clients = [...this.local.keys()];
    this.local.clear();
    try {
      await this.connection.run((redis) =>
        Promise.all([
          ...clients.map((client) => redis.hDel(this.clientKey(client), this.node)),
          redis.zRem(this.nodesKey, this.node),
        ]),
      );
    } catch {
      // Not reachable: the deadline retires this node instead.
    }
    await this.connection.close();
  }

  /** One heartbeat at a time; a failed one waits for the next tick (or for the reconnect). */
  private heartbeat(): Promise<void> {
    if (this.closing || this.beating) return this.beating ?? Promise.resolve();
    this.beating = this.beat()
      .catch((error: unknown) => {
        // A connection's failure is reported once per outage by the connection itself.
        if (!(error instanceof ClusterUnavailableError)) this.onError(error);
      })
      .finally(() => (this.beating = undefined));
    return this.beating;
  }

  /** Beats, then rewrites the stale counts no call is on its way for. */
  private async beat(): Promise<void> {
    const [rejoined] = numbers(await this.script(HEARTBEAT_SCRIPT, [this.nodesKey], []));
    if (rejoined === 1) this.markAllStale();
    const stale = [...this.local].filter(([, count]) => count.stale && count.inFlight === 0);
    if (stale.length === 0) return;
    for (const [, count] of stale) count.stale = false;
    try {
      await this.connection.run((redis) =>
        Promise.all(
          stale.map(([client, count]) =>
            count.open > 0
              ? redis.hSet(this.clientKey(client), this.node, String(count.open))
              : redis.hDel(this.clientKey(client), this.node),
          ),
        ),
      );
    } catch (error) {
      for (const [, count] of stale) count.stale = true;
      throw error;
    }
    for (const [client, count] of stale) this.forgetIfIdle(client, count);
  }

  /** The node had been given up: every count may be gone from Redis; rewrite them now. */
  private rejoined(): void {
    this.markAllStale();
    void this.heartbeat();
  }

  private markAllStale(): void {
    for (const count of this.local.values()) count.stale = true;
  }

  private script(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    return this.connection.eval(script, keys, [this.node, String(this.nodeTtlMs), ...args]);
  }

  private countOf(client: string): LocalCount {
    let count = this.local.get(client);
    if (!count) {
      count = { open: 0, inFlight: 0, stale: false };
      this.local.set(client, count);
    }
    return count;
  }

  /** Drops a client this node has nothing of, and nothing to tell Redis about. */
  private forgetIfIdle(client: string, count: LocalCount): void {
    if (count.open === 0 && count.inFlight === 0 && !count.stale) this.local.delete(client);
  }

  /** A client's counts; a name outside the config's pattern is refused (it would not be a client). */
  private clientKey(client: string): string {
    if (!CHANNEL_NAME_PATTERN.test(client)) {
      throw new TypeError(
        `client name "${client}" cannot be counted: use 1-128 letters, digits, "_", "-", "." or ":"`,
      );
    }
    return `${this.keyPrefix}rt:{conns}:client:${client}`;
  }
}

/** A script's reply as the numbers it is made of. */
function numbers(reply: unknown): number[] {
  if (!Array.isArray(reply)) throw new TypeError(`a connection-count script answered ${String(reply)}`);
  return reply.map(Number);
}
