/**
 * The zod schema of the limits of PROTOCOL.md section 9 (their defaults are `LIMIT_DEFAULTS` in
 * limits.ts): a config file's `limits` and the CLI flags are validated with it.
 */
import * as z from 'zod/mini';

const positiveInt = () => z.int().check(z.minimum(1));
/** Durations become timers, and hosts fire a timer over 2^31-1 ms at once: keep them below. */
const duration = (max = 2_147_483_647) => z.int().check(z.minimum(1), z.maximum(max));
const nonNegativeInt = () => z.int().check(z.minimum(0));

/** Every configurable limit; a config file's `limits` and the CLI flags are validated with it. */
export const LimitsSchema = z.strictObject({
  /** Connections (WebSocket and SSE) of one client at once; the next is closed with 4008. */
  maxConnectionsPerClient: positiveInt(),
  /** Live subscriptions on one connection; the next `subscribe` gets error 4008. */
  maxSubscriptions: positiveInt(),
  /** Events in one `batch` frame; a connection with this many waiting is flushed at once. */
  maxBatchEvents: positiveInt(),
  /** Longest time an event waits before it is sent; 0 sends as soon as the event loop turns. */
  flushIntervalMs: nonNegativeInt().check(z.maximum(2_147_483_647)),
  /** Interval of the server's `ping`; 2 × this of client silence closes with 4011. */
  heartbeatMs: duration(1_073_741_823),
  /** How long a ws-auth token may wait before its (single) use. */
  tokenTtlMs: duration(),
  /** Longest life of one connection; then it is closed with 4001. */
  sessionTtlMs: duration(),
  /** Largest client frame in bytes; a larger one closes the connection with 1009. */
  maxMessageBytes: positiveInt(),
  /** Events kept per environment for resume with `since`. */
  historySize: positiveInt(),
  /** Unsent bytes a connection may hold before it is closed with 4009. */
  maxBufferedBytes: positiveInt(),
  /**
   * Bytes of history kept per environment, beside `historySize`: the oldest events go first when
   * either is passed. An event weighs what it takes to rebuild it (an update: its changed fields).
   */
  historyBytes: positiveInt(),
  /**
   * Frames a connection may send per second on average (a frame counts once per started KiB);
   * past the burst each is dropped with 4029.
   */
  maxMessagesPerSecond: positiveInt(),
  /** Frames a connection may send at once above its rate, before the first is dropped with 4029. */
  maxMessageBurst: positiveInt(),
  /**
   * Presence memberships (presence subscriptions, in any rooms) one connection may hold; the next
   * gets 4008 and changes nothing (replacing one with the same id does not count twice). The tabs
   * of one browser share one connection, each tab's members riding on it: the default, 32, is
   * more tabs of one site, each showing a room, than anyone keeps open. With `maxRoomMembers` it
   * bounds what one connection is sent when a room fills: 32 × 200 members' entries, about 7.4 MiB
   * with 1 KiB metas, under `maxBufferedBytes`.
   */
  maxPresencePerConnection: positiveInt(),
  /**
   * Members of one presence room; a join past it gets 4008 naming the room, and nothing is
   * committed for it. A client has at most `maxConnectionsPerClient` (100) connections, so the
   * default, 200, is every one of them with two tabs in the room. It bounds what filling a room
   * sends: each member is told of every other once (a `members` entry or a join event), at most
   * maxRoomMembers² × (meta + about 200 bytes): 48 MB at 200 members with 1 KiB metas.
   */
  maxRoomMembers: positiveInt(),
  /**
   * Work one evaluation of a `where` against one record may take: one unit per term and per
   * character of its string operands, plus one per character a `$contains` scans (per element of
   * an array field). A where past it is refused, or its live subscription ended, with 4000.
   */
  maxFilterWork: positiveInt(),
  /**
   * Work a connection's live wheres may take per second, together (a bucket holding one second's
   * worth); the subscription whose where finds it empty is ended with 4000.
   */
  maxFilterWorkPerSecond: positiveInt(),
  /** Records lists of one client being matched or streamed at once; the next gets HTTP 429. */
  maxConcurrentRequestsPerClient: positiveInt(),
});

/** All limits, as the server applies them. */
export type Limits = z.infer<typeof LimitsSchema>;
