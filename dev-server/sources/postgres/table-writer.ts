/**
 * REST writes of an object kept in a table (PROTOCOL.md §10, last bullet; §2 for the REST
 * semantics): `POST` an `INSERT`, `PATCH` an `UPDATE` of the named columns (a JSON Merge Patch,
 * merged into `json`/`jsonb` columns), `DELETE` a `DELETE`. Rows come back mapped as replication
 * maps them (`values.ts`, same session settings and decoders), so what a write returns equals
 * what the stream will carry for it.
 *
 * Every write is one transaction; a refused one is rolled back, so it changes nothing. Values are
 * always parameters, never SQL text; identifiers are quoted. An unknown column and a value of the
 * wrong JSON kind are refused before any SQL is sent; what only PostgreSQL can check (syntax of
 * a timestamp, NOT NULL, keys, constraints) is mapped by `write-errors.ts`.
 *
 * `createdAt`/`updatedAt` (or `created_at`/`updated_at`) columns of a timestamp type are stamped
 * as the in-memory store stamps records: `createdAt` on insert unless given, `updatedAt` on every
 * write that changes something, whatever the body says. The time is PostgreSQL's `now()` (the
 * transaction's start), so a stamp agrees with the table's own defaults and triggers.
 *
 * Each write reports its transaction id, as the replication stream reports it (`xid`), and may
 * carry a correlation id into the write-ahead log as a transactional logical decoding message
 * (prefix `CORRELATION_MESSAGE_PREFIX`), which a stream reading with `messages: true` receives
 * inside the same transaction.
 */
import pg from 'pg';
import { isPlainObject, type JsonValue } from '../../../protocol/index.js';
import { ApiError } from '../../engine/api-error.js';
import { applyMergePatch } from '../../engine/merge-patch.js';
import { keyFromId, namedColumns, rowNotFound, tableName, withKeyFromId } from './row-key.js';
import type { PreparedTable } from './setup.js';
import { loadTableShape, type TableShape, type WriteColumn } from './table-shape.js';
import { PgTypeCatalog } from './type-catalog.js';
import { describeJson, encodeValue, WrongValueError } from './value-encoders.js';
import { PG_SESSION_OPTIONS, RAW_TEXT_TYPES, recordId } from './values.js';
import { isUnreachable, unavailable, type SentParameter } from './write-errors.js';
import { inTransaction, type MappedRow, type WriteTransaction } from './write-transaction.js';

export { CORRELATION_MESSAGE_PREFIX, type MappedRow } from './write-transaction.js';

/** How a `TableWriter` connects. */
export interface TableWriterOptions {
  /** The database (`postgres.url`). */
  readonly url: string;
  /** Connections kept open at most. Default 4. */
  readonly maxConnections?: number;
}

/** Options of one write. */
export interface WriteOptions {
  /** The request's `X-Correlation-Id`, written into the WAL with the change. */
  readonly correlationId?: string;
}

/** What an insert stored. */
export interface InsertResult {
  readonly row: MappedRow;
  /** The primary key as a string (a composite key: the JSON array text of its values). */
  readonly id: string;
  /** The transaction's id, as the replication stream reports it. */
  readonly xid: number;
}

/** What an update stored. */
export interface UpdateResult {
  readonly row: MappedRow;
  readonly oldRow: MappedRow;
  /** False when no column changed: nothing was written. */
  readonly changed: boolean;
  /** The transaction's id; undefined when nothing was written. */
  readonly xid: number | undefined;
}

/** What a delete removed. */
export interface DeleteResult {
  readonly oldRow: MappedRow;
  readonly xid: number;
}

/** Appended to `RETURNING *`: the transaction id as pgoutput's `begin` gives it (32 bits). */
const RETURNING = 'RETURNING *, pg_current_xact_id()::xid::text';

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Writes the rows of exposed tables; one pool of connections for all of them. */
export class TableWriter {
  private readonly pool: pg.Pool;
  private readonly catalog: PgTypeCatalog;
  private readonly shapes = new Map<number, Promise<TableShape>>();

  constructor(private readonly options: TableWriterOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 4,
      options: PG_SESSION_OPTIONS,
      types: RAW_TEXT_TYPES,
      connectionTimeoutMillis: 5_000,
    });
    // An idle connection the server closed (a restart) is dropped by the pool; the next write connects anew.
    this.pool.on('error', () => undefined);
    this.catalog = new PgTypeCatalog(this.pool);
  }

  /** Inserts a row; PostgreSQL assigns the columns the body leaves out (defaults, serial keys). */
  async insert(
    table: PreparedTable,
    body: Record<string, unknown>,
    options: WriteOptions = {},
  ): Promise<InsertResult> {
    const named = namedColumns(table, body);
    const shape = await this.shape(table);
    const values = withKeyFromId(table, shape, named);
    const columns: string[] = [];
    const expressions: string[] = [];
    const params: SentParameter[] = [];
    for (const [name, value] of values) {
      const column = this.column(table, shape, name);
      if (column.computed) throw this.computed(table, column);
      const stamped =
        shape.updatedColumns.includes(name) || (shape.createdColumns.includes(name) && value === null);
      if (stamped) continue;
      params.push({ column, text: this.encode(table, column, value) });
      columns.push(quote(name));
      expressions.push(`$${params.length}`);
    }
    for (const name of [...shape.createdColumns, ...shape.updatedColumns]) {
      if (columns.includes(quote(name))) continue;
      columns.push(quote(name));
      expressions.push('now()');
    }
    const sql =
      columns.length === 0
        ? `INSERT INTO ${this.target(table)} DEFAULT VALUES ${RETURNING}`
        : `INSERT INTO ${this.target(table)} (${columns.join(', ')}) VALUES (${expressions.join(', ')}) ${RETURNING}`;
    return this.transaction(table, async (tx) => {
      await tx.correlate(options.correlationId);
      const { rows, xid } = await tx.returning(sql, params);
      const row = rows[0] as MappedRow;
      return { row, id: recordId(table.primaryKey.map((name) => row[name] as JsonValue)), xid };
    });
  }

  /**
   * Applies a JSON Merge Patch to the row with primary key `id`: an object merges into a
   * `json`/`jsonb` column, any other value replaces its column (`null` sets NULL). Only columns
   * whose value changes are updated; when none does, nothing is written.
   */
  async update(
    table: PreparedTable,
    id: string,
    patch: Record<string, unknown>,
    options: WriteOptions = {},
  ): Promise<UpdateResult> {
    const named = namedColumns(table, patch);
    const shape = await this.shape(table);
    const keyParams = this.keyParams(table, shape, id);
    const values = withKeyFromId(table, shape, named);
    // Checked now, before any SQL; a merged json value is encoded once the row is read.
    const merged = new Map<string, Record<string, unknown>>();
    const replaced: SentParameter[] = [];
    for (const [name, value] of values) {
      const column = this.column(table, shape, name);
      if (column.kind.type === 'json' && isPlainObject(value)) merged.set(name, value);
      else replaced.push({ column, text: this.encode(table, column, value) });
    }
    return this.transaction(table, async (tx) => {
      const select = `SELECT * FROM ${this.target(table)} WHERE ${this.keyWhere(table, 0)} FOR UPDATE`;
      const oldRow = await tx.lockedRow(select, keyParams, id);
      const candidates = [...replaced];
      for (const [name, patchValue] of merged) {
        const column = this.column(table, shape, name);
        candidates.push({ column, text: JSON.stringify(applyMergePatch(oldRow[name], patchValue)) });
      }
      const changes = await tx.changedValues(candidates, oldRow);
      if (changes.length === 0) return { row: oldRow, oldRow, changed: false, xid: undefined };
      for (const { column } of changes) {
        if (table.primaryKey.includes(column.name)) {
          throw new ApiError(
            'bad_request',
            `column "${column.name}" is the primary key of table ${tableName(table)}: a patch cannot change it`,
          );
        }
        if (column.computed) throw this.computed(table, column);
      }
      // A stamped column is set to now() whatever the patch said, as the in-memory store does.
      const params = changes.filter(({ column }) => !shape.updatedColumns.includes(column.name));
      const sets = params.map(({ column }, i) => `${quote(column.name)} = $${i + 1}`);
      for (const name of shape.updatedColumns) sets.push(`${quote(name)} = now()`);
      const where = this.keyWhere(table, params.length);
      await tx.correlate(options.correlationId);
      const { rows, xid } = await tx.returning(
        `UPDATE ${this.target(table)} SET ${sets.join(', ')} WHERE ${where} ${RETURNING}`,
        [...params, ...keyParams],
      );
      return { row: rows[0] as MappedRow, oldRow, changed: true, xid };
    });
  }

  /** Deletes the row with primary key `id`. */
  async delete(table: PreparedTable, id: string, options: WriteOptions = {}): Promise<DeleteResult> {
    const shape = await this.shape(table);
    const keyParams = this.keyParams(table, shape, id);
    return this.transaction(table, async (tx) => {
      await tx.correlate(options.correlationId);
      const sql = `DELETE FROM ${this.target(table)} WHERE ${this.keyWhere(table, 0)} ${RETURNING}`;
      const { rows, xid } = await tx.returning(sql, keyParams, id);
      return { oldRow: rows[0] as MappedRow, xid };
    });
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.pool.end();
  }

  // ---- pieces ----------------------------------------------------------------------------------

  private target(table: PreparedTable): string {
    return `${quote(table.schema)}.${quote(table.table)}`;
  }

  /** `"k1" = $n AND "k2" = $n+1`: the key's parameters follow the first `offset`. */
  private keyWhere(table: PreparedTable, offset: number): string {
    return table.primaryKey.map((name, i) => `${quote(name)} = $${offset + i + 1}`).join(' AND ');
  }

  /** The table's write shape, read once; its column types loaded in the catalog too. */
  private async shape(table: PreparedTable): Promise<TableShape> {
    let shape = this.shapes.get(table.oid);
    if (!shape) {
      shape = loadTableShape(this.pool, table).then(async (loaded) => {
        await this.catalog.load(table.columns.map((column) => column.typeOid));
        return loaded;
      });
      this.shapes.set(table.oid, shape);
      shape.catch(() => this.shapes.delete(table.oid));
    }
    try {
      return await shape;
    } catch (error) {
      throw isUnreachable(error) ? unavailable(this.options.url, error) : error;
    }
  }

  private column(table: PreparedTable, shape: TableShape, name: string): WriteColumn {
    const column = shape.columns.get(name);
    if (!column) throw new Error(`column "${name}" of table ${tableName(table)} was dropped after start-up`);
    return column;
  }

  private computed(table: PreparedTable, column: WriteColumn): ApiError {
    return new ApiError(
      'bad_request',
      `column "${column.name}" in table ${tableName(table)} cannot be written: ${column.computed}; leave it out`,
    );
  }

  private encode(table: PreparedTable, column: WriteColumn, value: unknown): string | null {
    try {
      return encodeValue(column.kind, value);
    } catch (error) {
      if (!(error instanceof WrongValueError)) throw error;
      const got = error.at
        ? `; element ${error.at} is ${describeJson(error.value)}`
        : `, not ${describeJson(error.value)}`;
      throw new ApiError(
        'bad_request',
        `column "${column.name}" in table ${tableName(table)} takes ${error.expected}${got}`,
      );
    }
  }

  /** The key's parameters from a URL id; a 404 when no row can have that id. */
  private keyParams(table: PreparedTable, shape: TableShape, id: string): SentParameter[] {
    const key = keyFromId(table, shape, id);
    if (!key) throw rowNotFound(table, id);
    return table.primaryKey.map((name, i) => {
      const column = this.column(table, shape, name);
      try {
        return { column, text: encodeValue(column.kind, key[i]) };
      } catch (error) {
        if (error instanceof WrongValueError) throw rowNotFound(table, id);
        throw error;
      }
    });
  }

  /** Runs `work` in a transaction; rolls back and maps the error when it fails. */
  private transaction<T>(table: PreparedTable, work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    return inTransaction({ pool: this.pool, catalog: this.catalog, table, url: this.options.url }, work);
  }
}
