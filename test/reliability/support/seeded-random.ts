/**
 * A seeded pseudo-random generator (sfc32), so that a generated input that breaks the server can
 * be generated again: every test prints its seed, and `RELIABILITY_SEED=<seed>` repeats the run.
 * Each test derives its own stream from the run's seed and its name, so tests do not shift one
 * another's inputs.
 */

/** The run's seed: `RELIABILITY_SEED`, or a fresh one. */
export const RUN_SEED: number = readSeed();

function readSeed(): number {
  const raw = process.env.RELIABILITY_SEED;
  if (raw === undefined || raw === '') return Math.floor(Math.random() * 2 ** 32);
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new Error(`RELIABILITY_SEED must be an integer from 0 to 2^32 - 1, not "${raw}"`);
  }
  return seed;
}

/** A deterministic stream of random numbers. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  /** A stream for `seed`; `label` (a test's name) picks a stream of its own. */
  constructor(
    readonly seed: number,
    label = '',
  ) {
    let h = 2166136261 ^ seed; // FNV-1a over the label, mixed with the seed
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619);
    this.a = seed >>> 0;
    this.b = h >>> 0;
    this.c = (seed ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < 15; i++) this.next(); // let the state mix before use
  }

  /** A number in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** The stream of the test named `label`, from the run's seed. */
export function randomFor(label: string): Random {
  return new Random(RUN_SEED, label);
}
