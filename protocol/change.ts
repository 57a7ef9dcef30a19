/**
 * What a record event does to a subscription's result set (PROTOCOL.md section 4, `batch`), so a
 * live list never has to guess whether to insert, update or drop a row.
 */

/** The values of a record event's `change`. */
export const CHANGES = ['added', 'modified', 'removed'] as const;

/** One of `CHANGES`. */
export type Change = (typeof CHANGES)[number];

/**
 * Classifies a write for one subscription from whether the record matched its `where` before and
 * after. Pass `matchedBefore = false` for a create and `matchedAfter = false` for a delete. `null`
 * means the event is not delivered to that subscription.
 */
export function classifyChange(matchedBefore: boolean, matchedAfter: boolean): Change | null {
  if (matchedAfter) return matchedBefore ? 'modified' : 'added';
  return matchedBefore ? 'removed' : null;
}
