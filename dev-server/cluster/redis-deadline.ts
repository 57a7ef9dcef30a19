/**
 * Deadlines for Redis calls, shared by the cluster's connections (environment-log.ts,
 * command-connection.ts): node-redis's own command timeout covers only a command's wait to be
 * written, not a Redis that stops answering (under `CLIENT PAUSE` an append waited for the whole
 * pause), and a connect to a Redis that accepts but never answers waits on. Both fail here as
 * `ClusterUnavailableError`, so a REST write answers 503 instead of hanging.
 */
import { ClusterUnavailableError, unavailableOrSelf } from './cluster-unavailable-error.js';

/**
 * Runs a Redis command with a deadline: a connection's failure, or no answer within `ms`, is
 * `ClusterUnavailableError`. A command that timed out may still be applied later by a Redis that
 * was only slow; commands sent after it on the same connection are applied after it.
 */
export async function withDeadline<T>(command: () => Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: Promise<T>;
  try {
    pending = command();
  } catch (error) {
    throw unavailableOrSelf(error);
  }
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClusterUnavailableError(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (error) {
    pending.catch(() => {}); // its late failure, if any, is no one's
    throw unavailableOrSelf(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for connections to open, at most `ms`; else closes them (`close`) and rejects with
 * `ClusterUnavailableError` naming `url`.
 */
export async function connectWithin(
  connecting: Promise<unknown>,
  ms: number,
  url: string,
  close: () => Promise<void>,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${url} within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([connecting, timeout]);
  } catch (error) {
    connecting.catch(() => {});
    await close();
    throw new ClusterUnavailableError(error);
  } finally {
    clearTimeout(timer);
  }
}
