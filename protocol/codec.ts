/**
 * Parsing and stringifying of wire messages. Both directions validate, so a malformed message is
 * caught where it is made as well as where it arrives (the graphql-ws way). The one exception is
 * the dev server's engine, which serializes its typed messages and pre-serialized batches
 * directly to keep fan-out cheap; every test client validates what it receives instead.
 */
import * as z from 'zod/mini';
import {
  ClientMessageSchema,
  ServerMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from './messages.js';

/** One problem found in a message, with the JSON path to it. */
export type Issue = { path: (string | number)[]; message: string };

/** What parsing a frame gives: the message, or a specific reason it was refused. */
export type ParseResult<T> =
  { ok: true; message: T } | { ok: false; error: string; issues: Issue[]; id?: string };

/** Turns zod issues into plain `{path, message}` pairs (what error `details` carry). */
export function toIssues(error: z.core.$ZodError): Issue[] {
  return error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    message: i.message,
  }));
}

/** One line naming the first problem, e.g. `filter.where.price: unknown operator "$regex"`. */
export function describeIssues(issues: readonly Issue[]): string {
  const first = issues[0];
  if (!first) return 'invalid message';
  const where = first.path.length ? `${first.path.join('.')}: ` : '';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${where}${first.message}${more}`;
}

function parseWith<T>(schema: z.ZodMiniType<T>, text: string): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'frame is not valid JSON', issues: [] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'a message must be a JSON object with a "type"', issues: [] };
  }
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, message: result.data };
  const issues = toIssues(result.error);
  const id = (value as { id?: unknown }).id;
  const error = describeIssues(issues);
  return typeof id === 'string' && id.length <= 64
    ? { ok: false, error, issues, id }
    : { ok: false, error, issues };
}

/** Parses and validates a frame a client sent. */
export function parseClientMessage(text: string): ParseResult<ClientMessage> {
  return parseWith(ClientMessageSchema, text);
}

/** Parses and validates a frame a server sent. */
export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  return parseWith(ServerMessageSchema, text);
}

/** Validates and serializes a client message; throws on a message that breaks the contract. */
export function stringifyClientMessage(message: ClientMessage): string {
  return JSON.stringify(ClientMessageSchema.parse(message));
}

/**
 * Validates and serializes a server message; throws on a message that breaks the contract.
 * The server's batch hot path assembles pre-serialized events instead (see the engine's
 * fan-out); tests validate those frames with `parseServerMessage`.
 */
export function stringifyServerMessage(message: ServerMessage): string {
  return JSON.stringify(ServerMessageSchema.parse(message));
}
