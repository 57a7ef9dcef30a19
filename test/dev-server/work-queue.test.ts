/**
 * The engine's work queue (dev-server/engine/work-queue.ts): long jobs go on in slices, one slice
 * per turn of the event loop, taking turns; a job started inside another's slice (a held subscribe
 * answered when the one before it goes live) joins the same line rather than a second timer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../../dev-server/engine/clock.js';
import { WorkQueue, type SlicedJob } from '../../dev-server/engine/work-queue.js';

/** A clock whose timers the test fires a turn at a time; it counts what is pending. */
class TurnClock implements Clock {
  readonly pending = new Set<() => void>();
  now = () => 0;
  setTimeout(fn: () => void): unknown {
    const timer = () => fn();
    this.pending.add(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as () => void);
  }
  /** Runs the timers pending now: one turn of the event loop. */
  turn(): void {
    const due = [...this.pending];
    this.pending.clear();
    for (const fn of due) fn();
  }
}

/** A job of `slices` slices that logs each under `name`. */
function job(name: string, slices: number, log: string[], then?: () => void): SlicedJob {
  let done = 0;
  return {
    step: () => {
      log.push(name);
      if (++done < slices) return false;
      then?.();
      return true;
    },
  };
}

describe('WorkQueue', () => {
  it('finishes a short job at once, and runs long ones a slice per turn, in turn', () => {
    const clock = new TurnClock();
    const queue = new WorkQueue(clock, 10, 1);
    const log: string[] = [];
    assert.equal(queue.start(job('short', 1, log)), true);
    assert.equal(queue.start(job('a', 3, log)), false);
    assert.equal(queue.start(job('b', 2, log)), false);
    assert.deepEqual(log, ['short', 'a', 'b'], 'each started with a slice of its own');
    for (let i = 0; i < 3; i++) clock.turn();
    assert.deepEqual(log.slice(3), ['a', 'b', 'a']);
    assert.equal(clock.pending.size, 0, 'nothing left to run');
  });

  it('keeps one timer when a job starts another inside its slice', () => {
    const clock = new TurnClock();
    const queue = new WorkQueue(clock, 10, 1);
    const log: string[] = [];
    queue.start(job('a', 2, log, () => queue.start(job('nested', 3, log))));
    queue.start(job('b', 5, log));
    for (let turn = 0; turn < 6; turn++) {
      clock.turn();
      assert.ok(clock.pending.size <= 1, `turn ${turn}: ${clock.pending.size} timers pending`);
    }
    assert.deepEqual(log, ['a', 'b', 'a', 'nested', 'b', 'nested', 'b', 'nested', 'b']);
  });

  it('drops every job on stop', () => {
    const clock = new TurnClock();
    const queue = new WorkQueue(clock, 10, 1);
    const log: string[] = [];
    queue.start(job('a', 5, log));
    queue.stop();
    clock.turn();
    assert.deepEqual(log, ['a']);
    assert.equal(clock.pending.size, 0);
  });
});
