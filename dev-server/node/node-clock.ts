/**
 * The engine's clock on Node: zero-delay timers use `setImmediate`, so `flushIntervalMs: 0`
 * sends as soon as the event loop turns instead of after setTimeout's 1 ms floor. Timers are
 * unref'd: a server's own sockets keep the process alive, not its housekeeping.
 */
import type { Clock } from '../engine/clock.js';

type Handle = { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout };

/** The clock the Node shell gives the engine. */
export const nodeClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms): Handle =>
    ms <= 0 ? { immediate: setImmediate(fn) } : { timeout: setTimeout(fn, ms).unref() },
  clearTimeout: (handle) => {
    const h = handle as Handle;
    if ('immediate' in h) clearImmediate(h.immediate);
    else clearTimeout(h.timeout);
  },
};
