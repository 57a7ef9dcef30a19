/**
 * The figures a reliability test measured, one JSON line per test appended to the file named by
 * `RELIABILITY_FIGURES` (nothing is written without it). `scripts/reliability.mjs` sets it, reads
 * the lines back and turns them into the tables of RELIABILITY.md. A test records its figures
 * before it asserts on them, so a failing run still shows what went wrong.
 */
import { appendFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { ScaleSchema } from './scale.js';

const count = () => z.int().check(z.minimum(0));

/** One test's figures: a row of its area's table. */
export const FigureSchema = z.strictObject({
  /** The table the row goes in: `bad input`, `persistence`, `isolation and auth`, … */
  area: z.string().check(z.minLength(1)),
  /** What the test did, as its row's title. */
  test: z.string().check(z.minLength(1)),
  scale: ScaleSchema,
  /** The load held while it ran, in words (`2 000 writes over 4 environments, 8 streams`). */
  load: z.string(),
  /** Faults survived: crashes forced, sockets cut, sessions expired, races run. */
  faults: count(),
  /** Bad inputs tried. */
  badInputs: count(),
  /** Events a client should have received and did not. */
  lost: count(),
  /** Events a client received more than once. */
  duplicated: count(),
  /** Events, records or answers that reached someone they do not belong to. */
  leaked: count(),
  /** Times the server died, answered 500, or closed a connection with 1011. */
  crashes: count(),
  seconds: z.number().check(z.minimum(0)),
  /** The PRNG seed, to repeat the run (`RELIABILITY_SEED`). */
  seed: z.optional(z.int()),
  /** Worst-case latency a well-behaved bystander saw while the test ran (its p99, ms). */
  bystanderP99Ms: z.optional(z.number().check(z.minimum(0))),
  /** The server's resident memory before the test's load and at its end (or peak), MiB. */
  rssMiB: z.optional(z.strictObject({ before: z.number(), after: z.number() })),
  /** Bytes the server sent to clients during the test. */
  bytesSent: z.optional(count()),
  /** Anything else worth a line: memory, limits hit, resyncs. */
  notes: z.optional(z.string()),
});
/** One test's figures. */
export type Figure = z.infer<typeof FigureSchema>;

/** Appends a row to `RELIABILITY_FIGURES`, when it is set; validates it either way. */
export function recordFigures(figure: Figure): void {
  const row = FigureSchema.parse(figure);
  const file = process.env.RELIABILITY_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}

/** Seconds since `started` (a `Date.now()`), to one decimal. */
export function secondsSince(started: number): number {
  return Math.round((Date.now() - started) / 100) / 10;
}
