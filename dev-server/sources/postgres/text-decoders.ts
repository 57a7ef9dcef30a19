/**
 * PostgreSQL's text output of one value → the JSON value PROTOCOL.md §10 gives it. Each decoder
 * reads the text of the session settings in `PG_SESSION_OPTIONS` (`values.ts`); any other
 * `DateStyle` or `bytea_output` is a bug in the caller, reported by a thrown error that says so.
 */
import { parse as parseArrayText } from 'postgres-array';
import type { JsonValue } from '../../../protocol/index.js';

/** Turns the wire text of one non-NULL value into its JSON value. */
export type ValueDecoder = (text: string) => JsonValue;

/** Types §10 leaves as PostgreSQL's text form: uuid, varchar, enums, interval, money, … */
export const decodeAsText: ValueDecoder = (text) => text;

function wrongSettings(type: string, text: string): Error {
  return new Error(
    `unexpected ${type} text ${JSON.stringify(text)}: read PostgreSQL with PG_SESSION_OPTIONS ` +
      '(DateStyle=ISO, bytea_output=hex) on both the replication and the query connection',
  );
}

const decodeBool: ValueDecoder = (text) => text === 't';

const decodeInteger: ValueDecoder = (text) => Number(text);

/** NaN and ±Infinity have no JSON number, so they stay `"NaN"`, `"Infinity"`, `"-Infinity"`. */
const decodeFloat: ValueDecoder = (text) => {
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
};

const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;

/**
 * bigint and numeric: a number only when JSON carries the exact value. Integers must be safe
 * (|n| ≤ 2^53−1), so a bigint column is numbers up to there and text beyond, never a mix decided
 * by rounding luck. A fraction is a number when the double's shortest text (what JSON.stringify
 * writes) denotes the same decimal: `1.10` → 1.1 (the scale is not kept; a `numeric(10,2)` column
 * must not turn `1.10` into text while `1.25` is a number), `0.0000001` → 1e-7.
 * `NaN` and `±Infinity` stay text.
 */
const decodeExactNumber: ValueDecoder = (text) => {
  if (!PLAIN_DECIMAL.test(text)) return text;
  const value = Number(text);
  if (!text.includes('.')) return Number.isSafeInteger(value) ? value : text;
  // `9007199254740992.0` is an exact double, but as an integer past 2^53−1 it stays text too.
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) return text;
  return decimalKey(String(value)) === decimalKey(text) ? value : text;
};

/** A decimal's value as `digits e exponent` without leading or trailing zeros, to compare texts. */
function decimalKey(text: string): string {
  const [mantissa = '', exponent = '0'] = text.split('e');
  const negative = mantissa.startsWith('-');
  const [whole = '', fraction = ''] = (negative ? mantissa.slice(1) : mantissa).split('.');
  const digits = (whole + fraction).replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '');
  if (significant === '') return '0';
  const power = Number(exponent) - fraction.length + (digits.length - significant.length);
  return `${negative ? '-' : ''}${significant}e${power}`;
}

const decodeJson: ValueDecoder = (text) => JSON.parse(text) as JsonValue;

const decodeBytea: ValueDecoder = (text) => {
  if (!text.startsWith('\\x')) throw wrongSettings('bytea', text);
  return Buffer.from(text.slice(2), 'hex').toString('base64');
};

/** `infinity`, `-infinity` and BC dates have no ISO 8601 form that JavaScript reads: kept as text. */
function isOutsideIso(text: string): boolean {
  return text.endsWith(' BC') || text === 'infinity' || text === '-infinity';
}

/** Years past 9999 in ECMAScript's expanded form (`+010000`), as `Date#toISOString` writes them. */
function isoYear(year: string): string {
  return year.length > 4 ? `+${year.padStart(6, '0')}` : year;
}

/**
 * Fractions always have 6 digits (PostgreSQL's precision, which it prints with trailing zeros
 * cut), so the values of one column have one width and sort as text in time order.
 */
function micros(fraction: string | undefined): string {
  return (fraction ?? '').padEnd(6, '0');
}

const DATE = /^(\d{4,})-(\d\d)-(\d\d)$/;
const TIME = /^(\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/;
const TIMESTAMP = /^(\d{4,})-(\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/;
const TIMESTAMPTZ =
  /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/;

const decodeDate: ValueDecoder = (text) => {
  if (isOutsideIso(text)) return text;
  const match = DATE.exec(text);
  if (!match) throw wrongSettings('date', text);
  return `${isoYear(match[1] as string)}-${match[2]}-${match[3]}`;
};

const decodeTime: ValueDecoder = (text) => {
  const match = TIME.exec(text);
  if (!match) throw wrongSettings('time', text);
  return `${match[1]}.${micros(match[2])}`;
};

const decodeTimestamp: ValueDecoder = (text) => {
  if (isOutsideIso(text)) return text;
  const match = TIMESTAMP.exec(text);
  if (!match) throw wrongSettings('timestamp', text);
  return `${isoYear(match[1] as string)}-${match[2]}T${match[3]}.${micros(match[4])}`;
};

/**
 * timestamptz → `YYYY-MM-DDTHH:MM:SS.ffffffZ`, microseconds kept. The session's `TimeZone=UTC`
 * makes the offset `+00`, read without date arithmetic (so PostgreSQL's last year, 294276, works
 * too); any other offset (even LMT's `-04:56:02`) is applied, so the value does not depend on that
 * setting. With an offset past JavaScript's last date (year 275760) the text is kept.
 */
const decodeTimestamptz: ValueDecoder = (text) => {
  if (isOutsideIso(text)) return text;
  const match = TIMESTAMPTZ.exec(text);
  if (!match) throw wrongSettings('timestamptz', text);
  const [, year = '', month, day, hour, minute, second, fraction, sign, offH, offM, offS] = match;
  const offset = (sign === '-' ? -1 : 1) * (Number(offH) * 3600 + Number(offM ?? 0) * 60 + Number(offS ?? 0));
  if (offset === 0)
    return `${isoYear(year)}-${month}-${day}T${hour}:${minute}:${second}.${micros(fraction)}Z`;
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second) - offset, 0);
  if (Number.isNaN(date.getTime())) return text;
  return `${date.toISOString().slice(0, -5)}.${micros(fraction)}Z`;
};

/**
 * An array type's decoder: nested arrays for multi-dimensional ones, `null` for NULL elements, and
 * the element decoder for the rest. Lower bounds (`[0:1]={7,8}`) are dropped: JSON arrays start at 0.
 */
export function arrayDecoder(element: ValueDecoder, delimiter = ','): ValueDecoder {
  return (text) =>
    parseArrayText(delimiter === ',' ? text : toCommaForm(text, delimiter), element) as JsonValue;
}

/**
 * `postgres-array` splits on commas only; box[] separates with `;` and its elements contain
 * commas, unquoted (`{(1,1),(0,0);(2,2),(1,1)}`). Quoting each unquoted element and writing commas
 * for the delimiter gives text it reads correctly.
 */
function toCommaForm(text: string, delimiter: string): string {
  let out = '';
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  while (i < text.length) {
    const char = text[i];
    let end = i + 1;
    if (char === '{' || char === '}') out += char;
    else if (char === delimiter) out += ',';
    else if (char === '"') {
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      end += 1;
      out += text.slice(i, end);
    } else {
      end = i;
      while (end < text.length && text[end] !== delimiter && text[end] !== '}') end += 1;
      const element = text.slice(i, end);
      out += element === 'NULL' ? element : `"${element.replace(/["\\]/g, '\\$&')}"`;
    }
    i = end;
  }
  return out;
}

const SCALARS: ReadonlyArray<readonly [oid: number, arrayOid: number, decoder: ValueDecoder]> = [
  [16, 1000, decodeBool],
  [17, 1001, decodeBytea],
  [20, 1016, decodeExactNumber],
  [21, 1005, decodeInteger],
  [23, 1007, decodeInteger],
  [25, 1009, decodeAsText],
  [114, 199, decodeJson],
  [700, 1021, decodeFloat],
  [701, 1022, decodeFloat],
  [1043, 1015, decodeAsText],
  [1082, 1182, decodeDate],
  [1083, 1183, decodeTime],
  [1114, 1115, decodeTimestamp],
  [1184, 1185, decodeTimestamptz],
  [1700, 1231, decodeExactNumber],
  [3802, 3807, decodeJson],
];

/**
 * The decoders of the types §10 names and of their arrays, by OID (fixed in PostgreSQL's
 * `pg_type.dat`), so the common columns need no catalog query. Every other type is looked up.
 */
export const BUILTIN_DECODERS: ReadonlyMap<number, ValueDecoder> = new Map(
  SCALARS.flatMap(([oid, arrayOid, decoder]) => [
    [oid, decoder],
    [arrayOid, arrayDecoder(decoder)],
  ]),
);
