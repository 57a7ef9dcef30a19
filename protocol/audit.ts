/**
 * Audit records (PROTOCOL.md section 8): what the server writes about every connection, as JSON
 * lines and to hooks registered in code.
 */
import * as z from 'zod/mini';

/**
 * Every audit record type. `message` is coalesced, not one record per frame: one per connection
 * per `SERVER_BOUNDS.messageAuditIntervalMs` (10 s) in which it sent anything, and one for the
 * rest at its disconnect, with details `{from, counts, dropped}`: when the interval's first frame
 * came (ISO 8601), the frames read by message type (`{"subscribe": 2, "ping": 40}`), and the
 * frames the rate limit dropped unread (4029). So a connection's audit stays small whatever it sends.
 *
 * `postgres.status` is the PostgreSQL source's, not a connection's (decision: section 8 lists
 * connection records only; a source that stops and resumes is an operator's concern too): its
 * `connectionId` is `"postgres"`, and its details `{status, error?}` say when the replication
 * stream went `reconnecting` (and why) and back to `streaming`.
 */
export const AUDIT_TYPES = [
  'auth.granted',
  'auth.denied',
  'connect',
  'subscribe',
  'unsubscribe',
  'message',
  'session.suspended',
  'session.resumed',
  'disconnect',
  'postgres.status',
] as const;
/** One of `AUDIT_TYPES`. */
export type AuditType = (typeof AUDIT_TYPES)[number];

/** One audit record. `client`/`environment` are absent only when a token could not be resolved. */
export const AuditRecordSchema = z.strictObject({
  type: z.enum(AUDIT_TYPES),
  time: z.string(),
  client: z.optional(z.string()),
  environment: z.optional(z.string()),
  connectionId: z.string(),
  details: z.record(z.string(), z.unknown()),
});
/** One audit record. */
export type AuditRecord = z.infer<typeof AuditRecordSchema>;
