/**
 * The resident memory of another process (the dev server CLI), sampled from Linux's
 * `/proc/<pid>/status` while a test runs: `VmRSS` now, and `VmHWM`, the kernel's own high-water
 * mark, which catches a peak between two samples.
 */
import { readFileSync } from 'node:fs';

/** One sample, in bytes, and when it was taken (`Date.now()`). */
export type MemorySample = { at: number; rss: number; peak: number };

/** Reads a process's resident set now; undefined once it is gone. */
export function residentMemory(pid: number): MemorySample | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { at: Date.now(), rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Samples `pid` every `intervalMs` until `stop()`, which returns the samples. */
export function sampleMemory(
  pid: number,
  intervalMs = 50,
): { samples: MemorySample[]; stop(): MemorySample[] } {
  const samples: MemorySample[] = [];
  const take = () => {
    const sample = residentMemory(pid);
    if (sample) samples.push(sample);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}
