/**
 * A checker for the subset of JSON Schema (draft 2020-12) that `z.toJSONSchema` emits for the
 * protocol, so that the browser validates messages without shipping zod. It runs the schemas in
 * `generated/json-schemas.ts`, which scripts/generate-json-schemas.ts derives from the zod
 * schemas (still the one source of truth) and which may use only the keywords of `JsonSchema`.
 *
 * Where JSON Schema and zod differ, it follows zod, so that both accept the same messages:
 * `integer` is a safe integer (as `z.int()`), `number` is finite, string lengths count UTF-16 code
 * units, and a property holding `undefined` counts as absent. `oneOf` is a discriminated union
 * on `type` (what `z.discriminatedUnion` emits): the branch is picked by the value's `type`, so
 * the issues are about that branch.
 *
 * It supports exactly the keywords the generator emits for the protocol (those of `JsonSchema`);
 * the generator refuses a zod schema that needs any other, so support is added here first.
 *
 * It runs on every frame, and a batch may carry 1000 events, so on the success path it allocates
 * nothing per node: the path is one array pushed and popped, and issues are built only on
 * failure.
 */
import type { Issue } from './issues.js';

type Scalar = string | number | boolean | null;

/** A JSON Schema in the subset the checker runs; `oneOf` branches each have `properties.type.const`. */
export type JsonSchema = {
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object';
  const?: Scalar;
  enum?: readonly Scalar[];
  anyOf?: readonly JsonSchema[];
  oneOf?: readonly JsonSchema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema | false;
  prefixItems?: readonly JsonSchema[];
  minItems?: number;
  maxItems?: number;
  properties?: { readonly [key: string]: JsonSchema };
  required?: readonly string[];
  additionalProperties?: JsonSchema | false;
};

type Path = (string | number)[];
/** Where issues go; `undefined` when only the verdict matters (trying the branches of `anyOf`). */
type Sink = Issue[] | undefined;
type JsonObject = Record<string, unknown>;

const { hasOwn } = Object;

/** The issues that make `value` fail `schema`, each at its JSON path; none when it conforms. */
export function checkJsonSchema(schema: JsonSchema, value: unknown): Issue[] {
  const issues: Issue[] = [];
  check(schema, value, [], issues);
  return issues;
}

/** Records an issue at `path` when issues are collected; always false. */
function fail(issues: Sink, path: Path, message: string): false {
  issues?.push({ path: path.slice(), message });
  return false;
}

function is(type: string, value: unknown): boolean {
  switch (type) {
    case 'integer':
      return Number.isSafeInteger(value);
    case 'number':
      return Number.isFinite(value);
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === type;
  }
}

function list(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/**
 * `size` is within `min`…`max` (a number's value, a string's or an array's length). An absent
 * bound compares as `undefined`, which no comparison satisfies, so it never fails.
 */
function within(
  size: number,
  min: number | undefined,
  max: number | undefined,
  unit: string,
  path: Path,
  issues: Sink,
): boolean {
  if (size < min!) return fail(issues, path, `expected at least ${min}${unit}`);
  return size > max! ? fail(issues, path, `expected at most ${max}${unit}`) : true;
}

function check(schema: JsonSchema, value: unknown, path: Path, issues: Sink): boolean {
  if (schema.oneOf && !oneOf(schema.oneOf, value, path, issues)) return false;
  if (schema.anyOf && !anyOf(schema.anyOf, value, path, issues)) return false;
  if (schema.type && !is(schema.type, value)) return fail(issues, path, `expected ${schema.type}`);
  if (schema.const !== undefined && value !== schema.const) {
    return fail(issues, path, `expected ${JSON.stringify(schema.const)}`);
  }
  if (schema.enum && !schema.enum.includes(value as Scalar)) {
    return fail(issues, path, `expected one of ${list(schema.enum)}`);
  }
  if (typeof value === 'string') {
    return within(value.length, schema.minLength, schema.maxLength, ' characters', path, issues);
  }
  if (typeof value === 'number') return within(value, schema.minimum, schema.maximum, '', path, issues);
  if (Array.isArray(value)) return checkArray(schema, value, path, issues);
  return typeof value === 'object' && value !== null
    ? checkObject(schema, value as JsonObject, path, issues)
    : true;
}

function checkArray(schema: JsonSchema, value: readonly unknown[], path: Path, issues: Sink): boolean {
  const { items, prefixItems } = schema;
  let ok = within(value.length, schema.minItems, schema.maxItems, ' items', path, issues);
  const fixed = prefixItems ? prefixItems.length : 0;
  const end = items === undefined ? Math.min(fixed, value.length) : value.length;
  for (let i = 0; i < end && (ok || issues); i++) {
    const item = i < fixed ? (prefixItems as readonly JsonSchema[])[i] : items;
    path.push(i);
    if (
      item === false
        ? fail(issues, path, 'unexpected item')
        : !check(item as JsonSchema, value[i], path, issues)
    ) {
      ok = false;
    }
    path.pop();
  }
  return ok;
}

/** `required` keys must be among `properties` (the generator makes sure of it). */
function checkObject(schema: JsonSchema, value: JsonObject, path: Path, issues: Sink): boolean {
  const { properties, required, additionalProperties: extra } = schema;
  let ok = true;
  for (const key in properties) {
    if (!ok && !issues) return false;
    const child = hasOwn(value, key) ? value[key] : undefined;
    path.push(key);
    if (child !== undefined) ok = check(properties[key] as JsonSchema, child, path, issues) && ok;
    else if (required?.includes(key)) ok = fail(issues, path, 'required');
    path.pop();
  }
  if (extra === undefined) return ok;
  for (const key in value) {
    if (!ok && !issues) return false;
    if (!hasOwn(value, key) || (properties && hasOwn(properties, key))) continue;
    if (extra === false) {
      ok = fail(issues, path, `unknown key ${JSON.stringify(key)}`);
      continue;
    }
    path.push(key);
    ok = check(extra, value[key], path, issues) && ok;
    path.pop();
  }
  return ok;
}

/**
 * Some branch holds. When none does, the issues explain the branch that came closest: among the
 * branches of the value's type, the one with the fewest issues.
 */
function anyOf(branches: readonly JsonSchema[], value: unknown, path: Path, issues: Sink): boolean {
  for (let i = 0; i < branches.length; i++)
    if (check(branches[i] as JsonSchema, value, path, undefined)) return true;
  if (!issues) return false;
  let closest: Issue[] | undefined;
  for (const branch of branches) {
    if (branch.type && !is(branch.type, value)) continue;
    const own: Issue[] = [];
    check(branch, value, path, own);
    if (!closest || own.length < closest.length) closest = own;
  }
  if (!closest)
    return fail(issues, path, `expected ${[...new Set(branches.map((b) => b.type))].join(' or ')}`);
  issues.push(...closest);
  return false;
}

/** The branch whose `type` constant is the value's `type` holds. */
function oneOf(branches: readonly JsonSchema[], value: unknown, path: Path, issues: Sink): boolean {
  if (!is('object', value)) return fail(issues, path, 'expected object');
  const type = (value as JsonObject).type;
  for (let i = 0; i < branches.length; i++) {
    const branch = branches[i] as JsonSchema;
    if (branch.properties?.type?.const === type) return check(branch, value, path, issues);
  }
  const known = `expected one of ${list(branches.map((b) => b.properties?.type?.const))}`;
  path.push('type');
  fail(issues, path, typeof type === 'string' ? `unknown type ${JSON.stringify(type)}; ${known}` : known);
  path.pop();
  return false;
}
