/**
 * The browser's codec: server messages and the HTTP bodies the connection manager reads, checked
 * with the checks generated from the zod schemas' JSON Schemas (`generated/json-schemas.ts`)
 * instead of the zod schemas themselves, so that the script-tag bundle ships no zod. `readServerMessage` has
 * the contract of `parseServerMessage` (codec.ts); test/protocol/read-server-message.test.ts holds
 * the two to the same verdict on every message and many broken ones.
 */
import {
  ERROR_BODY_JSON_SCHEMA,
  SERVER_MESSAGE_JSON_SCHEMA,
  WS_AUTH_RESPONSE_JSON_SCHEMA,
} from './generated/json-schemas.js';
import type { ErrorBody, WsAuthResponse } from './http.js';
import { parseFrame, type ParseResult } from './issues.js';
import { checkJsonSchema, type JsonSchemaCheck } from './json-schema-check.js';
import type { ServerMessage } from './messages.js';

/**
 * Parses and validates a frame a server sent: text that is not JSON, or JSON that is not an
 * object, is refused as such; anything else must pass `SERVER_MESSAGE_JSON_SCHEMA`, and a
 * refusal names the first issue at its path. The message returned is the parsed value itself.
 */
export function readServerMessage(text: string): ParseResult<ServerMessage> {
  return parseFrame(text, (value) => {
    const issues = checkJsonSchema(SERVER_MESSAGE_JSON_SCHEMA, value);
    return issues.length ? { ok: false, issues } : { ok: true, message: value as ServerMessage };
  });
}

/** `value` when it passes `check` (generated from the zod schema of `T`), else undefined. */
function conforming<T>(check: JsonSchemaCheck, value: unknown): T | undefined {
  return checkJsonSchema(check, value).length ? undefined : (value as T);
}

/**
 * A parsed `GET /api/users/ws-auth/` body, typed, when it is a token answer; `undefined` when
 * it is anything else (the caller says the server did not answer with a token).
 */
export function checkWsAuthResponse(body: unknown): WsAuthResponse | undefined {
  return conforming(WS_AUTH_RESPONSE_JSON_SCHEMA, body);
}

/**
 * A parsed HTTP error body (`{"error":{"code","message"}}`), typed, when it is one; `undefined`
 * otherwise (the caller falls back to the HTTP status).
 */
export function checkErrorBody(body: unknown): ErrorBody | undefined {
  return conforming(ERROR_BODY_JSON_SCHEMA, body);
}
