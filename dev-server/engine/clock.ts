/**
 * Time as the engine sees it. The Node shell and the browser mock pass the real one; tests may
 * pass their own. `setTimeout(fn, 0)` must run `fn` as soon as the event loop turns.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The host's clock: `Date.now` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** ISO 8601 text of a clock reading. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
