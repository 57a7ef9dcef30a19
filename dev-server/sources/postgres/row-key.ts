/**
 * How a REST request names a row of a table (PROTOCOL.md §10): the URL's `:id` is the primary key
 * as text — a single column's value as `recordId` writes it, a composite key the JSON array text
 * of its values — and a body may carry that same `id`.
 *
 * A body's `id` is the column `id` when the table has one. When it has none, `id` is the key as
 * the URL writes it: it fills the key columns the body leaves out, and must agree with those it
 * gives (a client may send back a record it read, `id` included). For a single-column key a
 * non-string `id` (`{"id": 7}`) is the value itself.
 */
import { isPlainObject, type JsonValue } from '../../../protocol/index.js';
import { ApiError } from '../../engine/api-error.js';
import type { PreparedTable } from './setup.js';
import type { TableShape } from './table-shape.js';
import type { ValueKind } from './value-encoders.js';
import { recordId } from './values.js';

/** `schema.table`, as messages name a table. */
export function tableName(table: PreparedTable): string {
  return `${table.schema}.${table.table}`;
}

/** The 404 for an id that names no row. */
export function rowNotFound(table: PreparedTable, id: string): ApiError {
  return new ApiError('not_found', `table ${tableName(table)} has no row with id "${id}"`);
}

/** A body's fields split into the table's columns and the `id` standing for its key, if any. */
export interface NamedColumns {
  readonly values: Map<string, unknown>;
  /** The body's `id` where the table has no column `id`: the key as text (or a single key's value). */
  readonly keyId?: unknown;
}

/**
 * The columns a body names. Needs nothing but the table's column list, so an unknown column is
 * refused before any SQL is sent.
 */
export function namedColumns(table: PreparedTable, body: unknown): NamedColumns {
  if (!isPlainObject(body)) throw new ApiError('bad_request', 'the body must be a JSON object');
  const known = new Set(table.columns.map((column) => column.name));
  const values = new Map<string, unknown>();
  let keyId: unknown;
  for (const name of Object.keys(body)) {
    if (known.has(name)) values.set(name, body[name]);
    else if (name === 'id') keyId = body[name];
    else throw new ApiError('bad_request', `unknown column "${name}" in table ${tableName(table)}`);
  }
  return keyId === undefined ? { values } : { values, keyId };
}

/**
 * The key's values (JSON, as a row read gives them) from an id's text, or undefined when no row
 * can have that id (not a JSON array of the key's length, `maybe` for a boolean key, …).
 */
export function keyFromId(table: PreparedTable, shape: TableShape, id: string): JsonValue[] | undefined {
  const kinds = table.primaryKey.map((name) => shape.columns.get(name)?.kind ?? { type: 'text' as const });
  if (kinds.length === 1) {
    const value = valueFromText(kinds[0] as ValueKind, id);
    return value === undefined ? undefined : [value];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(id);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== kinds.length) return undefined;
  if (parsed.some((value) => value === null || typeof value === 'object')) return undefined;
  return parsed as JsonValue[];
}

/** A single key's value from its id text: `recordId` wrote strings as themselves, others as JSON. */
function valueFromText(kind: ValueKind, text: string): JsonValue | undefined {
  switch (kind.type) {
    case 'bool':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'json':
    case 'array':
      try {
        return JSON.parse(text) as JsonValue;
      } catch {
        return kind.type === 'json' ? text : undefined;
      }
    default:
      // Numbers stay text: an integer or numeric column takes its digits.
      return text;
  }
}

/**
 * The body's values with the key columns its `id` stands for filled in; a 400 when the `id` names
 * no key or disagrees with a key column the body also gives.
 */
export function withKeyFromId(
  table: PreparedTable,
  shape: TableShape,
  named: NamedColumns,
): Map<string, unknown> {
  if (named.keyId === undefined) return named.values;
  const { keyId } = named;
  const single = table.primaryKey.length === 1;
  const key =
    typeof keyId === 'string'
      ? keyFromId(table, shape, keyId)
      : single && keyId !== null
        ? [keyId]
        : undefined;
  if (!key) {
    const form = single
      ? `the value of column "${table.primaryKey[0]}"`
      : `the JSON array text of (${table.primaryKey.join(', ')})`;
    throw new ApiError('bad_request', `"id" in table ${tableName(table)} must be its primary key, ${form}`);
  }
  const values = new Map(named.values);
  table.primaryKey.forEach((name, i) => {
    const fromId = key[i] as JsonValue;
    if (!values.has(name)) values.set(name, fromId);
    else if (recordId([values.get(name) as JsonValue]) !== recordId([fromId])) {
      throw new ApiError(
        'bad_request',
        `"id" ${JSON.stringify(keyId)} disagrees with column "${name}" (${JSON.stringify(values.get(name))}) in table ${tableName(table)}`,
      );
    }
  });
  return values;
}
