/**
 * Sort order of a snapshot (`snapshot.sort`, PROTOCOL.md section 4) and of the REST `sort` list.
 * A sort is a list of keys: a field path, prefixed with `-` for descending.
 *
 * Decisions (the protocol only says "missing and null values sort last"):
 *
 * - Keys are compared in turn; the first that differs decides.
 * - `null` and missing values sort last in both directions, so a descending sort does not bring
 *   the records that lack the field to the top.
 * - Values of different types order number < string < boolean < anything else (objects and
 *   arrays); a descending key reverses that order too. Numbers compare numerically, strings by
 *   UTF-16 code units (not locale: the order is the same on every server and browser, and ISO 8601
 *   UTC timestamps order in time), `false` before `true`, objects and arrays by their JSON text.
 * - Ties are broken by `id` ascending (code units), so the order is total and deterministic; with
 *   no keys at all, records are ordered by `id`.
 */
import type { Issue } from './issues.js';
import { compilePath, fieldPathError, MAX_FIELD_PATH_LENGTH } from './json.js';

/** The most keys one sort may have. */
export const MAX_SORT_KEYS = 8;

/** Why one sort key is invalid, or undefined. A JavaScript caller may pass a key that is not a string. */
function sortKeyError(key: string): string | undefined {
  if (typeof key !== 'string') return 'expected string';
  if (key.length === 0) return 'a sort key must not be empty';
  if (key.length > MAX_FIELD_PATH_LENGTH + 1) {
    return `a sort key must be at most ${MAX_FIELD_PATH_LENGTH + 1} characters`;
  }
  const problem = fieldPathError(key.startsWith('-') ? key.slice(1) : key);
  return problem === undefined ? undefined : `sort key "${key}": ${problem}`;
}

/**
 * Why `keys` is not a valid sort, as one issue, or `undefined` when it is. A sort is at most
 * `MAX_SORT_KEYS` keys, each a field path (`fieldPathError`) of at most 256 characters, optionally
 * prefixed with `-` for descending. Too many keys is reported first, then the first bad key at its
 * index. The check behind `SortSchema`, for callers without zod.
 */
export function sortError(keys: readonly string[]): Issue | undefined {
  if (keys.length > MAX_SORT_KEYS) return { path: [], message: `at most ${MAX_SORT_KEYS} sort keys` };
  for (let i = 0; i < keys.length; i++) {
    const problem = sortKeyError(keys[i] as string);
    if (problem !== undefined) return { path: [i], message: problem };
  }
  return undefined;
}

/**
 * Splits the REST comma form (`?sort=-createdAt, name`) into keys, trimming blanks and dropping
 * empty entries. It does not validate: pass the result through `sortError` (or `SortSchema`).
 */
export function parseSortList(text: string): string[] {
  const keys: string[] = [];
  for (const part of text.split(',')) {
    const key = part.trim();
    if (key.length > 0) keys.push(key);
  }
  return keys;
}

/** Rank of a non-null value's type: number < string < boolean < other. */
function typeRank(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return 0;
    case 'string':
      return 1;
    case 'boolean':
      return 2;
    default:
      return 3;
  }
}

/** Ascending comparison of two non-null, non-missing values. */
function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 3) return compareScalars(JSON.stringify(a) ?? '', JSON.stringify(b) ?? '');
  return compareScalars(a as number | string | boolean, b as number | string | boolean);
}

/** Numbers, strings (by code units) and booleans (false < true) of one type all order under < and >. */
function compareScalars<T extends number | string | boolean>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Ascending comparison where `null` and missing sort last. */
function compareNullsLast(a: unknown, b: unknown, direction: 1 | -1): number {
  const aAbsent = a === null || a === undefined;
  const bAbsent = b === null || b === undefined;
  if (aAbsent || bAbsent) return aAbsent === bAbsent ? 0 : aAbsent ? 1 : -1;
  return direction * compareValues(a, b);
}

type Comparator = (a: Record<string, unknown>, b: Record<string, unknown>) => number;

const byId: Comparator = (a, b) => compareNullsLast(a.id, b.id, 1);

/**
 * Compiles sort keys (as accepted by `sortError`) into a comparator for `Array.prototype.sort`,
 * once per snapshot. Throws on a key that `sortError` would reject. See the module comment for
 * the order.
 */
export function compileSort(sort: readonly string[] | undefined): Comparator {
  if (sort === undefined || sort.length === 0) return byId;
  const count = sort.length;
  const getters = sort.map((key) => {
    const problem = sortKeyError(key);
    if (problem !== undefined) throw new Error(problem);
    return compilePath(key.startsWith('-') ? key.slice(1) : key);
  });
  const directions = sort.map((key): 1 | -1 => (key.startsWith('-') ? -1 : 1));
  return (a, b) => {
    for (let i = 0; i < count; i++) {
      const get = getters[i] as (record: unknown) => unknown;
      const order = compareNullsLast(get(a), get(b), directions[i] as 1 | -1);
      if (order !== 0) return order;
    }
    return byId(a, b);
  };
}
