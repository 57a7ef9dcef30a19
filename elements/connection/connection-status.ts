/**
 * The observable state of a connection, as elements render it. One writer: the connection
 * manager's `setState`.
 */

/** Every state a connection can be in. */
export const CONNECTION_STATES = {
  /** No subscription yet (or the last one left and the socket lingered out). */
  idle: 'idle',
  /** First attempt in progress. */
  connecting: 'connecting',
  /** Authenticated; subscriptions are live. */
  open: 'open',
  /** Lost; waiting `retryInMs` before the next attempt. */
  reconnecting: 'reconnecting',
  /** The browser reports no network; reconnects as soon as it is back. */
  offline: 'offline',
  /** The key was refused (401/403 or close 4003): retrying would not help. */
  denied: 'denied',
  /** Closed for good by `close()`. */
  closed: 'closed',
} as const;

/** One of `CONNECTION_STATES`. */
export type ConnectionState = (typeof CONNECTION_STATES)[keyof typeof CONNECTION_STATES];

/** A problem the connection or a subscription met, in words a person can act on. */
export type LiveError = {
  /** Protocol code (section 7) or HTTP status, when there is one. */
  code?: number;
  /** Protocol or HTTP error name, e.g. `scope_denied`, `bad_frame`, `network`. */
  name: string;
  message: string;
  /** A refusal's `details` as the server sent them (its issues, with JSON paths), unchecked. */
  details?: unknown;
};

/** A snapshot of a connection's state. */
export type ConnectionStatus = {
  state: ConnectionState;
  /** While `reconnecting`: milliseconds until the next attempt, as of `at`. */
  retryInMs?: number;
  /** When this status was set (`Date.now()`); with `retryInMs`, gives the retry time. */
  at: number;
  /** The last problem, kept until the connection is open again. */
  lastError?: LiveError;
};
