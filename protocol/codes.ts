/**
 * Close and error codes of PROTOCOL.md section 7, each with its name, when it happens and what a
 * client should do. A client's retry decision reads `action`; a server picks codes by name.
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
  bad_request: {
    code: 4000,
    when: 'a frame is not JSON or not a valid message (error); the 11th within a minute closes with 1008',
    action: CLIENT_ACTIONS.fix,
  },
  token_expired: {
    code: 4001,
    when: 'the ws-auth token was older than tokenTtlMs, or the session reached sessionTtlMs',
    action: CLIENT_ACTIONS.renewNow,
  },
  token_invalid: {
    code: 4002,
    when: 'unknown or already-used token, no auth within 5 s, or a first frame that is not auth',
    action: CLIENT_ACTIONS.renewWithBackoff,
  },
  scope_denied: {
    code: 4003,
    when: 'the key may not read that object or channel, or may not publish (error)',
    action: CLIENT_ACTIONS.stop,
  },
  quota_exceeded: {
    code: 4008,
    when: 'more than maxConnectionsPerClient connections of one client (close), or more than maxSubscriptions on one connection (error)',
    action: CLIENT_ACTIONS.backoffMax,
  },
  slow_consumer: {
    code: 4009,
    when: "the connection's unsent data passed maxBufferedBytes",
    action: CLIENT_ACTIONS.reconnect,
  },
  channel_unavailable: {
    code: 4010,
    when: 'the object is not configured, or the channel name is malformed (error)',
    action: CLIENT_ACTIONS.fix,
  },
  heartbeat_timeout: {
    code: 4011,
    when: 'no message from the client for 2 × heartbeatMs',
    action: CLIENT_ACTIONS.reconnect,
  },
  going_away: { code: 1001, when: 'the server is shutting down', action: CLIENT_ACTIONS.reconnect },
  policy_violation: { code: 1008, when: 'too many bad frames', action: CLIENT_ACTIONS.fix },
  internal_error: {
    code: 1011,
    when: 'the server failed on a request (a server bug); the connection is closed rather than left inconsistent',
    action: CLIENT_ACTIONS.reconnect,
  },
  message_too_big: {
    code: 1009,
    when: 'a client frame over maxMessageBytes',
    action: CLIENT_ACTIONS.fix,
  },
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
