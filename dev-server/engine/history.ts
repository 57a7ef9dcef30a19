/**
 * The last `capacity` commits of one environment, in a ring indexed by `seq`. Because `seq` has
 * no gaps, the commit with seq `s` sits at `s % capacity`: lookups and appends are O(1).
 */
import type { Commit } from './commit.js';

/** Bounded history of commits for resume with `since`. */
export class History {
  private readonly ring: (Commit | undefined)[];
  private first = 0;
  private last = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<Commit | undefined>(capacity);
  }

  /** Appends the next commit; its seq must follow the last one. */
  push(commit: Commit): void {
    if (this.last !== 0 && commit.seq !== this.last + 1) {
      throw new Error(`history: seq ${commit.seq} does not follow ${this.last}`);
    }
    this.ring[commit.seq % this.capacity] = commit;
    this.last = commit.seq;
    if (this.first === 0) this.first = commit.seq;
    if (this.last - this.first + 1 > this.capacity) this.first = this.last - this.capacity + 1;
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
