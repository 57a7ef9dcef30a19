/**
 * `--data` persistence: a snapshot file plus an append-only journal beside it (`<file>.journal`).
 *
 * Every commit is appended to the journal before it is fanned out, so any `seq` a client has
 * seen survives even a SIGKILL. The snapshot is rewritten now and then by writing a temporary
 * file, fsyncing it and renaming it over the old one — a crash leaves the old or the new file,
 * never half of one — and then the journal is emptied. On start the snapshot is loaded and the
 * journal replayed on top; commits the snapshot already holds are skipped, and a torn last line
 * (a crash in mid-append) is ignored.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import * as z from 'zod/mini';
import { CommitSchema } from '../engine/commit.js';
import type { Engine } from '../engine/engine.js';
import { PersistedStateSchema, type PersistedState } from '../engine/persisted-state.js';

const JournalLineSchema = z.strictObject({
  client: z.string(),
  environment: z.string(),
  commit: CommitSchema,
});

/** How often the snapshot is rewritten while commits flow. */
const COMPACT_EVERY_MS = 1000;

/** A data file could not be used; the message says which file and why. */
export class DataFileError extends Error {}

/** What a data file held at start. */
export type LoadedData = { state: PersistedState | undefined; journal: z.infer<typeof JournalLineSchema>[] };

/** Reads the snapshot and journal at `path` (either may be missing). Throws `DataFileError`. */
export function loadDataFile(path: string): LoadedData {
  let state: PersistedState | undefined;
  if (existsSync(path)) {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new DataFileError(`data file ${path} is not valid JSON (${(error as Error).message})`);
    }
    const parsed = PersistedStateSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DataFileError(
        `data file ${path} is not a catalyst dev server data file: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      );
    }
    state = parsed.data;
  }
  const journal: LoadedData['journal'] = [];
  const journalPath = `${path}.journal`;
  if (existsSync(journalPath)) {
    const lines = readFileSync(journalPath, 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      let parsed;
      try {
        parsed = JournalLineSchema.safeParse(JSON.parse(line));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) journal.push(parsed.data);
      else if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l !== '')) {
        throw new DataFileError(`journal ${journalPath} line ${i + 1} is damaged`);
      } // else: a torn last line from a crash in mid-append; the commit never reached a client
    }
  }
  return { state, journal };
}

/** Keeps an engine's state in a data file as it changes. */
export class DataFile {
  private journalFd: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly off: () => void;

  constructor(
    private readonly path: string,
    private readonly engine: Engine,
  ) {
    this.journalFd = openSync(`${path}.journal`, 'a');
    this.compact(); // the snapshot now holds everything loaded; the journal starts empty
    this.off = engine.onCommit((env, commit) => {
      writeAll(this.journalFd, `${JSON.stringify({ client: env.client, environment: env.name, commit })}\n`);
      this.timer ??= setTimeout(() => this.compact(), COMPACT_EVERY_MS);
    });
  }

  /**
   * Writes the snapshot atomically and empties the journal. A failure (disk full, a state too
   * large for one string) is logged and leaves the old snapshot plus the journal, which still
   * restore everything; the next commit tries again.
   */
  compact(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.writeSnapshot();
    } catch (error) {
      console.error(
        `catalyst-dev-server: could not rewrite ${this.path}; the journal keeps every commit:`,
        error,
      );
    }
  }

  private writeSnapshot(): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, JSON.stringify(this.engine.exportState()));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    ftruncateSync(this.journalFd, 0);
  }

  /** Final snapshot; stops journaling. */
  close(): void {
    this.off();
    this.compact();
    closeSync(this.journalFd);
  }
}

/** `writeSync` until every byte is out: a short write must not leave a torn journal line. */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset);
}
