/**
 * Redis cannot be reached (down, restarting, refusing connections, out of memory, or too slow to
 * answer within the command timeout). A REST write answers 503 `unavailable` (PROTOCOL.md section
 * 11); any other error of a command is a bug of ours and propagates as it is.
 *
 * Commands fail fast while the connection is down (the client's offline queue is off,
 * environment-log.ts), so a write never waits for Redis to come back.
 */
import { ErrorReply } from 'redis';

/** The cluster's Redis cannot be reached now; the message says why. */
export class ClusterUnavailableError extends Error {
  constructor(reason: unknown) {
    super(`the cluster's Redis is unavailable: ${describe(reason)}`, { cause: reason });
    this.name = 'ClusterUnavailableError';
  }
}

/**
 * Error replies that mean the server, not the command, failed: out of memory, a script or a
 * load running too long, a replica that cannot take writes, a cluster that is down.
 */
const UNAVAILABLE_REPLIES = /^(OOM|BUSY|LOADING|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

/**
 * The error of a node-redis call as the caller should see it: `ClusterUnavailableError` for a
 * connection's error (offline, closed, refused, timed out) or a reply above; any other error reply
 * (a bug in a script, a key of the wrong type) as it is.
 */
export function unavailableOrSelf(error: unknown): unknown {
  if (error instanceof ClusterUnavailableError) return error;
  if (error instanceof ErrorReply && !UNAVAILABLE_REPLIES.test(error.message)) return error;
  return new ClusterUnavailableError(error);
}

function describe(reason: unknown): string {
  if (!(reason instanceof Error)) return String(reason);
  const code = (reason as { code?: unknown }).code;
  if (reason.message) return reason.message;
  return typeof code === 'string' ? code : reason.name;
}
