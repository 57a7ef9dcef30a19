/**
 * A connection's frame rate limit (PROTOCOL.md section 7, 4029): a token bucket that holds up to
 * `maxMessageBurst` frames and refills at `maxMessagesPerSecond`. The connection asks it before
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

  /** Spends one frame's token; false when there is none (the frame is dropped). */
  take(now: number): boolean {
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      // A clock that steps back refills nothing, rather than draining the bucket.
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
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
