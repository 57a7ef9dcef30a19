/**
 * What writing a table needs to know of its columns beyond `PreparedTable`: the kind of value each
 * takes (`value-encoders.ts`), its type as SQL (to check one value alone when PostgreSQL refuses a
 * row without saying which column), whether PostgreSQL computes it (generated, or identity
 * `ALWAYS`), and which columns are stamped with the write time. Read from the catalog once per
 * table and kept: `PreparedTable` is fixed at start too.
 */
import { LENGTH_LIMITED_TYPES, SCALAR_KINDS, type ValueKind } from './value-encoders.js';
import type { PreparedTable } from './setup.js';
import { TYPE_QUERY, type TypeQueryable } from './type-catalog.js';

/** One column, as a write sees it. */
export interface WriteColumn {
  readonly name: string;
  readonly kind: ValueKind;
  /** The column's type as PostgreSQL writes it (`format_type`), with its modifier: `numeric(10,2)`. */
  readonly typeSql: string;
  /** Why a write may not give it a value (generated, identity ALWAYS), or undefined. */
  readonly computed?: string;
}

/** A table's columns for writing, and its stamped columns. */
export interface TableShape {
  readonly columns: ReadonlyMap<string, WriteColumn>;
  /** `createdAt`/`created_at` columns of a timestamp type: stamped on insert unless given. */
  readonly createdColumns: readonly string[];
  /** `updatedAt`/`updated_at` columns of a timestamp type: stamped on every write. */
  readonly updatedColumns: readonly string[];
}

const COLUMNS_QUERY = `
  SELECT attname AS name, atttypid::text AS type, atttypmod::text AS typmod,
         format_type(atttypid, atttypmod) AS type_sql,
         attgenerated::text AS generated, attidentity::text AS identity
  FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`;

interface TypeRow {
  domain: boolean;
  base: number;
  typmod: number;
  element: number;
  delimiter: string;
  isArray: boolean;
}

const CREATED = new Set(['createdAt', 'created_at']);
const UPDATED = new Set(['updatedAt', 'updated_at']);

/** Reads the columns of `table` from the catalog. */
export async function loadTableShape(db: TypeQueryable, table: PreparedTable): Promise<TableShape> {
  const attributes = (await db.query(COLUMNS_QUERY, [table.oid])).rows;
  const typeRows = (await db.query(TYPE_QUERY, [attributes.map((a) => Number(a.type))])).rows;
  const types = new Map<number, TypeRow>();
  for (const row of typeRows) {
    types.set(Number(row.oid), {
      domain: row.kind === 'd',
      base: Number(row.base),
      typmod: Number(row.typmod),
      element: Number(row.element),
      delimiter: String(row.delimiter),
      isArray: row.is_array === 'true',
    });
  }
  const columns = new Map<string, WriteColumn>();
  for (const attribute of attributes) {
    const name = String(attribute.name);
    const computed =
      attribute.generated === 's'
        ? 'it is a generated column, computed by PostgreSQL'
        : attribute.identity === 'a'
          ? 'it is GENERATED ALWAYS AS IDENTITY: PostgreSQL assigns it'
          : undefined;
    columns.set(name, {
      name,
      kind: kindOf(Number(attribute.type), Number(attribute.typmod), types),
      typeSql: String(attribute.type_sql),
      ...(computed === undefined ? {} : { computed }),
    });
  }
  const stamped = (names: ReadonlySet<string>) =>
    [...columns.values()]
      .filter((column) => names.has(column.name) && column.kind.type === 'timestamp' && !column.computed)
      .map((column) => column.name);
  return { columns, createdColumns: stamped(CREATED), updatedColumns: stamped(UPDATED) };
}

/** A type's kind: a domain's is its base type's (with the domain's modifier, if it has one). */
function kindOf(oid: number, typmod: number, types: ReadonlyMap<number, TypeRow>): ValueKind {
  const scalar = SCALAR_KINDS.get(oid);
  if (scalar) return scalar;
  if (LENGTH_LIMITED_TYPES.has(oid))
    return typmod >= 4 ? { type: 'text', maxLength: typmod - 4 } : { type: 'text' };
  const type = types.get(oid);
  if (type?.domain) return kindOf(type.base, type.typmod >= 0 ? type.typmod : typmod, types);
  if (type?.isArray) {
    // An array column's modifier is its elements' (varchar(5)[]).
    const delimiter = types.get(type.element)?.delimiter ?? ',';
    return { type: 'array', element: kindOf(type.element, typmod, types), delimiter };
  }
  return { type: 'text' };
}
