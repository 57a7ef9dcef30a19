/**
 * The raw protocol client of `raw-client.ts`, over a browser-style `WebSocket` (the global one,
 * which msw patches) instead of `ws`: for driving the in-page mock. Same contract — every server
 * frame validated (an invalid one lands in `invalid`), `next` reads unread messages in order.
 */
import { parseServerMessage, type ClientMessage, type ServerMessage } from '../../protocol/index.js';
import type { CloseInfo } from './raw-client.js';

type Waiter = {
  match: (m: ServerMessage) => boolean;
  resolve: (m: ServerMessage) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

/** A `WebSocket` client that records every server message. */
export class DomSocketClient {
  readonly messages: ServerMessage[] = [];
  readonly invalid: string[] = [];
  private read = 0;
  private waiters: Waiter[] = [];
  private closeInfo: CloseInfo | undefined;
  private closeWaiters: ((c: CloseInfo) => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener('message', (event) => {
      const text = String(event.data);
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
    ws.addEventListener('close', (event) => {
      this.closeInfo = { code: event.code, reason: event.reason };
      for (const w of this.closeWaiters) w(this.closeInfo);
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`socket closed (${event.code} ${event.reason}) while waiting for a message`));
      }
      this.waiters = [];
    });
  }

  /** Opens a socket to a URL (with or without `?token=`) and waits for it to open. */
  static open(url: string): Promise<DomSocketClient> {
    const ws = new WebSocket(url);
    const client = new DomSocketClient(ws);
    return new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(client), { once: true });
      ws.addEventListener('close', (e) => reject(new Error(`closed (${e.code}) before it opened`)), {
        once: true,
      });
    });
  }

  /** Sends a message or raw text. */
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

  /** Closes from the client side. */
  close(): void {
    this.ws.close();
  }
}
