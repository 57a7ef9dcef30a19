/**
 * PostgreSQL cannot be reached (down, restarting, refusing connections, or the connection broke
 * in the middle of a query). The caller answers 503 `unavailable`; any other error of a query is
 * the query's own and propagates as it is.
 */
import pg from 'pg';
import { redactedUrl } from './setup.js';

/** The database cannot be reached now; the message names it (without its password) and why. */
export class PostgresUnavailableError extends Error {
  constructor(url: string, reason: unknown) {
    super(`PostgreSQL at ${redactedUrl(url)} is unavailable: ${describe(reason)}`, { cause: reason });
    this.name = 'PostgresUnavailableError';
  }
}

/**
 * SQLSTATEs that mean the server, not the query, failed: class 08 (connection exception), the
 * server shutting down or starting up (57P01-57P03), too many connections (53300).
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * Whether an error of a `pg` call (connect, query) means the database is unreachable. A
 * `DatabaseError` came from a live server, so only the states above count; anything else `pg`
 * throws (refused or reset socket, connect timeout, "Connection terminated unexpectedly", a
 * client no longer queryable) is the connection's.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    return code.startsWith('08') || UNAVAILABLE_STATES.has(code);
  }
  return error instanceof Error;
}

/** The error of a `pg` call as the caller should see it: unavailable, or itself. */
export function unavailableOrSelf(url: string, error: unknown): unknown {
  return isUnavailable(error) && !(error instanceof PostgresUnavailableError)
    ? new PostgresUnavailableError(url, error)
    : error;
}

function describe(reason: unknown): string {
  if (!(reason instanceof Error)) return String(reason);
  // A refused connection to a name with several addresses is an AggregateError with no message.
  const code = (reason as { code?: unknown }).code;
  if (reason.message) return reason.message;
  return typeof code === 'string' ? code : reason.name;
}
