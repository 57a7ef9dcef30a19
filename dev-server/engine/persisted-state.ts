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

/**
 * How far the PostgreSQL source got (PROTOCOL.md section 10): `applied` changes of the transaction
 * whose commit record starts at `lsn` and ends at `end` have taken their `seq` (all of them, once
 * it is whole). The source restarts at `lsn`: that transaction is read again and continues after
 * its `applied` changes, so none is lost or committed twice.
 */
export const PostgresProgressSchema = z.strictObject({
  lsn: z.string(),
  end: z.string(),
  applied: z.int().check(z.minimum(0)),
});
/** How far the PostgreSQL source got. */
export type PostgresProgress = z.infer<typeof PostgresProgressSchema>;

/** Every environment's persisted state, and the PostgreSQL source's progress. */
export type PersistedState = { environments: EnvironmentState[]; postgres?: PostgresProgress };

/**
 * A version-1 data file: the whole state as one JSON document. No longer written, still read, so
 * that existing `--data` files load.
 */
export const PersistedStateV1Schema = z.strictObject({
  format: z.literal('catalyst-dev-server-data'),
  version: z.literal(1),
  environments: z.array(EnvironmentStateSchema),
});
