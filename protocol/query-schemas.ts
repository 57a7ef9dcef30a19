/**
 * The zod schemas of a query's parts: `where` (where.ts), `sort` (sort.ts) and `fields`
 * (projection.ts). Each is built on the plain validator of its module (`whereError`, `sortError`,
 * `fieldsError`), so the schema and the validator report the same single issue and cannot drift;
 * callers without zod (the elements in the browser) use the validators directly.
 */
import * as z from 'zod/mini';
import type { Issue } from './issues.js';
import { fieldsError } from './projection.js';
import { sortError } from './sort.js';
import { WHERE_LIST_OPERATORS, whereError } from './where.js';

type ListOperator = keyof typeof WHERE_LIST_OPERATORS;

/**
 * A zod check that reports the issue `validate` finds, if any. The issue does not abort, so a
 * union around the schema (`snapshot`) still reports it rather than a bare "Invalid input".
 */
function reportIssue<T>(validate: (value: T) => Issue | undefined) {
  return z.superRefine<T>((value, ctx) => {
    const issue = validate(value);
    if (issue) {
      ctx.addIssue({
        code: 'custom',
        message: issue.message,
        path: issue.path,
        input: value,
      });
    }
  });
}

/** The issue of a one-entry list (`sortError([key])`), at the entry itself. */
function alone<T>(validate: (values: readonly T[]) => Issue | undefined): (value: T) => Issue | undefined {
  return (value) => {
    const issue = validate([value]);
    return issue && { path: issue.path.slice(1), message: issue.message };
  };
}

const WhereListSchema = z.array(
  z.tuple([
    z.string(),
    z.enum(Object.keys(WHERE_LIST_OPERATORS) as [ListOperator, ...ListOperator[]]),
    z.unknown(),
  ]),
);
const WhereObjectSchema = z.record(z.string(), z.unknown());

/**
 * `filter.where` in either form. `whereError` (the compiler) runs first, so an invalid where
 * yields exactly one issue, at the JSON path of the offending part (relative to the where), with
 * the specific reason (`unknown operator "$regex" at price; expected one of $eq, …`); the union
 * then only shapes the inferred type.
 */
export const WhereSchema = z.pipe(
  z.unknown().check(reportIssue(whereError)),
  z.union([WhereListSchema, WhereObjectSchema]),
);
/** A `where` predicate, object form or list form. */
export type Where = z.infer<typeof WhereSchema>;

/** A sort key: a field path, optionally prefixed with `-` for descending (`-createdAt`). */
export const SortKeySchema = z.string().check(reportIssue(alone(sortError)));

/** `snapshot.sort` (and the REST `sort`): up to `MAX_SORT_KEYS` sort keys, most significant first. */
export const SortSchema = z.array(z.string()).check(reportIssue(sortError));

/** One entry of `fields`: a dotted field path, 1 to 256 characters, no forbidden segments. */
export const FieldPathSchema = z.string().check(reportIssue(alone(fieldsError)));

/** `fields`: the record fields to send, at most `MAX_FIELDS` of them. */
export const FieldsSchema = z.array(z.string()).check(reportIssue(fieldsError));
