/**
 * Parsing and stringifying of wire messages with zod. Both directions validate, so a malformed
 * message is caught where it is made as well as where it arrives (the graphql-ws way). The one
 * exception is the dev server's engine, which serializes its typed messages and pre-serialized
 * batches directly to keep fan-out cheap; every test client validates what it receives instead.
 * The browser reads server messages without zod: `readServerMessage` (read-server-message.ts),
 * with the same contract.
 */
import * as z from 'zod/mini';
import { parseFrame, type CheckResult, type Issue, type ParseResult } from './issues.js';
import {
  ClientMessageSchema,
  ServerMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from './messages.js';

/** Turns zod issues into plain `{path, message}` pairs (what error `details` carry). */
export function toIssues(error: z.core.$ZodError): Issue[] {
  return error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    message: i.message,
  }));
}

/** `schema` as a validator for `parseFrame`. */
function checkWith<T>(schema: z.ZodMiniType<T>): (value: object) => CheckResult<T> {
  return (value) => {
    const result = schema.safeParse(value);
    return result.success
      ? { ok: true, message: result.data }
      : { ok: false, issues: toIssues(result.error) };
  };
}

const checkClientMessage = checkWith(ClientMessageSchema);
const checkServerMessage = checkWith(ServerMessageSchema);

/** Parses and validates a frame a client sent. */
export function parseClientMessage(text: string): ParseResult<ClientMessage> {
  return parseFrame(text, checkClientMessage);
}

/** Parses and validates a frame a server sent. */
export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  return parseFrame(text, checkServerMessage);
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
