/**
 * The HTTP side of the protocol (PROTOCOL.md section 2): response bodies and the error body with
 * its statuses. The paths are in paths.ts, which the browser loads without zod.
 */
import * as z from 'zod/mini';
import { RecordSchema } from './messages.js';

/** Also here for existing imports; browser code imports it from paths.ts, which loads no zod. */
export { PATHS } from './paths.js';

/** `GET /api/users/ws-auth/` 200 body: a one-time token. */
export const WsAuthResponseSchema = z.strictObject({
  token: z.string(),
  expiresAt: z.string(),
  environment: z.string(),
  url: z.string(),
});
/** A ws-auth answer. */
export type WsAuthResponse = z.infer<typeof WsAuthResponseSchema>;

/** `GET /api/objects/:object/records` 200 body. */
export const RecordListResponseSchema = z.strictObject({
  records: z.array(RecordSchema),
  truncated: z.optional(z.boolean()),
});
/** A records list answer. */
export type RecordListResponse = z.infer<typeof RecordListResponseSchema>;

/** `GET /healthz` 200 body. */
export const HealthResponseSchema = z.strictObject({
  ok: z.literal(true),
  connections: z.int(),
  uptimeMs: z.int(),
  /**
   * With a `postgres` section (section 10): the replication stream's state; `standby` in a
   * cluster's process that does not read the slot now (another does).
   */
  postgres: z.optional(z.enum(['starting', 'streaming', 'reconnecting', 'standby'])),
  /**
   * In a cluster (section 11): this process's node id, the live nodes, whether this one reads the
   * replication slot, and whether its Redis can be reached.
   */
  cluster: z.optional(
    z.strictObject({
      node: z.string(),
      nodes: z.int(),
      replication: z.enum(['leader', 'follower']),
      redis: z.enum(['connected', 'unreachable']),
    }),
  ),
});
/** A `/healthz` answer. */
export type HealthResponse = z.infer<typeof HealthResponseSchema>;

/** HTTP status of each error name. */
export const HTTP_ERRORS = {
  bad_request: 400,
  unauthorized: 401,
  token_invalid: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  quota_exceeded: 429,
  internal_error: 500,
  unavailable: 503,
} as const;
/** An HTTP error name. */
export type HttpErrorName = keyof typeof HTTP_ERRORS;

/**
 * The body of every HTTP error. `code` is one of `HTTP_ERRORS`' names when this server writes it;
 * a reader takes any name (decision: a client keeps working against a server that has added one,
 * and treats a name it does not know by the HTTP status).
 */
export const ErrorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    details: z.optional(z.unknown()),
  }),
});
/** An HTTP error body. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** `POST /api/events/:topic` 202 body: the seq the event took. */
export const PublishResponseSchema = z.strictObject({ seq: z.int() });
/** A publish answer. */
export type PublishResponse = z.infer<typeof PublishResponseSchema>;
