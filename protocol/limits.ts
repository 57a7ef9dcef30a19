/**
 * The limits of PROTOCOL.md section 9 and their production defaults, which the dev server and the
 * mock imitate out of the box. The one source of these numbers: docs and tables are generated
 * from `LIMIT_DEFAULTS`, never written by hand. Their zod schema, which config files and CLI
 * flags go through, is `LimitsSchema` (limits-schema.ts).
 */
import type { Limits } from './limits-schema.js';

/** The production defaults of PROTOCOL.md section 9. */
export const LIMIT_DEFAULTS: Readonly<Limits> = Object.freeze({
  maxConnectionsPerClient: 100,
  maxSubscriptions: 100,
  maxBatchEvents: 1000,
  flushIntervalMs: 5000,
  heartbeatMs: 30_000,
  tokenTtlMs: 60_000,
  sessionTtlMs: 3_600_000,
  maxMessageBytes: 65_536,
  historySize: 10_000,
  maxBufferedBytes: 8_388_608,
  historyBytes: 67_108_864,
  maxMessagesPerSecond: 100,
  maxMessageBurst: 200,
  maxPresencePerConnection: 32,
  maxRoomMembers: 200,
  maxFilterWork: 20_000,
  maxFilterWorkPerSecond: 1_000_000,
  maxConcurrentRequestsPerClient: 64,
});

/** Fixed bounds that are part of the contract rather than configuration. */
export const PROTOCOL_BOUNDS = Object.freeze({
  /** Records a snapshot or a REST list returns at most, whatever `limit` says. */
  maxSnapshotRecords: 10_000,
  /** Largest `snapshot.limit` a client may ask for. */
  maxSnapshotLimit: 1000,
  /** Largest presence `meta`, in bytes of its JSON text. */
  maxPresenceMetaBytes: 1024,
  /** Largest REST request body. */
  maxHttpBodyBytes: 1_048_576,
  /** Deepest nesting of a stored value (record body, event data): bounds every recursive walk. */
  maxValueDepth: 64,
  /** Time a connection without `?token=` has to send its `auth` frame. */
  authTimeoutMs: 5000,
  /** Bad frames tolerated per minute; the next one closes the connection with 1008. */
  maxBadFramesPerMinute: 10,
});

/**
 * Fixed bounds only servers apply (kept apart from `PROTOCOL_BOUNDS`, which the browser bundle
 * carries).
 */
export const SERVER_BOUNDS = Object.freeze({
  /**
   * Frames a connection may send while one of its subscriptions is being prepared (a long
   * snapshot or replay, which answers them in order afterwards); past it each is dropped with 4029.
   */
  maxFramesWaiting: 100,
  /**
   * A frame counts toward `maxMessagesPerSecond` and `maxMessageBurst` once per started this many
   * characters: reading one costs the server by its size, so a 45 KB frame is 45 small ones.
   */
  messageBytesPerToken: 1024,
  /**
   * The window of the frame rate limit's close: a connection that has more than
   * `maxMessageBurst` frames dropped (each answered with error 4029) within it is closed with
   * 4029. A client over its rate by a little loses frames; one that keeps on goes.
   */
  rateLimitWindowMs: 10_000,
  /**
   * A connection's `message` audit records are coalesced over this interval: one record with
   * the frames counted by type (and those dropped by the rate limit) when it ends, and one for
   * the rest at disconnect, so the audit of a connection stays small whatever it sends.
   */
  messageAuditIntervalMs: 10_000,
});
