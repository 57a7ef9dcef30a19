/**
 * A raw Server-Sent Events client for tests, written from PROTOCOL.md section 6 and the SSE
 * format of the HTML standard: it reads fetch's body stream, splits it into events and comments,
 * and checks every event against the protocol (its `data:` parses as the server message its
 * `event:` names, and its `id:` is the largest `seq` that message carries). A frame that fails
 * those checks lands in `invalid`: assert it stays empty.
 *
 * Unlike a browser's EventSource, `id` here is the `id:` line of that event only (not the last
 * one seen), so a test can tell an event without an id from one that repeats it.
 */
import { parseServerMessage, type LiveEvent, type ServerMessage } from '../../protocol/index.js';
import { getToken } from './raw-client.js';

/** One SSE event as it arrived. */
export type SseFrame = {
  event: string;
  data: string;
  id: string | undefined;
  /** The server message in `data`, for every event but `close`. */
  message: ServerMessage | undefined;
};

/** The data of the `close` event. */
export type SseCloseData = { code: number; name: string; message: string };

/** The query of `GET /sse/events/object-records/`. */
export type SseQuery = {
  token?: string;
  /** An array (JSON-encoded here) or raw text, to send malformed values. */
  subscriptions?: unknown[] | string;
  since?: number | string;
  epoch?: string;
};

/** What the server answered: a live stream, or a refusal with its JSON body. */
export type SseAnswer = { status: number; headers: Headers; stream?: SseStream; body?: unknown };

type Waiter = { match: (f: SseFrame) => boolean; resolve: (f: SseFrame) => void; reject: (e: Error) => void };

/** Opens an SSE request; a 200 answer comes with a stream, any other with its body read. */
export async function openSse(
  server: { url: string },
  query: SseQuery,
  headers: Record<string, string> = {},
): Promise<SseAnswer> {
  const params = new URLSearchParams();
  if (query.token !== undefined) params.set('token', query.token);
  if (query.subscriptions !== undefined) {
    params.set(
      'subscriptions',
      typeof query.subscriptions === 'string' ? query.subscriptions : JSON.stringify(query.subscriptions),
    );
  }
  if (query.since !== undefined) params.set('since', String(query.since));
  if (query.epoch !== undefined) params.set('epoch', query.epoch);
  const abort = new AbortController();
  const res = await fetch(`${server.url}/sse/events/object-records/?${params}`, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body };
  }
  return { status: 200, headers: res.headers, stream: new SseStream(res.body, abort) };
}

/** Gets a token for `key`, opens a stream with `query` and waits for its `welcome`. */
export async function connectSse(
  server: { url: string },
  key: string,
  query: Omit<SseQuery, 'token'> = {},
): Promise<SseStream> {
  const answer = await openSse(server, { ...query, token: await getToken(server, key) });
  if (!answer.stream) throw new Error(`SSE refused with ${answer.status}: ${JSON.stringify(answer.body)}`);
  await answer.stream.next('welcome');
  return answer.stream;
}

/** A live event stream that records every event and comment. */
export class SseStream {
  readonly frames: SseFrame[] = [];
  readonly comments: string[] = [];
  readonly invalid: string[] = [];
  private read = 0;
  private waiters: Waiter[] = [];
  private endWaiters: (() => void)[] = [];
  private done = false;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly abort: AbortController,
  ) {
    this.reader = body.getReader();
    void this.pump(this.reader);
  }

  /** Whether the stream has ended (server end, or `close()`). */
  get ended(): boolean {
    return this.done;
  }

  /** The `close` event's data, once it arrived. */
  get closeData(): SseCloseData | undefined {
    const frame = this.frames.find((f) => f.event === 'close');
    return frame ? (JSON.parse(frame.data) as SseCloseData) : undefined;
  }

  /** The next unread event named `event` (matching `match`), waiting up to `timeoutMs`. */
  nextFrame(
    event: string,
    match: (f: SseFrame) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<SseFrame> {
    const test = (f: SseFrame) => f.event === event && match(f);
    for (let i = this.read; i < this.frames.length; i++) {
      const frame = this.frames[i] as SseFrame;
      if (test(frame)) {
        this.read = i + 1;
        return Promise.resolve(frame);
      }
    }
    if (this.done) return Promise.reject(new Error(`stream already ended while waiting for ${event}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match: test,
        resolve: (f) => {
          clearTimeout(timer);
          this.read = this.frames.indexOf(f) + 1;
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const rest = this.frames.slice(this.read).map((f) => `${f.event} ${f.data}`);
        reject(new Error(`no ${event} event within ${timeoutMs} ms; got ${rest.join(' | ').slice(0, 500)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next unread server message of a type (or matching a predicate). */
  async next<T extends ServerMessage['type']>(
    type: T,
    match: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const frame = await this.nextFrame(
      type,
      (f) => f.message !== undefined && match(f.message as Extract<ServerMessage, { type: T }>),
      timeoutMs,
    );
    return frame.message as Extract<ServerMessage, { type: T }>;
  }

  /** Every event of every batch so far, optionally of one subscription. */
  events(sub?: string): LiveEvent[] {
    const out: LiveEvent[] = [];
    for (const f of this.frames)
      if (f.message?.type === 'batch')
        for (const e of f.message.events) if (!sub || e.sub === sub) out.push(e);
    return out;
  }

  /** Waits until `count` events (of one subscription, if given) have arrived. */
  async waitForEvents(count: number, sub?: string, timeoutMs = 3000): Promise<LiveEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events(sub).length < count) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.events(sub).length} of ${count} events within ${timeoutMs} ms`);
      if (this.done) throw new Error(`stream ended with ${this.events(sub).length} of ${count} events`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.events(sub);
  }

  /** Resolves once the stream has ended (waiting up to `timeoutMs`). */
  waitForEnd(timeoutMs = 3000): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stream not ended within ${timeoutMs} ms`)), timeoutMs);
      this.endWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Ends the request from the client side: aborts it, and cancels the body as a browser does (an
   * aborted fetch's mocked body is not always ended by msw itself).
   */
  close(): void {
    this.abort.abort();
    this.reader?.cancel().catch(() => undefined);
  }

  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let block: { event: string; data: string[]; id: string | undefined } = {
      event: '',
      data: [],
      id: undefined,
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        // Lines end in CRLF, LF or CR; a CR at the very end may be the first half of a CRLF.
        for (let match = /\r\n|\n|\r(?!$)/.exec(buffer); match; match = /\r\n|\n|\r(?!$)/.exec(buffer)) {
          const line = buffer.slice(0, match.index);
          buffer = buffer.slice(match.index + match[0].length);
          if (line === '') {
            if (block.data.length > 0)
              this.dispatch(block.event || 'message', block.data.join('\n'), block.id);
            block = { event: '', data: [], id: undefined };
            continue;
          }
          if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trimStart());
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'event') block.event = value;
          else if (field === 'data') block.data.push(value);
          else if (field === 'id') block.id = value;
          else if (field !== 'retry') this.invalid.push(`unknown SSE field "${field}"`);
        }
      }
    } catch {
      // aborted by close(), or the connection dropped: either way the stream has ended
    }
    this.done = true;
    for (const w of this.waiters) w.reject(new Error('stream ended while waiting for an event'));
    this.waiters = [];
    for (const w of this.endWaiters) w();
    this.endWaiters = [];
  }

  private dispatch(event: string, data: string, id: string | undefined): void {
    const frame: SseFrame = { event, data, id, message: undefined };
    if (event === 'close') this.checkClose(data);
    else {
      const parsed = parseServerMessage(data);
      if (!parsed.ok) this.invalid.push(`${parsed.error}: ${data.slice(0, 300)}`);
      else {
        frame.message = parsed.message;
        if (parsed.message.type !== event)
          this.invalid.push(`event: ${event} carries a ${parsed.message.type} message`);
        const seq = largestSeq(parsed.message);
        if (id !== (seq === undefined ? undefined : String(seq)))
          this.invalid.push(`event: ${event} has id ${id}, but its largest seq is ${seq}`);
      }
    }
    this.frames.push(frame);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(frame)) return true;
      w.resolve(frame);
      return false;
    });
  }

  private checkClose(data: string): void {
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      this.invalid.push(`close data is not JSON: ${data.slice(0, 300)}`);
      return;
    }
    const v = value as Partial<SseCloseData> | null;
    if (
      typeof v !== 'object' ||
      v === null ||
      !Number.isInteger(v.code) ||
      typeof v.name !== 'string' ||
      typeof v.message !== 'string' ||
      Object.keys(v).length !== 3
    ) {
      this.invalid.push(`close data is not {code,name,message}: ${data.slice(0, 300)}`);
    }
  }
}

/** The largest `seq` a server message carries, if any. */
function largestSeq(message: ServerMessage): number | undefined {
  if (message.type === 'batch') {
    return message.events.length ? Math.max(...message.events.map((e) => e.seq)) : undefined;
  }
  return 'seq' in message ? message.seq : undefined;
}
