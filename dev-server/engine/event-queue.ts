/**
 * A connection's events waiting for their batch: serialized events with their seqs and
 * subscriptions, in commit order (parallel arrays: no object per queued event).
 */
import type { Subscription } from './subscription.js';

/** Events queued for one connection. */
export class EventQueue {
  private json: string[] = [];
  private seqs: number[] = [];
  private subs: Subscription[] = [];

  /** Events waiting. */
  get length(): number {
    return this.json.length;
  }

  /** Queues one event of `sub`. */
  push(sub: Subscription, json: string, seq: number): void {
    this.json.push(json);
    this.seqs.push(seq);
    this.subs.push(sub);
  }

  /** Drops the waiting events of one subscription (unsubscribed or replaced). */
  dropOf(sub: Subscription): void {
    if (!this.subs.includes(sub)) return;
    const keep = this.subs.map((s) => s !== sub);
    this.json = this.json.filter((_, i) => keep[i]);
    this.seqs = this.seqs.filter((_, i) => keep[i]);
    this.subs = this.subs.filter((_, i) => keep[i]);
  }

  /** Empties the queue, returning what was in it. */
  take(): { json: string[]; seqs: number[] } {
    const taken = { json: this.json, seqs: this.seqs };
    this.json = [];
    this.seqs = [];
    this.subs = [];
    return taken;
  }
}
