/**
 * Loads a `--data` file as a stream: the snapshot (version 2 JSON lines, or a version-1 document
 * that fits in a string), then the journals in order (`<file>.journal.1`, `<file>.journal`),
 * skipping what the snapshot holds. History is rebuilt from the deltas against the records: the
 * snapshot's backward from its records, the journals' forward on top of them. Anything that
 * cannot be loaded throws `DataFileError`, naming the file and the line.
 */
import { existsSync } from 'node:fs';
import { replayForward, toDelta, type CommitDelta } from '../engine/commit-delta.js';
import { newEpoch } from '../engine/ids.js';
import type { PersistedState, PostgresProgress } from '../engine/persisted-state.js';
import {
  DataFileError,
  JournalLineSchema,
  JournalLineV1Schema,
  dataFileError,
  journalPaths,
  type JournalLine,
} from './data-file-format.js';
import type { Line } from './line-reader.js';
import { LoadingEnvironment, keyOf, lines, nameOf, problem, rebuild } from './loading-environment.js';
import { SnapshotReader } from './snapshot-reader.js';

/** What a data file held at start. */
export type LoadedData = {
  /** Every environment, with the journals applied. */
  state: PersistedState;
  /** Bytes of `<file>.journal` up to its last whole line: a torn line after them is to be cut off. */
  journalBytes: number;
};

/** Reads the snapshot and journals at `path` (any may be missing). Throws `DataFileError`. */
export async function loadDataFile(path: string): Promise<LoadedData> {
  const environments = new Map<string, LoadingEnvironment>();
  const journals = journalPaths(path);
  let journalBytes = 0;
  let postgres: PostgresProgress | undefined;
  try {
    if (existsSync(path)) {
      const reader = new SnapshotReader(path, environments);
      await reader.read();
      postgres = reader.postgres;
    }
    const present = [journals.older, journals.current].filter((p) => existsSync(p));
    for (const journal of present) {
      const end = await readJournal(path, journal, environments, journal === present.at(-1));
      if (journal === journals.current) journalBytes = end;
    }
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    throw dataFileError(path, `cannot read ${path}: ${(error as Error).message}`);
  }
  const state: PersistedState = { environments: [...environments.values()].map((e) => e.toState()) };
  if (postgres) state.postgres = postgres;
  return { state, journalBytes };
}

/**
 * Replays one journal on top of `environments`. A damaged line is refused, except a torn last line
 * of the newest journal (a crash in mid-append; that commit never reached a client). Returns the
 * byte offset after its last whole line.
 */
async function readJournal(
  path: string,
  journal: string,
  environments: Map<string, LoadingEnvironment>,
  newest: boolean,
): Promise<number> {
  const fail = (line: Line, why: string) =>
    dataFileError(path, `journal ${journal} line ${line.number} ${why}`);
  let end = 0;
  for await (const line of lines(path, journal)) {
    if (line.text === '') {
      end = line.end;
      continue;
    }
    // A last line without its newline is an append cut short: its commit was never acknowledged
    // (the newline is written with it), whether or not what was written happens to parse.
    if (newest && !line.terminated) break;
    const entry = journalEntry(line);
    if (typeof entry === 'string') throw fail(line, entry);
    const key = keyOf(entry);
    let env = environments.get(key);
    if (!env)
      environments.set(
        key,
        (env = new LoadingEnvironment(entry.client, entry.environment, newEpoch(Date.now()), 0)),
      );
    const delta = entry.commit;
    if (delta.seq > env.seq) {
      if (delta.seq !== env.seq + 1) {
        throw dataFileError(
          path,
          `journal ${journal} skips from seq ${env.seq} to ${delta.seq} in ${nameOf(entry)} (line ${line.number})`,
        );
      }
      const tables = env.tables;
      env.history.push(
        rebuild(
          () => replayForward(tables, delta),
          (why) => fail(line, why),
        ),
      );
      env.seq = delta.seq;
    }
    end = line.end;
  }
  return end;
}

/** A journal line as a forward delta (a version-1 line holds the whole commit), or why it is damaged. */
function journalEntry(line: Line): (Omit<JournalLine, 'commit'> & { commit: CommitDelta }) | string {
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch {
    return 'is not JSON';
  }
  const parsed = JournalLineSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const v1 = JournalLineV1Schema.safeParse(value);
  if (v1.success) return { ...v1.data, commit: toDelta(v1.data.commit, 'forward') };
  return `is not a journal line: ${problem(parsed.error.issues)}`;
}
