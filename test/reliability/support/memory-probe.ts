/**
 * The live memory of this process, after full garbage collections: with the dev server running
 * in-process (test/support/test-server.ts), growth across a barrage of bad input is what the
 * server kept of it (plus the test's own few clients).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
// A new context sees the flag; the main one was created before it was set.
const gc = runInNewContext('gc') as () => void;

/** Bytes of JavaScript heap and array buffers still reachable after two full collections. */
export function liveBytes(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Bytes as MiB with one decimal, for figures. */
export function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}
