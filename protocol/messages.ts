/**
 * Every message of catalyst-realtime.v1 (PROTOCOL.md sections 3 and 4) as a zod schema, with the
 * types inferred from them. This is the only place message shapes are declared: the server, the
 * mock and the elements all import from here.
 */
import * as z from 'zod/mini';
import { CHANGES } from './change.js';
import { PROTOCOL_BOUNDS } from './limits.js';
import { normalizeOperation, normalizeRowOperation, OPERATIONS, ROW_OPERATIONS } from './operations.js';
import { FieldsSchema, SortSchema, WhereSchema } from './query-schemas.js';

/** The protocol name carried by `welcome`. */
export const PROTOCOL_NAME = 'catalyst-realtime.v1';

const seqSchema = () => z.int().check(z.minimum(0));

/** A stored record: a string `id` and any other JSON fields. */
export const RecordSchema = z.looseObject({ id: z.string().check(z.minLength(1), z.maxLength(256)) });
/** A stored record. */
export type LiveRecord = z.infer<typeof RecordSchema>;

const OperationNameSchema = z.string().check(
  z.refine((s) => normalizeOperation(s) !== undefined || normalizeRowOperation(s) !== undefined, {
    message:
      'expected create, update or delete (INSERT, UPDATE, DELETE are aliases, any case; TRUNCATE on postgres channels)',
  }),
);

/** A row of a table as a `postgres:` event carries it: column name → JSON value (section 10). */
export const RowSchema = z.record(z.string(), z.unknown());
/** A row of a table. */
export type LiveRow = z.infer<typeof RowSchema>;

/** A subscription id: chosen by the client, 1 to 64 characters, unique on the connection. */
export const SubscriptionIdSchema = z.string().check(z.minLength(1), z.maxLength(64));

/**
 * `filter` of a records or `postgres:` subscription. `predicates` (the workspace gateway's name)
 * is an alias of `where`, and `entity` narrows `postgres:*` to one table; both are for `postgres:`
 * channels only, as is the `TRUNCATE` operation (the server refuses them elsewhere, 4000).
 */
export const FilterSchema = z.strictObject({
  operations: z.optional(z.array(OperationNameSchema).check(z.minLength(1), z.maxLength(8))),
  recordId: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  where: z.optional(WhereSchema),
  predicates: z.optional(WhereSchema),
  entity: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});
/** `filter` of a subscription. */
export type Filter = z.infer<typeof FilterSchema>;

/** `snapshot`: `true`, `false`, or the window to return. */
export const SnapshotRequestSchema = z.union([
  z.boolean(),
  z.strictObject({
    limit: z.optional(z.int().check(z.minimum(1), z.maximum(PROTOCOL_BOUNDS.maxSnapshotLimit))),
    sort: z.optional(SortSchema),
  }),
]);
/** `snapshot` of a subscribe message. */
export type SnapshotRequest = z.infer<typeof SnapshotRequestSchema>;

/**
 * A JSON object: presence `meta`. A `__proto__` key is refused first, while it is still an own
 * key of the parsed frame: a record copy skips it, so it would vanish instead of being refused.
 */
const JsonObjectSchema = z.pipe(
  z
    .unknown()
    .check(
      z.refine(
        (value) => !(typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')),
        '"__proto__" is not allowed as a field name',
      ),
    ),
  z.record(z.string(), z.unknown()),
);

/** A ping or pong token, echoed unchanged. */
const PingTokenSchema = z.union([z.number(), z.string().check(z.maxLength(64))]);

// ---- client → server -------------------------------------------------------------------------

/** client → server: authenticates a connection opened without `?token=`; must be the first frame. */
export const AuthMessageSchema = z.strictObject({
  type: z.literal('auth'),
  token: z.string().check(z.minLength(1), z.maxLength(128)),
});

/** client → server: the fields of a subscription, shared by `subscribe` and SSE's `subscriptions`. */
export const SubscriptionSpecSchema = z.strictObject({
  id: SubscriptionIdSchema,
  channel: z.string().check(z.minLength(1), z.maxLength(256)),
  filter: z.optional(FilterSchema),
  fields: z.optional(FieldsSchema),
  snapshot: z.optional(SnapshotRequestSchema),
  since: z.optional(seqSchema()),
  epoch: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  meta: z.optional(JsonObjectSchema),
});
/** A subscription as the client describes it. */
export type SubscriptionSpec = z.infer<typeof SubscriptionSpecSchema>;

/** client → server: starts (or atomically replaces) a subscription. */
export const SubscribeMessageSchema = z.strictObject({
  type: z.literal('subscribe'),
  ...SubscriptionSpecSchema.shape,
});

/** client → server: ends a subscription; answered with `unsubscribed` even when not live. */
export const UnsubscribeMessageSchema = z.strictObject({
  type: z.literal('unsubscribe'),
  id: SubscriptionIdSchema,
});

/** client → server: publishes a custom event (secret keys only). */
export const PublishMessageSchema = z.strictObject({
  type: z.literal('publish'),
  id: z.optional(SubscriptionIdSchema),
  channel: z.string().check(z.minLength(1), z.maxLength(256)),
  data: z.unknown(),
});

/** client → server or server → client: asks for a `pong` with the same `t`. */
export const PingMessageSchema = z.strictObject({ type: z.literal('ping'), t: z.optional(PingTokenSchema) });
/** client → server or server → client: answers a `ping`. */
export const PongMessageSchema = z.strictObject({ type: z.literal('pong'), t: z.optional(PingTokenSchema) });

/** Every message a client may send. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  AuthMessageSchema,
  SubscribeMessageSchema,
  UnsubscribeMessageSchema,
  PublishMessageSchema,
  PingMessageSchema,
  PongMessageSchema,
]);
/** A message from client to server. */
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
/** A `subscribe` message. */
export type SubscribeMessage = z.infer<typeof SubscribeMessageSchema>;

// ---- server → client -------------------------------------------------------------------------

/** The limits a `welcome` tells the client about. */
export const WelcomeLimitsSchema = z.strictObject({
  maxSubscriptions: z.int(),
  maxBatchEvents: z.int(),
  flushIntervalMs: z.int(),
  maxMessageBytes: z.int(),
});

/** server → client: the connection is authenticated. */
export const WelcomeMessageSchema = z.strictObject({
  type: z.literal('welcome'),
  protocol: z.literal(PROTOCOL_NAME),
  connectionId: z.string(),
  client: z.string(),
  environment: z.string(),
  epoch: z.string(),
  seq: seqSchema(),
  heartbeatMs: z.int(),
  sessionExpiresAt: z.string(),
  limits: WelcomeLimitsSchema,
});
/** A `welcome` message. */
export type WelcomeMessage = z.infer<typeof WelcomeMessageSchema>;

/** A presence member as the others see it. */
export const MemberSchema = z.strictObject({ connectionId: z.string(), meta: JsonObjectSchema });
/** A presence member. */
export type Member = z.infer<typeof MemberSchema>;

/**
 * server → client: a subscription is live. `snapshot` holds records (a string `id` each) for a
 * records channel, and rows (any columns) for a `postgres:` channel (section 10).
 */
export const SubscribedMessageSchema = z.strictObject({
  type: z.literal('subscribed'),
  id: SubscriptionIdSchema,
  seq: seqSchema(),
  snapshot: z.optional(z.array(RowSchema)),
  truncated: z.optional(z.boolean()),
  resumed: z.optional(z.boolean()),
  members: z.optional(z.array(MemberSchema)),
});
/** A `subscribed` message. */
export type SubscribedMessage = z.infer<typeof SubscribedMessageSchema>;

/** server → client: a subscription ended. */
export const UnsubscribedMessageSchema = z.strictObject({
  type: z.literal('unsubscribed'),
  id: SubscriptionIdSchema,
});

/** server → client: a `publish` was committed with `seq`. */
export const PublishedMessageSchema = z.strictObject({
  type: z.literal('published'),
  id: z.optional(SubscriptionIdSchema),
  channel: z.string(),
  seq: seqSchema(),
});

/** server → client: a request failed; the connection stays open. */
export const ErrorMessageSchema = z.strictObject({
  type: z.literal('error'),
  code: z.int(),
  name: z.string(),
  message: z.string(),
  id: z.optional(z.string()),
  details: z.optional(z.unknown()),
});
/** An `error` message. */
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;

const eventBase = {
  seq: seqSchema(),
  sub: SubscriptionIdSchema,
  channel: z.string(),
  timestamp: z.string(),
};

/** An event of a records channel: what a write did to the subscription's result set. */
export const RecordEventSchema = z.strictObject({
  ...eventBase,
  object: z.string(),
  operation: z.enum(OPERATIONS),
  change: z.enum(CHANGES),
  id: z.string(),
  record: RecordSchema,
  oldRecord: z.optional(RecordSchema),
  changedFields: z.optional(z.array(z.string())),
  correlationId: z.optional(z.string()),
});
/** A record event. */
export type RecordEvent = z.infer<typeof RecordEventSchema>;

/** An event of an events channel: a custom event published through REST or `publish`. */
export const CustomEventSchema = z.strictObject({
  ...eventBase,
  topic: z.string(),
  data: z.unknown(),
});
/** A custom event. */
export type CustomEvent = z.infer<typeof CustomEventSchema>;

/** An event of a presence channel: a member joined or left. */
export const PresenceEventSchema = z.strictObject({
  ...eventBase,
  change: z.enum(['join', 'leave']),
  member: MemberSchema,
});
/** A presence event. */
export type PresenceEvent = z.infer<typeof PresenceEventSchema>;

/**
 * An event of a `postgres:` channel: one row change of an exposed table (section 10). `change`
 * follows section 4's table against `where`; a `TRUNCATE` is `reset` and carries no row (a client
 * showing rows subscribes again for a fresh snapshot). `id` is the primary key as a string (a
 * composite key: the JSON array text of its values). `xid` and `lsn` are the transaction's: its
 * id, and where its commit record starts — the same for every change of one transaction, and
 * rising with `seq` (decision: a change's own log position is not in commit order).
 */
export const RowEventSchema = z.strictObject({
  ...eventBase,
  table: z.string(),
  schema: z.string(),
  xid: z.string(),
  lsn: z.string(),
  operation: z.enum(ROW_OPERATIONS),
  change: z.enum([...CHANGES, 'reset']),
  id: z.optional(z.string()),
  record: z.optional(RowSchema),
  oldRecord: z.optional(RowSchema),
  changedColumns: z.optional(z.array(z.string())),
  correlationId: z.optional(z.string()),
});
/** A row event. */
export type RowEvent = z.infer<typeof RowEventSchema>;

/** Any event in a batch. */
export const EventSchema = z.union([
  RecordEventSchema,
  CustomEventSchema,
  PresenceEventSchema,
  RowEventSchema,
]);
/** Any event in a batch. */
export type LiveEvent = z.infer<typeof EventSchema>;

/** server → client: events, at most `maxBatchEvents` of them. */
export const BatchMessageSchema = z.strictObject({ type: z.literal('batch'), events: z.array(EventSchema) });
/** A `batch` message. */
export type BatchMessage = z.infer<typeof BatchMessageSchema>;

/** Every message a server may send. */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  WelcomeMessageSchema,
  SubscribedMessageSchema,
  UnsubscribedMessageSchema,
  PublishedMessageSchema,
  PingMessageSchema,
  PongMessageSchema,
  ErrorMessageSchema,
  BatchMessageSchema,
]);
/** A message from server to client. */
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

/** The `type` of every server message. */
export type ServerMessageType = ServerMessage['type'];
