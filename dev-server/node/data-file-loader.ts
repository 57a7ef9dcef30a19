/**
 * Loads a `--data` file as a stream: the snapshot (version 2 JSON lines, or a version-1 document
 * that fits in a string), then the journals in order (`<file>.journal.1`, `<file>.journal`),
 * skipping what the snapshot holds. History is rebuilt from the deltas against the records: the
 * snapshot's backward from its records, the journals' forward on top of them. Anything that
 * cannot be loaded throws `DataFileError`, naming the file and the line.
 */
import { existsSync } from 'node:fs';
import {
  DeltaMismatchError,
  replayForward,
  toDelta,
  unwindBackward,
  type CommitDelta,
  type RecordTables,
} from '../engine/commit-delta.js';
import type { Commit } from '../engine/commit.js';
import { newEpoch } from '../engine/ids.js';
import {
  PersistedStateV1Schema,
  type EnvironmentState,
  type PersistedState,
} from '../engine/persisted-state.js';
import {
  DATA_FORMAT,
  DATA_VERSION,
  DataFileError,
  HeaderLineSchema,
  JournalLineSchema,
  JournalLineV1Schema,
  SnapshotLineSchema,
  dataFileError,
  journalPaths,
  type JournalLine,
} from './data-file-format.js';
import { LineTooLongError, readLines, type Line } from './line-reader.js';

/** What a data file held at start. */
export type LoadedData = {
  /** Every environment, with the journals applied. */
  state: PersistedState;
  /** Bytes of `<file>.journal` up to its last whole line: a torn line after them is to be cut off. */
  journalBytes: number;
};

/** Reads the snapshot and journals at `path` (any may be missing). Throws `DataFileError`. */
export async function loadDataFile(path: string): Promise<LoadedData> {
  const environments = new Map<string, Loading>();
  const journals = journalPaths(path);
  let journalBytes = 0;
  try {
    if (existsSync(path)) await new SnapshotReader(path, environments).read();
    const present = [journals.older, journals.current].filter((p) => existsSync(p));
    for (const journal of present) {
      const end = await readJournal(path, journal, environments, journal === present.at(-1));
      if (journal === journals.current) journalBytes = end;
    }
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    throw dataFileError(path, `cannot read ${path}: ${(error as Error).message}`);
  }
  return { state: { environments: [...environments.values()].map((e) => e.toState()) }, journalBytes };
}

/** One environment as it loads. */
class Loading {
  readonly tables: RecordTables = new Map();
  /** Oldest first. */
  history: Commit[] = [];

  constructor(
    readonly client: string,
    readonly environment: string,
    readonly epoch: string,
    public seq: number,
  ) {}

  toState(): EnvironmentState {
    const records: EnvironmentState['records'] = {};
    for (const [object, table] of this.tables) records[object] = [...table.values()];
    const { client, environment, epoch, seq, history } = this;
    return { client, environment, epoch, seq, records, history };
  }
}

/** Reads a snapshot's lines in order, checking each against what the lines before announced. */
class SnapshotReader {
  private current: Loading | undefined;
  private recordsLeft = 0;
  private historyLeft = 0;
  /** The current environment's records as history is unwound, newest commit first. */
  private scratch: RecordTables | undefined;
  private newestFirst: Commit[] = [];
  private ended = false;

  constructor(
    private readonly path: string,
    private readonly environments: Map<string, Loading>,
  ) {}

  async read(): Promise<void> {
    let first = true;
    for await (const line of lines(this.path, this.path)) {
      if (!line.terminated && line.text === '') break;
      if (this.ended) throw this.fail(line, 'follows the end line');
      const value = parseJson(line, () => this.fail(line, 'is not JSON'));
      if (first) {
        first = false;
        this.header(line, value);
      } else {
        this.entry(line, value);
      }
    }
    if (first) throw dataFileError(this.path, `data file ${this.path} is empty`);
    if (!this.ended) throw dataFileError(this.path, `data file ${this.path} ends early: it has no end line`);
  }

  private header(line: Line, value: unknown): void {
    const v = value as { format?: unknown; version?: unknown; kind?: unknown } | null;
    if (v?.format === DATA_FORMAT && v.version === 1 && v.kind === undefined) {
      this.version1(line, value);
      return;
    }
    if (HeaderLineSchema.safeParse(value).success) return;
    if (v?.format !== DATA_FORMAT)
      throw this.fail(line, 'is not the header of a catalyst dev server data file');
    throw this.fail(
      line,
      `has format version ${JSON.stringify(v.version)}; this server reads versions 1 and ${DATA_VERSION}`,
    );
  }

  private version1(line: Line, value: unknown): void {
    const parsed = PersistedStateV1Schema.safeParse(value);
    if (!parsed.success) throw this.fail(line, problem(parsed.error.issues));
    for (const state of parsed.data.environments) {
      const env = this.open(line, state.client, state.environment, state.epoch, state.seq);
      for (const [object, list] of Object.entries(state.records)) {
        env.tables.set(object, new Map(list.map((record) => [record.id, record])));
      }
      state.history.forEach((commit, i) => {
        const expected = state.seq - state.history.length + 1 + i;
        if (commit.seq !== expected)
          throw this.fail(line, `history of ${nameOf(env)} has seq ${commit.seq} where ${expected} belongs`);
      });
      env.history = state.history;
    }
    this.ended = true;
  }

  private entry(line: Line, value: unknown): void {
    const parsed = SnapshotLineSchema.safeParse(value);
    if (!parsed.success) throw this.fail(line, problem(parsed.error.issues));
    const entry = parsed.data;
    if (entry.kind === 'environment') {
      this.finish(line);
      if (entry.history > entry.seq)
        throw this.fail(line, `holds ${entry.history} commits of only ${entry.seq}`);
      this.current = this.open(line, entry.client, entry.environment, entry.epoch, entry.seq);
      this.recordsLeft = entry.records;
      this.historyLeft = entry.history;
      return;
    }
    if (entry.kind === 'end') {
      this.finish(line);
      if (entry.environments !== this.environments.size) {
        throw this.fail(
          line,
          `says ${entry.environments} environments, the file holds ${this.environments.size}`,
        );
      }
      this.ended = true;
      return;
    }
    const env = this.current;
    if (entry.kind === 'record') {
      if (!env || this.recordsLeft === 0)
        throw this.fail(line, 'is a record its environment line did not announce');
      let table = env.tables.get(entry.object);
      if (!table) env.tables.set(entry.object, (table = new Map()));
      if (table.has(entry.record.id))
        throw this.fail(line, `repeats ${entry.object} record "${entry.record.id}"`);
      table.set(entry.record.id, entry.record);
      this.recordsLeft--;
      return;
    }
    if (!env || this.recordsLeft > 0 || this.historyLeft === 0) {
      throw this.fail(line, 'is a commit its environment line did not announce here');
    }
    const expected = env.seq - this.newestFirst.length;
    if (entry.commit.seq !== expected)
      throw this.fail(line, `is seq ${entry.commit.seq} where ${expected} belongs`);
    this.scratch ??= copyTables(env.tables);
    this.newestFirst.push(
      rebuild(
        () => unwindBackward(this.scratch as RecordTables, entry.commit),
        (why) => this.fail(line, why),
      ),
    );
    if (--this.historyLeft === 0) env.history = this.newestFirst.reverse();
  }

  /** Checks the environment being read got every line its environment line announced. */
  private finish(line: Line): void {
    const env = this.current;
    if (env && (this.recordsLeft > 0 || this.historyLeft > 0)) {
      throw this.fail(
        line,
        `comes before ${nameOf(env)} has its last ${this.recordsLeft} records and ${this.historyLeft} commits`,
      );
    }
    this.current = undefined;
    this.scratch = undefined;
    this.newestFirst = [];
  }

  private open(line: Line, client: string, environment: string, epoch: string, seq: number): Loading {
    const env = new Loading(client, environment, epoch, seq);
    if (this.environments.has(keyOf(env))) throw this.fail(line, `repeats environment ${nameOf(env)}`);
    this.environments.set(keyOf(env), env);
    return env;
  }

  private fail(line: Line, why: string): DataFileError {
    return dataFileError(this.path, `data file ${this.path} line ${line.number} ${why}`);
  }
}

/**
 * Replays one journal on top of `environments`. A damaged line is refused, except a torn last line
 * of the newest journal (a crash in mid-append; that commit never reached a client). Returns the
 * byte offset after its last whole line.
 */
async function readJournal(
  path: string,
  journal: string,
  environments: Map<string, Loading>,
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
    const entry = journalEntry(line);
    if (typeof entry === 'string') {
      if (newest && !line.terminated) break;
      throw fail(line, entry);
    }
    const key = keyOf(entry);
    let env = environments.get(key);
    if (!env)
      environments.set(key, (env = new Loading(entry.client, entry.environment, newEpoch(Date.now()), 0)));
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

/** A file's lines; a line too long for a string becomes a `DataFileError`. */
async function* lines(path: string, file: string): AsyncGenerator<Line> {
  try {
    yield* readLines(file);
  } catch (error) {
    if (error instanceof LineTooLongError) {
      throw dataFileError(path, `${file === path ? 'data file' : 'journal'} ${file} ${error.message}`);
    }
    throw error;
  }
}

function rebuild(build: () => Commit, fail: (why: string) => DataFileError): Commit {
  try {
    return build();
  } catch (error) {
    if (error instanceof DeltaMismatchError) throw fail(`does not fit the records: ${error.message}`);
    throw error;
  }
}

function parseJson(line: Line, fail: () => DataFileError): unknown {
  try {
    return JSON.parse(line.text);
  } catch {
    throw fail();
  }
}

function problem(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  return `has the wrong shape: ${issue?.path.map(String).join('.') || '(root)'}: ${issue?.message}`;
}

function copyTables(tables: RecordTables): RecordTables {
  return new Map([...tables].map(([object, table]) => [object, new Map(table)]));
}

/** An environment's name in messages, and (with a separator no name can hold) its map key. */
function nameOf(env: { client: string; environment: string }): string {
  return `${env.client}/${env.environment}`;
}
function keyOf(env: { client: string; environment: string }): string {
  return `${env.client}\u0000${env.environment}`;
}
