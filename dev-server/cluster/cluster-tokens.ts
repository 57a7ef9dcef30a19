/**
 * One-time ws-auth tokens shared by every process of a cluster (PROTOCOL.md sections 2, 3 and 11):
 * a token issued by one process opens a connection on any other, and only once in the whole
 * cluster. The semantics are engine/tokens.ts's, exactly:
 *
 * - a token is spent by its first use, successful or not: a second use anywhere is
 *   `token_invalid`, as is a token never issued;
 * - a token used after `expiresAt` is `token_expired` (with its key, for the audit), and it is
 *   remembered `tokenTtlMs` past its expiry, so a late token gets 4001, not 4002; after that it
 *   is forgotten (`token_invalid`).
 *
 * Design: a token is one Redis string `<prefix>rt:token:<uuid>` holding its key id, its expiry
 * and the end of its memory, written with `PX 2 × tokenTtlMs` so Redis forgets it on its own. A
 * use is one `GETDEL`: Redis runs commands one at a time, so of any number of concurrent uses, on
 * any processes, exactly one gets the value and every other finds nothing (`token_invalid`).
 * "Already used" and "never issued" are therefore the same answer, as in tokens.ts; "expired" is
 * told apart because an expired token that was never used is still there to be read.
 *
 * Times come from the caller's clock (the engine's), so a test may drive them; the expiry is
 * written by the issuing process and judged by the consuming one, which assumes the processes'
 * clocks agree to well within `tokenTtlMs` (NTP does). Redis's own expiry (real time) only frees
 * the memory; the answers follow the clock.
 *
 * Failures: while Redis cannot be reached, `issue` and `consume` reject at once (or after
 * `commandTimeoutMs` when Redis hangs) with `ClusterUnavailableError`. A `consume` that timed out
 * may still have spent the token.
 */
import { LIMIT_DEFAULTS } from '../../protocol/index.js';
import { systemClock, type Clock } from '../engine/clock.js';
import { newToken } from '../engine/ids.js';
import type { TokenRefusal } from '../engine/tokens.js';
import { CommandConnection, type CommandConnectionOptions } from './command-connection.js';

/** How to reach Redis, how long tokens live, and whose clock says so. */
export type ClusterTokensOptions = CommandConnectionOptions & {
  /** Put before every key, so that several clusters (or test runs) share a Redis. */
  keyPrefix?: string;
  /** How long a token may wait for its connection (`tokenTtlMs`). */
  tokenTtlMs?: number;
  /** The engine's clock; `Date.now` by default. */
  clock?: Pick<Clock, 'now'>;
};

/** The defaults of `ClusterTokensOptions`. */
export const CLUSTER_TOKENS_DEFAULTS = {
  keyPrefix: '',
  tokenTtlMs: LIMIT_DEFAULTS.tokenTtlMs,
} as const;

/** A token issued for a key: what `GET /api/users/ws-auth/` hands out (`expiresAt` in ms). */
export type IssuedToken = { token: string; expiresAt: number };

/** A token's use: the key it was issued for, or why it is refused (with its key when expired). */
export type TokenUse = { keyId: string } | { refused: TokenRefusal; keyId?: string };

/** What a token's Redis string holds: key id, expiry, end of memory (ms of the issuer's clock). */
type StoredToken = { k: string; e: number; r: number };

/** The form `newToken()` gives (UUID v4, lower case); anything else was never issued. */
const TOKEN_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** One-time tokens in the cluster's Redis (see the file comment). */
export class ClusterTokens {
  private constructor(
    private readonly connection: CommandConnection,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  /**
   * Connects to Redis; rejects with `ClusterUnavailableError` when Redis does not answer within
   * `connectTimeoutMs`.
   */
  static async connect(options: ClusterTokensOptions): Promise<ClusterTokens> {
    const { keyPrefix, tokenTtlMs, clock, ...connectionOptions } = options;
    const ttlMs = tokenTtlMs ?? CLUSTER_TOKENS_DEFAULTS.tokenTtlMs;
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      throw new RangeError(`tokenTtlMs must be a positive whole number of ms, not ${ttlMs}`);
    }
    const connection = await CommandConnection.connect(connectionOptions, 'tokens');
    return new ClusterTokens(
      connection,
      keyPrefix ?? CLUSTER_TOKENS_DEFAULTS.keyPrefix,
      ttlMs,
      clock ?? systemClock,
    );
  }

  /** Whether the connection to Redis is up now (for `/healthz`). */
  get available(): boolean {
    return this.connection.available;
  }

  /**
   * A new token for the key `keyId`, valid for one connection, on any process, until
   * `expiresAt`. `keyId` names the key for the consuming process; it is stored in Redis, so it
   * should not be the secret key itself (a digest of it will do).
   */
  async issue(keyId: string): Promise<IssuedToken> {
    const token = newToken();
    const expiresAt = this.clock.now() + this.ttlMs;
    const stored: StoredToken = { k: keyId, e: expiresAt, r: expiresAt + this.ttlMs };
    await this.connection.run((client) =>
      client.set(this.keyOf(token), JSON.stringify(stored), {
        expiration: { type: 'PX', value: 2 * this.ttlMs },
      }),
    );
    return { token, expiresAt };
  }

  /**
   * Spends a token: the key it was issued for, or why it is refused. The first use anywhere in
   * the cluster spends it, whatever the answer; `token_expired` carries the key for the audit.
   */
  async consume(token: string): Promise<TokenUse> {
    if (!TOKEN_PATTERN.test(token)) return { refused: 'token_invalid' };
    const value = await this.connection.run((client) => client.getDel(this.keyOf(token)));
    const stored = value === null ? undefined : parseStored(String(value));
    const now = this.clock.now();
    if (!stored || now > stored.r) return { refused: 'token_invalid' };
    if (now > stored.e) return { refused: 'token_expired', keyId: stored.k };
    return { keyId: stored.k };
  }

  /** Closes the connection; tokens stay in Redis for the other processes. */
  async close(): Promise<void> {
    await this.connection.close();
  }

  private keyOf(token: string): string {
    return `${this.keyPrefix}rt:token:${token}`;
  }
}

/** A stored token, or undefined for a value that is not one (then the token is not valid). */
function parseStored(text: string): StoredToken | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { k, e, r } = value as Record<string, unknown>;
    if (typeof k !== 'string' || typeof e !== 'number' || typeof r !== 'number') return undefined;
    return { k, e, r };
  } catch {
    return undefined;
  }
}
