/**
 * One environment of a `--data` file as it loads (its records, seq and rebuilt history), and the
 * helpers the snapshot and journal readers share to turn every fault into a `DataFileError` that
 * names the file and the line.
 */
import type { Commit } from '../engine/commit.js';
import { DeltaMismatchError, type RecordTables } from '../engine/commit-delta.js';
import type { EnvironmentState } from '../engine/persisted-state.js';
import { dataFileError, type DataFileError } from './data-file-format.js';
import { LineTooLongError, readLines, type Line } from './line-reader.js';

/** One environment as it loads. */
export class LoadingEnvironment {
  readonly tables: RecordTables = new Map();
  /** Oldest first. */
  history: Commit[] = [];

  constructor(
    readonly client: string,
    readonly environment: string,
    readonly epoch: string,
    public seq: number,
  ) {}

  /** The environment as the engine takes it. */
  toState(): EnvironmentState {
    const records: EnvironmentState['records'] = {};
    for (const [object, table] of this.tables) records[object] = [...table.values()];
    const { client, environment, epoch, seq, history } = this;
    return { client, environment, epoch, seq, records, history };
  }
}

/** A file's lines; a line too long for a string becomes a `DataFileError`. */
export async function* lines(path: string, file: string): AsyncGenerator<Line> {
  try {
    yield* readLines(file);
  } catch (error) {
    if (error instanceof LineTooLongError) {
      throw dataFileError(path, `${file === path ? 'data file' : 'journal'} ${file} ${error.message}`);
    }
    throw error;
  }
}

/** Runs a delta's rebuild; a delta that does not fit the records becomes a `DataFileError`. */
export function rebuild(build: () => Commit, fail: (why: string) => DataFileError): Commit {
  try {
    return build();
  } catch (error) {
    if (error instanceof DeltaMismatchError) throw fail(`does not fit the records: ${error.message}`);
    throw error;
  }
}

/** A line's JSON value; one that is not JSON becomes `fail()`'s error. */
export function parseJson(line: Line, fail: () => DataFileError): unknown {
  try {
    return JSON.parse(line.text);
  } catch {
    throw fail();
  }
}

/** The first zod issue, in words. */
export function problem(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  return `has the wrong shape: ${issue?.path.map(String).join('.') || '(root)'}: ${issue?.message}`;
}

/** An environment's name in messages. */
export function nameOf(env: { client: string; environment: string }): string {
  return `${env.client}/${env.environment}`;
}

/** An environment's map key. */
export function keyOf(env: { client: string; environment: string }): string {
  return `${env.client}\u0000${env.environment}`; // a separator no name can hold
}
