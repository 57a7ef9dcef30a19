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
});

/** All limits, as the server applies them. */
export type Limits = z.infer<typeof LimitsSchema>;
