/**
 * The checks that JSON Schema compiles to, so that the browser validates messages without
 * shipping zod. scripts/generate-json-schemas.ts turns the zod schemas (still the one source of
 * truth) into JSON Schema with `z.toJSONSchema`, then each JSON Schema into calls of the
 * functions here (`generated/json-schemas.ts`): `string(1, 64)` is `{"type":"string",
 * "minLength":1,"maxLength":64}`, `object({…}, ['id'])` a strict object whose keys are required
 * but `id`. A compiled schema is small in the script-tag bundle and checks a value without
 * interpreting a schema on every frame.
 *
 * Where JSON Schema and zod differ, the checks follow zod, so that both accept the same messages:
 * `integer` is a safe integer (as `z.int()`), `number` is finite, string lengths count UTF-16 code
 * units, and a property holding `undefined` counts as absent. `oneOf` is a discriminated union
 * on `type` (what `z.discriminatedUnion` emits): the branch is picked by the value's `type`, so
 * the issues are about that branch.
 *
 * The generator refuses a zod schema whose JSON Schema needs anything these cannot say, so
 * support is added here first.
 *
 * A check runs on every frame, and a batch may carry 1000 events, so on the success path it
 * allocates nothing: the path is one array pushed and popped, and issues are built only on
 * failure. The factories are marked free of side effects, so that a schema nothing uses (the
 * client's, in the browser) leaves the bundle.
 */
import type { Issue } from './issues.js';

type Scalar = string | number | boolean | null;
type Path = (string | number)[];
/** Where issues go; `undefined` when only the verdict matters (trying the branches of `anyOf`). */
type Sink = Issue[] | undefined;

/** The JSON types the checks tell apart: `integer` is a safe integer, `number` a finite one. */
export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';

/**
 * A compiled JSON Schema: whether `value` conforms, with an issue at its path in `issues` for
 * each part that does not (when `issues` is given).
 */
export type JsonSchemaCheck = {
  (value: unknown, path: Path, issues: Sink): boolean;
  /** The type of every value it accepts, when it has one (`anyOf` explains the branches of it). */
  readonly type?: JsonType;
};

const { hasOwn } = Object;
const { isArray } = Array;

/** The issues that make `value` fail `check`, each at its JSON path; none when it conforms. */
export function checkJsonSchema(check: JsonSchemaCheck, value: unknown): Issue[] {
  const issues: Issue[] = [];
  check(value, [], issues);
  return issues;
}

/** Records an issue at `path` when issues are collected; always false. */
function fail(issues: Sink, path: Path, message: string): false {
  issues?.push({ path: path.slice(), message });
  return false;
}

function is(type: JsonType, value: unknown): boolean {
  switch (type) {
    case 'integer':
      return Number.isSafeInteger(value);
    case 'number':
      return Number.isFinite(value);
    case 'array':
      return isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !isArray(value);
    default:
      return typeof value === type;
  }
}

const quote = (value: unknown) => JSON.stringify(value);
const list = (values: readonly unknown[]) => values.map(quote).join(', ');

/** A check of `type` that, for a value of that type, goes on with `then`. */
/* @__NO_SIDE_EFFECTS__ */
function typed<T>(type: JsonType, then?: (value: T, path: Path, issues: Sink) => boolean): JsonSchemaCheck {
  const check = (value: unknown, path: Path, issues: Sink) =>
    is(type, value) ? !then || then(value as T, path, issues) : fail(issues, path, `expected ${type}`);
  return Object.assign(check, { type });
}

/**
 * A check of `type` whose size (a string's or an array's length, a number's value) is within
 * `min`…`max`; for a value of that type, it goes on with `then`, told whether the size is.
 */
/* @__NO_SIDE_EFFECTS__ */
function sized<T extends string | number | readonly unknown[]>(
  type: JsonType,
  min: number | undefined,
  max: number | undefined,
  then?: (value: T, path: Path, issues: Sink, ok: boolean) => boolean,
): JsonSchemaCheck {
  return typed<T>(type, (value, path, issues) => {
    const size = typeof value === 'number' ? value : value.length;
    const unit = typeof value === 'string' ? ' characters' : isArray(value) ? ' items' : '';
    // An absent bound compares as `undefined`, which no comparison satisfies.
    const ok =
      size < min!
        ? fail(issues, path, `expected at least ${min}${unit}`)
        : size > max!
          ? fail(issues, path, `expected at most ${max}${unit}`)
          : true;
    return then ? then(value, path, issues, ok) : ok;
  });
}

/** Any value: `{}`. */
export const anything: JsonSchemaCheck = () => true;

/** A boolean: `{"type":"boolean"}`. */
export const boolean = typed('boolean');

/** An object with any keys: `{"type":"object"}`. */
export const anyObject = typed('object');

/** A string of `min` to `max` UTF-16 code units: `minLength`, `maxLength`. */
/* @__NO_SIDE_EFFECTS__ */
export function string(min?: number, max?: number): JsonSchemaCheck {
  return sized('string', min, max);
}

/** A safe integer from `min` to `max`: `{"type":"integer"}`, `minimum`, `maximum`. */
/* @__NO_SIDE_EFFECTS__ */
export function integer(min?: number, max?: number): JsonSchemaCheck {
  return sized('integer', min, max);
}

/** A finite number from `min` to `max`: `{"type":"number"}`, `minimum`, `maximum`. */
/* @__NO_SIDE_EFFECTS__ */
export function number(min?: number, max?: number): JsonSchemaCheck {
  return sized('number', min, max);
}

/** One of the `allowed` values: `enum`; a single one is a `const`. */
/* @__NO_SIDE_EFFECTS__ */
export function values(...allowed: Scalar[]): JsonSchemaCheck {
  const expected = `expected ${allowed.length > 1 ? 'one of ' : ''}${list(allowed)}`;
  return (value, path, issues) => allowed.includes(value as Scalar) || fail(issues, path, expected);
}

/** An array of `min` to `max` items, each passing `items`: `{"type":"array","items":…}`. */
/* @__NO_SIDE_EFFECTS__ */
export function array(items: JsonSchemaCheck, min?: number, max?: number): JsonSchemaCheck {
  return sized<readonly unknown[]>('array', min, max, (value, path, issues, ok) => {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      ok = items(value[i], path, issues) && ok;
      path.pop();
    }
    return ok;
  });
}

/**
 * An array of exactly one item per check of `positions`, each passing its own: `prefixItems`
 * with `items: false` and `minItems` and `maxItems` their count (`z.tuple`).
 */
/* @__NO_SIDE_EFFECTS__ */
export function tuple(positions: readonly JsonSchemaCheck[]): JsonSchemaCheck {
  const { length } = positions;
  return sized<readonly unknown[]>('array', length, length, (value, path, issues, ok) => {
    // An item past the positions has failed the length already.
    for (let i = 0; i < Math.min(length, value.length); i++) {
      path.push(i);
      ok = (positions[i] as JsonSchemaCheck)(value[i], path, issues) && ok;
      path.pop();
    }
    return ok;
  });
}

/**
 * An object with `props`, each key required (JSON Schema's `required`) unless `optional`; other
 * keys are refused (`additionalProperties: false`) unless `loose`.
 */
/* @__NO_SIDE_EFFECTS__ */
export function object(
  props: { readonly [key: string]: JsonSchemaCheck },
  optional: readonly string[] = [],
  loose = false,
): JsonSchemaCheck {
  return typed<Record<string, unknown>>('object', (value, path, issues) => {
    let ok = true;
    for (const key in props) {
      const child = hasOwn(value, key) ? value[key] : undefined;
      path.push(key);
      if (child !== undefined) ok = (props[key] as JsonSchemaCheck)(child, path, issues) && ok;
      else if (!optional.includes(key)) ok = fail(issues, path, 'required');
      path.pop();
    }
    if (!loose)
      for (const key in value)
        if (hasOwn(value, key) && !hasOwn(props, key)) ok = fail(issues, path, `unknown key ${quote(key)}`);
    return ok;
  });
}

/**
 * Some branch holds: `anyOf`. When none does, the issues explain the branch that came closest:
 * among the branches of the value's type, the one with the fewest issues.
 */
/* @__NO_SIDE_EFFECTS__ */
export function anyOf(...branches: JsonSchemaCheck[]): JsonSchemaCheck {
  return (value, path, issues) => {
    for (const branch of branches) if (branch(value, path, undefined)) return true;
    if (!issues) return false;
    let closest: Issue[] | undefined;
    for (const branch of branches) {
      if (branch.type && !is(branch.type, value)) continue;
      const own: Issue[] = [];
      branch(value, path, own);
      if (!closest || own.length < closest.length) closest = own;
    }
    if (!closest)
      return fail(issues, path, `expected ${[...new Set(branches.map((b) => b.type))].join(' or ')}`);
    issues.push(...closest);
    return false;
  };
}

/**
 * The object check under the value's `type` holds: `oneOf` of objects with a `type` constant (a
 * discriminated union). Each branch takes `type` as `anything`, since the key picked it.
 */
/* @__NO_SIDE_EFFECTS__ */
export function oneOf(branches: { readonly [type: string]: JsonSchemaCheck }): JsonSchemaCheck {
  const expected = `expected one of ${list(Object.keys(branches))}`;
  return typed<Record<string, unknown>>('object', (value, path, issues) => {
    const { type } = value;
    const known = typeof type === 'string' && hasOwn(branches, type);
    if (known) return (branches[type] as JsonSchemaCheck)(value, path, issues);
    path.push('type');
    fail(issues, path, typeof type === 'string' ? `unknown type ${quote(type)}; ${expected}` : expected);
    path.pop();
    return false;
  });
}
