/**
 * Which decoder reads a column of a given type OID. The types §10 names are built in; any other
 * OID (varchar[], uuid[], an enum or its array, a domain) is looked up in `pg_type` once and cached,
 * because the decoder of an array depends on its element type and delimiter, and a domain reads
 * as its base type.
 */
import { arrayDecoder, BUILTIN_DECODERS, decodeAsText, type ValueDecoder } from './text-decoders.js';

/** What the catalog needs of a connection: a `pg.Client` or `pg.Pool`, whatever its type parsers. */
export interface TypeQueryable {
  query(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * The asked types and, recursively, their element and base types. Every column is cast to text so
 * the rows read the same through a raw-text client and through `pg`'s default parsers. An array
 * type is one whose element names it as its array type: `int2vector` and `oidvector` also have a
 * `typelem` and subscripts, but their text is `1 2`, not `{1,2}`.
 */
export const TYPE_QUERY = `
  WITH RECURSIVE wanted(oid) AS (
    SELECT unnest($1::oid[])
    UNION
    SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.typelem END
    FROM pg_type t JOIN wanted ON t.oid = wanted.oid
    WHERE t.typtype = 'd' OR t.typelem <> 0
  )
  SELECT t.oid::text AS oid, t.typtype::text AS kind, t.typbasetype::text AS base,
         t.typtypmod::text AS typmod, t.typelem::text AS element, t.typdelim::text AS delimiter,
         (t.typelem <> 0 AND e.typarray = t.oid)::text AS is_array
  FROM wanted JOIN pg_type t ON t.oid = wanted.oid LEFT JOIN pg_type e ON e.oid = t.typelem`;

interface TypeRow {
  kind: string;
  base: number;
  element: number;
  delimiter: string;
  isArray: boolean;
}

/**
 * Decoders by type OID for one database. Call `load` with a relation's or a result's type OIDs
 * before decoding its rows (a no-op once they are known); `decoder` itself is synchronous, so a
 * replication stream decodes without awaiting anything.
 */
export class PgTypeCatalog {
  private readonly decoders = new Map<number, ValueDecoder>(BUILTIN_DECODERS);

  /** `db` answers the `pg_type` queries of `load`; any connection to the same database will do. */
  constructor(private readonly db: TypeQueryable) {}

  /** Whether `decoder(oid)` is ready. */
  has(oid: number): boolean {
    return this.decoders.has(oid);
  }

  /** Looks up the OIDs not known yet, in one query. Types are never altered in place, so never again. */
  async load(oids: Iterable<number>): Promise<void> {
    const missing = [...new Set(oids)].filter((oid) => !this.decoders.has(oid));
    if (missing.length === 0) return;
    const { rows } = await this.db.query(TYPE_QUERY, [missing]);
    const types = new Map<number, TypeRow>();
    for (const row of rows) {
      types.set(Number(row.oid), {
        kind: String(row.kind),
        base: Number(row.base),
        element: Number(row.element),
        delimiter: String(row.delimiter),
        isArray: row.is_array === 'true',
      });
    }
    for (const oid of missing) this.build(oid, types);
  }

  /** The decoder of a type `load` has seen; throws for one it has not, naming the fix. */
  decoder(oid: number): ValueDecoder {
    const decoder = this.decoders.get(oid);
    if (!decoder) throw new Error(`type OID ${oid} is not loaded: await catalog.load([${oid}]) first`);
    return decoder;
  }

  private build(oid: number, types: ReadonlyMap<number, TypeRow>): ValueDecoder {
    const known = this.decoders.get(oid);
    if (known) return known;
    const type = types.get(oid);
    // An OID pg_type does not have (a type dropped meanwhile) still has text.
    let decoder = decodeAsText;
    if (type?.kind === 'd') decoder = this.build(type.base, types);
    else if (type?.isArray) decoder = arrayDecoder(this.build(type.element, types), type.delimiter);
    this.decoders.set(oid, decoder);
    return decoder;
  }
}
