/**
 * Reconnect delays: exponential with full jitter (the AWS "full jitter" scheme centrifuge-js
 * uses), so a thousand pages dropped at once do not come back at once.
 */

/** Backoff settings. */
export type BackoffOptions = { minMs: number; maxMs: number; factor: number };

/**
 * The delay before attempt `attempt` (1 for the first retry): a random value between `minMs/2`
 * and the exponential ceiling `min(maxMs, minMs · factor^(attempt-1))`.
 */
export function backoff(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.minMs * options.factor ** Math.max(0, attempt - 1));
  const floor = Math.min(ceiling, options.minMs / 2);
  return Math.round(floor + random() * (ceiling - floor));
}
