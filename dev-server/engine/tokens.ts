/**
 * One-time ws-auth tokens. A token is consumed by its first use, successful or not, and is
 * remembered for `ttl` past its expiry, so a late token is told "expired" (4001), not "unknown".
 */
import type { Clock } from './clock.js';
import { newToken } from './ids.js';

type Entry<K> = { key: K; expiresAt: number; used: boolean };

/** Why a token was refused. */
export type TokenRefusal = 'token_expired' | 'token_invalid';

/** Issues and consumes one-time tokens that carry a key record `K`. */
export class TokenStore<K> {
  private readonly entries = new Map<string, Entry<K>>();
  private nextSweep = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /** A new token for `key`, valid for one connection within the TTL. */
  issue(key: K): { token: string; expiresAt: number } {
    this.sweep();
    const token = newToken();
    const expiresAt = this.clock.now() + this.ttlMs;
    this.entries.set(token, { key, expiresAt, used: false });
    return { token, expiresAt };
  }

  /** Uses a token: its key, or why it is refused. A token is spent by any attempt. */
  consume(token: string): { key: K } | { refused: TokenRefusal; key?: K } {
    const entry = this.entries.get(token);
    if (!entry || entry.used) return { refused: 'token_invalid' };
    entry.used = true;
    if (this.clock.now() > entry.expiresAt) return { refused: 'token_expired', key: entry.key };
    return { key: entry.key };
  }

  private sweep(): void {
    const now = this.clock.now();
    if (now < this.nextSweep) return;
    this.nextSweep = now + this.ttlMs;
    for (const [token, entry] of this.entries) {
      if (now > entry.expiresAt + this.ttlMs) this.entries.delete(token);
    }
  }
}
