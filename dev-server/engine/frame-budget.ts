/**
 * A connection's frame rate limit (PROTOCOL.md section 7, 4029): a token bucket that holds up to
 * `maxMessageBurst` frames and refills at `maxMessagesPerSecond`; a large frame counts as one per
 * started KiB, since what it costs the server to read (JSON, validation) grows with its size. The connection asks it before
 * it reads a frame, so a frame past the limit costs a few arithmetic operations and allocates
 * nothing; it also counts the dropped frames that close a connection which keeps on.
 */
import { SERVER_BOUNDS } from '../../protocol/index.js';

/** One connection's bucket and its count of dropped frames. */
export class FrameBudget {
  private tokens: number;
  private refilledAt: number;
  private windowStart = 0;
  private droppedInWindow = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  /**
   * Spends a frame's tokens: one per started `SERVER_BOUNDS.messageBytesPerToken` of its text
   * (reading a frame costs by its size); false when there are not that many (it is dropped).
   */
  take(now: number, length: number): boolean {
    const cost = 1 + Math.floor(length / SERVER_BOUNDS.messageBytesPerToken);
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      // A clock that steps back refills nothing, rather than draining the bucket.
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /**
   * Counts a dropped frame. True once more than a burst's worth were dropped within
   * `SERVER_BOUNDS.rateLimitWindowMs` (a window that starts with the first of them): the
   * connection keeps on, close it. Until then at most a burst of 4029 answers go out per window.
   */
  dropped(now: number): boolean {
    if (now - this.windowStart >= SERVER_BOUNDS.rateLimitWindowMs || now < this.windowStart) {
      this.windowStart = now;
      this.droppedInWindow = 0;
    }
    return ++this.droppedInWindow > this.burst;
  }
}
