/**
 * What a refused value looks like, on both sides of the wire and with or without zod: a list of
 * issues, each at the JSON path of the offending part, and the result of parsing a frame.
 */

/** One problem found in a message, with the JSON path to it (object keys and array indices). */
export type Issue = { path: (string | number)[]; message: string };

/** What parsing a frame gives: the message, or a specific reason it was refused. */
export type ParseResult<T> =
  { ok: true; message: T } | { ok: false; error: string; issues: Issue[]; id?: string };

/** One line naming the first problem, e.g. `filter.where.price: unknown operator "$regex"`. */
export function describeIssues(issues: readonly Issue[]): string {
  const first = issues[0];
  if (!first) return 'invalid message';
  const where = first.path.length ? `${first.path.join('.')}: ` : '';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${where}${first.message}${more}`;
}

/**
 * The first issue of a refusal's `details` as another party sent them (unchecked JSON): the
 * issue, when it has the shape of one, else `undefined`.
 */
export function firstIssue(details: unknown): Issue | undefined {
  const issue: unknown = Array.isArray(details) ? details[0] : undefined;
  if (typeof issue !== 'object' || issue === null) return undefined;
  const { path, message } = issue as { path?: unknown; message?: unknown };
  if (!Array.isArray(path) || typeof message !== 'string') return undefined;
  if (!path.every((key) => typeof key === 'string' || typeof key === 'number')) return undefined;
  return { path: path as (string | number)[], message };
}

/** What a validator says of a value: the message it is, or the issues that refuse it. */
export type CheckResult<T> = { ok: true; message: T } | { ok: false; issues: Issue[] };

/**
 * Parses a frame's JSON text and hands the object inside to `check`. Both codecs, zod's
 * (codec.ts) and the JSON Schema one (read-server-message.ts), go through here, so they answer a
 * frame alike: text that is not JSON is 'frame is not valid JSON', a value that is not an object
 * is refused before any schema sees it, and a refused message keeps its `id` (a string of at
 * most 64 characters) so that an error can answer it.
 */
export function parseFrame<T>(text: string, check: (value: object) => CheckResult<T>): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'frame is not valid JSON', issues: [] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'a message must be a JSON object with a "type"', issues: [] };
  }
  const result = check(value);
  if (result.ok) return result;
  const { issues } = result;
  const id = (value as { id?: unknown }).id;
  const error = describeIssues(issues);
  return typeof id === 'string' && id.length <= 64
    ? { ok: false, error, issues, id }
    : { ok: false, error, issues };
}
