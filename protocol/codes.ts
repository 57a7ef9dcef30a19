/**
 * Close and error codes of PROTOCOL.md section 7, each with its name, when it happens (its doc
 * comment) and what a client should do. A client's retry decision reads `action`; a server picks codes by name.
 */

/** What a client does on a code: the retry policy of the connection manager is derived from it. */
export const CLIENT_ACTIONS = {
  /** Fix the message; the connection itself is fine. */
  fix: 'fix',
  /** Fetch a new token and reconnect at once. */
  renewNow: 'renew-now',
  /** Fetch a new token and reconnect with backoff. */
  renewWithBackoff: 'renew-with-backoff',
  /** Stop and report; retrying would fail the same way. */
  stop: 'stop',
  /** Back off at the maximum delay. */
  backoffMax: 'backoff-max',
  /** Reconnect (with backoff) and resume with `since`. */
  reconnect: 'reconnect',
} as const;

/** One of `CLIENT_ACTIONS`. */
export type ClientAction = (typeof CLIENT_ACTIONS)[keyof typeof CLIENT_ACTIONS];

/** Every code by name. */
export const CODES = {
  /** A frame is not JSON or not a valid message (error); the 11th within a minute closes with 1008. */
  bad_request: { code: 4000, action: CLIENT_ACTIONS.fix },
  /** The ws-auth token was older than tokenTtlMs, or the session reached sessionTtlMs. */
  token_expired: { code: 4001, action: CLIENT_ACTIONS.renewNow },
  /** Unknown or already-used token, no auth within 5 s, or a first frame that is not auth. */
  token_invalid: { code: 4002, action: CLIENT_ACTIONS.renewWithBackoff },
  /** The key may not read that object or channel, or may not publish (error). */
  scope_denied: { code: 4003, action: CLIENT_ACTIONS.stop },
  /**
   * More than maxConnectionsPerClient connections of one client (close), or more than
   * maxSubscriptions or maxPresencePerConnection on one connection, or maxRoomMembers in a room (error).
   */
  quota_exceeded: { code: 4008, action: CLIENT_ACTIONS.backoffMax },
  /** The connection's unsent data passed maxBufferedBytes. */
  slow_consumer: { code: 4009, action: CLIENT_ACTIONS.reconnect },
  /** The object is not configured, or the channel name is malformed (error). */
  channel_unavailable: { code: 4010, action: CLIENT_ACTIONS.fix },
  /**
   * More frames than maxMessagesPerSecond (with its burst): the frame is dropped (error); a
   * connection that keeps on is closed. Back off as for 4008.
   */
  rate_limited: { code: 4029, action: CLIENT_ACTIONS.backoffMax },
  /** No message from the client for 2 × heartbeatMs. */
  heartbeat_timeout: { code: 4011, action: CLIENT_ACTIONS.reconnect },
  /** The server is shutting down. */
  going_away: { code: 1001, action: CLIENT_ACTIONS.reconnect },
  /** Too many bad frames. */
  policy_violation: { code: 1008, action: CLIENT_ACTIONS.fix },
  /** The server failed on a request (a server bug); the connection is closed rather than left inconsistent. */
  internal_error: { code: 1011, action: CLIENT_ACTIONS.reconnect },
  /** A client frame over maxMessageBytes. */
  message_too_big: { code: 1009, action: CLIENT_ACTIONS.fix },
} as const;

/** A code's name, such as `token_expired`. */
export type CodeName = keyof typeof CODES;

/** The numeric code of every name, for `switch` statements and comparisons. */
export const CODE = Object.fromEntries(Object.entries(CODES).map(([name, c]) => [name, c.code])) as {
  readonly [N in CodeName]: (typeof CODES)[N]['code'];
};

const NAME_BY_CODE = new Map<number, CodeName>(
  Object.entries(CODES).map(([name, c]) => [c.code, name as CodeName]),
);

/** The name of a numeric code, or undefined for codes this protocol does not define. */
export function codeName(code: number): CodeName | undefined {
  return NAME_BY_CODE.get(code);
}
