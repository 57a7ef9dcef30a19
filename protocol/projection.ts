/**
 * Projection: the `fields` of a subscription or REST query (PROTOCOL.md section 4). The server
 * projects `record`, `oldRecord` and `changedFields` of every event, and snapshot records, to the
 * fields a subscription asked for; `id` is always sent.
 *
 * Decisions: a dotted path (`customer.name`) rebuilds the nested objects on the way
 * (`{"customer":{"name":…}}`) and descends into plain objects only — to send an array, project the
 * whole array field. A path whose value is missing contributes nothing, and a parent object none of
 * whose requested children exist is omitted too. A path and one of its prefixes (`customer`,
 * `customer.name`) means the whole prefix. Projected values are shared with the source record, not
 * copied: treat both as immutable.
 */
import type { Issue } from './issues.js';
import { fieldPathError, isPlainObject, MAX_FIELD_PATH_LENGTH } from './json.js';

/** The most entries one `fields` list may have. */
export const MAX_FIELDS = 100;

/** Why one entry of `fields` is invalid, or undefined. A JavaScript caller may pass a non-string. */
function fieldEntryError(path: string): string | undefined {
  if (typeof path !== 'string') return 'expected string';
  if (path.length === 0) return 'a field path must not be empty';
  if (path.length > MAX_FIELD_PATH_LENGTH) {
    return `a field path must be at most ${MAX_FIELD_PATH_LENGTH} characters`;
  }
  return fieldPathError(path);
}

/**
 * Why `fields` is not a valid projection, as one issue, or `undefined` when it is: at most
 * `MAX_FIELDS` entries, each a field path (`fieldPathError`) of 1 to 256 characters. Too many
 * entries is reported first, then the first bad entry at its index. The check behind
 * `FieldsSchema`, for callers without zod.
 */
export function fieldsError(fields: readonly string[]): Issue | undefined {
  if (fields.length > MAX_FIELDS) return { path: [], message: `at most ${MAX_FIELDS} fields` };
  for (let i = 0; i < fields.length; i++) {
    const problem = fieldEntryError(fields[i] as string);
    if (problem !== undefined) return { path: [i], message: problem };
  }
  return undefined;
}

/** One key to copy: the whole value (`children` undefined) or only some of its keys. */
type Step = { key: string; children: Step[] | undefined };

type Branch = { whole: boolean; children: Map<string, Branch> };

function validPaths(fields: readonly string[]): readonly string[] {
  for (const path of fields) {
    const problem = fieldPathError(path);
    if (problem !== undefined) throw new Error(problem);
  }
  return fields;
}

function buildSteps(fields: readonly string[]): Step[] {
  const root = new Map<string, Branch>();
  for (const path of ['id', ...validPaths(fields)]) {
    const segments = path.split('.');
    let level = root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      let branch = level.get(segment);
      if (branch === undefined) {
        branch = { whole: false, children: new Map() };
        level.set(segment, branch);
      }
      if (branch.whole) break;
      if (i === segments.length - 1) {
        branch.whole = true;
        branch.children.clear();
      }
      level = branch.children;
    }
  }
  const toSteps = (level: Map<string, Branch>): Step[] =>
    [...level].map(([key, branch]) => ({
      key,
      children: branch.whole ? undefined : toSteps(branch.children),
    }));
  return toSteps(root);
}

function project(
  source: Record<string, unknown>,
  steps: readonly Step[],
): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < steps.length; i++) {
    const { key, children } = steps[i] as Step;
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    if (value === undefined) continue;
    if (children === undefined) {
      (out ??= {})[key] = value;
    } else if (isPlainObject(value)) {
      const inner = project(value, children);
      if (inner !== undefined) (out ??= {})[key] = inner;
    }
  }
  return out;
}

const identity = (record: Record<string, unknown>): Record<string, unknown> => record;

/**
 * Compiles `fields` into a projection, once per subscription. With no `fields`, the projection is
 * the identity: it returns the very same record, without copying. Throws on a path that
 * `fieldsError` would reject.
 */
export function compileProjection(
  fields: readonly string[] | undefined,
): (record: Record<string, unknown>) => Record<string, unknown> {
  if (fields === undefined) return identity;
  const steps = buildSteps(fields);
  return (record) => project(record, steps) ?? {};
}

/**
 * Compiles `fields` into a filter for an update's `changedFields` (top-level keys): a key is kept
 * when some field path is that key or lies inside it (`customer` is kept for `customer.name`);
 * `id` is always kept, as in the projection. `undefined` when there is no projection, so callers
 * can skip the call.
 */
export function compileFieldFilter(
  fields: readonly string[] | undefined,
): ((changed: readonly string[]) => string[]) | undefined {
  if (fields === undefined) return undefined;
  const keys = new Set(['id', ...validPaths(fields).map((path) => path.split('.', 1)[0] as string)]);
  return (changed) => changed.filter((key) => keys.has(key));
}
