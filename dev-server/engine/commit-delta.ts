/**
 * The persisted form of a commit: what it takes to rebuild it from the records next to it, so that
 * `--data` files grow with the data, not with history × record size. In memory an update holds its
 * whole `record` and `oldRecord` (they share their values with the store, so that costs little);
 * written out, each would be a full copy. A delta keeps an update as its id, `changedFields`, and
 * the new and old values of those fields only; a field absent before or after is absent from
 * `before` or `after`, which tells it apart from `null`.
 *
 * Deltas are read in one of two directions, and each carries a whole record only where its
 * direction cannot find it:
 * - `forward` (the journal): replayed oldest first on top of the state before the commit. A create
 *   carries its record; a delete finds it in the state.
 * - `backward` (the snapshot's history): unwound newest first from the state after the commit. A
 *   delete carries its record (it is no longer in the state); a create finds it in the state.
 *
 * Rebuilt commits share their records with the state, as live ones do.
 */
import * as z from 'zod/mini';
import { isPlainObject, type LiveRecord } from '../../protocol/index.js';
import {
  EventCommitSchema,
  PresenceCommitSchema,
  RowCommitSchema,
  type Commit,
  type RecordCommit,
} from './commit.js';
import { recordJsonLength } from './record-query.js';

/**
 * A record as stored, taken as parsed: no copy, and every key kept (a schema that copies would
 * drop a `__proto__` field, and would cost a copy of every record on load).
 */
export const StoredRecordSchema = z.custom<LiveRecord>(
  (v) => isPlainObject(v) && typeof v.id === 'string' && v.id.length > 0,
  { message: 'expected a record: an object with a non-empty string id' },
);
/** Field values by name, taken as parsed. */
const FieldsSchema = z.custom<Record<string, unknown>>(isPlainObject, { message: 'expected an object' });

const recordEnvelope = {
  kind: z.literal('record'),
  seq: z.int(),
  timestamp: z.string(),
  object: z.string(),
  id: z.string(),
  correlationId: z.optional(z.string()),
};

/** A create or a delete; `record` is there when the delta's direction needs it. */
const RecordWriteDeltaSchema = z.strictObject({
  ...recordEnvelope,
  operation: z.enum(['create', 'delete']),
  record: z.optional(StoredRecordSchema),
});

/** An update: the changed fields' values after and before (a field absent there was absent then). */
const RecordUpdateDeltaSchema = z.strictObject({
  ...recordEnvelope,
  operation: z.literal('update'),
  changedFields: z.array(z.string()),
  after: FieldsSchema,
  before: FieldsSchema,
});

/**
 * A persisted commit. Events and presence changes are data themselves and are kept whole; so are
 * row changes, whose table lives in PostgreSQL, not beside them.
 */
export const CommitDeltaSchema = z.union([
  RecordWriteDeltaSchema,
  RecordUpdateDeltaSchema,
  EventCommitSchema,
  PresenceCommitSchema,
  RowCommitSchema,
]);
/** A persisted commit. */
export type CommitDelta = z.infer<typeof CommitDeltaSchema>;

/** Which way a delta is read: `forward` from the state before it, `backward` from the state after. */
export type DeltaDirection = 'forward' | 'backward';

/** A delta does not fit the state it is read against (a damaged or mismatched file). */
export class DeltaMismatchError extends Error {}

/** The records of one environment by object, then id: the state deltas are read against. */
export type RecordTables = Map<string, Map<string, LiveRecord>>;

/** The persisted form of a commit, read in `direction`. */
export function toDelta(commit: Commit, direction: DeltaDirection): CommitDelta {
  if (commit.kind !== 'record') return commit;
  const { seq, timestamp, object, record, operation } = commit;
  // Built key by key rather than spread: this runs once per commit (history's weight, the journal).
  let delta: CommitDelta;
  if (operation === 'update') {
    const changedFields = commit.changedFields ?? [];
    const after = pick(record, changedFields);
    const before = pick(commit.oldRecord ?? record, changedFields);
    delta = {
      kind: 'record',
      seq,
      timestamp,
      object,
      id: record.id,
      operation,
      changedFields,
      after,
      before,
    };
  } else {
    delta = { kind: 'record', seq, timestamp, object, id: record.id, operation };
    if ((operation === 'create') === (direction === 'forward')) delta.record = record;
  }
  if (commit.correlationId !== undefined) delta.correlationId = commit.correlationId;
  return delta;
}

/**
 * Rebuilds a commit from its forward delta and the state before it, and moves `tables` to the
 * state after it. Throws `DeltaMismatchError` when the state cannot be the one before it.
 */
export function replayForward(tables: RecordTables, delta: CommitDelta): Commit {
  if (delta.kind !== 'record') return delta;
  const table = tableOf(tables, delta.object);
  const current = table.get(delta.id);
  if (delta.operation === 'update') {
    if (!current) throw mismatch(delta, 'updates', 'which does not exist');
    const commit = updateCommit(delta, withFields(current, delta.changedFields, delta.after), current);
    table.set(delta.id, commit.record);
    return commit;
  }
  if (delta.operation === 'create') {
    if (current) throw mismatch(delta, 'creates', 'which already exists');
    const commit = recordCommit(delta, requireRecord(delta));
    table.set(delta.id, commit.record);
    return commit;
  }
  if (!current) throw mismatch(delta, 'deletes', 'which does not exist');
  table.delete(delta.id);
  return recordCommit(delta, current);
}

/**
 * Rebuilds a commit from its backward delta and the state after it, and moves `tables` to the
 * state before it. Throws `DeltaMismatchError` when the state cannot be the one after it.
 */
export function unwindBackward(tables: RecordTables, delta: CommitDelta): Commit {
  if (delta.kind !== 'record') return delta;
  const table = tableOf(tables, delta.object);
  const current = table.get(delta.id);
  if (delta.operation === 'update') {
    if (!current) throw mismatch(delta, 'updates', 'which does not exist after it');
    const oldRecord = withFields(current, delta.changedFields, delta.before);
    table.set(delta.id, oldRecord);
    return updateCommit(delta, current, oldRecord);
  }
  if (delta.operation === 'delete') {
    if (current) throw mismatch(delta, 'deletes', 'which exists after it');
    const commit = recordCommit(delta, requireRecord(delta));
    table.set(delta.id, commit.record);
    return commit;
  }
  if (!current) throw mismatch(delta, 'creates', 'which does not exist after it');
  table.delete(delta.id);
  return recordCommit(delta, current);
}

/**
 * What a commit weighs in history's byte budget: about the JSON length of its delta, with the
 * whole record of a create or a delete (the record is data once, in one direction or the other).
 * Computed once, when the commit joins history.
 */
export function weigh(commit: Commit): number {
  if (commit.kind === 'record' && commit.operation !== 'update') {
    // The delta that leaves the record out, plus the record's own (cached) length.
    const lean = toDelta(commit, commit.operation === 'create' ? 'backward' : 'forward');
    return JSON.stringify(lean).length + recordJsonLength(commit.record);
  }
  return JSON.stringify(toDelta(commit, 'forward')).length;
}

function pick(record: LiveRecord, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (Object.hasOwn(record, field)) define(out, field, record[field]);
  return out;
}

/** A copy of `record` with `fields` set from `values`, or removed where `values` lacks them. */
function withFields(
  record: LiveRecord,
  fields: readonly string[],
  values: Record<string, unknown>,
): LiveRecord {
  const out: Record<string, unknown> = { ...record };
  for (const field of fields) {
    if (Object.hasOwn(values, field)) define(out, field, values[field]);
    else delete out[field];
  }
  return out as LiveRecord;
}

/** Sets an own property, even one named `__proto__` (assignment would reach the prototype). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty costs far more than assignment; only `__proto__` needs it.
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function tableOf(tables: RecordTables, object: string): Map<string, LiveRecord> {
  let table = tables.get(object);
  if (!table) tables.set(object, (table = new Map()));
  return table;
}

type RecordDelta = Extract<CommitDelta, { kind: 'record' }>;

function requireRecord(delta: Extract<RecordDelta, { operation: 'create' | 'delete' }>): LiveRecord {
  if (!delta.record) throw mismatch(delta, `${delta.operation}s`, 'but carries no record');
  if (delta.record.id !== delta.id)
    throw mismatch(delta, `${delta.operation}s`, `but carries record "${delta.record.id}"`);
  return delta.record;
}

function recordCommit(delta: RecordDelta, record: LiveRecord): RecordCommit {
  const { seq, timestamp, object, operation, correlationId } = delta;
  return {
    kind: 'record',
    seq,
    timestamp,
    object,
    operation,
    record,
    ...(correlationId === undefined ? {} : { correlationId }),
  };
}

function updateCommit(
  delta: Extract<RecordDelta, { operation: 'update' }>,
  record: LiveRecord,
  oldRecord: LiveRecord,
): RecordCommit {
  return { ...recordCommit(delta, record), oldRecord, changedFields: delta.changedFields };
}

function mismatch(delta: RecordDelta, verb: string, why: string): DeltaMismatchError {
  return new DeltaMismatchError(`seq ${delta.seq} ${verb} ${delta.object} record "${delta.id}" ${why}`);
}
