/**
 * Where the rows of a PostgreSQL table are read and written (PROTOCOL.md section 10): the
 * PostgreSQL source implements it (Node only); the engine, which does no I/O, asks it for the
 * snapshots of `postgres:<table>` subscriptions and for everything about an object kept in a
 * table — its snapshots, REST reads and REST writes. The browser mock has none (it refuses a
 * `postgres` config).
 */
import type { LiveRecord, LiveRow, MeteredWhere } from '../../protocol/index.js';
import type { Environment } from './environment.js';
import type { FilterMeter } from './filter-work.js';

/** What a table snapshot or list asks for. */
export type TableQuery = {
  where: MeteredWhere;
  recordId?: string | undefined;
  sort?: readonly string[] | undefined;
  /** At most this many rows (and never more than `maxSnapshotRecords`). */
  limit?: number | undefined;
  /** Stop (with `truncated`) before the rows' JSON passes this many characters. */
  maxChars?: number | undefined;
  /** Prices the where per row (`maxFilterWork`); throws `FilterWorkError` past it. */
  meter: FilterMeter;
  /** Rows as records of the table's object: `id` is the primary key as a string. */
  asRecords: boolean;
};

/** A snapshot's rows (sorted, limited, unprojected) and the `seq` they reflect. */
export type TableSnapshot = { rows: readonly LiveRow[]; truncated: boolean; seq: number };

/** A table's store. */
export interface TableStore {
  /**
   * Reads the rows of `table` that match `query`, as they are at one `seq` of `env`: `done` is
   * called with them in the very turn in which `env.seq` is that `seq` (so a subscription put
   * live then misses nothing and gets nothing twice), or with the error that stopped it
   * (`ApiError` `unavailable` when the database cannot be reached, `FilterWorkError`). Nothing is
   * called after `signal` aborts.
   */
  snapshot(
    env: Environment,
    table: string,
    query: TableQuery,
    done: (result: TableSnapshot | { error: unknown }) => void,
    signal?: AbortSignal,
  ): void;
  /** The record of an object kept in `table` by its id, or undefined. */
  get(env: Environment, table: string, id: string): Promise<LiveRecord | undefined>;
  /** Inserts a record; answers what was stored (`ApiError` 400 naming a column, 409 for a duplicate key). */
  create(
    env: Environment,
    table: string,
    body: Record<string, unknown>,
    correlationId?: string,
  ): Promise<LiveRecord>;
  /** Applies a JSON Merge Patch to the named columns; answers the record as stored. */
  patch(
    env: Environment,
    table: string,
    id: string,
    patch: Record<string, unknown>,
    correlationId?: string,
  ): Promise<LiveRecord>;
  /** Deletes a record (`ApiError` 404 when there is none). */
  remove(env: Environment, table: string, id: string, correlationId?: string): Promise<void>;
}
