/**
 * The events a connection has waiting, as an immutable chain: each node is one event plus the
 * events before it. Connections with equal queues hold the same node (`SharedEvent.after`), so
 * the batch frame of a queue is built, and UTF-8 encoded, once for all of them.
 */
import type { FrameInfo } from './socket.js';

const utf8 = new TextEncoder();

/** One serialized event as the queue keeps it. */
export interface QueuedEvent {
  /** The event's JSON. */
  readonly json: string;
  readonly seq: number;
  /** The id of the subscription it belongs to. */
  readonly subId: string;
}

/** A queue of events ending with `event`, after the queue `prev` (undefined: nothing before it). */
export class PendingBatch {
  readonly json: string;
  readonly seq: number;
  readonly subId: string;
  /** Events in the queue. */
  readonly size: number;
  /** The frame, once a connection sent this queue (one field: most nodes never need it). */
  private frame: { text?: string; bytes?: Uint8Array; info?: FrameInfo } | undefined;

  constructor(
    event: QueuedEvent,
    readonly prev: PendingBatch | undefined,
  ) {
    this.json = event.json;
    this.seq = event.seq;
    this.subId = event.subId;
    this.size = (prev?.size ?? 0) + 1;
  }

  /** The batch frame of the whole queue, as JSON text; built once. */
  text(): string {
    this.frame ??= {};
    return (this.frame.text ??= this.build());
  }

  /**
   * The batch frame as UTF-8 bytes; encoded once, then handed as it is to every connection
   * holding this queue. The text is not kept for it: WebSocket connections need only the bytes.
   */
  utf8(): Uint8Array {
    this.frame ??= {};
    return (this.frame.bytes ??= utf8.encode(this.frame.text ?? this.build()));
  }

  /**
   * What the frame is, for transports that frame messages themselves. Events are queued in
   * commit order, so the last one has the largest seq: SSE's `id:`.
   */
  get info(): FrameInfo {
    this.frame ??= {};
    return (this.frame.info ??= { type: 'batch', seq: this.seq });
  }

  private build(): string {
    const json = new Array<string>(this.size);
    let i = this.size - 1;
    json[i] = this.json;
    for (let node = this.prev; node; node = node.prev) json[--i] = node.json;
    return `{"type":"batch","events":[${json.join(',')}]}`;
  }

  /** The events of the queue, oldest first. */
  events(): QueuedEvent[] {
    const events = new Array<QueuedEvent>(this.size);
    let i = this.size - 1;
    events[i] = this;
    for (let node = this.prev; node; node = node.prev) events[--i] = node;
    return events;
  }
}
