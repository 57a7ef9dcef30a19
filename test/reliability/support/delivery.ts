/**
 * Counts what a stream of events did with what it should have carried, by `seq`: events lost
 * (expected, never received), duplicated (received more than once), unexpected (received, never
 * expected) and out of order (a `seq` not above the one before it).
 */

/** How a received sequence of seqs compares with the expected set. */
export type Delivery = { lost: number; duplicated: number; unexpected: number; outOfOrder: number };

/** Compares received seqs (in arrival order) with the seqs that should have arrived. */
export function delivery(expected: Iterable<number>, received: readonly number[]): Delivery {
  const want = new Set(expected);
  const seen = new Map<number, number>();
  let outOfOrder = 0;
  let unexpected = 0;
  received.forEach((seq, i) => {
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
    if (!want.has(seq)) unexpected++;
    if (i > 0 && seq <= (received[i - 1] as number)) outOfOrder++;
  });
  let lost = 0;
  for (const seq of want) if (!seen.has(seq)) lost++;
  let duplicated = 0;
  for (const n of seen.values()) duplicated += n - 1;
  return { lost, duplicated, unexpected, outOfOrder };
}
