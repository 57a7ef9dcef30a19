/**
 * A connection's events waiting for their batch, in commit order: the tail of a `PendingBatch`
 * chain, shared with every connection that has the same events waiting (no object per queued
 * event and connection).
 */
import { PendingBatch } from './pending-batch.js';
import type { SharedEvent } from './shared-event.js';

/** Events queued for one connection. */
export class EventQueue {
  private tail: PendingBatch | undefined;

  /** Events waiting. */
  get length(): number {
    return this.tail?.size ?? 0;
  }

  /** Queues one event. */
  push(event: SharedEvent): void {
    this.tail = event.after(this.tail);
  }

  /** Drops the waiting events of one subscription (unsubscribed or replaced). */
  dropOf(subId: string): void {
    const events = this.tail?.events() ?? [];
    if (!events.some((e) => e.subId === subId)) return;
    this.tail = undefined;
    for (const event of events) if (event.subId !== subId) this.tail = new PendingBatch(event, this.tail);
  }

  /** Empties the queue, returning what was in it (undefined when nothing was). */
  take(): PendingBatch | undefined {
    const taken = this.tail;
    this.tail = undefined;
    return taken;
  }
}
