/**
 * `--data` persistence: a snapshot file plus an append-only journal beside it (`<file>.journal`),
 * in the format of `data-file-format.ts`.
 *
 * Every commit is appended to the journal, as a delta, before it is fanned out, so any `seq` a
 * client has seen survives even a SIGKILL. Now and then a snapshot is written: its view of the
 * engine is taken at once (references only), the journal is rotated to `<file>.journal.1` in the
 * same turn, so commits made meanwhile go to a fresh `<file>.journal`; the snapshot is then written
 * in slices (`snapshot-writer.ts`) and renamed into place, and only then is `<file>.journal.1`
 * deleted. A crash at any moment leaves files that load to every acknowledged commit
 * (`data-file-loader.ts`). One snapshot is written at a time; a request meanwhile waits for it.
 */
import { closeSync, existsSync, ftruncateSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { toDelta } from '../engine/commit-delta.js';
import type { Engine } from '../engine/engine.js';
import { dataFileError, journalPaths } from './data-file-format.js';
import { writeSnapshot } from './snapshot-writer.js';

export { DataFileError } from './data-file-format.js';

/** The shortest time between a commit and the snapshot that takes it in. */
const COMPACT_EVERY_MS = 1000;
/** Snapshots take at most about 1 / this of the time: a slow one spaces the next out. */
const SNAPSHOT_TIME_SHARE = 4;

/** Keeps an engine's state in a data file as it changes. */
export class DataFile {
  private journalFd: number;
  private readonly journals: { current: string; older: string };
  /** `<file>.journal.1` holds commits no snapshot holds yet: do not rotate onto it. */
  private olderPending: boolean;
  /** Bytes in the current journal: where a failed append is cut back to. */
  private journalBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private lastSnapshotMs = 0;
  private closing: Promise<void> | undefined;
  private readonly off: () => void;

  /**
   * Starts journaling `engine`'s commits to `path`'s journal (first cutting it to `journalBytes`,
   * its whole lines as loaded) and writes a first snapshot, which holds everything loaded.
   * Throws `DataFileError` when the journal cannot be opened.
   */
  static async open(path: string, engine: Engine, journalBytes: number): Promise<DataFile> {
    const file = new DataFile(path, engine, journalBytes);
    await file.snapshot();
    return file;
  }

  private constructor(
    private readonly path: string,
    private readonly engine: Engine,
    wholeLines: number,
  ) {
    this.journals = journalPaths(path);
    this.olderPending = existsSync(this.journals.older);
    try {
      this.journalFd = openSync(this.journals.current, 'a');
      // A torn line left by a crash: appending after it would glue the next line onto it.
      const size = statSync(this.journals.current).size;
      if (size > wholeLines) ftruncateSync(this.journalFd, wholeLines);
      this.journalBytes = Math.min(size, wholeLines);
    } catch (error) {
      throw dataFileError(path, `cannot open ${this.journals.current}: ${(error as Error).message}`);
    }
    this.off = engine.onCommit((env, commit) => {
      const line = { client: env.client, environment: env.name, commit: toDelta(commit, 'forward') };
      this.append(`${JSON.stringify(line)}\n`);
      this.timer ??= setTimeout(
        () => void this.snapshot(),
        Math.max(COMPACT_EVERY_MS, SNAPSHOT_TIME_SHARE * this.lastSnapshotMs),
      );
    });
  }

  /**
   * Appends a journal line. A write that fails part-way (a full disk) is cut back off before the
   * error goes on to refuse the commit: the next line must not be glued onto a torn one.
   */
  private append(text: string): void {
    const bytes = Buffer.from(text);
    try {
      for (let offset = 0; offset < bytes.length;) offset += writeSync(this.journalFd, bytes, offset);
    } catch (error) {
      try {
        ftruncateSync(this.journalFd, this.journalBytes);
      } catch {
        // The disk refuses even that: the loader drops a torn last line, and refuses one in the middle.
      }
      throw error;
    }
    this.journalBytes += bytes.length;
  }

  /**
   * Writes a snapshot of everything committed so far, after the one under way if any. A failure
   * (disk full, say) is logged and leaves the old snapshot and the journals, which still restore
   * everything; the next commit tries again.
   */
  snapshot(): Promise<void> {
    this.queued ??= (async () => {
      await this.running;
      this.queued = undefined;
      const run = (this.running = this.write());
      await run;
      if (this.running === run) this.running = undefined;
    })();
    return this.queued;
  }

  private async write(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const started = Date.now();
    try {
      const state = this.engine.exportState();
      this.rotate(); // in the same turn as the view: every later commit goes to the new journal
      await writeSnapshot(this.path, state);
      await rm(this.journals.older, { force: true });
      this.olderPending = false;
    } catch (error) {
      console.error(
        `catalyst-dev-server: could not rewrite ${this.path}; its journals keep every commit:`,
        error,
      );
    }
    this.lastSnapshotMs = Date.now() - started;
  }

  /** Moves the journal aside and opens a new one, unless an older one still waits for a snapshot. */
  private rotate(): void {
    if (this.olderPending) return; // the current journal then keeps lines the snapshot holds: loading skips them
    // Renamed while open, so the journal is never closed without another to take its place.
    renameSync(this.journals.current, this.journals.older);
    let fd: number;
    try {
      fd = openSync(this.journals.current, 'a');
    } catch (error) {
      renameSync(this.journals.older, this.journals.current);
      throw error;
    }
    closeSync(this.journalFd);
    this.journalFd = fd;
    this.journalBytes = 0;
    this.olderPending = true;
  }

  /** Writes a final snapshot, then stops journaling. Resolves once the snapshot is on disk. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.snapshot();
      this.off();
      clearTimeout(this.timer);
      closeSync(this.journalFd);
    })();
    return this.closing;
  }
}
