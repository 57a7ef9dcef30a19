/**
 * A WebSocket client that can stop reading: `pause()` stops taking bytes off its TCP socket, so
 * what the server sends piles up in the kernel's buffers and then in the server's own — the slow
 * consumer of PROTOCOL.md section 7 (4009). It counts the bytes it took, and parses only the few
 * small control frames it needs (`welcome`, `subscribed`), never the flood.
 */
import type { Socket } from 'node:net';
import { clearTimeout, setTimeout } from 'node:timers';
import { WebSocket } from 'ws';
import { WelcomeMessageSchema } from '../../../protocol/index.js';
import { getToken } from '../../support/raw-client.js';

/** How the connection ended. */
export type FloodClose = { code: number; at: number };

/** One client of a flood topic. */
export class FloodConsumer {
  /** Bytes of the messages taken so far. */
  bytes = 0;
  ended: FloodClose | undefined;
  private readonly closed: Promise<FloodClose>;

  private constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    /** The server's id of the connection (its `welcome`), to find it in the audit. */
    readonly connectionId: string,
  ) {
    ws.on('message', (data: Buffer) => (this.bytes += data.length));
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => resolve((this.ended = { code, at: Date.now() }))),
    );
  }

  /** Connects to `url` with `key`, subscribes to `channel` and waits for the answer. */
  static async open(url: string, key: string, channel: string): Promise<FloodConsumer> {
    const token = await getToken({ url }, key);
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`);
    ws.on('error', () => undefined); // a cut connection shows as its close
    const next = (type: string) =>
      new Promise<unknown>((resolve, reject) => {
        const onMessage = (data: Buffer) => {
          if (data.length > 4096) return; // a flood batch, not an answer
          const message = JSON.parse(data.toString()) as { type?: string };
          if (message.type !== type) return;
          ws.off('message', onMessage);
          resolve(message);
        };
        ws.on('message', onMessage);
        ws.once('close', (code) => reject(new Error(`closed (${code}) while waiting for ${type}`)));
      });
    // Listening before the upgrade: the welcome may come in the same read as the 101 answer.
    const welcomed = next('welcome');
    const socket = await new Promise<Socket>((resolve, reject) => {
      ws.once('upgrade', (response) => resolve(response.socket as Socket));
      ws.once('error', reject);
    });
    const welcome = WelcomeMessageSchema.parse(await welcomed);
    const consumer = new FloodConsumer(ws, socket, welcome.connectionId);
    const subscribed = next('subscribed');
    ws.send(JSON.stringify({ type: 'subscribe', id: 'flood', channel }));
    await subscribed;
    return consumer;
  }

  /** Stops reading: the server's writes to this connection pile up. */
  pause(): void {
    this.socket.pause();
  }

  /** Reads again, taking what piled up (and the close frame, if the server sent one). */
  resume(): void {
    this.socket.resume();
  }

  /** Resolves with the close, or undefined if it does not come within `timeoutMs`. */
  async waitForClose(timeoutMs: number): Promise<FloodClose | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)),
    );
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.ws.terminate();
  }
}
