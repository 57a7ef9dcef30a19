/**
 * The read side of the PostgreSQL source (PROTOCOL.md §10): a whole exposed table for a snapshot,
 * or one row by primary key for the REST API, mapped to JSON exactly as the replication stream's
 * rows are (same session settings, raw wire text, the same decoders of `values.ts`).
 *
 * A table read runs in one `REPEATABLE READ, READ ONLY` transaction whose first statement reads
 * `pg_current_snapshot()` and `pg_current_wal_lsn()`: the rows are then exactly those of the
 * transactions visible in that snapshot, so the caller lines them up with the stream by xid
 * (research/postgres-cdc.md §3b) — a streamed transaction follows the snapshot when it is not
 * visible in it or when its commit LSN is at or after the LSN read. Rows come through a server-side
 * cursor, a batch at a time, so a large table never sits whole in memory.
 */
import pg from 'pg';
import type { JsonValue } from '../../../protocol/index.js';
import { parseLsn } from './lsn.js';
import { isUnavailable, PostgresUnavailableError, unavailableOrSelf } from './postgres-unavailable-error.js';
import type { PreparedTable } from './setup.js';
import { PgTypeCatalog, type TypeQueryable } from './type-catalog.js';
import { fieldColumns, mapRow, PG_SESSION_OPTIONS, RAW_TEXT_TYPES, type PgColumn } from './values.js';
import { XidSnapshot } from './xid-snapshot.js';

/** How a reader connects. */
export interface TableReaderOptions {
  url: string;
  /** Connections held at most (default 4); reads beyond wait for one. */
  maxConnections?: number;
  /** How long to wait for a connection before PostgreSQL counts as unavailable (default 5000 ms). */
  connectionTimeoutMillis?: number;
  /**
   * The decoders to use, e.g. shared with the replication stream's mapping. Default: the reader's
   * own, looking types up over a connection of its own (never one a read is holding).
   */
  catalog?: PgTypeCatalog;
}

/** What a table read saw, for lining it up with the replication stream. */
export interface TableSnapshotInfo {
  /** The transaction snapshot the rows were read in. */
  visibility: XidSnapshot;
  /** `pg_current_wal_lsn()` read in the same statement as the snapshot (L_after). */
  lsn: bigint;
}

/** One table read. */
export interface ReadTableOptions {
  /** Called with every row, in the table's order; `false` stops the read (the caller has enough). */
  onRow(row: Record<string, JsonValue>): void | false;
  /** Rows per `FETCH` (default 1000). */
  batchRows?: number;
  /** Aborting stops the read; it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Defaults of a reader and its reads. */
export const TABLE_READER_DEFAULTS = {
  maxConnections: 4,
  connectionTimeoutMillis: 5000,
  batchRows: 1000,
} as const;

/** Reads exposed tables over a small pool of connections. */
export class TableReader {
  /** The decoders rows are mapped with. */
  readonly catalog: PgTypeCatalog;
  private readonly url: string;
  private readonly pool: pg.Pool;
  /** Only for type lookups (made when the catalog is the reader's own). */
  private readonly typePool: pg.Pool | undefined;
  private closed = false;

  constructor(options: TableReaderOptions) {
    this.url = options.url;
    const connectionTimeoutMillis =
      options.connectionTimeoutMillis ?? TABLE_READER_DEFAULTS.connectionTimeoutMillis;
    this.pool = quietPool(options.url, options.maxConnections ?? TABLE_READER_DEFAULTS.maxConnections, {
      connectionTimeoutMillis,
    });
    if (options.catalog) {
      this.catalog = options.catalog;
    } else {
      // Its own connection: a read holding the last pooled one may need a type looked up.
      const typePool = quietPool(options.url, 1, { connectionTimeoutMillis, idleTimeoutMillis: 1000 });
      this.typePool = typePool;
      const types: TypeQueryable = { query: (text, values) => typePool.query(text, values) };
      this.catalog = new PgTypeCatalog(types);
    }
  }

  /**
   * Streams every row of `table` to `onRow` and resolves with the snapshot they were read in.
   * Rejects with `PostgresUnavailableError` when PostgreSQL cannot be reached (or the connection
   * breaks meanwhile), with the signal's reason when aborted, and with any other error as it is.
   */
  async readTable(table: PreparedTable, options: ReadTableOptions): Promise<TableSnapshotInfo> {
    const { onRow, signal } = options;
    const batchRows = options.batchRows ?? TABLE_READER_DEFAULTS.batchRows;
    if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
      throw new RangeError(`batchRows must be a positive integer, not ${batchRows}`);
    }
    signal?.throwIfAborted();
    const client = await this.connect();
    let broken: unknown;
    const run = async (sql: string) => {
      try {
        return await client.query<Record<string, string | null>>(sql);
      } catch (error) {
        if (isUnavailable(error)) broken = error;
        throw unavailableOrSelf(this.url, error);
      }
    };
    try {
      await run('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // First statement: it takes the transaction's snapshot, so the two agree with the rows.
      const [moment] = (
        await run('SELECT pg_current_snapshot()::text AS snapshot, pg_current_wal_lsn()::text AS lsn')
      ).rows;
      const info: TableSnapshotInfo = {
        visibility: XidSnapshot.parse(String(moment?.snapshot)),
        lsn: parseLsn(String(moment?.lsn)),
      };
      await run(`DECLARE c NO SCROLL CURSOR FOR ${selectSql(table)}`);
      let columns: PgColumn[] | undefined;
      for (;;) {
        signal?.throwIfAborted();
        const batch = await run(`FETCH ${batchRows} FROM c`);
        if (!columns) {
          columns = fieldColumns(batch.fields);
          await this.loadTypes(columns);
        }
        for (const raw of batch.rows) {
          signal?.throwIfAborted();
          if (onRow(mapRow(this.catalog, columns, raw)) === false) return info;
        }
        if (batch.rows.length < batchRows) return info;
      }
    } finally {
      await this.finish(client, broken);
    }
  }

  /**
   * One row by its primary key's values (as text, in key order; PostgreSQL casts them to the
   * columns' types), or `undefined` when there is none — also when a value cannot be the column's
   * (`abc` for an integer key). Rejects with `PostgresUnavailableError` when PostgreSQL cannot be
   * reached, and with a `RangeError` when `key` has not one value per key column.
   */
  async readRow(
    table: PreparedTable,
    key: readonly string[],
  ): Promise<Record<string, JsonValue> | undefined> {
    if (key.length !== table.primaryKey.length) {
      throw new RangeError(
        `table ${table.schema}.${table.table} has ${table.primaryKey.length} key column(s) (${table.primaryKey.join(', ')}), not ${key.length}`,
      );
    }
    this.assertOpen();
    const where = table.primaryKey.map((column, i) => `${quoteIdentifier(column)} = $${i + 1}`).join(' AND ');
    let result: pg.QueryResult<Record<string, string | null>>;
    try {
      result = await this.pool.query<Record<string, string | null>>(`${selectSql(table)} WHERE ${where}`, [
        ...key,
      ]);
    } catch (error) {
      if (isDataException(error)) return undefined;
      throw unavailableOrSelf(this.url, error);
    }
    const [raw] = result.rows;
    if (!raw) return undefined;
    const columns = fieldColumns(result.fields);
    await this.loadTypes(columns);
    return mapRow(this.catalog, columns, raw);
  }

  /** Ends the reader's connections, once reads in progress have finished; later reads throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool.end(), this.typePool?.end()]);
  }

  private async connect(): Promise<pg.PoolClient> {
    this.assertOpen();
    try {
      return await this.pool.connect();
    } catch (error) {
      // Whatever failed, no connection came: refused, timed out, starting up, bad credentials.
      throw error instanceof PostgresUnavailableError ? error : new PostgresUnavailableError(this.url, error);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('this TableReader is closed');
  }

  private async loadTypes(columns: readonly PgColumn[]): Promise<void> {
    try {
      await this.catalog.load(columns.map((column) => column.typeOid));
    } catch (error) {
      throw unavailableOrSelf(this.url, error);
    }
  }

  /** Ends the read's transaction (closing its cursor) and gives the connection back, or drops it. */
  private async finish(client: pg.PoolClient, broken: unknown): Promise<void> {
    if (broken === undefined) {
      try {
        await client.query('ROLLBACK');
      } catch (error) {
        broken = error;
      }
    }
    client.release(broken === undefined ? undefined : toError(broken));
  }
}

/** A pool whose connections never crash the process when PostgreSQL drops them. */
function quietPool(
  url: string,
  max: number,
  timeouts: { connectionTimeoutMillis: number; idleTimeoutMillis?: number },
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    options: PG_SESSION_OPTIONS,
    types: RAW_TEXT_TYPES,
    ...timeouts,
  });
  // An idle connection that drops: the pool has removed it already.
  pool.on('error', () => undefined);
  // One that drops while a read holds it: its query in progress fails instead.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** `SELECT "col", … FROM "schema"."table"` with every identifier quoted. */
function selectSql(table: PreparedTable): string {
  const columns = table.columns.map((column) => quoteIdentifier(column.name)).join(', ');
  return `SELECT ${columns} FROM ${quoteIdentifier(table.schema)}.${quoteIdentifier(table.table)}`;
}

/** An identifier as SQL: in double quotes, a double quote doubled. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** SQLSTATE class 22: a parameter that is not a value of its column's type (or out of its range). */
function isDataException(error: unknown): boolean {
  return error instanceof pg.DatabaseError && (error.code ?? '').startsWith('22');
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
