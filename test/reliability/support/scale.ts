/**
 * How big the reliability suite runs, from `RELIABILITY_SCALE`: `short` (the default; seconds,
 * part of `npm test`) or `full` (the numbers; minutes, `npm run test:reliability`).
 */
import * as z from 'zod/mini';

/** The two sizes of the suite. */
export const ScaleSchema = z.enum(['short', 'full']);
/** `short` or `full`. */
export type Scale = z.infer<typeof ScaleSchema>;

function readScale(): Scale {
  const raw = process.env.RELIABILITY_SCALE ?? 'short';
  const parsed = ScaleSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`RELIABILITY_SCALE must be "short" or "full", not "${raw}"`);
  return parsed.data;
}

/** The scale of this run. */
export const SCALE: Scale = readScale();

/** The value for this run's scale. */
export function scaled<T>(values: Readonly<Record<Scale, T>>): T {
  return values[SCALE];
}
