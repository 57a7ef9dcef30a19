/**
 * The `TableStore` of the PostgreSQL source: snapshots aligned with `seq` (table-snapshot.ts),
 * REST reads of an object kept in a table (table-reader.ts) and its writes as SQL
 * (table-writer.ts). Records of such an object are its table's rows with `id` the primary key as
 * a string (section 10); a write's events come back through the replication stream like any
 * other change to the table.
 */
import { ApiError } from '../../engine/api-error.js';
import type { Environment } from '../../engine/environment.js';
import type { TableQuery, TableSnapshot, TableStore } from '../../engine/table-store.js';
import type { LiveRecord, LiveRow } from '../../../protocol/index.js';
import { PostgresUnavailableError } from './postgres-unavailable-error.js';
import type { PreparedTable } from './setup.js';
import { readAlignedSnapshot, rowId } from './table-snapshot.js';
import type { TableReader } from './table-reader.js';
import type { TableWriter } from './table-writer.js';

/** What the store needs of the source. */
export interface TableStoreHost {
  readonly reader: TableReader;
  readonly writer: TableWriter;
  /** The exposed table of an environment by name. */
  exposedTable(env: Environment, table: string): PreparedTable | undefined;
  /** Resolves once the stream has applied every transaction committed before now. */
  caughtUp(env: Environment): Promise<void>;
}

/** Reads and writes the exposed tables of a PostgreSQL source. */
export class PgTableStore implements TableStore {
  constructor(private readonly host: TableStoreHost) {}

  snapshot(
    env: Environment,
    table: string,
    query: TableQuery,
    done: (result: TableSnapshot | { error: unknown }) => void,
    signal?: AbortSignal,
  ): void {
    const prepared = this.table(env, table);
    readAlignedSnapshot(
      {
        reader: this.host.reader,
        table: prepared,
        env,
        query,
        caughtUp: () => this.host.caughtUp(env),
        signal,
      },
      (result) => done('error' in result ? { error: asApiError(result.error) } : result),
    );
  }

  async get(env: Environment, table: string, id: string): Promise<LiveRecord | undefined> {
    const prepared = this.table(env, table);
    const key = keyTexts(prepared, id);
    if (key === undefined) return undefined;
    const row = await this.host.reader.readRow(prepared, key).catch(rethrowAsApiError);
    return row && asRecord(prepared, row);
  }

  async create(
    env: Environment,
    table: string,
    body: Record<string, unknown>,
    correlationId?: string,
  ): Promise<LiveRecord> {
    const prepared = this.table(env, table);
    const { row, id } = await this.host.writer
      .insert(prepared, body, correlationId === undefined ? {} : { correlationId })
      .catch(rethrowAsApiError);
    return { ...row, id };
  }

  async patch(
    env: Environment,
    table: string,
    id: string,
    patch: Record<string, unknown>,
    correlationId?: string,
  ): Promise<LiveRecord> {
    const prepared = this.table(env, table);
    const { row } = await this.host.writer
      .update(prepared, id, patch, correlationId === undefined ? {} : { correlationId })
      .catch(rethrowAsApiError);
    return asRecord(prepared, row);
  }

  async remove(env: Environment, table: string, id: string, correlationId?: string): Promise<void> {
    const prepared = this.table(env, table);
    await this.host.writer
      .delete(prepared, id, correlationId === undefined ? {} : { correlationId })
      .catch(rethrowAsApiError);
  }

  private table(env: Environment, table: string): PreparedTable {
    const prepared = this.host.exposedTable(env, table);
    if (!prepared) throw new ApiError('not_found', `unknown table "${table}"`);
    return prepared;
  }
}

/** A row as a record of the table's object. */
function asRecord(table: PreparedTable, row: LiveRow): LiveRecord {
  return { ...row, id: rowId(table, row) };
}

/**
 * The primary key's values as text from an id (section 10's form: a single key is its text, a
 * composite key the JSON array of its values), or undefined when no row can have that id.
 */
function keyTexts(table: PreparedTable, id: string): string[] | undefined {
  if (table.primaryKey.length === 1) return [id];
  let values: unknown;
  try {
    values = JSON.parse(id);
  } catch {
    return undefined;
  }
  if (!Array.isArray(values) || values.length !== table.primaryKey.length) return undefined;
  if (values.some((v) => v === null || typeof v === 'object')) return undefined;
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
}

/** A database that cannot be reached is a 503 `unavailable`; anything else stays itself. */
function asApiError(error: unknown): unknown {
  return error instanceof PostgresUnavailableError ? new ApiError('unavailable', error.message) : error;
}

function rethrowAsApiError(error: unknown): never {
  throw asApiError(error);
}
