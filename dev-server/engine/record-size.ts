/**
 * The JSON length of a stored record, measured once: records are never mutated after commit, so
 * snapshot budgets (`maxChars`), the patch size check and history's byte weight share one figure.
 */
import type { LiveRecord } from '../../protocol/index.js';

const jsonLength = new WeakMap<object, number>();

/** Characters of `JSON.stringify(record)`, computed on first use and remembered. */
export function sizeOf(record: LiveRecord): number {
  let size = jsonLength.get(record);
  if (size === undefined) jsonLength.set(record, (size = JSON.stringify(record).length));
  return size;
}
