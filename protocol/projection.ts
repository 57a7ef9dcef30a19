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
import * as z from 'zod/mini';
import { fieldPathError, isPlainObject, MAX_FIELD_PATH_LENGTH } from './json.js';

/** The most entries one `fields` list may have. */
export const MAX_FIELDS = 100;

/** One entry of `fields`: a dotted field path, 1 to 256 characters, no forbidden segments. */
export const FieldPathSchema = z.string().check(
  z.minLength(1, 'a field path must not be empty'),
  z.maxLength(MAX_FIELD_PATH_LENGTH, `a field path must be at most ${MAX_FIELD_PATH_LENGTH} characters`),
  z.superRefine((path, ctx) => {
    // Length problems are reported by the checks above; this one reports segments.
    if (path.length === 0 || path.length > MAX_FIELD_PATH_LENGTH) return;
    const problem = fieldPathError(path);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: path });
  }),
);

/** `fields`: the record fields to send, at most `MAX_FIELDS` of them. */
export const FieldsSchema = z
  .array(FieldPathSchema)
  .check(z.maxLength(MAX_FIELDS, `at most ${MAX_FIELDS} fields`));

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
 * `FieldPathSchema` would reject.
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
