/**
 * One timer for every connection's batch deadline, and every presence room's commit of its
 * waiting changes. `flushIntervalMs` is the same for all, so deadlines arrive in the order they
 * were set: a FIFO queue with one timer on its head replaces a timer per connection and room.
 */
import type { Clock } from './clock.js';

/** What the scheduler flushes. `flushGeneration` tells a current deadline from a stale one. */
export interface Flushable {
  flushGeneration: number;
  flushDue(): void;
}

/** Flushes each scheduled connection or room `intervalMs` after it was scheduled. */
export class FlushScheduler {
  private queue: { target: Flushable; generation: number; due: number }[] = [];
  private head = 0;
  private timer: unknown = undefined;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  /** Schedules a flush of `target` in `intervalMs`; an earlier deadline of it goes stale. */
  schedule(target: Flushable): void {
    const generation = ++target.flushGeneration;
    this.queue.push({ target, generation, due: this.clock.now() + this.intervalMs });
    if (this.timer === undefined) this.arm();
  }

  /** Stops the timer (shutdown). */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.head = 0;
  }

  private arm(): void {
    const next = this.queue[this.head];
    if (!next) {
      this.queue = [];
      this.head = 0;
      return;
    }
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, next.due - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    for (let entry = this.queue[this.head]; entry && entry.due <= now; entry = this.queue[this.head]) {
      this.head++;
      if (entry.target.flushGeneration === entry.generation) entry.target.flushDue();
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }
}
