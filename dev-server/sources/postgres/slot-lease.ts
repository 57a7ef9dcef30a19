/**
 * Who reads a replication slot when several server processes share it (PROTOCOL.md section 11,
 * issue 15 item 2): a leader lease held as a PostgreSQL session advisory lock on a connection of
 * its own. Every process keeps asking for the lock (`pg_try_advisory_lock`, every `retryMs`); the
 * one that gets it is told `onAcquired` and starts streaming. The lock lives as long as the
 * session, so the lease ends with its holder:
 *
 * - a holder that dies (even SIGKILL) closes its socket; PostgreSQL ends the session and frees
 *   the lock within milliseconds, and the next ask (at most `retryMs` later) gets it;
 * - a holder that hangs (SIGSTOP, a blocked event loop, a lost network) keeps its socket open, and
 *   its kernel still answers TCP keepalives, so keepalives alone would never free the lock. The
 *   holder therefore answers for itself: it runs a query every `retryMs`, and the session's
 *   `idle_session_timeout` (PostgreSQL 14+) is `holderTimeoutMs`, after which PostgreSQL ends a
 *   session that has gone quiet, and with it the lock. A holder that has had no answer for
 *   `holderTimeoutMs − retryMs` (timed from sending the last answered query, which the server's
 *   idle clock cannot start before) gives the lease up on its own first: `onLost`;
 * - the lease connection dropping for any other reason (`pg_terminate_backend`, a PostgreSQL
 *   restart) calls `onLost` at once: the holder stops streaming, since another may take over.
 *   The lease then goes back to asking, from its next turn (`retryMs` later).
 *
 * On acquiring, the lease also clears the slot of its previous reader before calling
 * `onAcquired`: a hung holder's walsender keeps the slot `active` until `wal_sender_timeout`
 * (60 s by default; a stream meanwhile gets 55006, research/postgres-cdc.md section 2), and a
 * killed one for a few tens of milliseconds. The new holder terminates that walsender
 * (`pg_terminate_backend`, allowed to the same role) and waits, up to `takeOverWaitMs`, until the
 * slot is free. Whatever the old holder had received and not yet confirmed is read again by the
 * new one from the confirmed position; a change it had already published is skipped downstream by
 * its LSN (the lease fences the reading, not the publishing).
 *
 * The lock's key is 64 bits of SHA-256 over `catalyst-slot:<slot>` (`slotLeaseKey`); PostgreSQL
 * scopes advisory locks to the connection's database, which is the slot's (a logical slot belongs
 * to one database).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { redactedUrl } from './setup.js';

/** The lease's timings, in milliseconds. */
export const SLOT_LEASE_DEFAULTS = {
  /** How often a waiting lease asks for the lock, and how often the holder shows it is alive. */
  retryMs: 1000,
  /** How long a holder that stopped answering keeps the lease (`idle_session_timeout`). */
  holderTimeoutMs: 5000,
  /** How long a new holder waits for the previous reader's walsender to let go of the slot. */
  takeOverWaitMs: 2000,
} as const;

/** How a lease is set up. */
export type SlotLeaseOptions = {
  /** The database of the slot (the same URL the stream reads from). */
  url: string;
  /** The replication slot's name. */
  slot: string;
  /** This process now holds the lease: start streaming. Called again after each re-acquisition. */
  onAcquired: () => void;
  /** This process no longer holds the lease: stop streaming now, another may have taken over. */
  onLost: (error: Error) => void;
  /** Told when the lease cannot reach PostgreSQL (once per outage) or cannot clear the slot. */
  onWarning?: (message: string) => void;
  retryMs?: number;
  holderTimeoutMs?: number;
  takeOverWaitMs?: number;
};

/** The advisory lock key of a slot's lease (a signed 64-bit integer, as `pg_locks` shows it). */
export function slotLeaseKey(slot: string): bigint {
  return createHash('sha256').update(`catalyst-slot:${slot}`).digest().readBigInt64BE(0);
}

/** Where a lease is: asking for the lock, holding it while clearing the slot, or holding it. */
type LeasePhase = 'asking' | 'taking-over' | 'holding';

/** A lease on one slot, asking for it or holding it until stopped. */
export class SlotLease {
  private client: pg.Client | undefined;
  private phase: LeasePhase = 'asking';
  private stopped = false;
  /** When the last query that was answered was sent (the holder's clock for giving up). */
  private lastAnsweredSentAt = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private unreachable = false;
  private readonly running: Promise<void>;
  private readonly key: string;
  private readonly retryMs: number;
  private readonly holderTimeoutMs: number;
  private readonly takeOverWaitMs: number;

  private constructor(private readonly options: SlotLeaseOptions) {
    this.retryMs = options.retryMs ?? SLOT_LEASE_DEFAULTS.retryMs;
    this.holderTimeoutMs = options.holderTimeoutMs ?? SLOT_LEASE_DEFAULTS.holderTimeoutMs;
    this.takeOverWaitMs = options.takeOverWaitMs ?? SLOT_LEASE_DEFAULTS.takeOverWaitMs;
    if (!(this.retryMs > 0)) throw new RangeError(`slot lease: retryMs must be above 0, not ${this.retryMs}`);
    if (!(this.holderTimeoutMs >= 3 * this.retryMs)) {
      throw new RangeError(
        `slot lease: holderTimeoutMs (${this.holderTimeoutMs}) must be at least 3 × retryMs (${this.retryMs}), or a live holder's heartbeat could come too late`,
      );
    }
    if (!(this.takeOverWaitMs >= 0)) {
      throw new RangeError(`slot lease: takeOverWaitMs must be at least 0, not ${this.takeOverWaitMs}`);
    }
    this.key = slotLeaseKey(options.slot).toString();
    this.running = this.run();
  }

  /** Starts asking for the lease on `options.slot`; the first ask is made at once. */
  static start(options: SlotLeaseOptions): SlotLease {
    return new SlotLease(options);
  }

  /** Whether this process holds the lease now (between `onAcquired` and `onLost` or `stop()`). */
  get isHolder(): boolean {
    return this.phase === 'holding';
  }

  /**
   * Gives the lease up (without `onLost`: stop the stream first) and closes the connection;
   * resolves once PostgreSQL has released the lock, so another process may take it at its next ask.
   */
  async stop(): Promise<void> {
    if (this.stopped) return this.running;
    this.stopped = true;
    this.phase = 'asking';
    clearTimeout(this.watchdog);
    this.wakeUp?.();
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.query('SELECT pg_advisory_unlock_all()');
        await client.end();
      } catch {
        client.connection.stream.destroy(); // the session ends, and the lock with it
      }
    }
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const client = this.client ?? (await this.connect());
      if (client) {
        try {
          if (this.phase === 'holding') await this.heartbeat(client);
          else await this.ask(client);
        } catch (error) {
          this.lose(client, asError(error));
        }
      }
      await this.pause();
    }
  }

  private async connect(): Promise<pg.Client | undefined> {
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: `catalyst slot lease ${this.options.slot}`,
      options: `-c idle_session_timeout=${this.holderTimeoutMs}`,
      keepAlive: true,
      connectionTimeoutMillis: this.holderTimeoutMs,
      query_timeout: this.holderTimeoutMs,
    });
    client.on('error', (error) => this.lose(client, error));
    client.on('end', () => this.lose(client, new Error('the slot lease connection closed')));
    try {
      await client.connect();
    } catch (error) {
      client.connection.stream.destroy();
      if (!this.unreachable) {
        this.unreachable = true;
        this.warn(
          `the lease of replication slot ${this.options.slot} cannot reach PostgreSQL at ${redactedUrl(this.options.url)} (${asError(error).message}); retrying every ${this.retryMs} ms`,
        );
      }
      return undefined;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return undefined;
    }
    this.unreachable = false;
    this.client = client;
    return client;
  }

  /**
   * Asks for the lock once; on success clears the slot and tells the holder. If `onAcquired`
   * throws, the lease is given up (`onLost`) and asked for again.
   */
  private async ask(client: pg.Client): Promise<void> {
    const sentAt = Date.now();
    const { rows } = await client.query<{ held: boolean }>(
      'SELECT pg_try_advisory_lock($1::bigint) AS held',
      [this.key],
    );
    if (!rows[0]?.held || this.stopped || this.client !== client) return;
    this.phase = 'taking-over';
    this.answered(client, sentAt);
    await this.takeOver(client);
    if (this.phase !== 'taking-over' || this.client !== client || this.stopped) return;
    this.phase = 'holding';
    this.options.onAcquired();
  }

  /** Ends the previous reader's walsender, if one still holds the slot, and waits until it lets go. */
  private async takeOver(client: pg.Client): Promise<void> {
    const slot = this.options.slot;
    try {
      await client.query(
        `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
          WHERE slot_name = $1 AND active_pid IS NOT NULL AND active_pid <> pg_backend_pid()`,
        [slot],
      );
    } catch (error) {
      if (this.client !== client) throw error;
      this.warn(
        `the lease of replication slot ${slot} could not end its previous reader (${asError(error).message}); the stream retries until wal_sender_timeout frees the slot`,
      );
      return;
    }
    const deadline = Date.now() + this.takeOverWaitMs;
    while (this.client === client && Date.now() < deadline) {
      const sentAt = Date.now();
      const { rows } = await client.query<{ active: boolean }>(
        'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      );
      this.answered(client, sentAt);
      if (!rows[0]?.active) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private async heartbeat(client: pg.Client): Promise<void> {
    const sentAt = Date.now();
    await client.query('SELECT 1');
    this.answered(client, sentAt);
  }

  /**
   * A query sent at `sentAt` was answered. PostgreSQL's idle clock for the session started after
   * that, so the lock is safe until `sentAt + holderTimeoutMs`; the holder gives up `retryMs`
   * before, if nothing newer is answered by then.
   */
  private answered(client: pg.Client, sentAt: number): void {
    if (this.phase === 'asking' || this.client !== client) return;
    this.lastAnsweredSentAt = Math.max(this.lastAnsweredSentAt, sentAt);
    clearTimeout(this.watchdog);
    const quietMs = this.holderTimeoutMs - this.retryMs;
    this.watchdog = setTimeout(
      () =>
        this.lose(
          client,
          new Error(
            `the slot lease connection did not answer for ${quietMs} ms; PostgreSQL may end its session and let another process take over`,
          ),
        ),
      this.lastAnsweredSentAt + quietMs - Date.now(),
    );
  }

  /** The lease connection is gone or cannot be trusted: drop it and, if holding, tell the holder. */
  private lose(client: pg.Client, error: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearTimeout(this.watchdog);
    client.connection.stream.destroy();
    const told = this.phase === 'holding';
    this.phase = 'asking';
    if (told && !this.stopped) this.options.onLost(error);
  }

  /** Waits `retryMs` (less when the lease is stopped): after a loss too, so the holder has stopped. */
  private pause(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeUp?.(), this.retryMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  private warn(message: string): void {
    (this.options.onWarning ?? ((m: string) => console.error(`dev server: ${m}`)))(message);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
