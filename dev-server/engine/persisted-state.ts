/**
 * The shape of what `--data` keeps: every environment's records, `seq`, `epoch` and history.
 * Validated on load, so a foreign or damaged file is refused with a reason instead of half-loaded.
 */
import * as z from 'zod/mini';
import { RecordSchema } from '../../protocol/index.js';
import { CommitSchema } from './commit.js';

/** One environment's persisted state. */
export const EnvironmentStateSchema = z.strictObject({
  client: z.string(),
  environment: z.string(),
  epoch: z.string(),
  seq: z.int().check(z.minimum(0)),
  records: z.record(z.string(), z.array(RecordSchema)),
  history: z.array(CommitSchema),
});
/** One environment's persisted state. */
export type EnvironmentState = z.infer<typeof EnvironmentStateSchema>;

/** The whole data file. */
export const PersistedStateSchema = z.strictObject({
  format: z.literal('catalyst-dev-server-data'),
  version: z.literal(1),
  environments: z.array(EnvironmentStateSchema),
});
/** The whole data file. */
export type PersistedState = z.infer<typeof PersistedStateSchema>;
