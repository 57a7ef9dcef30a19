/**
 * A committed change of one environment: the unit of `seq`, of history (resume), of the journal
 * (persistence) and of fan-out. Records inside are the full, unprojected states; they are never
 * mutated after commit, so history and the store share them.
 */
import * as z from 'zod/mini';
import { MemberSchema, OPERATIONS, RecordSchema } from '../../protocol/index.js';

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

/** Any committed change. */
export const CommitSchema = z.discriminatedUnion('kind', [
  RecordCommitSchema,
  EventCommitSchema,
  PresenceCommitSchema,
]);
/** Any committed change. */
export type Commit = z.infer<typeof CommitSchema>;
/** A record write. */
export type RecordCommit = z.infer<typeof RecordCommitSchema>;
/** A custom event. */
export type EventCommit = z.infer<typeof EventCommitSchema>;
/** A presence change. */
export type PresenceCommit = z.infer<typeof PresenceCommitSchema>;
