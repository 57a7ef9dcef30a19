/**
 * A write PostgreSQL refused → the `ApiError` a REST client gets (PROTOCOL.md §2, §10): a value it
 * cannot take (SQLSTATE class 22) or a NULL in a NOT NULL column (23502) is a 400 naming the
 * column; a duplicate key (23505, 23P01) a 409; a foreign key, check or trigger refusal a 400 with
 * PostgreSQL's message; a database that cannot be reached a 503 naming it. Anything else is not a
 * refusal and is rethrown as it is.
 *
 * PostgreSQL names the column of a NOT NULL violation, and names the parameter (`unnamed portal
 * parameter $2`) when a value fails its type's input function; a value refused later, by a type
 * modifier (`numeric(4,2)` overflow), says neither, so each value sent is then checked alone with
 * `SELECT $1::<its column's type>`.
 */
import pg from 'pg';
import { ApiError } from '../../engine/api-error.js';
import { redactedUrl } from './setup.js';
import type { WriteColumn } from './table-shape.js';

/** Parameter `$n` of a statement: the column its value went to, and its text. */
export interface SentParameter {
  readonly column: WriteColumn;
  readonly text: string | null;
}

/** What a refusal is explained with. */
export interface WriteContext {
  /** `schema.table`, for messages. */
  readonly table: string;
  /** The database URL (shown without its password). */
  readonly url: string;
  /** The parameters of the statement that failed, in order. */
  readonly params: readonly SentParameter[];
  /** Runs a query outside the failed transaction, to check one value alone. */
  readonly query: (text: string, values: unknown[]) => Promise<unknown>;
}

/** Errors of a connection that failed or was closed by the server, rather than of a statement. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: the server is stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
]);

/** `pg`'s own messages for a connection lost or never made. */
const UNREACHABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/** Whether `error` says the database could not be reached or the connection was lost. */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return UNREACHABLE_MESSAGE.test(error.message);
}

/** The 503 for a database that cannot be reached. */
export function unavailable(url: string, error: unknown): ApiError {
  const reason = error instanceof Error && error.message ? error.message : String(error);
  return new ApiError('unavailable', `PostgreSQL at ${redactedUrl(url)} is unavailable: ${reason}`);
}

/** Whether `error` is PostgreSQL's class 22, a value its column's type cannot hold. */
export function isDataException(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code?.startsWith('22') === true;
}

/** The `ApiError` for a failed write, or `error` itself when it is no refusal of the request. */
export async function writeRefusal(error: unknown, context: WriteContext): Promise<unknown> {
  if (isUnreachable(error)) return unavailable(context.url, error);
  if (!(error instanceof pg.DatabaseError)) return error;
  const code = error.code ?? '';
  const message = error.detail ? `${error.message}: ${error.detail}` : error.message;
  const inColumn = (name: string, text: string) =>
    new ApiError('bad_request', `column "${name}" in table ${context.table}${text}`);
  // A column of another table (written by a trigger) is named by PostgreSQL's message instead.
  const own = error.table === undefined || `${error.schema}.${error.table}` === context.table;
  const ownColumn = own ? error.column : undefined;
  const column = ownColumn ?? parameterColumn(error, context);
  if (code === '23505' || code === '23P01') {
    const constraint = error.constraint ?? 'a unique constraint';
    const key = error.detail ? `: ${error.detail}` : '';
    return new ApiError('conflict', `table ${context.table} already has such a row (${constraint})${key}`);
  }
  if (code === '23502' && ownColumn) return inColumn(ownColumn, ' may not be null');
  if (code.startsWith('22')) {
    const found = column ?? (await checkOneByOne(context));
    if (found) return inColumn(found, `: ${message}`);
    return new ApiError('bad_request', `table ${context.table} refused a value: ${message}`);
  }
  if (code.startsWith('23') || code === 'P0001') {
    return column ? inColumn(column, `: ${message}`) : new ApiError('bad_request', message);
  }
  if (code === '42501') return new ApiError('forbidden', error.message);
  return error;
}

/** The column of the parameter PostgreSQL names in the error's context, if it names one. */
function parameterColumn(error: pg.DatabaseError, context: WriteContext): string | undefined {
  const match = /portal parameter \$(\d+)/.exec(error.where ?? '');
  return match ? context.params[Number(match[1]) - 1]?.column.name : undefined;
}

/** The first column whose value alone its type refuses (class 22), if any. */
async function checkOneByOne(context: WriteContext): Promise<string | undefined> {
  for (const { column, text } of context.params) {
    if (text === null) continue;
    try {
      await context.query(`SELECT $1::${column.typeSql}`, [text]);
    } catch (error) {
      if (isDataException(error)) return column.name;
      if (isUnreachable(error)) return undefined;
    }
  }
  return undefined;
}
