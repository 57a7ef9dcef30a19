/**
 * Who may connect, when several server processes serve the same clients (PROTOCOL.md section
 * 11): a one-time token is spent once in the whole cluster, and `maxConnectionsPerClient` counts
 * every process's connections. The engine does no I/O; the Node shell's cluster node implements
 * this over Redis (dev-server/cluster/cluster-tokens.ts, cluster-connections.ts).
 */
import type { TokenRefusal } from './tokens.js';

/** The cluster's tokens and connection counts. Calls reject with `ApiError` `unavailable`. */
export interface ClusterAdmission {
  /** A one-time token for the key with this id, usable on any process. */
  issue(keyId: string): Promise<{ token: string; expiresAt: number }>;
  /** Spends a token, once in the cluster. */
  consume(token: string): Promise<{ keyId: string } | { refused: TokenRefusal; keyId?: string }>;
  /** Takes one of the client's `max` connection slots across the cluster, or says how many are open. */
  tryOpen(client: string, max: number): Promise<{ ok: true } | { ok: false; open: number }>;
  /** Gives a slot back (the connection is gone). */
  closed(client: string): void;
}
