/** JSON Merge Patch (RFC 7396), as `PATCH` applies it. Returns a new value; inputs are untouched. */
import { isPlainObject } from '../../protocol/index.js';

/**
 * Applies `patch` to `target`: objects merge key by key, `null` removes a key, anything else
 * replaces. Keys are defined, never assigned, so a `__proto__` key cannot reach a prototype.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete result[key];
    } else {
      Object.defineProperty(result, key, {
        value: applyMergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return result;
}
