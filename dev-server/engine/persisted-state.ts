/**
 * What `--data` keeps of each environment: its records, `seq`, `epoch` and history. This is the
 * engine's side (`Engine.exportState`, `EngineOptions.state`); the file format, which writes history
 * as deltas, is the Node shell's (`dev-server/node/data-file-format.ts`).
 */
import * as z from 'zod/mini';
import { RecordSchema } from '../../protocol/index.js';
import { CommitSchema } from './commit.js';

/** One environment's persisted state; `history` holds whole commits, oldest first. */
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

/** Every environment's persisted state. */
export type PersistedState = { environments: EnvironmentState[] };

/**
 * A version-1 data file: the whole state as one JSON document. No longer written, still read, so
 * that existing `--data` files load.
 */
export const PersistedStateV1Schema = z.strictObject({
  format: z.literal('catalyst-dev-server-data'),
  version: z.literal(1),
  environments: z.array(EnvironmentStateSchema),
});
