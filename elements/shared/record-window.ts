/**
 * The records a live list shows: the first `limit` records matching its filter, in its sort
 * order, kept true as events arrive. Pure (no DOM), so it is easy to test and cheap to run.
 *
 * The server sends events for every record matching `where`, not only for the window, so the
 * window is exact as long as it knows whether records exist beyond it:
 *
 * - `complete`: the window holds every matching record (the snapshot was not truncated and
 *   nothing was pushed out since). Then any batch can be applied exactly.
 * - otherwise every record outside the window sorts after the window's last record (its
 *   `boundary`). A record that the batch leaves at or before the boundary is certainly in place;
 *   one that sorts after it might be preceded by records never seen, so it is dropped. When that
 *   leaves fewer than `limit` records, the window asks for a resync (a fresh snapshot).
 *
 * A batch costs O(n + k log k) for n records shown and k events: the untouched records stay in
 * order, the touched ones are sorted and merged in. No splicing, no full re-sort.
 */
import type { LiveRecord, RecordEvent } from '../../protocol/index.js';

/** How records compare: `compileSort(sort)` from the protocol. */
export type RecordComparator = (a: LiveRecord, b: LiveRecord) => number;

/** What applying a batch changed in the window. */
export type WindowChange = {
  added: LiveRecord[];
  modified: LiveRecord[];
  removed: LiveRecord[];
  /** The window lost records it cannot refill from what it knows: ask for a fresh snapshot. */
  needsResync: boolean;
};

/** A sorted, limited, keyed set of records. */
export class RecordWindow {
  #order: LiveRecord[] = [];
  readonly #byId = new Map<string, LiveRecord>();
  #complete = true;
  readonly #compare: RecordComparator;
  readonly #limit: number;

  /** `limit`: the most records shown (the snapshot cap when the element has no `limit`). */
  constructor(compare: RecordComparator, limit: number) {
    this.#compare = compare;
    this.#limit = limit;
  }

  /** The records in display order. A new array after every change; never mutate it. */
  get records(): readonly LiveRecord[] {
    return this.#order;
  }

  /** Replaces everything with a snapshot; `truncated`: the server said more records matched. */
  reset(snapshot: readonly LiveRecord[], truncated: boolean): void {
    // The server sorts the snapshot the same way; sorting again costs O(n) on sorted input and
    // guards against a server whose order differs in some corner case.
    const order = [...snapshot].sort(this.#compare);
    this.#complete = !truncated && order.length <= this.#limit;
    if (order.length > this.#limit) order.length = this.#limit;
    this.#order = order;
    this.#byId.clear();
    for (const record of order) this.#byId.set(record.id, record);
  }

  /** Applies one batch of record events (in seq order) at once. */
  apply(events: readonly RecordEvent[]): WindowChange {
    const change: WindowChange = { added: [], modified: [], removed: [], needsResync: false };
    // Last event per id wins: the record's state after the batch, or null when it left.
    const touched = new Map<string, LiveRecord | null>();
    for (const event of events) touched.set(event.id, event.change === 'removed' ? null : event.record);
    if (touched.size === 0) return change;

    const boundary = this.#complete ? undefined : this.#order[this.#order.length - 1];
    const kept = this.#order.filter((record) => !touched.has(record.id));
    const incoming: LiveRecord[] = [];
    for (const record of touched.values()) if (record) incoming.push(record);
    incoming.sort(this.#compare);
    const merged = merge(kept, incoming, this.#compare);

    let length = merged.length;
    if (boundary) {
      length = countAtOrBefore(merged, boundary, this.#compare);
      if (length < this.#limit) change.needsResync = true;
    }
    if (length > this.#limit) {
      length = this.#limit;
      this.#complete = false;
    }
    const dropped = merged.slice(length);
    merged.length = length;

    const droppedIds = new Set<string>();
    for (const record of dropped) droppedIds.add(record.id);
    for (const [id, record] of touched) {
      const before = this.#byId.get(id);
      if (record === null || droppedIds.has(id)) {
        if (before) change.removed.push(before);
        this.#byId.delete(id);
      } else {
        (before ? change.modified : change.added).push(record);
        this.#byId.set(id, record);
      }
    }
    for (const record of dropped) {
      if (touched.has(record.id)) continue;
      change.removed.push(record);
      this.#byId.delete(record.id);
    }
    this.#order = merged;
    return change;
  }
}

/** Merges two sorted arrays; on ties `a` comes first (ties cannot happen: ids break them). */
function merge(a: readonly LiveRecord[], b: readonly LiveRecord[], compare: RecordComparator): LiveRecord[] {
  if (b.length === 0) return a.slice();
  const out = new Array<LiveRecord>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as LiveRecord;
    const y = b[j] as LiveRecord;
    if (compare(x, y) <= 0) {
      out[k++] = x;
      i++;
    } else {
      out[k++] = y;
      j++;
    }
  }
  while (i < a.length) out[k++] = a[i++] as LiveRecord;
  while (j < b.length) out[k++] = b[j++] as LiveRecord;
  return out;
}

/** How many records of sorted `records` sort at or before `boundary` (binary search). */
function countAtOrBefore(
  records: readonly LiveRecord[],
  boundary: LiveRecord,
  compare: RecordComparator,
): number {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compare(records[mid] as LiveRecord, boundary) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}
