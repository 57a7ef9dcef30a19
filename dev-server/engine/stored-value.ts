/**
 * Checks on values a client asks the server to store or relay (record bodies, event data):
 * bounded depth, so no later walk (diff, projection, serialization) can exhaust the stack, and no
 * `__proto__` key, which some consumers would turn into a prototype write. JSON has no infinity:
 * `JSON.parse` reads a number beyond a double's range (`1e309`) as `Infinity`, which the server
 * would serve as `null` yet filter as a number; such a number inside the value is stored as `null`,
 * as it is served, so `where` sees what clients see.
 */
import { PROTOCOL_BOUNDS } from '../../protocol/index.js';
import { ApiError } from './api-error.js';

/**
 * Throws `bad_request` naming the problem when `value` is too deep or carries a `__proto__` key;
 * replaces infinite numbers inside it with `null` (in place).
 */
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
    const parent = item.value as Record<string, unknown>;
    for (const key of Object.keys(parent)) {
      if (key === '__proto__')
        throw new ApiError('bad_request', `"__proto__" is not allowed as a field name (at ${item.path})`);
      const child = parent[key];
      if (typeof child === 'number' && !Number.isFinite(child)) parent[key] = null;
      stack.push({
        value: child,
        depth: item.depth + 1,
        path: `${item.path}.${key}`,
      });
    }
  }
}
