/**
 * One connection holding presence subscriptions, as a page that joins a room many times would.
 * It counts the bytes the server sends it and sorts the answers by the start of their frame (the
 * server writes `type` first) without parsing them: parsing megabytes of member lists while a
 * bystander is being timed would slow this process, not the server. The frames are kept (up to a
 * cap) and parsed afterwards into each subscription's view of the room: its `subscribed.members`
 * with every later join and leave applied, which must end up as the room itself.
 */
import { WebSocket } from 'ws';
import { getToken } from '../../support/raw-client.js';

/** Frames kept for `views()` at most, in bytes; past it the views cannot be rebuilt. */
const KEEP_BYTES = 256 * 2 ** 20;

/** A member as `views()` names it: its connection and its meta's `n`. */
export type MemberName = string;

/** The answer to one subscribe or unsubscribe. */
export type Answer = {
  type: 'subscribed' | 'unsubscribed' | 'error';
  error?: { code: number; message: string };
};

type MemberJson = { connectionId: string; meta: { n?: unknown } };
type FrameJson = {
  type: string;
  id?: string;
  members?: MemberJson[];
  events?: { sub: string; change?: string; member?: MemberJson }[];
};

const nameOf = (member: MemberJson): MemberName => `${member.connectionId}/${String(member.meta.n)}`;

/** A connection that joins and leaves presence rooms and counts what it is sent. */
export class PresenceSocket {
  /** Bytes of every message the server sent. */
  bytes = 0;
  /** Subscribes answered with `subscribed`, and refused with `error` (by message). */
  accepted = 0;
  readonly refusals: string[] = [];
  /** The close code, once closed. */
  closed: number | undefined;
  private kept: Buffer[] | undefined = [];
  private keptBytes = 0;
  private readonly waiting: ((answer: Answer) => void)[] = [];

  private constructor(
    private readonly ws: WebSocket,
    /** The server's id of this connection: what other members see of it. */
    readonly connectionId: string,
    /** The environment's `seq` when it connected (its welcome's). */
    readonly welcomeSeq: number,
  ) {
    ws.on('message', (data: Buffer) => this.take(data));
    ws.on('close', (code) => {
      this.closed = code;
      for (const resolve of this.waiting.splice(0)) {
        resolve({ type: 'error', error: { code, message: 'closed' } });
      }
    });
  }

  /** Connects with `key` and waits for the welcome; `keep: false` keeps no frames (no `views()`). */
  static async open(url: string, key: string, { keep = true } = {}): Promise<PresenceSocket> {
    const token = await getToken({ url }, key);
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`);
    ws.on('error', () => undefined); // a cut connection shows as its close
    const welcome = await new Promise<{ connectionId: string; seq: number }>((resolve, reject) => {
      ws.once('message', (data: Buffer) =>
        resolve(JSON.parse(data.toString()) as { connectionId: string; seq: number }),
      );
      ws.once('close', (code) => reject(new Error(`closed (${code}) before the welcome`)));
    });
    const socket = new PresenceSocket(ws, welcome.connectionId, welcome.seq);
    if (!keep) socket.kept = undefined;
    socket.bytes += JSON.stringify(welcome).length;
    return socket;
  }

  private take(data: Buffer): void {
    this.bytes += data.length;
    if (this.kept) {
      this.keptBytes += data.length;
      if (this.keptBytes > KEEP_BYTES) this.kept = undefined;
      else this.kept.push(data);
    }
    const head = data.toString('latin1', 0, 24);
    let answer: Answer | undefined;
    if (head.startsWith('{"type":"subscribed"')) {
      this.accepted++;
      answer = { type: 'subscribed' };
    } else if (head.startsWith('{"type":"unsubscribed"')) {
      answer = { type: 'unsubscribed' };
    } else if (head.startsWith('{"type":"error"')) {
      const error = JSON.parse(data.toString()) as { code: number; message: string };
      this.refusals.push(error.message);
      answer = { type: 'error', error: { code: error.code, message: error.message } };
    }
    if (answer) this.waiting.shift()?.(answer);
  }

  /** Joins `room` as subscription `id` with `meta`, without waiting for the answer. */
  join(id: string, room: string, meta: Record<string, unknown>): Promise<Answer> {
    return this.request({ type: 'subscribe', id, channel: `presence:${room}`, meta });
  }

  /** Ends subscription `id`. */
  leave(id: string): Promise<Answer> {
    return this.request({ type: 'unsubscribe', id });
  }

  /** Sends a request; resolves with its answer (the server answers a connection's requests in order). */
  private request(message: Record<string, unknown>): Promise<Answer> {
    if (this.closed !== undefined) {
      return Promise.resolve({ type: 'error', error: { code: this.closed, message: 'closed' } });
    }
    const answered = new Promise<Answer>((resolve) => this.waiting.push(resolve));
    this.ws.send(JSON.stringify(message));
    return answered;
  }

  /**
   * Each live subscription's members, rebuilt from the frames: `subscribed.members`, then every
   * join and leave after it. `problems` names a leave of a member the view did not hold; `undefined`
   * when more than the kept bytes came.
   */
  views(): { views: Map<string, MemberName[]>; problems: string[] } | undefined {
    if (!this.kept) return undefined;
    const views = new Map<string, MemberName[]>();
    const problems: string[] = [];
    for (const data of this.kept) {
      const frame = JSON.parse(data.toString()) as FrameJson;
      if (frame.type === 'subscribed' && frame.members && frame.id !== undefined) {
        views.set(frame.id, frame.members.map(nameOf));
      } else if (frame.type === 'unsubscribed' && frame.id !== undefined) {
        views.delete(frame.id);
      } else if (frame.type === 'batch') {
        for (const event of frame.events ?? []) {
          const view = views.get(event.sub);
          if (!view || !event.member) continue;
          const name = nameOf(event.member);
          if (event.change === 'join') view.push(name);
          else {
            const at = view.indexOf(name);
            if (at < 0) problems.push(`${this.connectionId} ${event.sub}: leave of ${name}, not in its view`);
            else view.splice(at, 1);
          }
        }
      }
    }
    for (const view of views.values()) view.sort();
    return { views, problems };
  }

  /** Closes the connection. */
  close(): void {
    this.ws.close();
  }
}

/** `{ n, pad }` whose JSON is exactly `bytes` long (ASCII). */
export function paddedMeta(n: string, bytes: number): { n: string; pad: string } {
  const bare = JSON.stringify({ n, pad: '' }).length;
  return { n, pad: 'x'.repeat(Math.max(0, bytes - bare)) };
}
