/**
 * A client that sends frames as fast as it can: it connects, sends the same frame in rounds
 * (yielding to the event loop between them so its socket writes), and when the server closes
 * it, waits for the close and connects again, until stopped. It counts what it sent, the bytes
 * it got back (without parsing them) and how each connection was closed.
 */
import { WebSocket } from 'ws';
import { getToken } from '../../support/raw-client.js';

/** Frames sent per round before the flooder yields. */
const ROUND = 100;

/** One flooding loop. */
export class FrameFlooder {
  connections = 0;
  frames = 0;
  /** Bytes of the server's messages. */
  bytes = 0;
  /** Close codes of its connections, by code. */
  readonly closes = new Map<number, number>();
  private running = true;
  private readonly loop: Promise<void>;

  /** Starts flooding `url` with `frame`, connecting with `key`. */
  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly frame: string,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const token = await getToken({ url: this.url }, this.key);
      const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`);
      ws.on('error', () => undefined); // a refused or cut socket shows as its close
      ws.on('message', (data: Buffer) => (this.bytes += data.length));
      const closed = new Promise<void>((resolve) =>
        ws.on('close', (code) => {
          this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
          resolve();
        }),
      );
      const opened = await Promise.race([
        new Promise<boolean>((resolve) => ws.once('open', () => resolve(true))),
        closed.then(() => false),
      ]);
      if (opened) this.connections++;
      while (this.running && ws.readyState === WebSocket.OPEN) {
        for (let i = 0; i < ROUND; i++) ws.send(this.frame);
        this.frames += ROUND;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      await closed;
    }
  }

  /** Stops after the current round; its last connection is cut. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
