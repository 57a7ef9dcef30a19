/**
 * One process's live feed of one environment: the commits of every process, delivered in `seq`
 * order, each once, with no gap. Pub/sub is at-most-once (a message published while the
 * subscriber connection is down is gone), so each message's seq is checked against the last
 * delivered one and history fills any gap: Centrifugo's gap detection (research/scale-out.md
 * sections 1.1 and 5(A)).
 *
 * - a message that starts right after the last delivered commit is delivered (a part already
 *   delivered is cut off); one wholly delivered already is dropped;
 * - a message that starts further on, or carries another epoch, or cannot be read, starts a
 *   catch-up from history (`XRANGE hist (last +`), which is the truth: the message itself is then
 *   delivered from history or dropped as a copy;
 * - messages that arrive during a catch-up wait in order behind it;
 * - the caller also starts a catch-up after the subscriber reconnects, and runs `check()` now and
 *   then to notice a message lost while nothing else arrives.
 *
 * When history cannot continue from the last delivered commit (a new epoch, the next commit
 * trimmed away, an entry this version cannot read, or Redis went back behind it), the follower
 * says so with `onReset` and goes on after the position it names.
 */
import type { Commit } from '../engine/commit.js';
import { ClusterUnavailableError } from './cluster-unavailable-error.js';
import { decodeCommit } from './commit-payload.js';
import type { EnvironmentKeys } from './environment-keys.js';

/** A place in an environment's history: a seq and the epoch it belongs to. */
export type LogPosition = { readonly epoch: string; readonly seq: number };

/**
 * Why delivery cannot go on from the last delivered commit:
 * - `epoch`: Redis lost the history (FLUSHALL, a restart without persistence) and began another;
 * - `truncated`: the next commit left history (`historySize` or `historyBytes`) before it was
 *   read, e.g. after a long outage of this process's subscriber;
 * - `unreadable`: the next entry is not a commit this version can read (the reset names its seq);
 * - `rewound`: Redis came back behind the last delivered commit in the same epoch (an AOF or
 *   replica that lacked the last writes); the follower started a new epoch for everyone.
 */
export type ResetReason = 'epoch' | 'truncated' | 'unreadable' | 'rewound';

/** What a follower tells its owner. Both are called synchronously, in order; a throw is reported, not fatal. */
export type FollowListener = {
  /** The next commits, oldest first: consecutive seqs right after the last delivered or reset position. */
  onCommits(commits: readonly Commit[], epoch: string): void;
  /**
   * The commits after the last delivered one up to `position` will not come: subscribers must
   * resynchronise (a fresh snapshot). Delivery goes on with `position.seq + 1` of `position.epoch`.
   */
  onReset(position: LogPosition, reason: ResetReason): void;
};

/** One read of history, from the read script (log-scripts.ts), entries already in seq order. */
export type HistoryPage =
  | { status: 'ok'; epoch: string; seq: number; entries: { seq: number; payload: string }[] }
  | { status: 'epoch' | 'ahead' | 'truncated'; epoch: string; seq: number };

/** What a follower needs of the log. */
export type FollowerSource = {
  /** History after `since` in `epoch` (at most `limit` entries; 0: the position only). */
  read(keys: EnvironmentKeys, since: number, epoch: string, limit: number): Promise<HistoryPage>;
  /** A new epoch if the current one is still `expected`; the position after. */
  renew(keys: EnvironmentKeys, expected: string): Promise<LogPosition>;
};

/** How a follower reads and retries. */
export type FollowerOptions = {
  /** Entries per history read. */
  pageSize: number;
  /** Wait before a failed catch-up is tried again. */
  retryMs: number;
  /** Messages held during a catch-up; past this they are dropped and history supplies them. */
  maxQueued: number;
  /** Errors that are not the listener's to handle (Redis down, unreadable entries, listener throws). */
  onError(error: unknown): void;
};

/** A pub/sub message of an environment's `live` channel, as the append script writes it. */
type LiveEnvelope = { epoch: string; seq: number; events: unknown[] };

/** The ordering state of one followed environment (see the file comment). */
export class EnvironmentFollower {
  private epoch: string;
  private last: number;
  /** `starting` until `start()` caught up; `waiting` between a failed catch-up and its retry. */
  private state: 'starting' | 'live' | 'syncing' | 'waiting' | 'closed' = 'starting';
  /** A catch-up was asked for while one ran: run another when it ends. */
  private again = false;
  private queue: string[] = [];
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly keys: EnvironmentKeys,
    from: LogPosition,
    private readonly source: FollowerSource,
    private readonly listener: FollowListener,
    private readonly options: FollowerOptions,
  ) {
    this.epoch = from.epoch;
    this.last = from.seq;
  }

  /** The last delivered commit's position (or the last reset's). */
  get position(): LogPosition {
    return { epoch: this.epoch, seq: this.last };
  }

  /**
   * Catches up from the starting position; messages received meanwhile wait. Rejects when Redis
   * cannot be read (the caller gives up the follower).
   */
  async start(): Promise<void> {
    await this.catchUp();
    if (this.state === 'starting') this.goLive();
  }

  /** A message of the environment's `live` channel. */
  receive(message: string): void {
    if (this.state === 'closed') return;
    if (this.state === 'live') {
      this.handle(message);
      return;
    }
    if (this.queue.length < this.options.maxQueued) {
      this.queue.push(message);
    } else {
      // History holds them all (or the catch-up resets): the queue only saves reads.
      this.queue = [];
      this.again = true;
    }
  }

  /** Catches up from history now, or after the running catch-up (a reconnect, a gap). */
  sync(): void {
    if (this.state === 'syncing' || this.state === 'starting') this.again = true;
    else if (this.state === 'live') void this.runSync();
    // `waiting`: the retry runs one; `closed`: nothing.
  }

  /**
   * Compares the last delivered commit with Redis's position and catches up if they differ: a
   * message lost while no later one arrives shows here. Unreachable Redis is not reported (the
   * connection reports it).
   */
  async check(): Promise<void> {
    if (this.state !== 'live') return;
    let page: HistoryPage;
    try {
      page = await this.source.read(this.keys, this.last, this.epoch, 0);
    } catch (error) {
      if (!(error instanceof ClusterUnavailableError)) this.options.onError(error);
      return;
    }
    if (this.state === 'live' && (page.status !== 'ok' || page.seq > this.last)) this.sync();
  }

  /** Whether `close()` was called (a state that can change during any await). */
  private get closed(): boolean {
    return this.state === 'closed';
  }

  /** Stops: nothing more is delivered. */
  close(): void {
    this.state = 'closed';
    this.queue = [];
    clearTimeout(this.retryTimer);
  }

  private handle(message: string): void {
    let envelope: LiveEnvelope;
    try {
      envelope = parseEnvelope(message);
    } catch (error) {
      this.options.onError(error);
      this.sync();
      return;
    }
    if (envelope.epoch !== this.epoch) return this.sync();
    const end = envelope.seq + envelope.events.length - 1;
    if (end <= this.last) return;
    if (envelope.seq > this.last + 1) return this.sync();
    const first = this.last + 1;
    let commits: Commit[];
    try {
      commits = envelope.events.slice(first - envelope.seq).map((event, i) => decodeCommit(event, first + i));
    } catch {
      // History has the same entry; the catch-up delivers what can be read and resets at it.
      return this.sync();
    }
    this.deliver(commits);
  }

  private async runSync(): Promise<void> {
    this.state = 'syncing';
    try {
      do {
        this.again = false;
        await this.catchUp();
      } while (this.again && this.state === 'syncing');
    } catch (error) {
      if (this.state !== 'syncing') return;
      if (!(error instanceof ClusterUnavailableError)) this.options.onError(error);
      this.state = 'waiting';
      this.retryTimer = setTimeout(() => {
        if (this.state === 'waiting') void this.runSync();
      }, this.options.retryMs);
      this.retryTimer.unref?.();
      return;
    }
    if (this.state === 'syncing') this.goLive();
  }

  /** Handles the messages that waited, in order, until one starts another catch-up. */
  private goLive(): void {
    this.state = 'live';
    if (this.again) {
      void this.runSync();
      return;
    }
    const waiting = this.queue;
    this.queue = [];
    for (let i = 0; i < waiting.length; i++) {
      if (this.state !== 'live') {
        this.queue = waiting.slice(i).concat(this.queue);
        return;
      }
      this.handle(waiting[i] as string);
    }
  }

  /** Reads history after the last delivered commit until it reaches the position of its first read. */
  private async catchUp(): Promise<void> {
    for (;;) {
      const page = await this.source.read(this.keys, this.last, this.epoch, this.options.pageSize);
      if (this.closed) return;
      if (page.status === 'ahead') {
        const renewed = await this.source.renew(this.keys, this.epoch);
        if (!this.closed) this.reset(renewed, 'rewound');
        return;
      }
      if (page.status !== 'ok') {
        this.reset({ epoch: page.epoch, seq: page.seq }, page.status);
        return;
      }
      const commits: Commit[] = [];
      let unreadable: { seq: number; error: unknown } | undefined;
      for (const entry of page.entries) {
        try {
          commits.push(decodeCommit(entry.payload, entry.seq));
        } catch (error) {
          unreadable = { seq: entry.seq, error };
          break;
        }
      }
      if (commits.length > 0) this.deliver(commits);
      if (unreadable) {
        this.options.onError(unreadable.error);
        this.reset({ epoch: this.epoch, seq: unreadable.seq }, 'unreadable');
        continue;
      }
      if (page.entries.length === 0 || this.last >= page.seq) return;
    }
  }

  private deliver(commits: Commit[]): void {
    this.last = (commits[commits.length - 1] as Commit).seq;
    try {
      this.listener.onCommits(commits, this.epoch);
    } catch (error) {
      this.options.onError(error);
    }
  }

  private reset(position: LogPosition, reason: ResetReason): void {
    this.epoch = position.epoch;
    this.last = position.seq;
    try {
      this.listener.onReset(position, reason);
    } catch (error) {
      this.options.onError(error);
    }
  }
}

function parseEnvelope(message: string): LiveEnvelope {
  const value: unknown = JSON.parse(message);
  const envelope = value as Partial<LiveEnvelope> | null;
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    typeof envelope.epoch !== 'string' ||
    !Number.isSafeInteger(envelope.seq) ||
    (envelope.seq as number) < 1 ||
    !Array.isArray(envelope.events) ||
    envelope.events.length === 0
  ) {
    throw new Error(
      `the cluster log's live channel carried a message of unknown shape: ${message.slice(0, 80)}`,
    );
  }
  return envelope as LiveEnvelope;
}
