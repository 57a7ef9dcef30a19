/**
 * What a records or events subscribe does before it goes live: match its snapshot, and replay
 * history — the events after `since` of a resume, and the commits made while its snapshot was
 * matched. It runs as a sliced job (`WorkQueue`), so a long snapshot or replay never holds the
 * event loop; when it is done, in one turn, the connection sends the `subscribed` answer and the
 * replayed events and puts the subscription live. Between the snapshot's moment and that turn,
 * every commit is in the replay and none after it: nothing lost, nothing twice.
 *
 * Should history move on faster than the job (the commits after its moment leave history before
 * it is done), it starts again from the current moment — as a fresh snapshot, `resumed: false`,
 * for a resume — and after `MAX_RESTARTS` gives up with 4008.
 */
import type { CodeName, SubscribedMessage } from '../../protocol/index.js';
import type { Environment } from './environment.js';
import { FilterWorkError, JobMeter } from './filter-work.js';
import { RecordQueryJob } from './record-query.js';
import type { SharedEvent } from './shared-event.js';
import { EventParts, type Subscription } from './subscription.js';
import { RECORD_VISIT_UNITS, type SlicedJob } from './work-queue.js';

/** Starts over with the current moment at most this often before giving up. */
const MAX_RESTARTS = 3;

/** The connection a subscribe job answers for. */
export interface SubscribeJobHost {
  /** The job is ready: send `answer`, then `replay`, and make `sub` live, all in this turn. */
  goLive(sub: Subscription, answer: SubscribedMessage, replay: readonly SharedEvent[]): void;
  /** The subscribe is refused (a where past a work limit, history too fast): answer `error`. */
  refuseSubscribe(sub: Subscription, name: CodeName, message: string): void;
  /** The job failed on a server bug. */
  jobFailed(error: unknown): void;
}

/** Limits a subscribe job applies. */
export type SubscribeJobLimits = { maxFilterWork: number; maxSnapshotChars: number };

/** One subscribe, prepared in slices. */
export class SubscribeJob implements SlicedJob {
  private readonly meter: JobMeter;
  private cancelled = false;
  private restarts = 0;
  private query: RecordQueryJob | undefined;
  private answer!: SubscribedMessage;
  /** The last seq the replay has covered. */
  private cursor = 0;
  private readonly events: SharedEvent[] = [];

  constructor(
    private readonly host: SubscribeJobHost,
    private readonly sub: Subscription,
    private readonly env: Environment,
    private readonly limits: SubscribeJobLimits,
  ) {
    this.meter = new JobMeter(limits.maxFilterWork);
    const { since, epoch } = sub.spec;
    const sameEpoch = epoch === undefined || epoch === env.epoch;
    if (since !== undefined && sameEpoch && env.history.covers(since, env.seq)) this.resume(since);
    else this.fresh();
  }

  /** Stops the job (its connection closed); it will not call its host again. */
  cancel(): void {
    this.cancelled = true;
  }

  step(units: number): boolean {
    if (this.cancelled) return true;
    try {
      return this.work(this.meter.work + units);
    } catch (error) {
      if (error instanceof FilterWorkError) this.host.refuseSubscribe(this.sub, 'bad_request', error.message);
      else this.host.jobFailed(error);
      return true;
    }
  }

  private work(stop: number): boolean {
    const { sub, env, meter } = this;
    if (this.query) {
      if (!this.query.step(stop - meter.work)) return false;
      const result = this.query.result();
      this.answer.snapshot = result.records.map(sub.project) as SubscribedMessage['snapshot'];
      if (result.truncated) this.answer.truncated = true;
      this.query = undefined;
    }
    while (this.cursor < env.seq) {
      if (meter.work >= stop) return false;
      if (!env.history.covers(this.cursor, env.seq)) return this.restart();
      const commit = env.history.at(++this.cursor);
      meter.work += RECORD_VISIT_UNITS;
      if (commit === undefined) continue;
      const event = sub.eventFor(new EventParts(commit), meter);
      if (event !== null) this.events.push(event);
    }
    this.host.goLive(sub, this.answer, this.events);
    return true;
  }

  /** Starts again from now, or gives up; false: not done. */
  private restart(): boolean {
    if (++this.restarts > MAX_RESTARTS) {
      this.host.refuseSubscribe(
        this.sub,
        'quota_exceeded',
        'the history moved on faster than this subscription could be prepared; subscribe again later',
      );
      return true;
    }
    this.fresh();
    return false;
  }

  private resume(since: number): void {
    this.answer = { type: 'subscribed', id: this.sub.id, seq: since, resumed: true };
    this.cursor = since;
  }

  private fresh(): void {
    const { sub, env } = this;
    const spec = sub.spec;
    this.events.length = 0;
    this.answer = { type: 'subscribed', id: spec.id, seq: env.seq };
    if (spec.since !== undefined) this.answer.resumed = false;
    this.cursor = env.seq;
    this.query = undefined;
    if (spec.snapshot && sub.object !== undefined) {
      const window = spec.snapshot === true ? {} : spec.snapshot;
      this.query = new RecordQueryJob(
        env.table(sub.object),
        {
          where: sub.where,
          recordId: sub.recordId,
          sort: window.sort,
          limit: window.limit,
          maxChars: this.limits.maxSnapshotChars,
        },
        this.meter,
      );
    }
  }
}
