/**
 * Reads a `--data` snapshot line by line (`data-file-format.ts`): the header, then each
 * environment's records and its history, newest commit first, rebuilt backward from the records
 * (`unwindBackward`); or, on its first line, a whole version-1 document. Every line is checked
 * against what the lines before it announced, so a cut or edited file is refused, not half-loaded.
 */
import type { Commit } from '../engine/commit.js';
import { unwindBackward, type RecordTables } from '../engine/commit-delta.js';
import { PersistedStateV1Schema, type PostgresProgress } from '../engine/persisted-state.js';
import {
  DATA_FORMAT,
  DATA_VERSION,
  HeaderLineSchema,
  SnapshotLineSchema,
  dataFileError,
  type DataFileError,
} from './data-file-format.js';
import type { Line } from './line-reader.js';
import {
  LoadingEnvironment,
  keyOf,
  lines,
  nameOf,
  parseJson,
  problem,
  rebuild,
} from './loading-environment.js';

/** Reads a snapshot's lines in order, checking each against what the lines before announced. */
export class SnapshotReader {
  private current: LoadingEnvironment | undefined;
  private recordsLeft = 0;
  private historyLeft = 0;
  /** The current environment's records as history is unwound, newest commit first. */
  private scratch: RecordTables | undefined;
  private newestFirst: Commit[] = [];
  private ended = false;
  /** The PostgreSQL source's progress, as the header gives it. */
  postgres: PostgresProgress | undefined;

  constructor(
    private readonly path: string,
    private readonly environments: Map<string, LoadingEnvironment>,
  ) {}

  /** Reads the whole snapshot into the environments map. Throws `DataFileError`. */
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
    const header = HeaderLineSchema.safeParse(value);
    if (header.success) {
      this.postgres = header.data.postgres;
      return;
    }
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

  private open(
    line: Line,
    client: string,
    environment: string,
    epoch: string,
    seq: number,
  ): LoadingEnvironment {
    const env = new LoadingEnvironment(client, environment, epoch, seq);
    if (this.environments.has(keyOf(env))) throw this.fail(line, `repeats environment ${nameOf(env)}`);
    this.environments.set(keyOf(env), env);
    return env;
  }

  private fail(line: Line, why: string): DataFileError {
    return dataFileError(this.path, `data file ${this.path} line ${line.number} ${why}`);
  }
}

function copyTables(tables: RecordTables): RecordTables {
  return new Map([...tables].map(([object, table]) => [object, new Map(table)]));
}
