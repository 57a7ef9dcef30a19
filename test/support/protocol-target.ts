/**
 * What a protocol case sees of a server (`protocol-cases.ts`): the HTTP API and a raw socket,
 * with a driver per server kind that starts a fresh one — and the few steps every case takes
 * (connect with a token, subscribe, read events) written once on top.
 */
import assert from 'node:assert/strict';
import type {
  ClientMessage,
  LiveEvent,
  Limits,
  ServerMessage,
  SubscriptionSpec,
  WelcomeMessage,
  WsAuthResponse,
} from '../../protocol/index.js';
import type { CloseInfo } from './raw-client.js';

export type Message<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** A socket as a case drives it: `RawClient` (over `ws`) and `DomSocketClient` (over msw) both are one. */
export interface CaseSocket {
  /** Frames that failed the protocol's schemas: the drivers check it stays empty. */
  readonly invalid: readonly string[];
  send(message: ClientMessage | string): void;
  next<T extends ServerMessage['type']>(
    type: T | readonly T[],
    match?: (m: Message<T>) => boolean,
    timeoutMs?: number,
  ): Promise<Message<T>>;
  waitForClose(timeoutMs?: number): Promise<CloseInfo>;
  close(): void;
}

/** Options of a REST call. */
export type RestOptions = {
  key?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
};

/** A server under test, as the cases see it. */
export interface CaseTarget {
  /** Calls the HTTP API; `body` is the parsed JSON (or text). */
  rest(method: string, path: string, options?: RestOptions): Promise<{ status: number; body: unknown }>;
  /** Opens the protocol's WebSocket with `query` (`?token=…` or empty); resolves once it is open. */
  socket(query?: string): Promise<CaseSocket>;
}

/** Starts a fresh server of one kind, with the test config and these limits over the fast ones. */
export interface ProtocolDriver {
  name: string;
  start(limits: Partial<Limits>): Promise<CaseTarget & { close(): Promise<void> }>;
}

/** One case: a sentence, the limits it needs, and what it does and checks. */
export type ProtocolCase = { name: string; limits?: Partial<Limits>; run(t: CaseTarget): Promise<void> };

// ---- steps every case takes ----------------------------------------------------------------

/** A socket authenticated with a fresh token for `key`, and its `welcome`. */
export async function open(
  t: CaseTarget,
  key: string,
): Promise<{ socket: CaseSocket; welcome: WelcomeMessage }> {
  const socket = await t.socket(`?token=${encodeURIComponent(await token(t, key))}`);
  return { socket, welcome: await socket.next('welcome') };
}

/** A one-time ws-auth token for `key`. */
export async function token(t: CaseTarget, key: string): Promise<string> {
  const answer = await t.rest('GET', '/api/users/ws-auth/', { key });
  assert.equal(answer.status, 200, `ws-auth: ${JSON.stringify(answer.body)}`);
  return (answer.body as WsAuthResponse).token;
}

/** Sends a subscribe and returns its answer, `subscribed` or `error`. */
export async function subscribe(
  socket: CaseSocket,
  spec: SubscriptionSpec,
): Promise<Message<'subscribed'> | Message<'error'>> {
  socket.send({ type: 'subscribe', ...spec });
  return socket.next(['subscribed', 'error'], (m) => m.id === spec.id);
}

/** Subscribes, failing the case unless the answer is `subscribed`. */
export async function subscribed(socket: CaseSocket, spec: SubscriptionSpec): Promise<Message<'subscribed'>> {
  const answer = await subscribe(socket, spec);
  assert.equal(answer.type, 'subscribed', `subscribe ${spec.id}: ${JSON.stringify(answer)}`);
  return answer as Message<'subscribed'>;
}

/** Reads batches until `count` events have come; returns them and each batch's size. */
export async function events(
  socket: CaseSocket,
  count: number,
): Promise<{ events: LiveEvent[]; sizes: number[] }> {
  const out: LiveEvent[] = [];
  const sizes: number[] = [];
  while (out.length < count) {
    const batch = await socket.next('batch');
    sizes.push(batch.events.length);
    out.push(...batch.events);
  }
  return { events: out, sizes };
}
