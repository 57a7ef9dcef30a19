/**
 * A committed change of one environment: the unit of `seq`, of history (resume), of the journal
 * (persistence) and of fan-out. Records inside are the full, unprojected states; they are never
 * mutated after commit, so history and the store share them.
 */
import * as z from 'zod/mini';
import { MemberSchema, OPERATIONS, RecordSchema, ROW_OPERATIONS, RowSchema } from '../../protocol/index.js';

/** A record write. For `delete`, `record` is the last state; `oldRecord` is the state before an update. */
export const RecordCommitSchema = z.strictObject({
  kind: z.literal('record'),
  seq: z.int(),
  timestamp: z.string(),
  object: z.string(),
  operation: z.enum(OPERATIONS),
  record: RecordSchema,
  oldRecord: z.optional(RecordSchema),
  changedFields: z.optional(z.array(z.string())),
  correlationId: z.optional(z.string()),
});

/** A custom event published to a topic. */
export const EventCommitSchema = z.strictObject({
  kind: z.literal('event'),
  seq: z.int(),
  timestamp: z.string(),
  topic: z.string(),
  data: z.unknown(),
});

/** A presence member joined or left a room. `memberKey` tells the member's own subscription apart. */
export const PresenceCommitSchema = z.strictObject({
  kind: z.literal('presence'),
  seq: z.int(),
  timestamp: z.string(),
  room: z.string(),
  change: z.enum(['join', 'leave']),
  member: MemberSchema,
  memberKey: z.int(),
});

/**
 * One change of a PostgreSQL transaction to an exposed table (PROTOCOL.md section 10), with the
 * transaction's commit time as `timestamp`. `record` is the row after the change (before it, for
 * `DELETE`; none for `TRUNCATE`), `oldRecord` the row before an `UPDATE`. `id` is the primary key
 * as a string. `lsn` is where the transaction's commit record starts (the event's `lsn`); `end`,
 * where it ends, and `index`, the change's place in the transaction (a `TRUNCATE` of several
 * tables counting once per table), say how far the source got: a transaction re-sent after a
 * restart continues after the changes already committed (`PostgresProgress`).
 */
export const RowCommitSchema = z.strictObject({
  kind: z.literal('row'),
  seq: z.int(),
  timestamp: z.string(),
  schema: z.string(),
  table: z.string(),
  operation: z.enum(ROW_OPERATIONS),
  id: z.optional(z.string()),
  record: z.optional(RowSchema),
  oldRecord: z.optional(RowSchema),
  changedColumns: z.optional(z.array(z.string())),
  xid: z.string(),
  lsn: z.string(),
  end: z.string(),
  index: z.int().check(z.minimum(0)),
  /** The object kept in the table, whose `records:` subscribers hear of the change as a record event. */
  object: z.optional(z.string()),
  correlationId: z.optional(z.string()),
});

/** Any committed change. */
export const CommitSchema = z.discriminatedUnion('kind', [
  RecordCommitSchema,
  EventCommitSchema,
  PresenceCommitSchema,
  RowCommitSchema,
]);
/** Any committed change. */
export type Commit = z.infer<typeof CommitSchema>;
/** A record write. */
export type RecordCommit = z.infer<typeof RecordCommitSchema>;
/** A custom event. */
export type EventCommit = z.infer<typeof EventCommitSchema>;
/** A presence change. */
export type PresenceCommit = z.infer<typeof PresenceCommitSchema>;
/** A row change of a PostgreSQL table. */
export type RowCommit = z.infer<typeof RowCommitSchema>;
/** A commit before it takes its seq (its timestamp is set by whoever commits it). */
export type CommitDraft = Commit extends infer C ? (C extends Commit ? Omit<C, 'seq'> : never) : never;
