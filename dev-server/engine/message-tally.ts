/**
 * The `message` audit of one connection, coalesced (SERVER_BOUNDS.messageAuditIntervalMs): its
 * frames counted by type, and those the rate limit dropped, over an interval that starts with
 * the first of them. The connection emits one record per interval and one at disconnect, so a
 * flood costs the audit a few counters instead of a record per frame.
 */
import type { ClientMessage } from '../../protocol/index.js';
import { isoTime } from './clock.js';

/** The details of a `message` audit record (protocol/audit.ts describes them). */
export type MessageCounts = {
  /** When the interval's first frame arrived (ISO 8601). */
  from: string;
  /** Frames read, by message type. */
  counts: Partial<Record<ClientMessage['type'], number>>;
  /** Frames dropped unread by the rate limit (each answered with 4029). */
  dropped: number;
};

/** Counts of one interval; empty until a frame is counted. */
export class MessageTally {
  private counts: Partial<Record<ClientMessage['type'], number>> = {};
  private dropped = 0;
  /** When the interval's first frame arrived; undefined while nothing is counted. */
  startedAt: number | undefined;

  /** Counts a frame read (`type`) or dropped (undefined); true when it starts an interval. */
  count(type: ClientMessage['type'] | undefined, now: number): boolean {
    if (type === undefined) this.dropped++;
    else this.counts[type] = (this.counts[type] ?? 0) + 1;
    if (this.startedAt !== undefined) return false;
    this.startedAt = now;
    return true;
  }

  /** The interval's record details, starting a new interval; undefined when nothing was counted. */
  take(): MessageCounts | undefined {
    if (this.startedAt === undefined) return undefined;
    const details: MessageCounts = {
      from: isoTime(this.startedAt),
      counts: this.counts,
      dropped: this.dropped,
    };
    this.counts = {};
    this.dropped = 0;
    this.startedAt = undefined;
    return details;
  }
}
