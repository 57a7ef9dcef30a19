/**
 * The `--data` files, version 2: JSON lines, so that each is written and read as a stream, one
 * record or commit at a time, and never as one string.
 *
 * The snapshot (`<file>`): a header line, then for each environment an `environment` line, one
 * `record` line per record, and its history as `commit` lines of backward deltas, newest first
 * (`commit-delta.ts`), then an `end` line. The counts in the `environment` and `end` lines let a
 * cut file be told from a whole one.
 *
 * The journals (`<file>.journal`, and `<file>.journal.1` while a snapshot is written): one line per
 * commit, a forward delta with its environment.
 *
 * Version 1 (one JSON document, history as whole commits) is still read.
 */
import * as z from 'zod/mini';
import { CommitDeltaSchema, StoredRecordSchema } from '../engine/commit-delta.js';
import { CommitSchema } from '../engine/commit.js';
import { PostgresProgressSchema } from '../engine/persisted-state.js';

/** The `format` of every version's header. */
export const DATA_FORMAT = 'catalyst-dev-server-data';
/** The version this server writes. */
export const DATA_VERSION = 2;

const count = () => z.int().check(z.minimum(0));

/** The snapshot's first line. */
export const HeaderLineSchema = z.strictObject({
  kind: z.literal('header'),
  format: z.literal(DATA_FORMAT),
  version: z.literal(DATA_VERSION),
  /** The PostgreSQL source's progress; later row commits in the journals move it on. */
  postgres: z.optional(PostgresProgressSchema),
});

/** Starts an environment: its `records` record lines and `history` commit lines follow. */
const EnvironmentLineSchema = z.strictObject({
  kind: z.literal('environment'),
  client: z.string(),
  environment: z.string(),
  epoch: z.string(),
  seq: count(),
  records: count(),
  history: count(),
});

/** One record of the environment above. */
const RecordLineSchema = z.strictObject({
  kind: z.literal('record'),
  object: z.string(),
  record: StoredRecordSchema,
});

/** One history commit of the environment above, as a backward delta; newest first. */
const CommitLineSchema = z.strictObject({ kind: z.literal('commit'), commit: CommitDeltaSchema });

/** The snapshot's last line. */
const EndLineSchema = z.strictObject({ kind: z.literal('end'), environments: count() });

/** Any line of a snapshot after the header. */
export const SnapshotLineSchema = z.discriminatedUnion('kind', [
  EnvironmentLineSchema,
  RecordLineSchema,
  CommitLineSchema,
  EndLineSchema,
]);
/** A journal line: one commit of one environment, as a forward delta. */
export const JournalLineSchema = z.strictObject({
  client: z.string(),
  environment: z.string(),
  commit: CommitDeltaSchema,
});
/** A journal line. */
export type JournalLine = z.infer<typeof JournalLineSchema>;

/** A version-1 journal line: the whole commit. */
export const JournalLineV1Schema = z.strictObject({
  client: z.string(),
  environment: z.string(),
  commit: CommitSchema,
});

/** The journals beside a data file: `current` takes appends; `older` waits for a snapshot to hold it. */
export function journalPaths(path: string): { current: string; older: string } {
  return { current: `${path}.journal`, older: `${path}.journal.1` };
}

/**
 * A data file could not be used. The message names the file, says why, and what to do; the CLI
 * prints it and exits with status 2.
 */
export class DataFileError extends Error {}

/** A `DataFileError` for the data file at `path`: `what` names the file and the fault. */
export function dataFileError(path: string, what: string): DataFileError {
  return new DataFileError(
    `${what}.\n  To start empty, move ${path} and its ${path}.journal* files aside; ` +
      'or restore them from a backup.',
  );
}
