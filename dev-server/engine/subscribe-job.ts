/**
 * What a records or events subscribe does before it goes live: match its snapshot, and replay
 * history — the events after `since` of a resume, and the commits made while its snapshot was
 * matched. It runs as a sliced job (`WorkQueue`), so a long snapshot or replay never holds the
 * event loop; when it is done, in one turn, the connection sends the `subscribed` answer and the
 * replayed events and puts the subscription live. Between the snapshot's moment and that turn,
 * every commit is in the replay and none after it: nothing lost, nothing twice.
 *
 * The snapshot of a PostgreSQL table (`postgres:<table>`, or an object kept in a table) is read
 * by the environment's `TableStore` instead, which answers in the turn whose `seq` its rows
 * reflect: the subscription goes live then, with nothing to replay.
 *
 * Should history move on faster than the job (the commits after its moment leave history before
 * it is done), it starts again from the current moment — as a fresh snapshot, `resumed: false`,
 * for a resume — and after `MAX_RESTARTS` gives up with 4008.
 */
import { PROTOCOL_BOUNDS, codeName, type CodeName, type SubscribedMessage } from '../../protocol/index.js';
import { ApiError } from './api-error.js';
import type { Environment } from './environment.js';
import { FilterWorkError, JobMeter } from './filter-work.js';
import { RecordQueryJob } from './record-query.js';
import type { SharedEvent } from './shared-event.js';
import { EventParts, type Subscription } from './subscription.js';
import type { TableSnapshot } from './table-store.js';
import { RECORD_VISIT_UNITS, type SlicedJob, type WorkQueue } from './work-queue.js';

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
  /** A table snapshot is being read: the work queue has nothing to do for this job meanwhile. */
  private waiting: AbortController | undefined;
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

  /** Starts the job: its first slice now, the rest on the work queue, or when its table answers. */
  start(work: WorkQueue): void {
    if (this.waiting) this.readTable();
    else work.start(this);
  }

  /** Stops the job (its connection closed); it will not call its host again. */
  cancel(): void {
    this.cancelled = true;
    this.waiting?.abort();
  }

  step(units: number): boolean {
    if (this.cancelled) return true;
    if (this.waiting) {
      this.readTable();
      return true; // the table store finishes the job
    }
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
      if (sub.isResetBy(commit)) {
        // A TRUNCATE of its object's table in what it missed: a resume cannot say what is left.
        this.fresh();
        return false;
      }
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

  private table: string | undefined;
  private reading = false;

  /** Asks the table store for the snapshot; the subscription goes live in the turn it answers. */
  private readTable(): void {
    const { sub, env, waiting, table } = this;
    if (this.reading || !waiting || table === undefined) return;
    this.reading = true;
    const store = env.tableStore;
    if (!store) {
      queueMicrotask(() =>
        this.tableFailed(new ApiError('unavailable', 'the PostgreSQL source has not started yet')),
      );
      return;
    }
    const window = typeof sub.spec.snapshot === 'object' ? sub.spec.snapshot : {};
    store.snapshot(
      env,
      table,
      {
        where: sub.where,
        recordId: sub.recordId,
        sort: window.sort,
        limit: window.limit ?? PROTOCOL_BOUNDS.maxSnapshotRecords,
        maxChars: this.limits.maxSnapshotChars,
        meter: this.meter,
        asRecords: sub.channel.kind === 'records',
      },
      (result) => {
        if (this.cancelled) return;
        this.waiting = undefined;
        this.reading = false;
        if ('error' in result) this.tableFailed(result.error);
        else this.tableRead(result);
      },
      waiting.signal,
    );
  }

  /** The table's rows at `result.seq`, which is the environment's seq in this very turn. */
  private tableRead(result: TableSnapshot): void {
    const answer = this.answer;
    answer.seq = result.seq;
    answer.snapshot = result.rows.map(this.sub.project) as SubscribedMessage['snapshot'];
    if (result.truncated) answer.truncated = true;
    this.cursor = result.seq;
    this.host.goLive(this.sub, answer, this.events);
  }

  private tableFailed(error: unknown): void {
    if (this.cancelled) return;
    if (error instanceof FilterWorkError) this.host.refuseSubscribe(this.sub, 'bad_request', error.message);
    else if (error instanceof ApiError && error.code === 'unavailable') {
      this.host.refuseSubscribe(this.sub, 'internal_error', `${error.message}; subscribe again later`);
    } else if (error instanceof ApiError) {
      this.host.refuseSubscribe(this.sub, codeName(error.protocolCode) ?? 'bad_request', error.message);
    } else this.host.jobFailed(error);
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
    const table = sub.table ?? (sub.object === undefined ? undefined : env.tableOf(sub.object)?.table);
    if (spec.snapshot && table !== undefined) {
      this.waiting = new AbortController();
      this.table = table;
      return;
    }
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
