/**
 * The PostgreSQL source of a dev server (PROTOCOL.md section 10): prepares the database, reads
 * the replication stream, and commits each transaction's changes to the environments that expose
 * its tables — in commit order, one `seq` per change, the changes of one transaction together.
 *
 * Exactly once across restarts: every row commit records how far the source got
 * (`Engine.postgresProgress`: the transaction's commit LSNs and how many of its changes are
 * committed), which `--data` keeps with the history in the same journal line. On start the stream
 * is read again from that transaction's commit, and the changes already committed are skipped, so
 * a SIGKILL between two changes of one transaction loses and doubles nothing. The stream confirms
 * a transaction to PostgreSQL only once `apply` returns, i.e. once its journal lines are written.
 *
 * Without `--data` the history starts from nothing at every start (a new epoch), so the stream
 * starts at the database's current position: what was committed before is in the tables, which
 * snapshots read.
 *
 * The source is also each environment's `TableStore` (pg-table-store.ts): snapshots, and the
 * reads and writes of objects kept in tables.
 */
import pg from 'pg';
import { ApiError } from '../../engine/api-error.js';
import { deepEqual, type JsonValue } from '../../../protocol/index.js';
import type { Engine } from '../../engine/engine.js';
import type { Environment, RowChangeInput } from '../../engine/environment.js';
import type { ResolvedPostgresConfig } from './config.js';
import { formatLsn, parseLsn } from './lsn.js';
import { PgTableStore, type TableStoreHost } from './pg-table-store.js';
import { preparePostgres, type PreparedTable } from './setup.js';
import {
  PostgresStream,
  SYNC_MESSAGE_PREFIX,
  type RawRow,
  type StreamRelation,
  type StreamStatus,
  type StreamTransaction,
} from './stream.js';
import { TableReader } from './table-reader.js';
import { SlotLease } from './slot-lease.js';
import { TableWriter } from './table-writer.js';
import type { PgTypeCatalog } from './type-catalog.js';
import { PG_SESSION_OPTIONS, mapRow, recordId } from './values.js';

/** How a source is started. */
export type PostgresSourceOptions = {
  /** Whether the engine's history is durable (`--data`): then the stream resumes where it got. */
  durable: boolean;
  /**
   * In a cluster (section 11) the history is the cluster's: the stream resumes from the slot's
   * confirmed position, and the cluster's log skips changes it has (markers).
   */
  cluster?: boolean;
};

/**
 * Snapshot alignment across a cluster (table-snapshot.ts): the process reading the slot reports
 * each sync message it has read (every transaction before it is then in the cluster's log), and
 * a process waiting for one learns it from the cluster, then waits until it has received the
 * environment's log up to that moment.
 */
export interface ClusterSync {
  /** The slot's reader has appended every transaction committed before `lsn` to the log. */
  report(lsn: bigint): Promise<void>;
  /** Resolves once `lsn` was reported and `env` has received its log as it was then. */
  waitFor(lsn: bigint, env: Environment): Promise<void>;
}

/** An exposed table and the environment it belongs to. */
type Exposure = { table: PreparedTable; env: Environment };

/** How long a snapshot waits for the stream to catch up before it answers `unavailable`. */
const CATCH_UP_TIMEOUT_MS = 15_000;

/** A running PostgreSQL source. */
export class PostgresSource implements TableStoreHost {
  private readonly byOid = new Map<number, Exposure>();
  private readonly byName = new Map<string, Exposure>();
  private readonly byEnvironment = new Map<Environment, Map<string, PreparedTable>>();
  private stream: PostgresStream | undefined;
  /** Writes of objects kept in tables (table-writer.ts). */
  readonly writer: TableWriter;
  /** For the sync messages snapshots wait for, and the start position. */
  private readonly pool: pg.Pool;
  /** The position of the last sync message the stream has seen, and who waits for a later one. */
  private synced = 0n;
  private syncWaiters: { lsn: bigint; resolve: () => void }[] = [];

  private constructor(
    private readonly engine: Engine,
    readonly config: ResolvedPostgresConfig,
    readonly tables: readonly PreparedTable[],
    /** Reads tables for snapshots and REST (table-reader.ts); its type catalog maps streamed rows too. */
    readonly reader: TableReader,
  ) {
    this.writer = new TableWriter({ url: config.url });
    this.pool = new pg.Pool({ connectionString: config.url, max: 2, options: PG_SESSION_OPTIONS });
    this.pool.on('error', () => undefined); // an idle connection PostgreSQL closed is dropped
    const store = new PgTableStore(this);
    for (const table of tables) {
      const env = engine.environment(table.client, table.environment);
      const exposure = { table, env };
      this.byOid.set(table.oid, exposure);
      this.byName.set(`${table.schema}.${table.table}`, exposure);
      let named = this.byEnvironment.get(env);
      if (!named) this.byEnvironment.set(env, (named = new Map()));
      named.set(table.table, table);
      env.tableStore = store;
    }
  }

  /** The exposed table of an environment by name. */
  exposedTable(env: Environment, table: string): PreparedTable | undefined {
    return this.byEnvironment.get(env)?.get(table);
  }

  /**
   * Resolves once the stream has applied every transaction committed before this call: a
   * non-transactional logical message is written now, and the stream reads it only after every
   * commit before it (table-snapshot.ts waits for this).
   */
  async caughtUp(env: Environment): Promise<void> {
    let lsn: bigint;
    try {
      const { rows } = await this.pool.query<{ lsn: string }>(
        `SELECT pg_logical_emit_message(false, $1, '')::text AS lsn`,
        [SYNC_MESSAGE_PREFIX],
      );
      lsn = parseLsn(rows[0]?.lsn ?? '0/0');
    } catch (error) {
      throw new ApiError('unavailable', `PostgreSQL is unavailable: ${(error as Error).message}`);
    }
    if (this.clusterSync) {
      await this.clusterSync.waitFor(lsn, env);
      return;
    }
    if (this.synced >= lsn) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        lsn,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
        reject(
          new ApiError(
            'unavailable',
            `the PostgreSQL replication stream is ${this.status}: it did not catch up within ${CATCH_UP_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, CATCH_UP_TIMEOUT_MS);
      this.syncWaiters.push(waiter);
    });
  }

  /**
   * In a cluster, where sync messages are reported and waited for: the process reading the slot
   * may be another one (cluster-node.ts).
   */
  clusterSync: ClusterSync | undefined;

  /** The stream has applied every transaction before `lsn`. */
  private sync(lsn: bigint): void {
    if (this.clusterSync) {
      this.clusterSync.report(lsn).catch((error: unknown) => {
        console.error(
          `dev server: cannot report a PostgreSQL sync to the cluster: ${(error as Error).message}`,
        );
      });
      return;
    }
    if (lsn > this.synced) this.synced = lsn;
    const ready = this.syncWaiters.filter((w) => w.lsn <= lsn);
    if (ready.length === 0) return;
    this.syncWaiters = this.syncWaiters.filter((w) => w.lsn > lsn);
    for (const waiter of ready) waiter.resolve();
  }

  /**
   * Prepares the database (setup.ts; throws `PostgresSetupError` naming the table and reason),
   * then starts the stream. Resolves once the stream has started or is retrying.
   */
  static async prepare(
    engine: Engine,
    config: ResolvedPostgresConfig,
    options: PostgresSourceOptions,
  ): Promise<PostgresSource> {
    const slotWasThere = options.durable && engine.postgresProgress ? await slotExists(config) : true;
    const tables = await preparePostgres(config);
    const reader = new TableReader({ url: config.url });
    const source = new PostgresSource(engine, config, tables, reader);
    try {
      await reader.catalog.load(tables.flatMap((t) => t.columns.map((c) => c.typeOid)));
    } catch (error) {
      await source.stop();
      throw error;
    }
    if (!slotWasThere) {
      // The history read from the old slot cannot continue: what was committed while there was
      // none is in no history. Its environments start a new one (a new epoch), so clients resync.
      console.error(
        `dev server: PostgreSQL replication slot ${config.slot} was created anew; the environments of its tables start a new history (new epoch), and their clients resync`,
      );
      for (const env of source.byEnvironment.keys()) engine.restartHistory(env);
      engine.postgresProgress = undefined;
    }
    source.durable = options.durable;
    source.cluster = options.cluster ?? false;
    return source;
  }

  private durable = false;
  private cluster = false;

  /**
   * Starts reading the slot: from where the history got (`--data`), or from the database's
   * current position. Resolves once the stream has started or is retrying.
   */
  async start(): Promise<void> {
    const { config, engine } = this;
    if (this.cluster) {
      // One process of the cluster reads the slot: the holder of its lease (slot-lease.ts), from
      // the slot's confirmed position; the cluster's log skips what was appended already.
      engine.health.postgres = 'standby';
      this.lease = SlotLease.start({
        url: config.url,
        slot: config.slot,
        onAcquired: () => void this.openStream(undefined),
        onLost: (error) => void this.closeStream(error),
        onWarning: (message) => console.error(`dev server: PostgreSQL slot lease: ${message}`),
      });
      return;
    }
    const progress = this.durable ? engine.postgresProgress : undefined;
    try {
      await this.openStream(progress ? parseLsn(progress.lsn) : await this.currentPosition());
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private lease: SlotLease | undefined;

  /** Starts reading the slot after `resumeAfter` (undefined: from its confirmed position). */
  private async openStream(resumeAfter: bigint | undefined): Promise<void> {
    const { config, engine } = this;
    const stream = new PostgresStream({
      url: config.url,
      slot: config.slot,
      publication: config.publication,
      resumeAfter,
      apply: (transaction) => this.apply(transaction),
      onStatus: (status, error) => {
        if (this.stream === stream) this.statusChanged(status, error);
      },
      onSync: (lsn) => this.sync(lsn),
    });
    this.stream = stream;
    engine.health.postgres = 'starting';
    await stream.start();
  }

  /** This process no longer holds the slot's lease: stop reading at once, another may take over. */
  private async closeStream(error: Error): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    this.engine.health.postgres = 'standby';
    console.error(
      `dev server: PostgreSQL slot lease lost (${error.message}); another process may read the slot`,
    );
    await stream?.stop();
  }

  /** The stream's status: `starting`, `streaming`, `reconnecting` or `stopped`. */
  get status(): StreamStatus {
    return this.stream?.status ?? 'stopped';
  }

  /** Stops the stream and closes the database connections. */
  async stop(): Promise<void> {
    await this.stream?.stop();
    await this.lease?.stop();
    for (const env of this.byEnvironment.keys()) env.tableStore = undefined;
    await Promise.all([
      this.reader.close().catch(() => undefined),
      this.writer.close().catch(() => undefined),
      this.pool.end().catch(() => undefined),
    ]);
  }

  /** The database's current WAL position: where a stream with no history to continue starts. */
  private async currentPosition(): Promise<bigint> {
    const { rows } = await this.pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    return parseLsn(rows[0]?.lsn ?? '0/0');
  }

  /** The exposed table of a (schema-qualified) relation, if it is one. */
  private exposure(relation: StreamRelation): Exposure | undefined {
    return this.byOid.get(relation.oid) ?? this.byName.get(`${relation.schema}.${relation.name}`);
  }

  /**
   * Commits one transaction: its changes to exposed tables, in order, skipping those a previous
   * run committed already (`Engine.postgresProgress`). Runs of changes to one environment are
   * committed together (`Environment.commitRows`), all in this one turn.
   */
  private async apply(transaction: StreamTransaction): Promise<void> {
    const catalog = this.reader.catalog;
    const oids = new Set<number>();
    for (const change of transaction.changes) {
      for (const relation of change.operation === 'TRUNCATE' ? change.relations : [change.relation]) {
        for (const column of relation.columns) oids.add(column.typeOid);
      }
    }
    await catalog.load(oids);

    const progress = this.engine.postgresProgress;
    const skip = progress && parseLsn(progress.end) === transaction.commitEndLsn ? progress.applied : 0;
    const base = {
      timestamp: transaction.timestamp,
      xid: String(transaction.xid),
      lsn: formatLsn(transaction.commitLsn),
      end: formatLsn(transaction.commitEndLsn),
      ...(transaction.correlationId === undefined ? {} : { correlationId: transaction.correlationId }),
    };
    const runs: { env: Environment; changes: RowChangeInput[] }[] = [];
    const add = (exposure: Exposure, change: RowChangeInput) => {
      const last = runs.at(-1);
      if (last?.env === exposure.env) last.changes.push(change);
      else runs.push({ env: exposure.env, changes: [change] });
    };
    let index = 0;
    for (const change of transaction.changes) {
      if (change.operation === 'TRUNCATE') {
        // One change per table, so that each can be skipped on its own after a restart.
        for (const relation of change.relations) {
          const at = index++;
          const exposure = this.exposure(relation);
          if (at < skip || !exposure) continue;
          const { schema, table, object } = exposure.table;
          const truncate: RowChangeInput = {
            ...base,
            index: at,
            kind: 'row',
            schema,
            table,
            operation: 'TRUNCATE',
          };
          if (object !== undefined) truncate.object = object;
          add(exposure, truncate);
        }
        continue;
      }
      const at = index++;
      const exposure = this.exposure(change.relation);
      if (at < skip || !exposure) continue;
      add(exposure, rowChange(catalog, exposure.table, change, { ...base, index: at }));
    }
    // Every run is started in this turn: committed here at once (so a transaction's changes have
    // nothing between them), or sent to the cluster's log in order on one connection.
    await Promise.all(runs.map((run) => run.env.appendRows(run.changes, run.changes.map(changeMarker))));
  }

  private statusChanged(status: StreamStatus, error: Error | undefined): void {
    if (status === 'stopped') return;
    this.engine.health.postgres = status;
    const details: Record<string, unknown> = { status };
    if (error) details.error = error.message;
    this.engine.audit.emit('postgres.status', { connectionId: 'postgres' }, details);
    if (status === 'reconnecting') {
      console.error(
        `dev server: PostgreSQL replication stream lost (${error?.message ?? 'no reason given'}); retrying`,
      );
    } else if (status === 'streaming') {
      console.error('dev server: PostgreSQL replication stream is streaming');
    }
  }
}

type ChangeBase = Pick<
  RowChangeInput,
  'timestamp' | 'xid' | 'lsn' | 'end' | 'index' | 'correlationId' | 'object'
>;

/** One insert, update or delete as a row commit of its table. */
function rowChange(
  catalog: PgTypeCatalog,
  table: PreparedTable,
  change: Exclude<StreamTransaction['changes'][number], { operation: 'TRUNCATE' }>,
  base: ChangeBase,
): RowChangeInput {
  const columns = change.relation.columns;
  const map = (row: RawRow) => mapRow(catalog, columns, row);
  const { schema, table: name } = table;
  if (table.object !== undefined) base = { ...base, object: table.object };
  const idOf = (row: Record<string, JsonValue>) => recordId(table.primaryKey.map((c) => row[c] ?? null));
  if (change.operation === 'INSERT') {
    const record = map(change.row);
    return { ...base, kind: 'row', schema, table: name, operation: 'INSERT', id: idOf(record), record };
  }
  if (change.operation === 'DELETE') {
    const record = map(change.old);
    return { ...base, kind: 'row', schema, table: name, operation: 'DELETE', id: idOf(record), record };
  }
  const record = map(change.row);
  const oldRecord = change.old ? map(change.old) : undefined;
  // Without the old row (replica identity changed behind the server's back), every column counts as changed.
  const changedColumns = columns
    .map((c) => c.name)
    .filter((c) => !oldRecord || !deepEqual(oldRecord[c], record[c]));
  const commit: RowChangeInput = {
    ...base,
    kind: 'row',
    schema,
    table: name,
    operation: 'UPDATE',
    id: idOf(record),
    record,
    changedColumns,
  };
  if (oldRecord) commit.oldRecord = oldRecord;
  return commit;
}

/** Whether the slot exists already (a failure to ask is left to `preparePostgres` to report). */
async function slotExists(config: ResolvedPostgresConfig): Promise<boolean> {
  const client = new pg.Client({ connectionString: config.url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [
      config.slot,
    ]);
    return rows.length > 0;
  } catch {
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A change's marker in the cluster's log: its transaction's end LSN and its index there, fixed
 * width, so markers sort byte by byte in the order the stream reads changes.
 */
function changeMarker(change: RowChangeInput): string {
  return `${parseLsn(change.end).toString(16).padStart(16, '0')}:${change.index.toString(16).padStart(8, '0')}`;
}
