/**
 * One REST write's transaction on a connection of the `TableWriter`'s pool: its statements run in
 * array row mode (so `RETURNING *, <xid>` cannot collide with a column's name) and their rows come
 * back mapped as §10 maps them. When anything fails the transaction is rolled back, so a refused
 * write changes nothing, and the error is explained by the parameters of the statement that
 * failed (`write-errors.ts`).
 */
import type pg from 'pg';
import { deepEqual, type JsonValue } from '../../../protocol/index.js';
import { ApiError } from '../../engine/api-error.js';
import { rowNotFound, tableName } from './row-key.js';
import type { PreparedTable } from './setup.js';
import type { PgTypeCatalog } from './type-catalog.js';
import { fieldColumns, mapRow } from './values.js';
import {
  isDataException,
  isUnreachable,
  unavailable,
  writeRefusal,
  type SentParameter,
} from './write-errors.js';

/** The prefix of the logical decoding message that carries a write's correlation id. */
export const CORRELATION_MESSAGE_PREFIX = 'catalyst.correlation';

/** A row as REST and the stream show it (§10 values). */
export type MappedRow = Record<string, JsonValue>;

/** What a transaction runs on. */
export interface TransactionContext {
  readonly pool: pg.Pool;
  /** Knows the types of the table's columns already (`TableWriter` loads them first). */
  readonly catalog: PgTypeCatalog;
  readonly table: PreparedTable;
  /** The database URL, for the 503 message. */
  readonly url: string;
}

/** Runs `work` in a transaction: committed when it resolves, rolled back (and the error mapped) when not. */
export async function inTransaction<T>(
  context: TransactionContext,
  work: (tx: WriteTransaction) => Promise<T>,
): Promise<T> {
  const client = await begin(context);
  const tx = new WriteTransaction(client, context);
  try {
    const result = await work(tx);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    client.release(!rolledBack);
    if (error instanceof ApiError) throw error;
    throw await writeRefusal(error, {
      table: tableName(context.table),
      url: context.url,
      params: tx.params,
      query: (text, values) => context.pool.query(text, values),
    });
  }
}

/**
 * A connection with a transaction begun. One whose `BEGIN` fails for a lost connection (closed
 * by a restart the pool has not noticed yet) is dropped and a new one tried, once: a `BEGIN`
 * cannot have written anything.
 */
async function begin({ pool, url }: TransactionContext): Promise<pg.PoolClient> {
  for (let attempt = 1; ; attempt += 1) {
    let client: pg.PoolClient | undefined;
    try {
      client = await pool.connect();
      await client.query('BEGIN');
      return client;
    } catch (error) {
      client?.release(true);
      if (!isUnreachable(error)) throw error;
      if (client === undefined || attempt === 2) throw unavailable(url, error);
    }
  }
}

/** One write's statements; remembers the parameters of the last one to explain its failure. */
export class WriteTransaction {
  /** The parameters of the statement running or last run. */
  params: readonly SentParameter[] = [];

  constructor(
    private readonly client: pg.PoolClient,
    private readonly context: TransactionContext,
  ) {}

  /** Writes the correlation id into the WAL, in this transaction. */
  async correlate(correlationId: string | undefined): Promise<void> {
    if (correlationId === undefined) return;
    this.params = [];
    await this.client.query('SELECT pg_logical_emit_message(true, $1, $2)', [
      CORRELATION_MESSAGE_PREFIX,
      correlationId,
    ]);
  }

  /**
   * Runs a statement ending in `RETURNING *, <xid>` and maps its rows. With `id`, only key
   * parameters are sent: no row, or a key its type cannot hold, is a 404.
   */
  async returning(
    sql: string,
    params: readonly SentParameter[],
    id?: string,
  ): Promise<{ rows: MappedRow[]; xid: number }> {
    const result = await this.query(sql, params, id);
    if (result.rows.length === 0 && id !== undefined) throw rowNotFound(this.context.table, id);
    const rows = await this.mapped(result, 1);
    return { rows, xid: Number(result.rows[0]?.at(-1)) };
  }

  /** The row with the key `params`, locked until the transaction ends; a 404 when there is none. */
  async lockedRow(sql: string, params: readonly SentParameter[], id: string): Promise<MappedRow> {
    const result = await this.query(sql, params, id);
    if (result.rows.length === 0) throw rowNotFound(this.context.table, id);
    return (await this.mapped(result, 0))[0] as MappedRow;
  }

  /**
   * The candidates whose value differs from the row's. Each is read back through its column's
   * type first, so `"2024-06-01T12:00:00Z"` for a stored `…00.000000Z`, `"5"` for `5` or
   * differently ordered jsonb keys are no change.
   */
  async changedValues(candidates: readonly SentParameter[], row: MappedRow): Promise<SentParameter[]> {
    if (candidates.length === 0) return [];
    const casts = candidates.map(({ column }, i) => `$${i + 1}::${column.typeSql} AS "${i}"`);
    const result = await this.query(`SELECT ${casts.join(', ')}`, candidates);
    const [read] = await this.mapped(result, 0);
    return candidates.filter(({ column }, i) => !deepEqual(read?.[String(i)], row[column.name]));
  }

  private async query(
    sql: string,
    params: readonly SentParameter[],
    id?: string,
  ): Promise<pg.QueryArrayResult> {
    this.params = params;
    try {
      return await this.client.query({ text: sql, values: params.map((p) => p.text), rowMode: 'array' });
    } catch (error) {
      if (id !== undefined && isDataException(error)) throw rowNotFound(this.context.table, id);
      throw error;
    }
  }

  /** The rows of an array-mode result as §10 maps them, leaving out the last `extra` columns. */
  private async mapped(result: pg.QueryArrayResult, extra: number): Promise<MappedRow[]> {
    const columns = fieldColumns(result.fields.slice(0, result.fields.length - extra));
    await this.context.catalog.load(columns.map((column) => column.typeOid));
    return result.rows.map((values) =>
      mapRow(
        this.context.catalog,
        columns,
        Object.fromEntries(columns.map((column, i) => [column.name, values[i] as string | null])),
      ),
    );
  }
}
