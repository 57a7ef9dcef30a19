/**
 * The controller behind `<live-record-list>`: a live query. It subscribes with a snapshot window
 * (`limit`, `sort`) and the `where`/`operations` filter, then keeps a `RecordWindow` true through
 * every batch: applied in place, keyed by id, sorted, limited, one render per batch. When the
 * window loses records it cannot refill from what it knows, it asks for a fresh snapshot.
 */
import type { Filter, LiveRecord, RecordEvent, SubscribedMessage } from '../../protocol/messages.js';
import { PROTOCOL_BOUNDS } from '../../protocol/limits.js';
import type { Where } from '../../protocol/query-schemas.js';
import { compileSort } from '../../protocol/sort.js';
import type { SubscriptionRequest } from '../connection/index.js';
import { announceChange, type ChangeAnnouncer } from './announce-change.js';
import type { LiveChangeDetail } from './live-element-event.js';
import {
  parseFields,
  parseLimit,
  parseObject,
  parseOperations,
  parseSort,
  parseWhere,
} from './parse-attributes.js';
import { RecordWindow, type RecordComparator } from './record-window.js';
import { SubscriptionController, type DataHost } from './subscription-controller.js';

/** The host of a `LiveQueryController`: the attributes of a live query. */
export type LiveQueryHost = DataHost & {
  object: string | undefined;
  where: string | Where | undefined;
  sort: string | readonly string[] | undefined;
  fields: string | readonly string[] | undefined;
  limit: number | undefined;
  operations: string | readonly string[] | undefined;
  /** Turns a change into the text of the live region. */
  announcer: ChangeAnnouncer | undefined;
};

type QueryPlan = {
  request: SubscriptionRequest;
  compare: RecordComparator;
  limit: number | undefined;
  fields: string[] | undefined;
};

/** Holds a live query's records and keeps them in step with the server. */
export class LiveQueryController extends SubscriptionController<QueryPlan> {
  /** The text of the polite live region after the last batch. */
  announcement = '';
  /** The fields the element asked for (for the default rendering); `undefined`: all. */
  fields: readonly string[] | undefined;
  /** A fresh snapshot has been asked for and not arrived yet. */
  resyncing = false;
  #window = new RecordWindow(compileSort(undefined), PROTOCOL_BOUNDS.maxSnapshotRecords);
  /** The plan of a subscription whose snapshot has not arrived yet. */
  #next: QueryPlan | undefined;
  #toggle = false;

  declare protected readonly host: LiveQueryHost;

  /** The records shown, in order. */
  get records(): readonly LiveRecord[] {
    return this.#window.records;
  }

  protected inputs(): readonly unknown[] {
    const { object, where, sort, fields, limit, operations } = this.host;
    return [object, where, sort, fields, limit, operations];
  }

  protected plan(): QueryPlan {
    const channel = parseObject(this.host.object);
    const where = parseWhere(this.host.where);
    const sort = parseSort(this.host.sort);
    const fields = parseFields(this.host.fields);
    const limit = parseLimit(this.host.limit);
    const operations = parseOperations(this.host.operations);

    const request: SubscriptionRequest = { channel };
    const filter: Filter = {};
    if (where !== undefined) filter.where = where;
    if (operations !== undefined) filter.operations = operations;
    if (Object.keys(filter).length > 0) request.filter = filter;
    // The window is sorted here too, so the sort fields must come along with a projection.
    if (fields)
      request.fields = [...new Set([...fields, ...(sort ?? []).map((key) => key.replace(/^-/, ''))])];
    const snapshot: { limit?: number; sort?: string[] } = {};
    if (limit !== undefined) snapshot.limit = limit;
    if (sort !== undefined) snapshot.sort = sort;
    request.snapshot = Object.keys(snapshot).length > 0 ? snapshot : true;
    return { request, compare: compileSort(sort), limit, fields };
  }

  /** A new subscription: the records shown stay (marked busy) until its snapshot replaces them. */
  protected begin(plan: QueryPlan): void {
    this.#next = plan;
    this.resyncing = false;
  }

  protected onSnapshot(message: SubscribedMessage): LiveChangeDetail {
    if (this.#next) {
      const { compare, limit, fields } = this.#next;
      this.#window = new RecordWindow(compare, limit ?? PROTOCOL_BOUNDS.maxSnapshotRecords);
      this.fields = fields;
      this.highlights.clear();
      this.announcement = '';
      this.#next = undefined;
    }
    // A records channel's snapshot holds records (rows are a postgres: channel's).
    this.#window.reset((message.snapshot ?? []) as LiveRecord[], message.truncated ?? false);
    this.resyncing = false;
    return { reason: 'snapshot', added: [], modified: [], removed: [], records: this.#window.records };
  }

  protected onBatch(events: RecordEvent[]): LiveChangeDetail | undefined {
    const { added, modified, removed, needsResync } = this.#window.apply(events);
    if (needsResync && !this.resyncing) {
      this.resyncing = true;
      this.resync();
    }
    if (added.length + modified.length + removed.length === 0) return undefined;
    this.mark(
      added.map((record) => record.id),
      'added',
    );
    this.mark(
      modified.map((record) => record.id),
      'modified',
    );
    const detail: LiveChangeDetail = {
      reason: 'events',
      added,
      modified,
      removed,
      records: this.#window.records,
    };
    // A trailing no-break space on every other announcement: screen readers skip a repeat of
    // the very same text, and "1 added." twice in a row is two changes.
    const text = (this.host.announcer ?? announceChange)(detail);
    this.#toggle = !this.#toggle;
    this.announcement = text && (this.#toggle ? text : `${text}\u00a0`);
    return detail;
  }
}
