/**
 * One event of one commit as the fan-out hands it to connections: serialized once for every
 * subscription that receives the same JSON (same subscription id, change and projection), and
 * appended to their queues so that connections whose queues were equal stay equal — they then
 * share one `PendingBatch` node, and so one batch frame. Lives for one commit's fan-out.
 */
import { PendingBatch, type QueuedEvent } from './pending-batch.js';

/** A commit's event for every subscription that gets these exact bytes. */
export class SharedEvent implements QueuedEvent {
  /** The queue extended last, and the node that extended it: the common case is one queue. */
  private lastPrev: PendingBatch | undefined;
  private lastNext: PendingBatch | undefined;
  private others: Map<PendingBatch | undefined, PendingBatch> | undefined;

  constructor(
    readonly json: string,
    readonly seq: number,
    readonly subId: string,
  ) {}

  /** The queue `prev` followed by this event; every queue equal to `prev` gets the same node. */
  after(prev: PendingBatch | undefined): PendingBatch {
    if (this.lastNext !== undefined) {
      if (this.lastPrev === prev) return this.lastNext;
      this.others ??= new Map([[this.lastPrev, this.lastNext]]);
      const known = this.others.get(prev);
      if (known !== undefined) return known;
    }
    const next = new PendingBatch(this, prev);
    this.others?.set(prev, next);
    this.lastPrev = prev;
    this.lastNext = next;
    return next;
  }
}
