/**
 * Long evaluations (a snapshot of many records, a replay of a long history, a REST list) cut into
 * slices, so that no request holds the event loop: each slice does about `sliceUnits` of work
 * (units as in filter-work.ts: a record visited is `RECORD_VISIT_UNITS`, a where's work on top),
 * then other requests, timers and sockets get their turn before the next. Jobs take turns, one
 * slice each, in the order they arrived.
 *
 * A job starts at once with a smaller slice (`inlineUnits`): the small evaluations a landing page
 * asks for finish there, answered in the same turn as before slicing existed.
 */
import type { Clock } from './clock.js';

/** Work a record visited costs a job beside its where's work: reading, sizing, keeping it. */
export const RECORD_VISIT_UNITS = 8;

/** A job cut into slices. */
export interface SlicedJob {
  /** Does about `units` of work; returns true when the job is finished (or cancelled). */
  step(units: number): boolean;
}

/** Runs sliced jobs between turns of the event loop. */
export class WorkQueue {
  private readonly jobs: SlicedJob[] = [];
  private timer: unknown;
  private readonly onTurn = this.turn.bind(this);

  constructor(
    private readonly clock: Clock,
    /** Work of one slice between turns: a fraction of a millisecond of typical filtering, 4 ms at worst. */
    readonly sliceUnits = 250_000,
    /** Work a job may do in the turn it starts in. */
    readonly inlineUnits = 50_000,
  ) {}

  /** Runs the first slice of `job` now and the rest in later turns; true when it finished now. */
  start(job: SlicedJob): boolean {
    if (job.step(this.inlineUnits)) return true;
    this.jobs.push(job);
    this.timer ??= this.clock.setTimeout(this.onTurn, 0);
    return false;
  }

  /** Drops every job (shutdown). */
  stop(): void {
    this.jobs.length = 0;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private turn(): void {
    this.timer = undefined;
    const job = this.jobs.shift();
    if (job && !job.step(this.sliceUnits)) this.jobs.push(job);
    // `??=`: a job started inside this slice (a held subscribe) may have armed the timer already.
    if (this.jobs.length > 0) this.timer ??= this.clock.setTimeout(this.onTurn, 0);
  }
}
