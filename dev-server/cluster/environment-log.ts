/**
 * The cluster's shared history of every environment, in Redis (PROTOCOL.md section 11; the design
 * is research/scale-out.md section 5(A), Centrifugo's Redis engine): one instance per server
 * process, with a command connection and a dedicated subscriber connection.
 *
 * - `append` gives commits their `seq` in ONE Lua script (log-scripts.ts): read or start the epoch,
 *   take the next seqs, add them to the bounded history stream, publish them. Seqs are therefore
 *   dense across all processes, and a lost Redis shows as a new epoch starting again at seq 1.
 * - `follow` delivers every process's commits to this one in seq order, each once, filling gaps
 *   from history (environment-follower.ts).
 * - `readSince` answers a resume (`since`, `epoch`) from history on whichever process a client
 *   reaches; `current` gives an environment's position.
 *
 * Failures: while Redis cannot be reached, calls reject at once (or after `commandTimeoutMs` when
 * Redis hangs) with `ClusterUnavailableError`, never wait for it; both connections reconnect on
 * their own, and connection errors go to `onError` once per outage, never crash the process.
 * A call that timed out may still have been applied by a Redis that was only slow.
 */
import { createClient } from 'redis';
import { LIMIT_DEFAULTS } from '../../protocol/index.js';
import type { Commit } from '../engine/commit.js';
import { newEpoch } from '../engine/ids.js';
import { ClusterUnavailableError, unavailableOrSelf } from './cluster-unavailable-error.js';
import { decodeCommit, encodeDraft, UnreadableEntryError, type CommitDraft } from './commit-payload.js';
import { environmentKeys, type EnvironmentKeys, type EnvironmentRef } from './environment-keys.js';
import {
  EnvironmentFollower,
  type FollowListener,
  type FollowerSource,
  type HistoryPage,
  type LogPosition,
} from './environment-follower.js';
import { LOG_SCRIPTS } from './log-scripts.js';
import { connectWithin, withDeadline } from './redis-deadline.js';

/** How to reach Redis and how much history to keep. */
export type RedisEnvironmentLogOptions = {
  /** `redis://host:port` (PROTOCOL.md section 11's `--cluster`). */
  url: string;
  /** Put before every key and channel, so that several clusters (or test runs) share a Redis. */
  keyPrefix?: string;
  /** Commits kept per environment (`historySize`). */
  historySize?: number;
  /** Bytes of commit JSON kept per environment (`historyBytes`); the newest commit always stays. */
  historyBytes?: number;
  /** A command without an answer after this long fails as unavailable (Redis hangs). */
  commandTimeoutMs?: number;
  /** How long `connect()` waits for Redis before it fails as unavailable. */
  connectTimeoutMs?: number;
  /** How often each followed environment's position is compared with Redis's (a lost message). */
  positionCheckMs?: number;
  /** Wait before a failed catch-up of a follower is tried again. */
  retryMs?: number;
  /** Entries per history read (a catch-up or a resume reads page by page). */
  pageSize?: number;
  /** Connection errors (once per outage) and follower errors; the default writes to stderr. */
  onError?: (error: unknown) => void;
};

/** The defaults of `RedisEnvironmentLogOptions`. */
export const LOG_DEFAULTS = {
  keyPrefix: '',
  historySize: LIMIT_DEFAULTS.historySize,
  historyBytes: LIMIT_DEFAULTS.historyBytes,
  commandTimeoutMs: 2000,
  connectTimeoutMs: 5000,
  // Centrifugo checks every 40 s; ours is cheaper (one small script per environment) and a lost
  // message otherwise waits for the next commit.
  positionCheckMs: 5000,
  retryMs: 500,
  pageSize: 1000,
} as const;

/** Where an append put its commits: a seq per commit, `null` for one its marker skipped. */
export type Appended = { epoch: string; seqs: (number | null)[] };

/**
 * A resume's answer: every commit after `since`, or `reset` when they cannot all be given (another
 * epoch, `since` past the current seq, the commit after `since` gone from history, or an entry
 * that cannot be read). `epoch` and `seq` are the environment's position at the read.
 */
export type ResumeRead =
  | { reset: false; epoch: string; seq: number; commits: Commit[] }
  | { reset: true; epoch: string; seq: number; reason: 'epoch' | 'ahead' | 'truncated' | 'unreadable' };

function createLogClient(options: Required<Omit<RedisEnvironmentLogOptions, 'onError'>>) {
  return createClient({
    url: options.url,
    // Fail at once while disconnected: a REST write answers 503 instead of waiting for Redis.
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs },
    scripts: LOG_SCRIPTS,
    socket: {
      connectTimeout: options.connectTimeoutMs,
      // Retry forever, at most about a second apart, so a process is back soon after Redis is.
      reconnectStrategy: (retries: number) =>
        Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 100),
    },
  });
}
type LogClient = ReturnType<typeof createLogClient>;

/** The cluster's history in Redis: appends, resume reads and live feeds (see the file comment). */
export class RedisEnvironmentLog {
  private readonly followers = new Map<string, EnvironmentFollower>();
  private readonly byChannel = new Map<string, EnvironmentFollower>();
  /** Environments whose `follow` has not yet resolved. */
  private readonly starting = new Set<string>();
  /** Channels whose UNSUBSCRIBE failed (Redis was down): retried when the subscriber is back. */
  private readonly strayChannels = new Set<string>();
  private readonly checkTimer: ReturnType<typeof setInterval>;
  private readonly source: FollowerSource;
  private readonly onError: (error: unknown) => void;
  private closed = false;

  private constructor(
    private readonly client: LogClient,
    private readonly subscriber: LogClient,
    private readonly options: Required<Omit<RedisEnvironmentLogOptions, 'onError'>>,
    onError: ((error: unknown) => void) | undefined,
  ) {
    this.onError = onError ?? ((error) => console.error(`dev server: cluster log: ${describe(error)}`));
    this.watch(client, 'command');
    this.watch(subscriber, 'subscriber');
    // After a reconnect node-redis has resubscribed before `ready`: what was published while the
    // connection was down is in history.
    subscriber.on('ready', () => {
      for (const follower of this.followers.values()) follower.sync();
      if (this.strayChannels.size > 0) void this.unsubscribe([...this.strayChannels]);
    });
    this.source = {
      read: (keys, since, epoch, limit) => this.readPage(keys, since, epoch, limit),
      renew: async (keys, expected) => {
        const [epoch, seq] = await this.run(() =>
          this.client.renewEpoch(keys, [newEpoch(Date.now()), expected]),
        );
        return { epoch: String(epoch), seq: Number(seq) };
      },
    };
    this.checkTimer = setInterval(() => {
      for (const follower of this.followers.values()) void follower.check();
    }, options.positionCheckMs);
    this.checkTimer.unref?.();
  }

  /**
   * Connects both connections; rejects with `ClusterUnavailableError` when Redis does not answer
   * within `connectTimeoutMs`.
   */
  static async connect(options: RedisEnvironmentLogOptions): Promise<RedisEnvironmentLog> {
    const { onError, ...rest } = options;
    const settings = { ...LOG_DEFAULTS, ...rest };
    const client = createLogClient(settings);
    const log = new RedisEnvironmentLog(client, client.duplicate(), settings, onError);
    await connectWithin(
      Promise.all([log.client.connect(), log.subscriber.connect()]),
      settings.connectTimeoutMs,
      settings.url,
      () => log.close(),
    );
    return log;
  }

  /** Whether both connections are up now (for `/healthz`). */
  get available(): boolean {
    return this.client.isReady && this.subscriber.isReady;
  }

  /**
   * Commits one change: it takes the environment's next seq, joins history and goes to every
   * process. With a `marker` (an ASCII string that sorts, byte by byte, in the order the source
   * produces changes, e.g. a zero-padded LSN), the append is skipped, taking no seq, unless the
   * marker is after the environment's last one: `seq` is then `null`.
   */
  async append(
    env: EnvironmentRef,
    draft: CommitDraft,
    options: { marker?: string } = {},
  ): Promise<{ epoch: string; seq: number | null }> {
    const { epoch, seqs } = await this.appendAll(env, [draft], {
      markers: options.marker === undefined ? undefined : [options.marker],
    });
    return { epoch, seq: seqs[0] ?? null };
  }

  /**
   * Commits several changes in one step (a PostgreSQL transaction's changes to one environment):
   * they take consecutive seqs with nothing between them and go out as one pub/sub message, so a
   * follower delivers them together. `markers[i]` is `drafts[i]`'s marker (see `append`).
   */
  async appendAll(
    env: EnvironmentRef,
    drafts: readonly CommitDraft[],
    options: { markers?: readonly (string | undefined)[] | undefined } = {},
  ): Promise<Appended> {
    const keys = this.keysOf(env);
    if (drafts.length === 0) throw new RangeError('appendAll needs at least one commit');
    const { markers } = options;
    if (markers !== undefined && markers.length !== drafts.length) {
      throw new RangeError(`${markers.length} markers for ${drafts.length} commits`);
    }
    const args = [
      newEpoch(Date.now()),
      String(this.options.historySize),
      String(this.options.historyBytes),
      keys.live,
    ];
    drafts.forEach((draft, i) => args.push(markers?.[i] ?? '', encodeDraft(draft)));
    const reply = await this.run(() => this.client.appendCommits(keys, args));
    return {
      epoch: String(reply[0]),
      seqs: reply.slice(1).map((seq) => (Number(seq) === 0 ? null : Number(seq))),
    };
  }

  /** The environment's position; an environment with no history yet gets an epoch at seq 0. */
  async current(env: EnvironmentRef): Promise<LogPosition> {
    const page = await this.readPage(this.keysOf(env), 0, '', 0);
    return { epoch: page.epoch, seq: page.seq };
  }

  /**
   * Every commit after `since` for a resume (PROTOCOL.md section 5), read page by page up to the
   * position of the first read; `epoch` undefined means the current one. A page that finds another
   * epoch or a trimmed history makes the whole answer a reset.
   */
  async readSince(env: EnvironmentRef, since: number, epoch?: string): Promise<ResumeRead> {
    if (!Number.isSafeInteger(since) || since < 0) throw new RangeError(`since must be a seq, not ${since}`);
    const keys = this.keysOf(env);
    const commits: Commit[] = [];
    let page = await this.readPage(keys, since, epoch ?? '', this.options.pageSize);
    const target = page.seq;
    for (;;) {
      if (page.status !== 'ok') return { reset: true, epoch: page.epoch, seq: page.seq, reason: page.status };
      for (const entry of page.entries) {
        try {
          commits.push(decodeCommit(entry.payload, entry.seq));
        } catch (error) {
          if (!(error instanceof UnreadableEntryError)) throw error;
          this.onError(error);
          return { reset: true, epoch: page.epoch, seq: page.seq, reason: 'unreadable' };
        }
      }
      const last = commits.length > 0 ? (commits[commits.length - 1] as Commit).seq : since;
      if (page.entries.length === 0 || last >= target) {
        return { reset: false, epoch: page.epoch, seq: Math.max(last, target), commits };
      }
      page = await this.readPage(keys, last, page.epoch, this.options.pageSize);
    }
  }

  /**
   * Delivers the environment's commits after `from` (or after its current position) to `listener`,
   * from every process, in seq order, each once (environment-follower.ts). Subscribes first and
   * then catches up from history, so nothing falls between the two; resolves with the position
   * reached by then. Rejects with `ClusterUnavailableError` (and follows nothing) while Redis cannot
   * be reached. One follower per environment and process.
   */
  async follow(
    env: EnvironmentRef,
    from: LogPosition | undefined,
    listener: FollowListener,
  ): Promise<LogPosition> {
    const keys = this.keysOf(env);
    if (this.followers.has(keys.id) || this.starting.has(keys.id)) {
      throw new Error(`environment ${keys.id} is followed already`);
    }
    this.starting.add(keys.id);
    try {
      const follower = new EnvironmentFollower(
        keys,
        from ?? (await this.current(env)),
        this.source,
        listener,
        {
          pageSize: this.options.pageSize,
          retryMs: this.options.retryMs,
          maxQueued: this.options.pageSize * 10,
          onError: this.onError,
        },
      );
      this.followers.set(keys.id, follower);
      this.byChannel.set(keys.live, follower);
      try {
        this.strayChannels.delete(keys.live);
        await this.run(() => this.subscriber.subscribe(keys.live, this.dispatch));
        await follower.start();
        return follower.position;
      } catch (error) {
        await this.unfollow(env);
        throw unavailableOrSelf(error);
      }
    } finally {
      this.starting.delete(keys.id);
    }
  }

  /** Stops delivering the environment's commits and unsubscribes from its channel. */
  async unfollow(env: EnvironmentRef): Promise<void> {
    const keys = this.keysOf(env);
    const follower = this.followers.get(keys.id);
    if (!follower) return;
    follower.close();
    this.followers.delete(keys.id);
    this.byChannel.delete(keys.live);
    await this.unsubscribe([keys.live]);
  }

  /** Stops following everything and closes both connections. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.checkTimer);
    for (const follower of this.followers.values()) follower.close();
    this.followers.clear();
    this.byChannel.clear();
    await Promise.all([this.client, this.subscriber].map((c) => closeClient(c)));
  }

  /** The shared subscriber callback: routes a message to its environment's follower. */
  private readonly dispatch = (message: string, channel: string): void => {
    this.byChannel.get(channel)?.receive(message);
  };

  private async unsubscribe(channels: string[]): Promise<void> {
    // A channel followed again meanwhile stays subscribed.
    const gone = channels.filter((channel) => !this.byChannel.has(channel));
    if (gone.length === 0) return;
    try {
      await this.subscriber.unsubscribe(gone, this.dispatch);
      for (const channel of gone) this.strayChannels.delete(channel);
    } catch {
      // Its messages are ignored meanwhile (no follower); the next `ready` tries again.
      for (const channel of gone) this.strayChannels.add(channel);
    }
  }

  private async readPage(
    keys: EnvironmentKeys,
    since: number,
    epoch: string,
    limit: number,
  ): Promise<HistoryPage> {
    const reply = await this.run(() =>
      this.client.readHistory(keys, [newEpoch(Date.now()), String(since), epoch, String(limit)]),
    );
    const position = { epoch: String(reply[0]), seq: Number(reply[1]) };
    const status = reply[2];
    if (status !== 'ok') return { status: status as 'epoch' | 'ahead' | 'truncated', ...position };
    const entries: { seq: number; payload: string }[] = [];
    for (let i = 3; i < reply.length; i += 2) {
      const seq = Number.parseInt(String(reply[i]), 10);
      if (seq !== since + entries.length + 1) {
        throw new Error(`the history of ${keys.id} skips from ${since + entries.length} to ${reply[i]}`);
      }
      entries.push({ seq, payload: String(reply[i + 1]) });
    }
    return { status: 'ok', ...position, entries };
  }

  /** Runs a command with the log's deadline (redis-deadline.ts). */
  private async run<T>(command: () => Promise<T>): Promise<T> {
    if (this.closed) throw new ClusterUnavailableError('the log is closed');
    return withDeadline(command, this.options.commandTimeoutMs);
  }

  private keysOf(env: EnvironmentRef): EnvironmentKeys {
    return environmentKeys(this.options.keyPrefix, env);
  }

  /** Reports a connection's first error of each outage (node-redis emits one per reconnect attempt). */
  private watch(client: LogClient, name: string): void {
    let down = false;
    client.on('error', (error: unknown) => {
      if (down || this.closed) return;
      down = true;
      this.onError(new ClusterUnavailableError(`${name} connection: ${describe(error)}`));
    });
    client.on('ready', () => {
      down = false;
    });
  }
}

/** Closes a connection: gracefully when it is up, at once when it is not. */
async function closeClient(client: LogClient): Promise<void> {
  try {
    if (client.isReady) await client.close();
    else if (client.isOpen) client.destroy();
  } catch {
    client.destroy();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
