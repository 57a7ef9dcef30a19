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
 */
import pg from 'pg';
import { deepEqual, type JsonValue } from '../../../protocol/index.js';
import type { Engine } from '../../engine/engine.js';
import type { Environment, RowChangeInput } from '../../engine/environment.js';
import type { ResolvedPostgresConfig } from './config.js';
import { formatLsn, parseLsn } from './lsn.js';
import { preparePostgres, type PreparedTable } from './setup.js';
import {
  PostgresStream,
  type RawRow,
  type StreamRelation,
  type StreamStatus,
  type StreamTransaction,
} from './stream.js';
import { TableReader } from './table-reader.js';
import type { PgTypeCatalog } from './type-catalog.js';
import { PG_SESSION_OPTIONS, mapRow, recordId } from './values.js';

/** How a source is started. */
export type PostgresSourceOptions = {
  /** Whether the engine's history is durable (`--data`): then the stream resumes where it got. */
  durable: boolean;
};

/** An exposed table and the environment it belongs to. */
type Exposure = { table: PreparedTable; env: Environment };

/** A running PostgreSQL source. */
export class PostgresSource {
  private readonly byOid = new Map<number, Exposure>();
  private readonly byName = new Map<string, Exposure>();
  private stream: PostgresStream | undefined;

  private constructor(
    private readonly engine: Engine,
    readonly config: ResolvedPostgresConfig,
    readonly tables: readonly PreparedTable[],
    /** Reads tables for snapshots and REST (table-reader.ts); its type catalog maps streamed rows too. */
    readonly reader: TableReader,
  ) {
    for (const table of tables) {
      const exposure = { table, env: engine.environment(table.client, table.environment) };
      this.byOid.set(table.oid, exposure);
      this.byName.set(`${table.schema}.${table.table}`, exposure);
    }
  }

  /**
   * Prepares the database (setup.ts; throws `PostgresSetupError` naming the table and reason),
   * then starts the stream. Resolves once the stream has started or is retrying.
   */
  static async start(
    engine: Engine,
    config: ResolvedPostgresConfig,
    options: PostgresSourceOptions,
  ): Promise<PostgresSource> {
    const tables = await preparePostgres(config);
    const reader = new TableReader({ url: config.url });
    const source = new PostgresSource(engine, config, tables, reader);
    try {
      await reader.catalog.load(tables.flatMap((t) => t.columns.map((c) => c.typeOid)));
      const progress = options.durable ? engine.postgresProgress : undefined;
      const resumeAfter = progress ? parseLsn(progress.lsn) : await currentPosition(config.url);
      source.stream = new PostgresStream({
        url: config.url,
        slot: config.slot,
        publication: config.publication,
        resumeAfter,
        apply: (transaction) => source.apply(transaction),
        onStatus: (status, error) => source.statusChanged(status, error),
      });
      engine.health.postgres = 'starting';
      await source.stream.start();
    } catch (error) {
      await source.stop();
      throw error;
    }
    return source;
  }

  /** The stream's status: `starting`, `streaming`, `reconnecting` or `stopped`. */
  get status(): StreamStatus {
    return this.stream?.status ?? 'stopped';
  }

  /** Stops the stream and closes the database connections. */
  async stop(): Promise<void> {
    await this.stream?.stop();
    await this.reader.close().catch(() => undefined);
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
          const { schema, table } = exposure.table;
          add(exposure, { ...base, index: at, kind: 'row', schema, table, operation: 'TRUNCATE' });
        }
        continue;
      }
      const at = index++;
      const exposure = this.exposure(change.relation);
      if (at < skip || !exposure) continue;
      add(exposure, rowChange(catalog, exposure.table, change, { ...base, index: at }));
    }
    for (const run of runs) run.env.commitRows(run.changes);
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

type ChangeBase = Pick<RowChangeInput, 'timestamp' | 'xid' | 'lsn' | 'end' | 'index'>;

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

/** The database's current WAL position: where a stream with no history to continue starts. */
async function currentPosition(url: string): Promise<bigint> {
  const client = new pg.Client({ connectionString: url, options: PG_SESSION_OPTIONS });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    return parseLsn(rows[0]?.lsn ?? '0/0');
  } finally {
    await client.end().catch(() => undefined);
  }
}
