/**
 * What a `where` may cost the server (PROTOCOL.md section 9; protocol/where.ts "Work"). Two
 * limits, in units of work rather than terms, because a term's cost depends on the record:
 *
 * - `maxFilterWork` bounds one evaluation against one record, wherever it runs: the live fan-out,
 *   a snapshot, a replay, a REST list. A where that needs more on some record is refused (4000, or
 *   400 over REST) naming the limit: over an existing record at subscribe time, or, for a live
 *   subscription, the first time a new record needs it (the subscription is then ended with an
 *   `error` carrying its id).
 * - `maxFilterWorkPerSecond` bounds what one connection's live subscriptions cost every write,
 *   together: a bucket holding a second's worth, refilled as time passes, that every live
 *   evaluation draws from. An evaluation that finds it empty ends its subscription the same way.
 *   Snapshots, replays and REST lists do not draw from it: they run in slices between turns of
 *   the event loop (`WorkQueue`), so they cost bystanders no latency.
 */
import { evaluateWhere, type MeteredWhere } from '../../protocol/index.js';
import type { Clock } from './clock.js';

/** A where stopped at a work limit; `message` names the limit and is what the client is told. */
export class FilterWorkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterWorkError';
  }
}

/** Evaluates wheres for one kind of caller, within its limits. */
export interface FilterMeter {
  /** Whether `record` matches; throws `FilterWorkError` past a limit. */
  match(where: MeteredWhere, record: unknown, recordId: unknown): boolean;
}

/** The refusal of a where that needs more than `maxFilterWork` on one record. */
function overRecordLimit(maxFilterWork: number, recordId: unknown): FilterWorkError {
  return new FilterWorkError(
    `filter.where needs more than maxFilterWork (${maxFilterWork}) units of work on record ${JSON.stringify(recordId)}: ` +
      'each term and each character of its string operands is one unit, and each character or element a $contains scans one more; use fewer or shorter terms, or search shorter fields',
  );
}

/**
 * A job's meter (snapshot, replay, REST list): `maxFilterWork` per record, and a count of the
 * work done, which the job's slicing reads.
 */
export class JobMeter implements FilterMeter {
  /** Units spent so far. */
  work = 0;

  constructor(private readonly maxFilterWork: number) {}

  match(where: MeteredWhere, record: unknown, recordId: unknown): boolean {
    if (where.fixedWork === 0) return true;
    const result = evaluateWhere(where, record, this.maxFilterWork);
    this.work += result.work;
    if (result.matched === undefined) throw overRecordLimit(this.maxFilterWork, recordId);
    return result.matched;
  }
}

/** One connection's live filters: `maxFilterWork` per record and a bucket of `maxFilterWorkPerSecond`. */
export class LiveFilterBudget implements FilterMeter {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly maxFilterWork: number,
    private readonly perSecond: number,
  ) {
    this.tokens = perSecond;
    this.refilledAt = clock.now();
  }

  match(where: MeteredWhere, record: unknown, recordId: unknown): boolean {
    if (where.fixedWork === 0) return true;
    const now = this.clock.now();
    if (now !== this.refilledAt) {
      this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
      this.refilledAt = now;
    }
    const byBucket = this.tokens < this.maxFilterWork;
    const result = evaluateWhere(where, record, byBucket ? Math.max(0, this.tokens) : this.maxFilterWork);
    this.tokens -= result.work;
    if (result.matched !== undefined) return result.matched;
    if (!byBucket) throw overRecordLimit(this.maxFilterWork, recordId);
    throw new FilterWorkError(
      `this connection's live filters took more than maxFilterWorkPerSecond (${this.perSecond}) units of work; ` +
        'the subscription is ended: use fewer or narrower wheres',
    );
  }
}
