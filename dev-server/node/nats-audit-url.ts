/**
 * The `--audit nats://[user:pass@]host[:port]` target (PROTOCOL.md section 11): which `--audit`
 * values mean NATS, and what they say — the server, and credentials taken apart so they never
 * show in a log line.
 */

/** Where and as whom the NATS audit sink connects. */
export type NatsAuditTarget = {
  /** `host:port` as the NATS client takes it (`[::1]:4222` for IPv6). */
  server: string;
  /** `nats://user:pass@host` sets both; `nats://token@host` (no colon) sets `token` (the NATS convention). */
  user?: string;
  pass?: string;
  token?: string;
  /** The URL without its password, for log lines: `nats://user:***@127.0.0.1:4222`. */
  display: string;
};

/**
 * Thrown for an `--audit nats://…` value that is not a NATS server address; the message says
 * why (with the password, if any, masked).
 */
export class NatsAuditUrlError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(
      `${url.replace(/(\/\/[^/@:]*):[^/@]*@/, '$1:***@')} is not a NATS server address: ${reason}; write nats://[user:pass@]host[:port]`,
    );
    this.name = 'NatsAuditUrlError';
  }
}

/** The port NATS listens on when the URL names none. */
export const NATS_DEFAULT_PORT = 4222;

/** Whether an `--audit` value goes to NATS (it starts with `nats://`) rather than to a file. */
export function isNatsAuditTarget(value: string): boolean {
  return /^nats:\/\//i.test(value);
}

/** Reads an `--audit nats://…` value. Throws `NatsAuditUrlError`. */
export function parseNatsAuditUrl(value: string): NatsAuditTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new NatsAuditUrlError(value, 'it does not parse as a URL (is the port a number up to 65535?)');
  }
  if (!url.hostname) throw new NatsAuditUrlError(value, 'it names no host');
  if (url.port === '0') throw new NatsAuditUrlError(value, 'port 0 is no port to connect to');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) {
    throw new NatsAuditUrlError(value, 'it has a path, query or fragment, which NATS has no use for');
  }
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  if (pass && !user) throw new NatsAuditUrlError(value, 'it has a password but no user');
  const server = `${url.hostname}:${url.port || NATS_DEFAULT_PORT}`;
  const credentials = pass ? `${url.username}:***@` : user ? '***@' : '';
  const target: NatsAuditTarget = { server, display: `nats://${credentials}${server}` };
  if (pass) Object.assign(target, { user, pass });
  else if (user) target.token = user;
  return target;
}
