/**
 * An SSE client that never reads: it sends the request on a raw TCP socket and takes nothing off
 * it, so what the server writes piles up in the kernel's buffers and then in the server's own
 * (the slow consumer of PROTOCOL.md section 7, 4009, on SSE). `resume()` reads again: what was
 * buffered arrives, and whether the server had ended the socket shows as how soon it closes.
 */
import { connect, type Socket } from 'node:net';

/** One unread stream. */
export class UnreadStream {
  /** Bytes taken off the socket since `resume()`. */
  bytes = 0;
  /** When the socket closed (`Date.now()`), once it has. */
  closedAt: number | undefined;
  private text = '';

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      if (this.text.length < 4096) this.text += chunk.toString('latin1').slice(0, 4096);
    });
    socket.on('error', () => undefined); // a cut socket shows as its close
    socket.on('close', () => (this.closedAt = Date.now()));
  }

  /** Opens `GET <path>` (path and query) on `url`'s host and stops reading at once. */
  static async open(url: string, path: string): Promise<UnreadStream> {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.pause();
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`);
    return new UnreadStream(socket);
  }

  /** The start of what arrived after `resume()`: the status line and the first events. */
  get head(): string {
    return this.text;
  }

  /** Reads again. */
  resume(): void {
    this.socket.resume();
  }

  /** Resolves with the close time, or undefined when it does not come within `timeoutMs`. */
  async waitForClose(timeoutMs: number): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.closedAt === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.closedAt;
  }

  /** Cuts the socket. */
  destroy(): void {
    this.socket.destroy();
  }
}
