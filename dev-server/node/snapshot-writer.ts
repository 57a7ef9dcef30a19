/**
 * Writes a snapshot (`data-file-format.ts`) from a view the engine gave at once, in slices: a
 * slice of lines is serialized, written, and awaited before the next, so the event loop keeps
 * serving between slices and a slow disk holds the writer back rather than filling memory. The
 * file is written beside its place, fsynced, and renamed over the old one: a crash leaves the old
 * snapshot or the new one, never part of one.
 */
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { toDelta } from '../engine/commit-delta.js';
import type { PersistedState } from '../engine/persisted-state.js';
import { DATA_FORMAT, DATA_VERSION } from './data-file-format.js';

/** Characters serialized before a slice is written out (and the event loop gets a turn). */
const SLICE_CHARS = 256 * 1024;

/** Writes `state` to `path` atomically; resolves with the bytes written. */
export async function writeSnapshot(path: string, state: PersistedState): Promise<number> {
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  let bytes = 0;
  try {
    let slice: string[] = [];
    let chars = 0;
    const line = async (value: unknown) => {
      const text = `${JSON.stringify(value)}\n`;
      slice.push(text);
      chars += text.length;
      if (chars >= SLICE_CHARS) await flush();
    };
    const flush = async () => {
      const buffer = Buffer.from(slice.join(''));
      slice = [];
      chars = 0;
      await file.write(buffer);
      bytes += buffer.length;
    };
    await line({ kind: 'header', format: DATA_FORMAT, version: DATA_VERSION, postgres: state.postgres });
    for (const env of state.environments) {
      const objects = Object.entries(env.records);
      const { client, environment, epoch, seq, history } = env;
      const records = objects.reduce((n, [, list]) => n + list.length, 0);
      await line({ kind: 'environment', client, environment, epoch, seq, records, history: history.length });
      for (const [object, list] of objects)
        for (const record of list) await line({ kind: 'record', object, record });
      for (let i = history.length - 1; i >= 0; i--) {
        await line({ kind: 'commit', commit: toDelta(history[i] as (typeof history)[number], 'backward') });
      }
    }
    await line({ kind: 'end', environments: state.environments.length });
    await flush();
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await file.close();
  await rename(tmp, path);
  await syncDirectory(dirname(path));
  return bytes;
}

/** Makes a rename durable (Linux); a file system that cannot fsync a directory is left be. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Not every platform opens or syncs directories (Windows); the rename stands regardless.
  } finally {
    await handle?.close();
  }
}
