/**
 * One live subscription, compiled once at subscribe time: its matcher, projection and the
 * decision, per commit, of whether and how it hears about it. Event JSON is assembled from parts
 * the fan-out serializes once per commit (`EventParts`), and the whole event once per distinct
 * (subscription id, change, projection): a commit seen by a thousand subscriptions `s1` with one
 * projection is one string, one `SharedEvent`.
 */
import {
  classifyChange,
  compileFieldFilter,
  compileMeteredWhere,
  compileProjection,
  deepEqual,
  normalizeOperation,
  normalizeRowOperation,
  type Change,
  type Channel,
  type LiveRecord,
  type LiveRow,
  type Member,
  type MeteredWhere,
  type Operation,
  type RowOperation,
  type SubscriptionSpec,
} from '../../protocol/index.js';
import type { Commit, EventCommit, PresenceCommit, RecordCommit, RowCommit } from './commit.js';
import type { FilterMeter } from './filter-work.js';
import { SharedEvent } from './shared-event.js';

/** Where a subscription's events go: its connection's queue. */
export interface SubscriptionOwner {
  readonly connectionId: string;
  /** What the live fan-out's evaluation of this connection's wheres may cost (filter-work.ts). */
  readonly filterBudget: FilterMeter;
  enqueue(event: SharedEvent): void;
  /** Ends a subscription whose where passed a work limit in the fan-out, telling the client why. */
  endSubscription(sub: Subscription, message: string): void;
  /** Answers a live subscription again as a fresh subscribe (a TRUNCATE emptied its object's table). */
  resync(sub: Subscription): void;
}

/** Serialized parts of one commit, shared by every subscription that receives it. */
export class EventParts {
  private common: string | undefined;
  private bodies: Map<string, string> | undefined;
  private changed: Map<string, string[]> | undefined;
  /** Whole events by change (`''` for events and presence), then by `Subscription.eventKey`. */
  private events: Map<EventChange, Map<string, SharedEvent>> | undefined;

  private asRecord: EventParts | undefined;

  constructor(readonly commit: Commit) {}

  /**
   * The parts of a row change of an object's table as the record write it is to `records:`
   * subscribers: the row with `id` the primary key as a string, built once per commit.
   */
  recordParts(commit: RowCommit & { object: string; record: LiveRow }): EventParts {
    if (this.asRecord) return this.asRecord;
    const asRecord = (row: LiveRow): LiveRecord => ({ ...row, id: commit.id ?? '' });
    const record: RecordCommit = {
      kind: 'record',
      seq: commit.seq,
      timestamp: commit.timestamp,
      object: commit.object,
      operation:
        commit.operation === 'INSERT' ? 'create' : commit.operation === 'DELETE' ? 'delete' : 'update',
      record: asRecord(commit.record),
    };
    if (commit.operation === 'UPDATE') {
      if (commit.oldRecord) record.oldRecord = asRecord(commit.oldRecord);
      record.changedFields = commit.changedColumns ?? [];
    }
    if (commit.correlationId !== undefined) record.correlationId = commit.correlationId;
    return (this.asRecord = new EventParts(record));
  }

  /** The event of a subscription with the same id, change and projection as `sub`, if one was built. */
  sharedEvent(sub: Subscription, change: EventChange): SharedEvent | undefined {
    return this.events?.get(change)?.get(sub.eventKey);
  }

  /** Keeps `json` as the event of every subscription with the id, change and projection of `sub`. */
  share(sub: Subscription, change: EventChange, json: string): SharedEvent {
    this.events ??= new Map();
    let byKey = this.events.get(change);
    if (byKey === undefined) this.events.set(change, (byKey = new Map()));
    const event = new SharedEvent(json, this.commit.seq, sub.id);
    byKey.set(sub.eventKey, event);
    return event;
  }

  /** The fields every receiver shares, serialized once; ends with a comma-free JSON member list. */
  commonPart(): string {
    if (this.common !== undefined) return this.common;
    const c = this.commit;
    let text: string;
    if (c.kind === 'record') {
      text =
        `"channel":${JSON.stringify(`records:${c.object}`)},"object":${JSON.stringify(c.object)}` +
        `,"operation":"${c.operation}","id":${JSON.stringify(c.record.id)},"timestamp":"${c.timestamp}"` +
        (c.correlationId === undefined ? '' : `,"correlationId":${JSON.stringify(c.correlationId)}`);
    } else if (c.kind === 'row') {
      text =
        `"channel":${JSON.stringify(`postgres:${c.table}`)},"table":${JSON.stringify(c.table)}` +
        `,"schema":${JSON.stringify(c.schema)},"operation":"${c.operation}"` +
        (c.id === undefined ? '' : `,"id":${JSON.stringify(c.id)}`) +
        `,"timestamp":"${c.timestamp}","xid":"${c.xid}","lsn":"${c.lsn}"` +
        (c.correlationId === undefined ? '' : `,"correlationId":${JSON.stringify(c.correlationId)}`);
    } else if (c.kind === 'event') {
      text =
        `"channel":${JSON.stringify(`events:${c.topic}`)},"topic":${JSON.stringify(c.topic)}` +
        `,"data":${JSON.stringify(c.data ?? null)},"timestamp":"${c.timestamp}"`;
    } else {
      text =
        `"channel":${JSON.stringify(`presence:${c.room}`)},"change":"${c.change}"` +
        `,"member":${JSON.stringify(c.member)},"timestamp":"${c.timestamp}"`;
    }
    this.common = text;
    return text;
  }

  /** An update's `changedFields` (`changedColumns`) as a projection sees them, computed once per projection. */
  changedFor(sub: Subscription, commit: RecordCommit | RowCommit): string[] {
    this.changed ??= new Map();
    let changed = this.changed.get(sub.projectionKey);
    if (changed === undefined) this.changed.set(sub.projectionKey, (changed = sub.projectedChanges(commit)));
    return changed;
  }

  /** The projected record part, serialized once per distinct projection. */
  recordPart(sub: Subscription, commit: RecordCommit): string {
    this.bodies ??= new Map();
    let body = this.bodies.get(sub.projectionKey);
    if (body === undefined) {
      body = `"record":${JSON.stringify(sub.project(commit.record))}`;
      if (commit.operation === 'update') {
        if (commit.oldRecord) body += `,"oldRecord":${JSON.stringify(sub.project(commit.oldRecord))}`;
        body += `,"changedFields":${JSON.stringify(this.changedFor(sub, commit))}`;
      }
      this.bodies.set(sub.projectionKey, body);
    }
    return body;
  }

  /** The projected row part of a row event (none for a `TRUNCATE`), serialized once per projection. */
  rowPart(sub: Subscription, commit: RowCommit): string {
    if (commit.record === undefined) return '';
    this.bodies ??= new Map();
    let body = this.bodies.get(sub.projectionKey);
    if (body === undefined) {
      body = `,"record":${JSON.stringify(sub.project(commit.record))}`;
      if (commit.operation === 'UPDATE') {
        if (commit.oldRecord) body += `,"oldRecord":${JSON.stringify(sub.project(commit.oldRecord))}`;
        body += `,"changedColumns":${JSON.stringify(this.changedFor(sub, commit))}`;
      }
      this.bodies.set(sub.projectionKey, body);
    }
    return body;
  }
}

/** What an event does to a subscription's result set; `''` for custom and presence events. */
type EventChange = Change | 'reset' | '';

/**
 * Subscription keys start at a random point of a 2^52 range, so that a presence commit from
 * another process of a cluster (its `memberKey`) never names a subscription of this one.
 */
let nextKey = 1 + Math.floor(Math.random() * 2 ** 32) * 2 ** 20;

/** A compiled subscription. Build it with `compileSubscription`. */
export class Subscription {
  /** Unique in the process: tells presence members apart. */
  readonly key = nextKey++;
  readonly idJson: string;
  /** Set for `records:<object>`; undefined for `records:*` and other kinds. */
  readonly object: string | undefined;
  /** Set for `postgres:<table>`, and for `postgres:*` narrowed by `filter.entity`. */
  readonly table: string | undefined;
  /** The where, compiled for metered evaluation (filter-work.ts). */
  readonly where: MeteredWhere;
  readonly project: (record: Record<string, unknown>) => Record<string, unknown>;
  readonly filterChanged: ((changed: readonly string[]) => string[]) | undefined;
  /** Whether `fields` has a dotted path, so a changed top-level field may project unchanged. */
  private readonly nestedFields: boolean;
  /** Equal for subscriptions whose projections are equal. */
  readonly projectionKey: string;
  /** Equal for subscriptions that get the same JSON for the same commit and change. */
  readonly eventKey: string;
  /**
   * Equal for subscriptions of one environment that decide alike on every commit and get the same
   * event: the fan-out asks one of them and hands its answer to all (`Environment.attach`).
   */
  readonly shapeKey: string;
  readonly operations: ReadonlySet<Operation> | undefined;
  /** `filter.operations` of a `postgres:` subscription. */
  readonly rowOperations: ReadonlySet<RowOperation> | undefined;
  readonly recordId: string | undefined;

  constructor(
    readonly spec: SubscriptionSpec,
    readonly channel: Channel,
    readonly owner: SubscriptionOwner,
    /** For `records:*` (`postgres:*`) of a publishable key limited to some objects (tables). */
    readonly readable: ReadonlySet<string> | undefined,
  ) {
    this.idJson = JSON.stringify(spec.id);
    this.object = channel.kind === 'records' && !channel.wildcard ? channel.name : undefined;
    this.table =
      channel.kind !== 'postgres' ? undefined : channel.wildcard ? spec.filter?.entity : channel.name;
    this.where = compileMeteredWhere(spec.filter?.where ?? spec.filter?.predicates);
    this.project = compileProjection(spec.fields);
    this.filterChanged = compileFieldFilter(spec.fields);
    this.nestedFields = spec.fields?.some((path) => path.includes('.')) ?? false;
    // JSON keeps ["*"] (a field named "*") and ["a\u0000b"] apart from every other projection.
    this.projectionKey = spec.fields ? JSON.stringify(spec.fields) : '*';
    this.eventKey = `${this.idJson}${this.projectionKey}`;
    // A presence member hears nothing of its own join or leave, so none shares its shape.
    this.shapeKey =
      channel.kind === 'presence'
        ? `#${this.key}`
        : JSON.stringify([
            spec.channel,
            spec.id,
            spec.fields ?? null,
            spec.filter ?? null,
            readable ? [...readable].sort() : null,
          ]);
    const operations = spec.filter?.operations;
    const rows = channel.kind === 'postgres';
    this.operations =
      operations && !rows ? new Set(operations.map((o) => normalizeOperation(o) as Operation)) : undefined;
    this.rowOperations =
      operations && rows
        ? new Set(operations.map((o) => normalizeRowOperation(o) as RowOperation))
        : undefined;
    this.recordId = spec.filter?.recordId;
  }

  /**
   * Whether a commit empties this subscription's result set so that only a fresh snapshot can say
   * what is left: a TRUNCATE of the table its `records:` object is kept in.
   */
  isResetBy(commit: Commit): boolean {
    if (commit.kind !== 'row' || commit.operation !== 'TRUNCATE' || commit.object === undefined) return false;
    if (this.channel.kind !== 'records') return false;
    return this.object !== undefined
      ? commit.object === this.object
      : !this.readable || this.readable.has(commit.object);
  }

  /** This subscription as a presence member. */
  member(): Member {
    return { connectionId: this.owner.connectionId, meta: this.spec.meta ?? {} };
  }

  /** The subscription id the client chose. */
  get id(): string {
    return this.spec.id;
  }

  /**
   * The event this subscription gets for a commit, or null when it gets none. `meter` prices the
   * where: a job's in a replay; without one (the fan-out), the owner's live budget. Throws
   * `FilterWorkError`.
   */
  eventFor(parts: EventParts, meter?: FilterMeter): SharedEvent | null {
    const commit = parts.commit;
    switch (commit.kind) {
      case 'record':
        return this.recordEvent(commit, parts, meter);
      case 'event':
        return this.customEvent(commit, parts);
      case 'presence':
        return this.presenceEvent(commit, parts);
      case 'row':
        if (this.channel.kind === 'records') {
          if (commit.object === undefined || commit.record === undefined) return null;
          const asRecord = parts.recordParts({ ...commit, object: commit.object, record: commit.record });
          return this.recordEvent(asRecord.commit as RecordCommit, asRecord, meter);
        }
        return this.rowEvent(commit, parts, meter);
    }
  }

  /** What a record commit does to this subscription's result set, or null when it concerns it not. */
  private changeFor(commit: RecordCommit, parts: EventParts, meter: FilterMeter | undefined): Change | null {
    if (
      this.object !== undefined
        ? commit.object !== this.object
        : this.readable && !this.readable.has(commit.object)
    ) {
      return null;
    }
    if (this.recordId !== undefined && commit.record.id !== this.recordId) return null;
    if (this.operations && !this.operations.has(commit.operation)) return null;
    let before = false;
    let after = false;
    const id = commit.record.id;
    if (commit.operation === 'create') after = this.matches(commit.record, id, meter);
    else if (commit.operation === 'delete') before = this.matches(commit.record, id, meter);
    else {
      before = commit.oldRecord ? this.matches(commit.oldRecord, id, meter) : false;
      after = this.matches(commit.record, id, meter);
    }
    const change = classifyChange(before, after);
    // An update that touches no projected field and keeps the match is noise to this subscriber.
    if (change === 'modified' && this.filterChanged && parts.changedFor(this, commit).length === 0) {
      return null;
    }
    return change;
  }

  /**
   * An update's `changedFields` as this subscription sees them: the projected top-level fields
   * whose projected value changed (`customer` for `customer.name`, but not when only
   * `customer.city` changed).
   */
  projectedChanges(commit: RecordCommit | RowCommit): string[] {
    const changed = (commit.kind === 'row' ? commit.changedColumns : commit.changedFields) ?? [];
    if (!this.filterChanged) return changed;
    const kept = this.filterChanged(changed);
    if (!this.nestedFields || !commit.oldRecord || kept.length === 0) return kept;
    const before = this.project(commit.oldRecord);
    const after = this.project(commit.record ?? {});
    return kept.filter((key) => !deepEqual(before[key], after[key]));
  }

  /** Whether a record matches the where; a where-less subscription costs no meter at all. */
  private matches(record: Record<string, unknown>, id: unknown, meter: FilterMeter | undefined): boolean {
    if (this.where.fixedWork === 0) return true;
    return (meter ?? this.owner.filterBudget).match(this.where, record, id);
  }

  /**
   * What a row change does to this `postgres:` subscription's result set, or null when it
   * concerns it not. A `TRUNCATE` empties the table: `reset`, whatever the where.
   */
  private rowChangeFor(
    commit: RowCommit,
    parts: EventParts,
    meter: FilterMeter | undefined,
  ): Change | 'reset' | null {
    if (
      this.table !== undefined
        ? commit.table !== this.table
        : this.readable && !this.readable.has(commit.table)
    ) {
      return null;
    }
    if (this.rowOperations && !this.rowOperations.has(commit.operation)) return null;
    const { record, oldRecord } = commit;
    if (commit.operation === 'TRUNCATE' || record === undefined) return 'reset';
    if (this.recordId !== undefined && commit.id !== this.recordId) return null;
    let before = false;
    let after = false;
    if (commit.operation === 'INSERT') after = this.matches(record, commit.id, meter);
    else if (commit.operation === 'DELETE') before = this.matches(record, commit.id, meter);
    else {
      before = oldRecord ? this.matches(oldRecord, commit.id, meter) : false;
      after = this.matches(record, commit.id, meter);
    }
    const change = classifyChange(before, after);
    if (change === 'modified' && this.filterChanged && parts.changedFor(this, commit).length === 0) {
      return null;
    }
    return change;
  }

  private rowEvent(commit: RowCommit, parts: EventParts, meter: FilterMeter | undefined): SharedEvent | null {
    if (this.channel.kind !== 'postgres') return null;
    const change = this.rowChangeFor(commit, parts, meter);
    if (change === null) return null;
    return (
      parts.sharedEvent(this, change) ??
      parts.share(
        this,
        change,
        `{"seq":${commit.seq},"sub":${this.idJson},"change":"${change}",${parts.commonPart()}${parts.rowPart(this, commit)}}`,
      )
    );
  }

  private recordEvent(
    commit: RecordCommit,
    parts: EventParts,
    meter: FilterMeter | undefined,
  ): SharedEvent | null {
    // The live fan-out only offers record commits to records channels, but a replay offers every commit.
    if (this.channel.kind !== 'records') return null;
    const change = this.changeFor(commit, parts, meter);
    if (change === null) return null;
    return (
      parts.sharedEvent(this, change) ??
      parts.share(
        this,
        change,
        `{"seq":${commit.seq},"sub":${this.idJson},"change":"${change}",${parts.commonPart()},${parts.recordPart(this, commit)}}`,
      )
    );
  }

  private customEvent(commit: EventCommit, parts: EventParts): SharedEvent | null {
    if (this.channel.kind !== 'events') return null;
    if (!this.channel.wildcard && this.channel.name !== commit.topic) return null;
    return (
      parts.sharedEvent(this, '') ??
      parts.share(this, '', `{"seq":${commit.seq},"sub":${this.idJson},${parts.commonPart()}}`)
    );
  }

  private presenceEvent(commit: PresenceCommit, parts: EventParts): SharedEvent | null {
    if (this.channel.kind !== 'presence' || this.channel.name !== commit.room) return null;
    if (commit.memberKey === this.key) return null; // a member hears nothing of its own join or leave
    return (
      parts.sharedEvent(this, '') ??
      parts.share(this, '', `{"seq":${commit.seq},"sub":${this.idJson},${parts.commonPart()}}`)
    );
  }
}
