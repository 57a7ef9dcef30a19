/**
 * The last commits of one environment, in a ring indexed by `seq`, bounded by count (`capacity`,
 * the `historySize` limit) and by bytes (`maxBytes`, the `historyBytes` limit): the oldest commits
 * leave first when either is passed. Because `seq` has no gaps, the commit with seq `s` sits at
 * `s % capacity`: lookups and appends are O(1). Each commit is weighed once, as it joins
 * (`weigh`: about the JSON length of its persisted delta).
 */
import type { Commit } from './commit.js';
import { weigh } from './commit-delta.js';

/** Bounded history of commits for resume with `since`. */
export class History {
  private readonly ring: (Commit | undefined)[];
  private readonly weights: Float64Array;
  private first = 0;
  private last = 0;
  /** What the held commits weigh together. */
  bytes = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {
    this.ring = new Array<Commit | undefined>(capacity);
    this.weights = new Float64Array(capacity);
  }

  /**
   * Appends the next commit; its seq must follow the last one. The newest commit is always kept,
   * even alone over `maxBytes`, so a client one event behind can still resume.
   */
  push(commit: Commit): void {
    if (this.last !== 0 && commit.seq !== this.last + 1) {
      throw new Error(`history: seq ${commit.seq} does not follow ${this.last}`);
    }
    if (this.first !== 0 && commit.seq - this.first + 1 > this.capacity) this.dropOldest();
    const slot = commit.seq % this.capacity;
    const weight = weigh(commit);
    this.ring[slot] = commit;
    this.weights[slot] = weight;
    this.bytes += weight;
    this.last = commit.seq;
    if (this.first === 0) this.first = commit.seq;
    while (this.bytes > this.maxBytes && this.first < this.last) this.dropOldest();
  }

  /** Lets every held commit go: a new history starts with the next commit pushed. */
  clear(): void {
    this.ring.fill(undefined);
    this.weights.fill(0);
    this.first = 0;
    this.last = 0;
    this.bytes = 0;
  }

  /** Lets the oldest held commit go (its slot is cleared, so its records can be collected). */
  private dropOldest(): void {
    const slot = this.first % this.capacity;
    this.bytes -= this.weights[slot] as number;
    this.ring[slot] = undefined;
    this.weights[slot] = 0;
    this.first++;
  }

  /**
   * Whether every commit after `since` up to `current` is still held, i.e. a resume from
   * `since` can be complete.
   */
  covers(since: number, current: number): boolean {
    if (since > current) return false;
    if (since === current) return true;
    return this.first !== 0 && since + 1 >= this.first && current <= this.last;
  }

  /** The commit with this seq, if it is still held. */
  at(seq: number): Commit | undefined {
    if (this.first === 0 || seq < this.first || seq > this.last) return undefined;
    return this.ring[seq % this.capacity];
  }

  /** Visits the commits after `since`, oldest first. Call only when `covers(since, …)`. */
  forEachAfter(since: number, visit: (commit: Commit) => void): void {
    for (let seq = since + 1; seq <= this.last; seq++) {
      const commit = this.ring[seq % this.capacity];
      if (commit) visit(commit);
    }
  }

  /** The held commits, oldest first (for persistence). */
  toArray(): Commit[] {
    const out: Commit[] = [];
    if (this.first !== 0) this.forEachAfter(this.first - 1, (c) => out.push(c));
    return out;
  }
}
