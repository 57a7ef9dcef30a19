/**
 * A first-in first-out queue of items waiting to be sent, bounded in count and in bytes: past
 * either bound a push drops the oldest items — never those being sent now (the first `sending`),
 * never the one just pushed — and counts them. The NATS audit sink keeps its records in one.
 */

/** The bounds of a `PendingQueue`. */
export type PendingQueueBounds = { maxItems: number; maxBytes: number };

/** See the module comment. */
export class PendingQueue<T> {
  private readonly items: T[] = [];
  private size = 0;
  /** Items at the head being sent now: a push past the bounds drops the ones after them. */
  sending = 0;
  /** Items dropped since the start. */
  dropped = 0;

  constructor(
    private readonly bounds: PendingQueueBounds,
    private readonly sizeOf: (item: T) => number,
  ) {}

  /** Items waiting, those being sent included. */
  get length(): number {
    return this.items.length;
  }

  /** The first `n` items (fewer when fewer wait), left in the queue. */
  peek(n: number): T[] {
    return this.items.slice(0, n);
  }

  /** Appends an item; returns how many of the oldest it dropped to stay within the bounds. */
  push(item: T): number {
    this.items.push(item);
    this.size += this.sizeOf(item);
    let dropped = 0;
    while (
      this.items.length > this.sending + 1 &&
      (this.items.length > this.bounds.maxItems || this.size > this.bounds.maxBytes)
    ) {
      const [oldest] = this.items.splice(this.sending, 1) as [T];
      this.size -= this.sizeOf(oldest);
      dropped++;
    }
    this.dropped += dropped;
    return dropped;
  }

  /** Removes the first `n` items: sent, or given up. */
  remove(n: number): void {
    for (const item of this.items.splice(0, n)) this.size -= this.sizeOf(item);
  }
}
