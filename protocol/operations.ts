/**
 * The writes a record event reports (PROTOCOL.md section 4, `batch`) and the names a `filter`'s
 * `operations` may give them. Free of zod, so that the elements can read an `operations`
 * attribute in the browser.
 */

/** The write that produced a record event. */
export const OPERATIONS = ['create', 'update', 'delete'] as const;
/** One of `OPERATIONS`. */
export type Operation = (typeof OPERATIONS)[number];

const OPERATION_ALIASES: Readonly<Record<string, Operation>> = {
  create: 'create',
  update: 'update',
  delete: 'delete',
  insert: 'create',
};

/** Maps an `operations` filter entry (any case; `INSERT`, `UPDATE`, `DELETE` accepted) to an operation. */
export function normalizeOperation(name: string): Operation | undefined {
  return Object.hasOwn(OPERATION_ALIASES, name.toLowerCase())
    ? OPERATION_ALIASES[name.toLowerCase()]
    : undefined;
}
