/**
 * What one subscription's handlers were given, kept the same way in Node (`TraceRecorder`) and in
 * a browser page (fault-page.ts writes the same shape), and how that compares, by `seq`, with what
 * the server's history says the subscription had to receive.
 *
 * A `subscribed` without `resumed: true` starts a new segment: its snapshot replaces the state,
 * and from its `seq` on every matching event must arrive once. A resync (`resumed: false` after a
 * reconnect) is allowed — the protocol's answer when history cannot cover the gap — so what a
 * segment missed after its last event, before the resync's snapshot, is not counted as lost; a
 * gap in the middle of a segment is.
 */
import * as z from 'zod/mini';
import type { SubscriptionHandlers } from '../../../elements/connection/index.js';
import type { LiveRecord } from '../../../protocol/index.js';

/** One subscription's `subscribed` answers and event seqs, in arrival order. */
export const SubscriptionTraceSchema = z.object({
  /** Each `subscribed`: its seq, whether it resumed, and how many events had arrived before it. */
  subscribed: z.array(z.object({ seq: z.number(), resumed: z.optional(z.boolean()), after: z.number() })),
  /** The seq of every event given to `onEvents`, in order. */
  seqs: z.array(z.number()),
  /** Refusals (`onError`), as `name: message`. */
  errors: z.array(z.string()),
});
/** One subscription's trace. */
export type SubscriptionTrace = z.infer<typeof SubscriptionTraceSchema>;

/** How a trace compares with the seqs it had to receive. */
export type TraceDelivery = {
  /** Seqs it had to receive and never did. */
  lost: number;
  /** Events received more than once in a segment. */
  duplicated: number;
  /** Events it should never have had: not in its expected set, or at or below its segment's snapshot. */
  unexpected: number;
  /** Events whose seq was not above the one before (in one segment). */
  outOfOrder: number;
  /** Segments after the first: `subscribed` answers that did not resume. */
  resyncs: number;
};

/**
 * Compares a trace with `expected` (the seqs the server's history gives this subscription's spec,
 * ascending) up to `last`, the newest seq every client must have reached.
 */
export function traceDelivery(
  trace: SubscriptionTrace,
  expected: readonly number[],
  last: number,
): TraceDelivery {
  const result: TraceDelivery = { lost: 0, duplicated: 0, unexpected: 0, outOfOrder: 0, resyncs: 0 };
  const wanted = new Set(expected);
  const starts = trace.subscribed.filter((s) => s.resumed !== true);
  result.resyncs = Math.max(0, starts.length - 1);
  starts.forEach((start, i) => {
    const next = starts[i + 1];
    const seqs = trace.seqs.slice(start.after, next?.after ?? trace.seqs.length);
    const seen = new Map<number, number>();
    seqs.forEach((seq, j) => {
      seen.set(seq, (seen.get(seq) ?? 0) + 1);
      const ceiling = next ? next.seq : last;
      if (!wanted.has(seq) || seq <= start.seq || seq > ceiling) result.unexpected++;
      if (j > 0 && seq <= (seqs[j - 1] as number)) result.outOfOrder++;
    });
    for (const n of seen.values()) result.duplicated += n - 1;
    // The last segment must reach `last`; an earlier one only has to be whole up to where it got.
    const end = next ? Math.min(next.seq, Math.max(start.seq, ...seqs)) : last;
    for (const seq of expected) if (seq > start.seq && seq <= end && !seen.has(seq)) result.lost++;
  });
  return result;
}

/** Adds `b`'s counts to `a`. */
export function addDelivery(a: TraceDelivery, b: TraceDelivery): TraceDelivery {
  return {
    lost: a.lost + b.lost,
    duplicated: a.duplicated + b.duplicated,
    unexpected: a.unexpected + b.unexpected,
    outOfOrder: a.outOfOrder + b.outOfOrder,
    resyncs: a.resyncs + b.resyncs,
  };
}

/** No counts at all. */
export const NO_DELIVERY: TraceDelivery = {
  lost: 0,
  duplicated: 0,
  unexpected: 0,
  outOfOrder: 0,
  resyncs: 0,
};

/**
 * Handlers for the connection manager that keep a trace, and the result set as a live list keeps
 * it (a fresh snapshot replaces it; `removed` deletes, `added`/`modified` set).
 */
export class TraceRecorder {
  readonly trace: SubscriptionTrace = { subscribed: [], seqs: [], errors: [] };
  readonly records = new Map<string, LiveRecord>();

  readonly handlers: SubscriptionHandlers = {
    onSubscribed: (message) => {
      this.trace.subscribed.push({
        seq: message.seq,
        ...(message.resumed === undefined ? {} : { resumed: message.resumed }),
        after: this.trace.seqs.length,
      });
      if (message.resumed !== true && message.snapshot) {
        this.records.clear();
        for (const record of message.snapshot as LiveRecord[]) this.records.set(record.id, record);
      }
    },
    onEvents: (events) => {
      for (const event of events) {
        this.trace.seqs.push(event.seq);
        if (!('object' in event)) continue;
        if (event.change === 'removed') this.records.delete(event.id);
        else this.records.set(event.id, event.record);
      }
    },
    onError: (error) => {
      this.trace.errors.push(`${error.name}: ${error.message}`);
    },
  };
}
