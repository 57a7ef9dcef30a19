/**
 * A raw protocol client for tests, written from PROTOCOL.md: it opens a WebSocket, validates
 * every server frame with the protocol schemas (an invalid frame fails the test), and lets a
 * test wait for the next message of a kind, for the close, or for silence.
 */
import { WebSocket } from 'ws';
import {
  parseServerMessage,
  type ClientMessage,
  type LiveEvent,
  type ServerMessage,
  type WsAuthResponse,
} from '../../protocol/index.js';
import type { TestServer } from './test-server.js';

type Waiter = {
  match: (m: ServerMessage) => boolean;
  resolve: (m: ServerMessage) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
};

/** The close a client saw. */
export type CloseInfo = { code: number; reason: string };

/** Gets a one-time token for a key. */
export async function getToken(server: { url: string }, key: string): Promise<string> {
  const res = await fetch(`${server.url}/api/users/ws-auth/`, {
    headers: { authorization: `Bearer ${key}` },
  });
  if (res.status !== 200) throw new Error(`ws-auth answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as WsAuthResponse).token;
}

/** A WebSocket client that records every server message. */
export class RawClient {
  readonly messages: ServerMessage[] = [];
  readonly invalid: string[] = [];
  private read = 0;
  private waiters: Waiter[] = [];
  private closeInfo: CloseInfo | undefined;
  private closeWaiters: ((c: CloseInfo) => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      const parsed = parseServerMessage(text);
      if (!parsed.ok) {
        this.invalid.push(`${parsed.error}: ${text.slice(0, 300)}`);
        return;
      }
      this.messages.push(parsed.message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(parsed.message)) return true;
        clearTimeout(w.timer);
        w.resolve(parsed.message);
        return false;
      });
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w(this.closeInfo);
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`socket closed (${code} ${reason.toString()}) while waiting for a message`));
      }
      this.waiters = [];
    });
    ws.on('error', () => undefined);
  }

  /** Opens a socket to a URL (with or without `?token=`) and waits for it to open. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
    const ws = new WebSocket(url, { headers });
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)),
      );
      ws.once('error', reject);
    });
    return client;
  }

  /** Gets a token for `key`, connects with it and waits for `welcome`. */
  static async connect(server: TestServer, key: string): Promise<RawClient> {
    const token = await getToken(server, key);
    const client = await RawClient.open(`${server.wsUrl}?token=${token}`);
    await client.next('welcome');
    return client;
  }

  /** Sends a message (validated by type only) or raw text. */
  send(message: ClientMessage | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next unread message of a type (or one of several), matching `match`, waiting up to `timeoutMs`. */
  async next<T extends ServerMessage['type']>(
    type: T | readonly T[],
    match: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const types: readonly string[] = Array.isArray(type) ? type : [type];
    const test = (m: ServerMessage) =>
      types.includes(m.type) && match(m as Extract<ServerMessage, { type: T }>);
    for (let i = this.read; i < this.messages.length; i++) {
      const m = this.messages[i] as ServerMessage;
      if (test(m)) {
        this.read = i + 1;
        return m as Extract<ServerMessage, { type: T }>;
      }
    }
    if (this.closeInfo)
      throw new Error(`socket already closed (${this.closeInfo.code}) while waiting for ${type}`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(
          new Error(
            `no ${type} within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(this.read)).slice(0, 500)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({
        match: test,
        timer,
        reject,
        resolve: (m) => {
          this.read = this.messages.indexOf(m) + 1;
          resolve(m as Extract<ServerMessage, { type: T }>);
        },
      });
    });
  }

  /** Sends a subscribe and waits for its `subscribed` (or rejects with the `error`). */
  async subscribe(
    spec: Omit<Extract<ClientMessage, { type: 'subscribe' }>, 'type'>,
  ): Promise<Extract<ServerMessage, { type: 'subscribed' }>> {
    const from = this.messages.length; // an earlier answer with the same id is not this one's
    this.send({ type: 'subscribe', ...spec });
    const answer = await this.next(
      ['subscribed', 'error'],
      (m) => m.id === spec.id && this.messages.lastIndexOf(m) >= from,
    );
    if (answer.type === 'error')
      throw new Error(`subscribe ${spec.id} refused: ${answer.code} ${answer.message}`);
    return answer as Extract<ServerMessage, { type: 'subscribed' }>;
  }

  /** Every event received so far (all batches), optionally of one subscription. */
  events(sub?: string): LiveEvent[] {
    const out: LiveEvent[] = [];
    for (const m of this.messages)
      if (m.type === 'batch') for (const e of m.events) if (!sub || e.sub === sub) out.push(e);
    return out;
  }

  /** Waits until `count` events (of one subscription, if given) have arrived. */
  async waitForEvents(count: number, sub?: string, timeoutMs = 3000): Promise<LiveEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events(sub).length < count) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.events(sub).length} of ${count} events within ${timeoutMs} ms`);
      if (this.closeInfo)
        throw new Error(`closed (${this.closeInfo.code}) with ${this.events(sub).length} of ${count} events`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.events(sub);
  }

  /** Resolves with the close code and reason (waiting up to `timeoutMs`). */
  waitForClose(timeoutMs = 3000): Promise<CloseInfo> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  /** Whether the socket is closed. */
  get closed(): CloseInfo | undefined {
    return this.closeInfo;
  }

  /** Closes from the client side. */
  close(): void {
    this.ws.close();
  }
}

/** Calls the REST API; returns status, parsed JSON body (if any) and headers. */
export async function rest(
  server: { url: string },
  method: string,
  path: string,
  options: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${server.url}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
