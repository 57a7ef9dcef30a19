/**
 * The replication stream of the PostgreSQL source (PROTOCOL.md section 10): reads the `pgoutput`
 * slot with pg-logical-replication and hands each committed transaction, whole and in commit
 * order, to `apply`; only once `apply` says the transaction is durable does it confirm its
 * position to PostgreSQL. Exactly once, whatever stops in between (research/postgres-cdc.md):
 *
 * - a transaction is known by its commit's end LSN, which rises strictly in commit order: one at
 *   or before the last durable one is skipped (PostgreSQL 15 forgets recent confirmations when
 *   it restarts, and re-sends);
 * - the position confirmed is that end LSN minus one: the library adds one, and confirming the
 *   end itself would make PostgreSQL skip a transaction whose commit record starts there;
 * - the stream starts from the last durable position (never from before it);
 * - the library's own acknowledging is off (`auto: false`, `timeoutSeconds: 0`), so keepalives
 *   that ask for an answer are answered here — with the durable position, or with the keepalive's
 *   own position when nothing received is still waiting to be made durable;
 * - values stay PostgreSQL's wire text: each relation's column parsers are set to identity as the
 *   relation message is parsed, before any row of it is (with flow control on, rows are parsed
 *   as they arrive but handed over later); the caller maps them (values.ts).
 *
 * Logical decoding messages are read too (`messages 'true'`): a transactional one with the prefix
 * `catalyst.correlation` gives its transaction the `X-Correlation-Id` of the REST write that made
 * it; a non-transactional `catalyst.sync` one tells `onSync` that every transaction committed
 * before it has been applied (a snapshot waits for that: table-snapshot.ts).
 *
 * A lost connection or a PostgreSQL restart is retried with backoff (1 s doubling to 30 s), the
 * status going `reconnecting` and back to `streaming`; a slot still held by a dying consumer
 * (55006) is retried the same way.
 */
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { formatLsn, parseLsn } from './lsn.js';
import { PG_SESSION_OPTIONS, keepWireText } from './values.js';
import { CORRELATION_MESSAGE_PREFIX } from './write-transaction.js';

/** The prefix of the non-transactional message a snapshot waits for (`PostgresSource.caughtUp`). */
export const SYNC_MESSAGE_PREFIX = 'catalyst.sync';

/** A table as the stream describes it (pgoutput's relation message). */
export type StreamRelation = {
  oid: number;
  schema: string;
  name: string;
  columns: { name: string; typeOid: number }[];
};

/** One row of wire text: column → text, or null for NULL. */
export type RawRow = Record<string, string | null>;

/** One change of a transaction. */
export type RowChange =
  | { operation: 'INSERT'; relation: StreamRelation; row: RawRow }
  | { operation: 'UPDATE'; relation: StreamRelation; row: RawRow; old: RawRow | null }
  | { operation: 'DELETE'; relation: StreamRelation; old: RawRow }
  | { operation: 'TRUNCATE'; relations: StreamRelation[] };

/** A committed transaction, whole. */
export type StreamTransaction = {
  /** Its transaction id (unsigned). */
  xid: number;
  /** Where its commit record starts. */
  commitLsn: bigint;
  /** Where its commit record ends: what identifies it, and what is confirmed once it is durable. */
  commitEndLsn: bigint;
  /** Its commit time, ISO 8601 in UTC (to the millisecond). */
  timestamp: string;
  changes: RowChange[];
  /** The `X-Correlation-Id` of the REST write that made it, if one did. */
  correlationId?: string;
};

/** What the stream is doing. */
export type StreamStatus = 'starting' | 'streaming' | 'reconnecting' | 'stopped';

/** How a stream is set up. */
export type StreamOptions = {
  url: string;
  slot: string;
  publication: string;
  /** The end LSN of the last transaction already made durable (undefined: none). */
  resumeAfter: bigint | undefined;
  /** Makes a transaction durable (history, journal); the stream confirms it once this resolves. */
  apply: (transaction: StreamTransaction) => Promise<void> | void;
  /** Told of every status change, with the error behind a `reconnecting`. */
  onStatus?: (status: StreamStatus, error?: Error) => void;
  /** Told of each `catalyst.sync` message: every transaction committed before `lsn` is applied. */
  onSync?: (lsn: bigint) => void;
};

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/** Reads one slot until stopped. */
export class PostgresStream {
  private service: LogicalReplicationService | undefined;
  private statusNow: StreamStatus = 'starting';
  private durable: bigint | undefined;
  /** The transaction being received (between begin and commit). */
  private open: (StreamTransaction & { pending: true }) | undefined;
  /** Transactions received, not yet durable. */
  private waiting = 0;
  /**
   * Messages of the current connection parsed but not yet handled: with flow control the library
   * queues them, while keepalives skip the queue — a keepalive's position may lie beyond them.
   */
  private session = { unread: 0 };
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly relations = new Map<number, StreamRelation>();

  constructor(private readonly options: StreamOptions) {
    this.durable = options.resumeAfter;
  }

  /** The stream's status now. */
  get status(): StreamStatus {
    return this.statusNow;
  }

  /** The end LSN of the last durable transaction. */
  get durablePosition(): bigint | undefined {
    return this.durable;
  }

  /** Starts reading; resolves once the first connection is streaming or has failed (and retries). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Stops reading and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const service = this.service;
    this.service = undefined;
    await service?.destroy().catch(() => undefined);
    this.setStatus('stopped');
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const service = new LogicalReplicationService(
      { connectionString: this.options.url, options: PG_SESSION_OPTIONS },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.service = service;
    this.open = undefined;
    this.waiting = 0;
    const session = { unread: 0 };
    this.session = session;
    service.on('data', (lsn: string, message: Pgoutput.Message) =>
      this.receive(service, message, lsn)
        // A transaction that cannot be applied (its journal cannot be written) is not confirmed:
        // the stream starts again from the last durable one.
        .catch((error: unknown) => this.lost(service, error as Error))
        .finally(() => session.unread--),
    );
    service.on('heartbeat', (lsn: string, _time: number, shouldRespond: boolean) => {
      if (shouldRespond) void this.answerKeepalive(service, parseLsn(lsn));
    });
    service.on('start', () => {
      this.retryMs = FIRST_RETRY_MS;
      this.setStatus('streaming');
    });
    service.on('error', (error: Error) => this.lost(service, error));
    const plugin = new PgoutputPlugin({
      protoVersion: 1,
      publicationNames: [this.options.publication],
      messages: true,
    });
    const parse = plugin.parse.bind(plugin);
    plugin.parse = (buffer: Buffer) => {
      const message = parse(buffer) as Pgoutput.Message;
      if (message.tag === 'relation') keepWireText(message);
      session.unread++;
      return message;
    };
    const from = this.durable === undefined ? '0/0' : formatLsn(this.durable);
    // subscribe() resolves only when the stream ends; a failure to start rejects it.
    service.subscribe(plugin, this.options.slot, from).then(
      () => this.lost(service, new Error('the replication stream ended')),
      (error: unknown) => this.lost(service, error as Error),
    );
  }

  /** The connection is gone (or never came): retry with backoff, unless stopped. */
  private lost(service: LogicalReplicationService, error: Error): void {
    if (this.stopped || this.service !== service) return;
    this.service = undefined;
    void service.destroy().catch(() => undefined);
    this.setStatus('reconnecting', error);
    const delay = this.retryMs;
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /** One pgoutput message; with flow control on, the next waits until this resolves. */
  private async receive(
    service: LogicalReplicationService,
    message: Pgoutput.Message,
    lsn: string,
  ): Promise<void> {
    if (this.service !== service) return; // a message of a connection given up
    switch (message.tag) {
      case 'message': {
        if (message.transactional) {
          if (this.open && message.prefix === CORRELATION_MESSAGE_PREFIX) {
            this.open.correlationId = Buffer.from(message.content).toString('utf8');
          }
        } else if (message.prefix === SYNC_MESSAGE_PREFIX) {
          this.options.onSync?.(parseLsn(message.messageLsn ?? lsn));
        }
        return;
      }
      case 'relation':
        this.relations.set(message.relationOid, relationOf(message));
        return;
      case 'begin':
        this.open = {
          xid: message.xid >>> 0,
          commitLsn: parseLsn(message.commitLsn ?? '0/0'),
          commitEndLsn: 0n,
          timestamp: '',
          changes: [],
          pending: true,
        };
        return;
      case 'insert':
        this.open?.changes.push({
          operation: 'INSERT',
          relation: this.relation(message.relation),
          row: message.new,
        });
        return;
      case 'update':
        this.open?.changes.push({
          operation: 'UPDATE',
          relation: this.relation(message.relation),
          row: message.new,
          old: message.old,
        });
        return;
      case 'delete':
        this.open?.changes.push({
          operation: 'DELETE',
          relation: this.relation(message.relation),
          old: (message.old ?? message.key ?? {}) as RawRow,
        });
        return;
      case 'truncate':
        this.open?.changes.push({
          operation: 'TRUNCATE',
          relations: message.relations.map((r) => this.relation(r)),
        });
        return;
      case 'commit': {
        const open = this.open;
        this.open = undefined;
        if (!open) return;
        const commitEndLsn = parseLsn(message.commitEndLsn ?? '0/0');
        if (this.durable !== undefined && commitEndLsn <= this.durable) return; // already made durable: sent again
        const { pending: _pending, ...transaction } = open;
        transaction.commitEndLsn = commitEndLsn;
        transaction.timestamp = new Date(Number(BigInt(message.commitTime as bigint) / 1000n)).toISOString();
        this.waiting++;
        try {
          await this.options.apply(transaction);
        } finally {
          this.waiting--;
        }
        this.durable = commitEndLsn;
        // Minus one: the library confirms lsn + 1 (see the file's comment).
        if (this.service === service) await service.acknowledge(formatLsn(commitEndLsn - 1n));
        return;
      }
      default:
        return;
    }
  }

  /**
   * Answers a keepalive that asks for one (or `wal_sender_timeout` ends the stream): the durable
   * position, or the keepalive's own when nothing received waits to be made durable.
   */
  private async answerKeepalive(service: LogicalReplicationService, keepalive: bigint): Promise<void> {
    const idle = this.open === undefined && this.waiting === 0 && this.session.unread === 0;
    const position =
      idle && (this.durable === undefined || keepalive > this.durable) ? keepalive : this.durable;
    if (position === undefined || position === 0n) {
      await service.acknowledge('0/0').catch(() => undefined);
      return;
    }
    await service.acknowledge(formatLsn(position - 1n)).catch(() => undefined);
  }

  private relation(message: Pgoutput.MessageRelation): StreamRelation {
    return this.relations.get(message.relationOid) ?? relationOf(message);
  }

  private setStatus(status: StreamStatus, error?: Error): void {
    if (status === this.statusNow && status !== 'reconnecting') return;
    this.statusNow = status;
    this.options.onStatus?.(status, error);
  }
}

function relationOf(message: Pgoutput.MessageRelation): StreamRelation {
  return {
    oid: message.relationOid,
    schema: message.schema,
    name: message.name,
    columns: message.columns.map((c) => ({ name: c.name, typeOid: c.typeOid })),
  };
}
