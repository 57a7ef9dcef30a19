/**
 * Checks on values a client asks the server to store or relay (record bodies, event data):
 * bounded depth, so no later walk (diff, projection, serialization) can exhaust the stack, and no
 * `__proto__` key, which some consumers would turn into a prototype write.
 */
import { PROTOCOL_BOUNDS } from '../../protocol/index.js';
import { ApiError } from './api-error.js';

/** Throws `bad_request` naming the problem when `value` is too deep or carries a `__proto__` key. */
export function checkStoredValue(value: unknown, what: string): void {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 1, path: what }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth > PROTOCOL_BOUNDS.maxValueDepth) {
      throw new ApiError(
        'bad_request',
        `${what} is nested deeper than ${PROTOCOL_BOUNDS.maxValueDepth} levels`,
      );
    }
    for (const key of Object.keys(item.value)) {
      if (key === '__proto__')
        throw new ApiError('bad_request', `"__proto__" is not allowed as a field name (at ${item.path})`);
      stack.push({
        value: (item.value as Record<string, unknown>)[key],
        depth: item.depth + 1,
        path: `${item.path}.${key}`,
      });
    }
  }
}
