/**
 * Reconnect delays: exponential with full jitter (the AWS "full jitter" scheme centrifuge-js
 * uses), so a thousand pages dropped at once do not come back at once.
 */

import { CLIENT_ACTIONS, CODES, codeName } from '../../protocol/codes.js';

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

/**
 * The wait before retry `attempt` after a close with `code`, as the protocol's code table says
 * (section 7): at once after 4001 (a token or session aged out), the maximum after 4008 and
 * 4029 (too many connections or frames: do not add to the storm), full-jitter backoff otherwise.
 */
export function retryDelay(
  code: number | undefined,
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const name = code === undefined ? undefined : codeName(code);
  switch (name && CODES[name].action) {
    case CLIENT_ACTIONS.renewNow:
      return 0;
    case CLIENT_ACTIONS.backoffMax:
      return options.maxMs;
    default:
      return backoff(attempt, options, random);
  }
}
