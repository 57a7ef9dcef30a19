/**
 * Plain TCP to the dev server, below HTTP and WebSocket: bytes that no HTTP or WebSocket client
 * library would send, and what the server sent back before it closed the connection.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** What the server sent back on a raw connection, and whether it closed it. */
export type Exchange = { received: Buffer; closedByServer: boolean };

/** Connects to 127.0.0.1:`port` and waits for the connection. */
function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Collects what arrives on `socket` until the server ends it or `timeoutMs` passes, then destroys it. */
function collect(socket: Socket, timeoutMs: number, already: Buffer = Buffer.alloc(0)): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [already];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closedByServer });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true)); // a reset is a close too
  });
}

/** Writes `bytes` on a fresh connection and returns the server's answer up to its close. */
export async function rawExchange(port: number, bytes: Buffer, timeoutMs = 3000): Promise<Exchange> {
  const socket = await open(port);
  socket.on('error', () => undefined);
  socket.write(bytes);
  return collect(socket, timeoutMs);
}

/**
 * Opens a WebSocket by hand (an upgrade request with `headers` over the default ones), waits for
 * the server's answer head, then writes `after` and collects the rest up to the close. The
 * answer's status line is in `head`.
 */
export async function rawUpgrade(
  port: number,
  path: string,
  headers: Record<string, string | undefined>,
  after: Buffer,
  timeoutMs = 3000,
): Promise<Exchange & { head: string }> {
  const socket = await open(port);
  socket.on('error', () => undefined);
  const all: Record<string, string | undefined> = {
    host: `127.0.0.1:${port}`,
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': randomBytes(16).toString('base64'),
    'sec-websocket-version': '13',
    ...headers,
  };
  const lines = Object.entries(all)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}: ${value}`);
  socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  const head = await new Promise<{ text: string; rest: Buffer }>((resolve) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve({ text: buffered.subarray(0, end).toString('latin1'), rest: buffered.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('close', () => resolve({ text: buffered.toString('latin1'), rest: Buffer.alloc(0) }));
  });
  if (head.text.startsWith('HTTP/1.1 101')) socket.write(after);
  return { head: head.text, ...(await collect(socket, timeoutMs, head.rest)) };
}

/** The status code of an HTTP answer's first line, or undefined when there is none. */
export function statusOf(answer: Buffer | string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(answer.toString('latin1'));
  return match ? Number(match[1]) : undefined;
}

/** The close code of the first close frame among unmasked server frames, or undefined. */
export function closeCodeOf(frames: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= frames.length) {
    const opcode = (frames[at] as number) & 0x0f;
    let length = (frames[at + 1] as number) & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = frames.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      length = Number(frames.readBigUInt64BE(start));
      start += 8;
    }
    if (opcode === 0x8) return length >= 2 ? frames.readUInt16BE(start) : 1005;
    at = start + length;
  }
  return undefined;
}
