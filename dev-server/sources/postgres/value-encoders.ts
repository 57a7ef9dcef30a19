/**
 * JSON values → the text of a PostgreSQL query parameter, by column type: the inverse of
 * `text-decoders.ts`, so a value read from a row (PROTOCOL.md §10) can be written back unchanged.
 * JSON kinds are checked here, before any SQL is sent, against what the read side gives for the
 * type: a boolean column takes `true`/`false`, an integer column an integer (or its digits, as a
 * bigint past 2^53 reads), a float `NaN`/`Infinity` as text, bytea base64, and every type §10
 * leaves as text (timestamps, uuid, enums, interval, …) a string, whose syntax PostgreSQL checks.
 *
 * Arrays are written as PostgreSQL array literals (`{"1","2"}`), every element quoted, so no
 * element text needs rules of its own; nested JSON arrays are sub-arrays. The elements of a
 * `json[]`/`jsonb[]` are JSON values themselves, arrays included, so such a column is
 * one-dimensional here.
 */
import { isPlainObject } from '../../../protocol/index.js';

/** What a column takes, decided by its type (a domain by its base type). */
export type ValueKind =
  | { readonly type: 'bool' }
  | { readonly type: 'integer'; readonly min: bigint; readonly max: bigint }
  | { readonly type: 'float' }
  | { readonly type: 'numeric' }
  | { readonly type: 'json' }
  | { readonly type: 'bytea' }
  /** timestamp and timestamptz: text PostgreSQL reads (ISO 8601 is what the read side gives). */
  | { readonly type: 'timestamp' }
  /** Any other type: PostgreSQL's text form; `maxLength` for varchar(n) and char(n). */
  | { readonly type: 'text'; readonly maxLength?: number }
  | { readonly type: 'array'; readonly element: ValueKind; readonly delimiter: string };

/** A value of the wrong JSON kind for its column; the caller names the column. */
export class WrongValueError extends Error {
  constructor(
    /** What the column takes, as a phrase: `an integer from -32768 to 32767`. */
    readonly expected: string,
    /** The offending value (an array element, for an array column). */
    readonly value: unknown,
    /** Where in an array value, like `[2][0]`; empty for the value itself. */
    readonly at = '',
  ) {
    super(`takes ${expected}, not ${describeJson(value)}`);
    this.name = 'WrongValueError';
  }
}

const integer = (bits: number): ValueKind => ({
  type: 'integer',
  min: -(2n ** BigInt(bits - 1)),
  max: 2n ** BigInt(bits - 1) - 1n,
});

/** The kinds of the base types with rules of their own, by type OID (fixed in `pg_type.dat`). */
export const SCALAR_KINDS: ReadonlyMap<number, ValueKind> = new Map<number, ValueKind>([
  [16, { type: 'bool' }],
  [17, { type: 'bytea' }],
  [20, integer(64)],
  [21, integer(16)],
  [23, integer(32)],
  [114, { type: 'json' }],
  [700, { type: 'float' }],
  [701, { type: 'float' }],
  [1114, { type: 'timestamp' }],
  [1184, { type: 'timestamp' }],
  [1700, { type: 'numeric' }],
  [3802, { type: 'json' }],
]);

/** varchar and char: a type modifier of n + 4 limits them to n characters. */
export const LENGTH_LIMITED_TYPES: ReadonlySet<number> = new Set([1042, 1043]);

/** The phrase for what a kind takes, for messages. */
export function describeKind(kind: ValueKind): string {
  switch (kind.type) {
    case 'bool':
      return 'true or false';
    case 'integer':
      return `an integer from ${kind.min} to ${kind.max}`;
    case 'float':
      return 'a number (or "NaN", "Infinity", "-Infinity")';
    case 'numeric':
      return 'a number or its decimal text';
    case 'json':
      return 'any JSON value';
    case 'bytea':
      return 'base64 text';
    case 'timestamp':
      return 'a date and time as ISO 8601 text';
    case 'text':
      return kind.maxLength === undefined ? 'text' : `text of at most ${kind.maxLength} characters`;
    case 'array':
      return `an array whose elements are ${describeKind(kind.element)}`;
  }
}

/** A JSON value as a message names it: `the string "abc"`, `the number 1.5`, `an object`. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${value}`;
  if (Array.isArray(value)) return 'an array';
  return isPlainObject(value) ? 'an object' : typeof value;
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NOT_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/**
 * The parameter text of `value` for a column of `kind`: `null` for SQL NULL. Throws a
 * `WrongValueError` for a value the column cannot take.
 */
export function encodeValue(kind: ValueKind, value: unknown): string | null {
  if (value === null) return null;
  const wrong = () => new WrongValueError(describeKind(kind), value);
  switch (kind.type) {
    case 'bool':
      if (typeof value !== 'boolean') throw wrong();
      return value ? 'true' : 'false';
    case 'integer': {
      let n: bigint;
      if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
      else if (typeof value === 'string' && INTEGER_TEXT.test(value)) n = BigInt(value);
      else throw wrong();
      if (n < kind.min || n > kind.max) throw wrong();
      return n.toString();
    }
    case 'float':
      if (typeof value === 'number') return String(value);
      if (typeof value === 'string' && (NOT_FINITE.has(value) || NUMBER_TEXT.test(value))) return value;
      throw wrong();
    case 'numeric':
      if (typeof value === 'number') return String(value);
      if (typeof value === 'string' && (NOT_FINITE.has(value) || NUMBER_TEXT.test(value))) return value;
      throw wrong();
    case 'json':
      return JSON.stringify(value);
    case 'bytea':
      if (typeof value !== 'string' || !BASE64.test(value)) throw wrong();
      return `\\x${Buffer.from(value, 'base64').toString('hex')}`;
    case 'timestamp':
    case 'text':
      if (typeof value !== 'string') throw wrong();
      // PostgreSQL text cannot hold U+0000; its own error would not name the column.
      if (value.includes('\u0000')) throw new WrongValueError('text without the character U+0000', value);
      if (kind.type === 'text' && kind.maxLength !== undefined && [...value].length > kind.maxLength) {
        throw wrong();
      }
      return value;
    case 'array':
      if (!Array.isArray(value)) throw wrong();
      return arrayLiteral(kind, value, '');
  }
}

/** `{…}` with every element quoted (`"` and `\` escaped), NULL for null, nested arrays nested. */
function arrayLiteral(kind: ValueKind & { type: 'array' }, items: readonly unknown[], at: string): string {
  const parts = items.map((item, i) => {
    const here = `${at}[${i}]`;
    if (item === null) return 'NULL';
    if (Array.isArray(item) && kind.element.type !== 'json') return arrayLiteral(kind, item, here);
    let text: string | null;
    try {
      text = encodeValue(kind.element, item);
    } catch (error) {
      if (!(error instanceof WrongValueError)) throw error;
      throw new WrongValueError(error.expected, error.value, here + error.at);
    }
    return `"${(text as string).replace(/["\\]/g, '\\$&')}"`;
  });
  return `{${parts.join(kind.delimiter)}}`;
}
