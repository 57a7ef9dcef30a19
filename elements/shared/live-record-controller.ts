/**
 * The controller behind `<live-record>`: one record, live. It subscribes with `filter.recordId`
 * and a snapshot, then follows the record's events; a `removed` event (the record was deleted,
 * or left the operations it listens to) keeps its last version and marks it removed.
 */
import type { LiveRecord, RecordEvent, SubscribedMessage } from '../../protocol/index.js';
import type { SubscriptionRequest } from '../connection/index.js';
import type { ChangeMark } from './change-highlights.js';
import type { LiveChangeDetail } from './live-element-event.js';
import { parseFields, parseObject, parseRecordId } from './parse-attributes.js';
import { SubscriptionController, type DataHost } from './subscription-controller.js';

/** The host of a `LiveRecordController`. */
export type LiveRecordHost = DataHost & {
  object: string | undefined;
  recordId: string | undefined;
  fields: string | readonly string[] | undefined;
};

type RecordPlan = { request: SubscriptionRequest; fields: string[] | undefined };

/** Holds one record and keeps it in step with the server. */
export class LiveRecordController extends SubscriptionController<RecordPlan> {
  /** The record (its last version when `removed`); `undefined` when it does not exist. */
  record: LiveRecord | undefined;
  /** The record was deleted while shown. */
  removed = false;
  /** The fields the element asked for (for the default rendering); `undefined`: all. */
  fields: readonly string[] | undefined;

  declare protected readonly host: LiveRecordHost;

  /** How the record changed a moment ago, for the highlight. */
  get changed(): ChangeMark | undefined {
    return this.record && this.highlights.get(this.record.id);
  }

  protected inputs(): readonly unknown[] {
    const { object, recordId, fields } = this.host;
    return [object, recordId, fields];
  }

  protected plan(): RecordPlan {
    const channel = parseObject(this.host.object);
    const recordId = parseRecordId(this.host.recordId);
    const fields = parseFields(this.host.fields);
    const request: SubscriptionRequest = { channel, filter: { recordId }, snapshot: true };
    if (fields) request.fields = fields;
    return { request, fields };
  }

  protected begin(plan: RecordPlan): void {
    this.record = undefined;
    this.removed = false;
    this.fields = plan.fields;
    this.highlights.clear();
  }

  protected onSnapshot(message: SubscribedMessage): LiveChangeDetail {
    this.record = message.snapshot?.[0] as LiveRecord | undefined; // a records channel's: records
    this.removed = false;
    return {
      reason: 'snapshot',
      added: [],
      modified: [],
      removed: [],
      records: this.record ? [this.record] : [],
    };
  }

  protected onBatch(events: RecordEvent[]): LiveChangeDetail | undefined {
    const event = events[events.length - 1] as RecordEvent;
    const before = this.record && !this.removed ? this.record : undefined;
    this.record = event.record;
    this.removed = event.change === 'removed';
    const record = event.record;
    if (this.removed) {
      return before
        ? { reason: 'events', added: [], modified: [], removed: [record], records: [] }
        : undefined;
    }
    this.mark([record.id], before ? 'modified' : 'added');
    return {
      reason: 'events',
      added: before ? [] : [record],
      modified: before ? [record] : [],
      removed: [],
      records: [record],
    };
  }
}
