/**
 * A table's rows at one `seq` of its environment (PROTOCOL.md section 10, "Snapshots agree with
 * seq"), by research/postgres-cdc.md §3b: read the rows in a REPEATABLE READ transaction whose
 * first statement takes its snapshot (table-reader.ts), wait until the stream has applied every
 * transaction committed before that moment (`caughtUp`), then — in one turn, at the
 * environment's current `seq` — apply to the rows read every change in history whose transaction
 * the read could not see. What the read saw and what history holds then describe the same moment:
 * the snapshot holds exactly the changes with `seq` up to the answer's.
 *
 * The rows are matched against the where as they are read, and only the first rows in sort order
 * are kept (the limit and a margin); a change applied afterwards can push kept rows out, so the
 * answer is exact only while `limit` rows of the kept ones sort at or before the last row the
 * read kept when it pruned. When not, the read starts again (rarely: it takes a margin's worth of
 * changes to the first rows while the read runs).
 */
import { PROTOCOL_BOUNDS, compileSort, type LiveRow } from '../../../protocol/index.js';
import type { RowCommit } from '../../engine/commit.js';
import type { Environment } from '../../engine/environment.js';
import { ApiError } from '../../engine/api-error.js';
import { queryWindow } from '../../engine/record-query.js';
import type { TableQuery, TableSnapshot } from '../../engine/table-store.js';
import type { PreparedTable } from './setup.js';
import type { TableReader } from './table-reader.js';
import { recordId } from './values.js';
import type { XidSnapshot } from './xid-snapshot.js';

/** Rows kept beyond the limit, so that changes applied after the read rarely leave it short. */
const MARGIN = 256;
/** Reads at most this many times before giving up (the first rows change too fast). */
const MAX_READS = 3;

/** What an aligned read needs. */
export type AlignedRead = {
  reader: TableReader;
  table: PreparedTable;
  env: Environment;
  query: TableQuery;
  /** Resolves once the stream has applied every transaction committed before now. */
  caughtUp: () => Promise<void>;
  signal?: AbortSignal | undefined;
};

/** The table's id of a row: its primary key as a string (section 10). */
export function rowId(table: PreparedTable, row: LiveRow): string {
  return recordId(table.primaryKey.map((column) => (row[column] ?? null) as never));
}

/**
 * Reads the snapshot; `done` is called in the turn whose `env.seq` it reflects, or with the
 * error that stopped it. Nothing is called once `signal` aborts.
 */
export function readAlignedSnapshot(
  read: AlignedRead,
  done: (result: TableSnapshot | { error: unknown }) => void,
): void {
  const attempt = async (left: number): Promise<void> => {
    const outcome = await readOnce(read);
    if (read.signal?.aborted) return;
    if (outcome === 'short' && left > 1) return attempt(left - 1);
    done(
      outcome === 'short'
        ? {
            error: new ApiError(
              'quota_exceeded',
              'the first rows of the table changed faster than a snapshot could be read; subscribe again later',
            ),
          }
        : outcome,
    );
  };
  attempt(MAX_READS).catch((error: unknown) => {
    if (!read.signal?.aborted) done({ error });
  });
}

/** One read: the snapshot, or `short` when changes after the read pushed kept rows out. */
async function readOnce(read: AlignedRead): Promise<TableSnapshot | 'short'> {
  const { reader, table, env, query, signal } = read;
  const limit = Math.min(
    query.limit ?? PROTOCOL_BOUNDS.maxSnapshotRecords,
    PROTOCOL_BOUNDS.maxSnapshotRecords,
  );
  const keep = limit + 1 + MARGIN; // one past the limit tells `truncated`
  const compare = compileSort(query.sort);
  const rows = new Map<string, LiveRow>();
  // Records of an object are matched as records (`id` the key as a string), as their events are.
  const shape = query.asRecords
    ? (row: LiveRow, id: string): LiveRow => ({ ...row, id })
    : (row: LiveRow) => row;
  const matches = (row: LiveRow, id: string) =>
    (query.recordId === undefined || id === query.recordId) && query.meter.match(query.where, row, id);
  /** The last row kept when the read pruned (undefined: nothing was pruned). */
  let boundary: LiveRow | undefined;
  const prune = () => {
    const sorted = [...rows.entries()].sort(([, a], [, b]) => compare(a, b));
    rows.clear();
    for (const [id, row] of sorted.slice(0, keep)) rows.set(id, row);
    boundary = sorted[keep - 1]?.[1];
  };
  const info = await reader.readTable(table, {
    signal,
    onRow: (read) => {
      const id = rowId(table, read);
      const row = shape(read, id);
      if (!matches(row, id)) return;
      rows.set(id, row);
      if (rows.size >= 2 * keep) prune();
    },
  });
  if (rows.size > keep) prune();
  await read.caughtUp();
  signal?.throwIfAborted();

  // From here to `done`, one turn: env.seq is the answer's seq.
  const seq = env.seq;
  for (const commit of invisibleChanges(env, table, info.visibility)) {
    if (commit.operation === 'TRUNCATE') {
      rows.clear();
      boundary = undefined; // every row left comes from a change applied here
      continue;
    }
    if (commit.operation === 'UPDATE' && commit.oldRecord) rows.delete(rowId(table, commit.oldRecord));
    const id = commit.id ?? '';
    const row = commit.operation === 'DELETE' || !commit.record ? undefined : shape(commit.record, id);
    if (row && matches(row, id)) rows.set(id, row);
    else rows.delete(id);
  }
  if (boundary !== undefined) {
    const last = boundary;
    let certain = 0;
    for (const row of rows.values()) if (compare(row, last) <= 0) certain++;
    if (certain < Math.min(limit + 1, rows.size)) return 'short';
  }
  const { records, truncated } = queryWindow([...rows.values()], {
    sort: query.sort,
    limit,
    maxChars: query.maxChars,
  });
  return { rows: records, truncated, seq };
}

/**
 * The row changes of `table` in the environment's history whose transactions the read's
 * snapshot could not see, oldest first. Visibility is decided by xid, never by LSN (§3b).
 */
function invisibleChanges(env: Environment, table: PreparedTable, visibility: XidSnapshot): RowCommit[] {
  const found: RowCommit[] = [];
  const history = env.history;
  for (let seq = env.seq; seq > 0; seq--) {
    const commit = history.at(seq);
    if (commit === undefined) break; // older than history holds
    if (commit.kind !== 'row' || commit.table !== table.table || commit.schema !== table.schema) continue;
    if (!visibility.isVisible(Number(commit.xid))) found.push(commit);
  }
  return found.reverse();
}
