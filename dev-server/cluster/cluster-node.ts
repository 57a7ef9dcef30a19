/**
 * This process as a node of a cluster (PROTOCOL.md section 11; issue 15, in progress): every
 * environment's `seq`, `epoch` and history come from the cluster's log in Redis
 * (environment-log.ts). A change made here is appended there (`ClusterSequencer`), and every
 * change of every process comes back through the environment's follower, in seq order with gaps
 * filled from history, and is fanned out here as a local commit is (`Environment.receive`).
 *
 * On joining, each environment loads the history the log retains (so a client resumes with
 * `since` on whichever process it reaches) and follows from its end. When the log cannot deliver
 * what came between (Redis lost its data: a new epoch; or history was trimmed before it was
 * read), the environment goes on from the log's position with no history, and its connections
 * are closed with 1001 so that their clients reconnect and resubscribe: with the old epoch they
 * get `resumed: false` and a fresh snapshot, never a wrong state.
 */
import { ApiError } from '../engine/api-error.js';
import type { ClusterAdmission } from '../engine/cluster-admission.js';
import type { ClusterSequencer } from '../engine/cluster-sequencer.js';
import type { CommitDraft } from '../engine/commit.js';
import type { Engine } from '../engine/engine.js';
import type { Environment } from '../engine/environment.js';
import type { ClusterSync } from '../sources/postgres/postgres-source.js';
import { ClusterConnections } from './cluster-connections.js';
import { CommandConnection } from './command-connection.js';
import { ClusterTokens } from './cluster-tokens.js';
import { ClusterUnavailableError } from './cluster-unavailable-error.js';
import { RedisEnvironmentLog } from './environment-log.js';
import type { LogPosition } from './environment-follower.js';

/** How a node joins its cluster. */
export type ClusterNodeOptions = {
  /** `redis://host:port` (`--cluster`, config `cluster.redis`). */
  url: string;
  /** Prefix of every Redis key, so that several clusters (or test runs) share one Redis. */
  keyPrefix?: string;
  /** Whether this process reads the PostgreSQL slot now (`/healthz` `replication`). */
  readsSlot?: () => boolean;
};

/** How often `/healthz`'s `cluster.nodes` is counted again. */
const HEALTH_EVERY_MS = 2000;

/** A running cluster node. */
/** How long a snapshot waits for the cluster to catch up before it answers `unavailable`. */
const CATCH_UP_TIMEOUT_MS = 15_000;
/** How often a waiting snapshot asks again. */
const CATCH_UP_POLL_MS = 10;

export class ClusterNode implements ClusterSequencer, ClusterAdmission, ClusterSync {
  private readonly healthTimer: ReturnType<typeof setInterval>;

  private constructor(
    private readonly engine: Engine,
    private readonly log: RedisEnvironmentLog,
    /** This node's id and liveness, and the count of live nodes (cluster-connections.ts). */
    private readonly nodes: ClusterConnections,
    /** One-time tokens spent once in the cluster (cluster-tokens.ts). */
    private readonly tokens: ClusterTokens,
    /** Where the slot's reader reports sync messages (`ClusterSync`). */
    private readonly syncs: CommandConnection,
    private readonly syncKey: string,
    private readonly readsSlot: () => boolean,
  ) {
    this.healthTimer = setInterval(() => void this.updateHealth(), HEALTH_EVERY_MS);
    this.healthTimer.unref?.();
  }

  /**
   * Connects to Redis and joins every environment of `engine`; rejects with
   * `ClusterUnavailableError` when Redis cannot be reached.
   */
  static async start(engine: Engine, options: ClusterNodeOptions): Promise<ClusterNode> {
    const log = await RedisEnvironmentLog.connect({
      url: options.url,
      ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
      historySize: engine.limits.historySize,
      historyBytes: engine.limits.historyBytes,
    });
    const prefix = options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix };
    let nodes: ClusterConnections | undefined;
    let tokens: ClusterTokens | undefined;
    let syncs: CommandConnection;
    try {
      nodes = await ClusterConnections.connect({ url: options.url, ...prefix });
      tokens = await ClusterTokens.connect({
        url: options.url,
        ...prefix,
        tokenTtlMs: engine.limits.tokenTtlMs,
        clock: engine.clock,
      });
      syncs = await CommandConnection.connect({ url: options.url }, 'sync');
    } catch (error) {
      await Promise.all([log.close(), nodes?.close(), tokens?.close()]);
      throw error;
    }
    const syncKey = `${options.keyPrefix ?? ''}rt:{pg}:synced`;
    const node = new ClusterNode(
      engine,
      log,
      nodes,
      tokens,
      syncs,
      syncKey,
      options.readsSlot ?? (() => false),
    );
    try {
      for (const env of engine.environmentList()) await node.join(env);
      engine.admission = node;
      await node.updateHealth();
    } catch (error) {
      await node.stop();
      throw error;
    }
    return node;
  }

  /** Whether Redis can be reached now (for `/healthz`). */
  get available(): boolean {
    return this.log.available;
  }

  /** Stops following and closes the connections to Redis. */
  async stop(): Promise<void> {
    clearInterval(this.healthTimer);
    for (const env of this.engine.environmentList()) if (env.sequencer === this) env.sequencer = undefined;
    if (this.engine.admission === this) this.engine.admission = undefined;
    await Promise.all([this.log.close(), this.nodes.close(), this.tokens.close(), this.syncs.close()]);
  }

  async report(lsn: bigint): Promise<void> {
    const text = lsnText(lsn);
    const known = await this.syncs.run((client) => client.get(this.syncKey));
    if (known === null || String(known) < text)
      await this.syncs.run((client) => client.set(this.syncKey, text));
  }

  async waitFor(lsn: bigint, env: Environment): Promise<void> {
    const text = lsnText(lsn);
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    const late = () =>
      new ApiError(
        'unavailable',
        `the cluster's PostgreSQL reader did not catch up within ${CATCH_UP_TIMEOUT_MS / 1000} s`,
      );
    for (;;) {
      const known = await unavailableAsApiError(this.syncs.run((client) => client.get(this.syncKey)));
      if (known !== null && String(known) >= text) break;
      if (Date.now() > deadline) throw late();
      await new Promise((r) => setTimeout(r, CATCH_UP_POLL_MS));
    }
    // Every transaction before `lsn` is in the log now: wait until this process has received it.
    const { seq } = await unavailableAsApiError(this.log.current(env));
    while (env.seq < seq) {
      if (Date.now() > deadline) throw late();
      await new Promise((r) => setTimeout(r, CATCH_UP_POLL_MS));
    }
  }

  issue(keyId: string): Promise<{ token: string; expiresAt: number }> {
    return unavailableAsApiError(this.tokens.issue(keyId));
  }

  consume(token: string): ReturnType<ClusterAdmission['consume']> {
    return unavailableAsApiError(this.tokens.consume(token));
  }

  tryOpen(client: string, max: number): ReturnType<ClusterAdmission['tryOpen']> {
    return unavailableAsApiError(this.nodes.tryOpen(client, max));
  }

  closed(client: string): void {
    void this.nodes.closed(client);
  }

  /** `/healthz`'s `cluster`: this node, the live nodes, and whether it reads the slot. */
  private async updateHealth(): Promise<void> {
    const nodes = await this.nodes.nodes().catch(() => undefined);
    this.engine.health.cluster = {
      node: this.nodes.node,
      nodes: nodes ?? this.engine.health.cluster?.nodes ?? 1,
      replication: this.readsSlot() ? 'leader' : 'follower',
      redis: this.available ? 'connected' : 'unreachable',
    };
  }

  async append(
    env: Environment,
    drafts: readonly CommitDraft[],
    markers?: readonly string[],
  ): Promise<(number | null)[]> {
    const appended = this.log.appendAll(env, drafts, markers ? { markers: [...markers] } : {});
    return (await unavailableAsApiError(appended)).seqs;
  }

  /** Loads the history the log retains for `env`, then follows it from there. */
  private async join(env: Environment): Promise<void> {
    const now = await this.log.current(env);
    const from = Math.max(0, now.seq - this.engine.limits.historySize);
    const retained = await this.log.readSince(env, from, now.epoch);
    if (retained.reset) env.resetTo(retained.epoch, retained.seq);
    else {
      env.resetTo(retained.epoch, from);
      env.receive(retained.commits);
    }
    env.sequencer = this;
    await this.log.follow(
      env,
      { epoch: env.epoch, seq: env.seq },
      {
        onCommits: (commits) => env.receive(commits),
        onReset: (position) => this.reset(env, position),
      },
    );
  }

  /** The log cannot deliver what came before `position`: go on from there, clients resync. */
  private reset(env: Environment, position: LogPosition): void {
    env.resetTo(position.epoch, position.seq);
    this.engine.closeConnections('going_away', {
      environment: env,
      reason: "the cluster's history was reset: reconnect and subscribe again",
    });
  }
}

/** Redis out of reach, as the engine answers it: `ApiError` `unavailable` (503, or a close). */
async function unavailableAsApiError<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof ClusterUnavailableError) throw new ApiError('unavailable', error.message);
    throw error;
  }
}

/** An LSN as fixed-width hex, so that two compare as strings. */
function lsnText(lsn: bigint): string {
  return lsn.toString(16).padStart(16, '0');
}
