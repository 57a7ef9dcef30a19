/**
 * PostgreSQL row values → the JSON values of PROTOCOL.md §10, the same for a row streamed by
 * logical replication and for a row read with SELECT: both connections keep PostgreSQL's text
 * (pgoutput sends text anyway), under the same session settings, and one decoder per type OID
 * reads it. `text-decoders.ts` holds the per-type rules and the decisions where §10 is silent.
 */
import type { CustomTypesConfig, FieldDef } from 'pg';
import type { JsonValue } from '../../../protocol/index.js';
import type { PgTypeCatalog } from './type-catalog.js';

/**
 * The `options` of both the replication and the query connection (`new pg.Client({options})`,
 * `new LogicalReplicationService({options})`). Session settings decide the text of dates, times,
 * bytea and floats, and pgoutput writes values in the walsender session's settings, so without
 * them a server or role configured otherwise would send text the decoders cannot read, or a
 * snapshot and an event of the same row would differ. `extra_float_digits=1` gives the shortest
 * text that reads back as the same float (PostgreSQL 12's default, pinned against old configs).
 */
export const PG_SESSION_OPTIONS =
  '-c DateStyle=ISO,MDY -c TimeZone=UTC -c IntervalStyle=postgres -c bytea_output=hex -c extra_float_digits=1';

const keepText = (text: string): string => text;

/**
 * `types` for a query connection whose rows keep PostgreSQL's text, as pgoutput's do: `pg`'s
 * default parsers are lossy (bigint and numeric arrays through doubles, timestamps through `Date`
 * and local time).
 */
export const RAW_TEXT_TYPES: CustomTypesConfig = {
  getTypeParser: (() => keepText) as CustomTypesConfig['getTypeParser'],
};

/**
 * Makes pg-logical-replication leave a relation's values as text: call it on every `relation`
 * message. The library reads each column's `parser` from the cached relation for every later tuple.
 */
export function keepWireText(relation: { columns: { parser: (raw: string) => unknown }[] }): void {
  for (const column of relation.columns) column.parser = keepText;
}

/** A column of a row to map: a pgoutput relation column has this shape already. */
export interface PgColumn {
  readonly name: string;
  readonly typeOid: number;
}

/** A query result's columns (`result.fields`) as `PgColumn`s. */
export function fieldColumns(fields: readonly FieldDef[]): PgColumn[] {
  return fields.map((field) => ({ name: field.name, typeOid: field.dataTypeID }));
}

/** One column's wire text (`null` for NULL) → its JSON value. The type must be loaded. */
export function mapValue(catalog: PgTypeCatalog, typeOid: number, text: string | null): JsonValue {
  return text === null ? null : catalog.decoder(typeOid)(text);
}

/**
 * A row of wire text → a record of JSON values, columns in `columns`' order. A column whose value
 * is `undefined` (pgoutput's unchanged TOAST value without `REPLICA IDENTITY FULL`) is left out
 * rather than guessed. Keys are defined, not assigned, so a column named `__proto__` is a column.
 */
export function mapRow(
  catalog: PgTypeCatalog,
  columns: readonly PgColumn[],
  row: Readonly<Record<string, string | null | undefined>>,
): Record<string, JsonValue> {
  const entries: [string, JsonValue][] = [];
  for (const { name, typeOid } of columns) {
    const text = row[name];
    if (text !== undefined) entries.push([name, mapValue(catalog, typeOid, text)]);
  }
  return Object.fromEntries(entries);
}

/**
 * An event's `id` from the mapped values of the primary key's columns, in key order (§10): a text
 * key is itself, a number its decimal text (a bigint past 2^53−1 is already text, so every integer
 * key reads as its digits), and a composite key the JSON array text of its values.
 */
export function recordId(key: readonly JsonValue[]): string {
  if (key.length !== 1) return JSON.stringify(key);
  const [value] = key;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
