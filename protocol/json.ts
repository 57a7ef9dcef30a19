/**
 * JSON helpers shared by `where`, `sort`, projection and change detection. They run in the browser
 * and in Node on every event of every subscription, so they allocate nothing where they can avoid
 * it, and they read records through own properties only: a field path can never climb into
 * `Object.prototype` (`__proto__`, `constructor`, `toString`, …), whatever a client sends.
 */

/** Any value that survives `JSON.parse(JSON.stringify(v))` unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A record as the server stores it: a string `id` and any other JSON fields. */
export type StoredRecord = Record<string, unknown> & { id: string };

/**
 * Keys that must never be used as a path segment: writing them can replace an object's prototype,
 * and reading them would reach shared prototypes. Field paths containing one are rejected.
 */
export const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Whether `key` may be used as a path segment, i.e. is not one of `FORBIDDEN_KEYS`. */
export function isSafeKey(key: string): boolean {
  return !(FORBIDDEN_KEYS as readonly string[]).includes(key);
}

/** The longest field path accepted in `where`, `fields` and `sort`. */
export const MAX_FIELD_PATH_LENGTH = 256;

/**
 * Why `path` is not a valid field path, or `undefined` when it is. A field path is 1 to
 * `MAX_FIELD_PATH_LENGTH` characters of dot-separated, non-empty segments, none in `FORBIDDEN_KEYS`.
 * The one rule behind `where` keys, `fields` entries and `sort` keys, so they all agree.
 */
export function fieldPathError(path: string): string | undefined {
  if (path.length === 0) return 'field path is empty';
  if (path.length > MAX_FIELD_PATH_LENGTH) {
    return `field path is longer than ${MAX_FIELD_PATH_LENGTH} characters`;
  }
  for (const segment of path.split('.')) {
    if (segment.length === 0) return `field path "${path}" has an empty segment`;
    if (!isSafeKey(segment)) return `field path "${path}" uses the forbidden segment "${segment}"`;
  }
  return undefined;
}

/** Whether `v` is a non-null, non-array object: a JSON object, as opposed to a scalar or an array. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep equality of JSON values, as `where` and change detection need it: key order is irrelevant,
 * arrays compare element by element, and a key whose value is `undefined` counts as absent (as in
 * `JSON.stringify`). Recursion stops as soon as one side is not an object, so comparing with a
 * small operand is cheap however large the other side is.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aIsArray = Array.isArray(a);
  if (aIsArray !== Array.isArray(b)) return false;
  if (aIsArray) {
    const aa = a as unknown[];
    const ba = b as unknown[];
    if (aa.length !== ba.length) return false;
    for (let i = 0; i < aa.length; i++) if (!deepEqual(aa[i], ba[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  // for…in with hasOwn rather than Object.keys: no array allocated per comparison.
  let defined = 0;
  for (const key in ao) {
    if (!Object.hasOwn(ao, key)) continue;
    const av = ao[key];
    if (av === undefined) continue;
    if (!Object.hasOwn(bo, key) || !deepEqual(av, bo[key])) return false;
    defined++;
  }
  for (const key in bo) {
    if (Object.hasOwn(bo, key) && bo[key] !== undefined) defined--;
  }
  return defined === 0;
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,8})$/;

/** The array index a segment names (`"0"`, `"12"`), or -1 when it is not a canonical index. */
function arrayIndex(segment: string): number {
  return ARRAY_INDEX.test(segment) ? Number(segment) : -1;
}

/** One step down a path: an own property of an object, or an element of an array. */
function step(value: unknown, key: string, index: number): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) return index >= 0 && index < value.length ? (value[index] as unknown) : undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * The value at a dotted `path` (`customer.address.city`) inside `obj`, or `undefined` when any step
 * is missing. Only own properties are followed, so `__proto__` or `toString` yield `undefined`
 * unless the object really has such a key. A segment that is a canonical integer (`items.0.sku`)
 * indexes an array; no other property of an array (not even `length`) is reachable. For repeated
 * use, prefer `compilePath`.
 */
export function getPath(obj: unknown, path: string): unknown {
  let value = obj;
  for (const segment of path.split('.')) {
    value = step(value, segment, arrayIndex(segment));
    if (value === undefined) return undefined;
  }
  return value;
}

/**
 * `getPath` with the path split once, for hot paths: the returned getter allocates nothing. Same
 * rules as `getPath`.
 */
export function compilePath(path: string): (obj: unknown) => unknown {
  const segments = path.split('.');
  const indexes = segments.map(arrayIndex);
  if (segments.length === 1) {
    const key = segments[0] ?? '';
    const index = indexes[0] ?? -1;
    return (obj) => step(obj, key, index);
  }
  const count = segments.length;
  return (obj) => {
    let value = obj;
    for (let i = 0; i < count; i++) {
      value = step(value, segments[i] as string, indexes[i] as number);
      if (value === undefined) return undefined;
    }
    return value;
  };
}

/**
 * The top-level keys whose values differ between two versions of a record (added, removed or
 * changed, by `deepEqual`), sorted by code unit: an update event's `changedFields`. A key holding
 * `undefined` counts as absent.
 */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const changed: string[] = [];
  for (const key in before) {
    if (!Object.hasOwn(before, key)) continue;
    if (!deepEqual(before[key], Object.hasOwn(after, key) ? after[key] : undefined)) changed.push(key);
  }
  for (const key in after) {
    if (Object.hasOwn(after, key) && !Object.hasOwn(before, key) && after[key] !== undefined) {
      changed.push(key);
    }
  }
  return changed.sort();
}
