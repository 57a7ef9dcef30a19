/**
 * The writes a record event reports (PROTOCOL.md section 4, `batch`) and the names a `filter`'s
 * `operations` may give them; and the row operations of `postgres:` channels (section 10). Free
 * of zod, so that the elements can read an `operations` attribute in the browser.
 */

/** The write that produced a record event. */
export const OPERATIONS = ['create', 'update', 'delete'] as const;
/** One of `OPERATIONS`. */
export type Operation = (typeof OPERATIONS)[number];

/** Maps an `operations` filter entry (any case; `INSERT`, `UPDATE`, `DELETE` accepted) to an operation. */
export function normalizeOperation(name: string): Operation | undefined {
  const lower = name.toLowerCase();
  if (lower === 'insert') return 'create';
  return (OPERATIONS as readonly string[]).includes(lower) ? (lower as Operation) : undefined;
}

/** The change to a table that produced a row event (`postgres:` channels). */
export const ROW_OPERATIONS = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'] as const;
/** One of `ROW_OPERATIONS`. */
export type RowOperation = (typeof ROW_OPERATIONS)[number];

/**
 * Maps an `operations` filter entry of a `postgres:` channel to a row operation: `INSERT`,
 * `UPDATE`, `DELETE`, `TRUNCATE` in any case, and the record names `create`, `update`, `delete`.
 */
export function normalizeRowOperation(name: string): RowOperation | undefined {
  const upper = name.toUpperCase();
  if (upper === 'CREATE') return 'INSERT';
  return (ROW_OPERATIONS as readonly string[]).includes(upper) ? (upper as RowOperation) : undefined;
}
