/**
 * The read side of the PostgreSQL source (dev-server/sources/postgres/table-reader.ts) against a
 * private PostgreSQL 15: rows read from a table equal the same rows streamed by replication; a
 * read stops early or on abort and gives its connection back; rows by primary key; PostgreSQL
 * down is `PostgresUnavailableError`; and a table read taken while writers commit lines up with
 * the replication stream exactly (research/postgres-cdc.md §3b).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { JsonValue } from '../../../protocol/index.js';
import { PostgresConfigSchema, resolvePostgresConfig } from '../../../dev-server/sources/postgres/config.js';
import { parseLsn } from '../../../dev-server/sources/postgres/lsn.js';
import { PostgresUnavailableError } from '../../../dev-server/sources/postgres/postgres-unavailable-error.js';
import { preparePostgres, type PreparedTable } from '../../../dev-server/sources/postgres/setup.js';
import { PostgresStream, type StreamTransaction } from '../../../dev-server/sources/postgres/stream.js';
import {
  TableReader,
  type ReadTableOptions,
  type TableSnapshotInfo,
} from '../../../dev-server/sources/postgres/table-reader.js';
import { mapRow } from '../../../dev-server/sources/postgres/values.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { sleep } from '../../support/raw-client.js';

type Row = Record<string, JsonValue>;

let cluster: PostgresCluster;
let reader: TableReader;
let stream: PostgresStream;
const streamed: StreamTransaction[] = [];
const tables = new Map<string, PreparedTable>();

function table(name: string): PreparedTable {
  const found = tables.get(name);
  if (!found) throw new Error(`no prepared table ${name}`);
  return found;
}

before(async () => {
  cluster = await PostgresCluster.start();
  await cluster.query(`
    CREATE TABLE kinds (id int8 PRIMARY KEY, num numeric, tz timestamptz, jb jsonb, ta text[], by bytea);
    CREATE TABLE pairs (region text, n int4, label text, PRIMARY KEY (region, n));
    CREATE TABLE "MixedCase" ("Key" int4 PRIMARY KEY, "odd ""name""" text, "select" text);
    CREATE TABLE ledger (id int8 PRIMARY KEY, writer int4, n int8);
    INSERT INTO pairs VALUES ('north', 1, 'n1'), ('north', 2, 'n2'), ('south', 1, 's1');
    INSERT INTO "MixedCase" VALUES (7, 'quoted', 'keyword');
    INSERT INTO ledger VALUES (0, 0, 0);`);
  const prepared = await preparePostgres(
    resolvePostgresConfig(
      PostgresConfigSchema.parse({
        url: cluster.url(),
        slot: 'reader_test',
        publication: 'reader_test',
        tables: ['kinds', 'pairs', 'MixedCase', 'ledger'].map((name) => ({
          client: 'acme',
          environment: 'production',
          table: name,
        })),
      }),
    ),
  );
  for (const entry of prepared) tables.set(entry.table, entry);
  stream = new PostgresStream({
    url: cluster.url(),
    slot: 'reader_test',
    publication: 'reader_test',
    resumeAfter: undefined,
    apply: (transaction) => {
      streamed.push(transaction);
    },
  });
  await stream.start();
  reader = new TableReader({ url: cluster.url() });
});

after(async () => {
  await reader?.close();
  await stream?.stop();
  await cluster?.stop();
});

async function until(test: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Every row of a table, in the order read, and what the read saw. */
async function readAll(
  from: TableReader,
  target: PreparedTable,
  options: Omit<ReadTableOptions, 'onRow'> = {},
): Promise<{ rows: Row[]; info: TableSnapshotInfo }> {
  const rows: Row[] = [];
  const info = await from.readTable(target, { ...options, onRow: (row) => void rows.push(row) });
  return { rows, info };
}

/** The streamed transactions that touch `name`. */
function transactionsOf(name: string): StreamTransaction[] {
  return streamed.filter((t) => t.changes.some((c) => 'relation' in c && c.relation.name === name));
}

/** A streamed row mapped as the source maps it, with the reader's decoders. */
async function mapStreamed(change: StreamTransaction['changes'][number]): Promise<Row> {
  assert.ok(change.operation === 'INSERT' || change.operation === 'UPDATE', change.operation);
  await reader.catalog.load(change.relation.columns.map((c) => c.typeOid));
  return mapRow(reader.catalog, change.relation.columns, change.row);
}

describe('TableReader', () => {
  it('maps every row as the replication stream maps it (int8 past 2^53, numeric, timestamptz, jsonb, text[], bytea, NULL)', async () => {
    await cluster.query(`
      INSERT INTO kinds VALUES
        (9007199254740993, 12345678901234567890.123456789, '2024-06-01 17:30:00.654321+05:30',
         '{"k": [1, [2, null]], "f": 2.5}', ARRAY['a', NULL, 'c,d', '"q"'], '\\xdeadbeef'),
        (2, 1.10, 'infinity', 'null', '{}', '\\x'),
        (3, NULL, NULL, NULL, NULL, NULL)`);
    await until(() => transactionsOf('kinds').length === 1, 'the insert streamed');
    const fromStream = await Promise.all((transactionsOf('kinds')[0]?.changes ?? []).map(mapStreamed));

    // Two rows a FETCH, so the three rows take two batches and an empty third is never needed.
    const { rows, info } = await readAll(reader, table('kinds'), { batchRows: 2 });
    assert.deepStrictEqual(rows, fromStream, 'a read row equals the streamed row');
    assert.deepStrictEqual(rows[0], {
      id: '9007199254740993',
      num: '12345678901234567890.123456789',
      tz: '2024-06-01T12:00:00.654321Z',
      jb: { k: [1, [2, null]], f: 2.5 },
      ta: ['a', null, 'c,d', '"q"'],
      by: '3q2+7w==',
    });
    assert.deepStrictEqual(rows[1], { id: 2, num: 1.1, tz: 'infinity', jb: null, ta: [], by: '' });
    assert.deepStrictEqual(rows[2], { id: 3, num: null, tz: null, jb: null, ta: null, by: null });

    const [now] = await cluster.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    const insert = transactionsOf('kinds')[0] as StreamTransaction;
    assert.ok(insert.commitLsn < info.lsn, 'the LSN read is past the insert');
    assert.ok(info.lsn <= parseLsn(now?.lsn ?? '0/0'), 'and not past the present');
    assert.equal(info.visibility.isVisible(insert.xid), true, 'the insert is visible in the snapshot');
  });

  it('stops when onRow returns false, and gives the connection back (one connection, read again)', async () => {
    const single = new TableReader({ url: cluster.url(), maxConnections: 1 });
    try {
      const seen: Row[] = [];
      await single.readTable(table('kinds'), {
        batchRows: 1,
        onRow: (row) => {
          seen.push(row);
          return false;
        },
      });
      assert.equal(seen.length, 1);
      const again = await readAll(single, table('kinds'));
      assert.equal(again.rows.length, 3, 'the only connection came back, its cursor closed');
      assert.equal((await single.readRow(table('pairs'), ['south', '1']))?.label, 's1');
      await single.close();
      await assert.rejects(readAll(single, table('kinds')), /closed/);
      const open = await cluster.query(
        `SELECT pid FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()`,
      );
      assert.deepEqual(open, [], 'no transaction left open');
    } finally {
      await single.close();
    }
  });

  it('stops when its signal aborts, rejecting with the reason, and gives the connection back', async () => {
    const single = new TableReader({ url: cluster.url(), maxConnections: 1 });
    try {
      const controller = new AbortController();
      const reason = new Error('the subscriber left');
      let calls = 0;
      await assert.rejects(
        single.readTable(table('kinds'), {
          batchRows: 1,
          signal: controller.signal,
          onRow: () => {
            calls++;
            controller.abort(reason);
          },
        }),
        (error) => error === reason,
      );
      assert.equal(calls, 1, 'no row after the abort');
      await assert.rejects(
        single.readTable(table('kinds'), { signal: AbortSignal.abort(reason), onRow: () => assert.fail() }),
        (error) => error === reason,
        'an aborted signal reads nothing',
      );
      assert.equal((await readAll(single, table('kinds'))).rows.length, 3);
    } finally {
      await single.close();
    }
  });

  it('reads one row by its primary key, single or composite; a key that cannot be cast is no row', async () => {
    assert.deepStrictEqual(await reader.readRow(table('kinds'), ['9007199254740993']), {
      id: '9007199254740993',
      num: '12345678901234567890.123456789',
      tz: '2024-06-01T12:00:00.654321Z',
      jb: { k: [1, [2, null]], f: 2.5 },
      ta: ['a', null, 'c,d', '"q"'],
      by: '3q2+7w==',
    });
    assert.deepStrictEqual(await reader.readRow(table('pairs'), ['north', '2']), {
      region: 'north',
      n: 2,
      label: 'n2',
    });
    assert.equal(await reader.readRow(table('pairs'), ['south', '2']), undefined, 'no such row');
    assert.equal(await reader.readRow(table('kinds'), ['4']), undefined, 'no such row');
    assert.equal(await reader.readRow(table('kinds'), ['abc']), undefined, 'not an integer (22P02)');
    assert.equal(
      await reader.readRow(table('kinds'), ['99999999999999999999']),
      undefined,
      'past int8 (22003)',
    );
    assert.equal(await reader.readRow(table('pairs'), ['north', '1.5']), undefined);
    assert.equal(await reader.readRow(table('pairs'), ['north\u0000', '1']), undefined, 'a NUL (22021)');
    await assert.rejects(reader.readRow(table('pairs'), ['north']), RangeError);
  });

  it('quotes table and column names (mixed case, quotes, keywords)', async () => {
    const expected = { Key: 7, 'odd "name"': 'quoted', select: 'keyword' };
    assert.deepStrictEqual((await readAll(reader, table('MixedCase'))).rows, [expected]);
    assert.deepStrictEqual(await reader.readRow(table('MixedCase'), ['7']), expected);
  });

  it('lets other errors through as they are (a table dropped since start-up), and reads on', async () => {
    const missing = { ...table('kinds'), table: 'dropped' };
    const isMissing = (error: unknown) =>
      error instanceof pg.DatabaseError &&
      error.code === '42P01' &&
      !(error instanceof PostgresUnavailableError);
    const single = new TableReader({ url: cluster.url(), maxConnections: 1 });
    try {
      await assert.rejects(single.readTable(missing, { onRow: () => undefined }), isMissing);
      await assert.rejects(single.readRow(missing, ['1']), isMissing);
      assert.equal((await readAll(single, table('kinds'))).rows.length, 3);
    } finally {
      await single.close();
    }
  });

  it('agrees with the replication stream while writers commit: snapshot + the transactions it does not see = the table', async (t) => {
    const ledger = table('ledger');
    let writing = true;
    const commits = [0, 0, 0, 0];
    const writers = commits.map(async (_, writer) => {
      const client = new pg.Client({ connectionString: cluster.url() });
      await client.connect();
      try {
        for (let i = 1; writing; i++) {
          await client.query(
            `BEGIN; INSERT INTO ledger VALUES (${writer * 1_000_000 + i}, ${writer}, 0);
             UPDATE ledger SET n = n + 1 WHERE id = 0; COMMIT`,
          );
          commits[writer]!++;
        }
      } finally {
        await client.end();
      }
    });
    const started = Date.now();
    const snapshots: { rows: Map<string, Row>; info: TableSnapshotInfo }[] = [];
    while (snapshots.length < 5) {
      await sleep(300);
      const { rows, info } = await readAll(reader, ledger, { batchRows: 500 });
      snapshots.push({ rows: new Map(rows.map((row) => [String(row.id), row])), info });
    }
    await sleep(Math.max(0, 2000 - (Date.now() - started)));
    writing = false;
    await Promise.all(writers);
    const total = commits.reduce((a, b) => a + b, 0);
    await until(() => transactionsOf('ledger').length >= total, `${total} transactions streamed`);
    const transactions = transactionsOf('ledger');
    assert.equal(transactions.length, total);

    const final = new Map((await readAll(reader, ledger)).rows.map((row) => [String(row.id), row]));
    assert.equal(final.size, total + 1);
    assert.equal(final.get('0')?.n, total, 'the counter counts every transaction');

    for (const [i, { rows, info }] of snapshots.entries()) {
      assert.ok(
        rows.size > 1 && rows.size < final.size,
        `snapshot ${i} was taken amid writes (${rows.size} rows)`,
      );
      const state = new Map(rows);
      let unseenBefore = 0;
      for (const transaction of transactions) {
        const after = transaction.commitLsn >= info.lsn;
        if (!after && info.visibility.isVisible(transaction.xid)) continue;
        if (!after) unseenBefore++;
        for (const change of transaction.changes) {
          const row = await mapStreamed(change);
          const id = String(row.id);
          if (change.operation === 'INSERT') {
            assert.ok(
              !state.has(id),
              `snapshot ${i}: row ${id} in the snapshot and in xid ${transaction.xid}`,
            );
          } else {
            assert.ok(state.has(id), `snapshot ${i}: row ${id} updated by xid ${transaction.xid} is missing`);
          }
          state.set(id, row);
        }
      }
      assert.deepStrictEqual(state, final, `snapshot ${i} (${info.visibility}) + the stream = the table`);
      t.diagnostic(
        `snapshot ${i}: ${rows.size} rows, ${unseenBefore} unseen transactions committed before its LSN`,
      );
    }
    t.diagnostic(`${total} transactions by 4 writers`);
  });

  it('leaves out a transaction already streamed but not yet visible (commit held by synchronous replication), and the xid rule brings it in', async () => {
    const ledger = table('ledger');
    // Commits of sessions with synchronous_commit=on now wait for a standby that never comes; the
    // commit record is written (and streamed) first, but the transaction stays in progress.
    await cluster.query(`ALTER SYSTEM SET synchronous_standby_names = 'phantom'`);
    await cluster.query(`ALTER SYSTEM SET synchronous_commit = 'local'`);
    await cluster.query('SELECT pg_reload_conf()');
    const blocked = new pg.Client({ connectionString: cluster.url(), options: '-c synchronous_commit=on' });
    await blocked.connect();
    try {
      const before = transactionsOf('ledger').length;
      let committed = false;
      const commit = blocked
        .query(
          `BEGIN; INSERT INTO ledger VALUES (9000001, 9, 0); UPDATE ledger SET n = n + 1 WHERE id = 0; COMMIT`,
        )
        .then(() => (committed = true));
      await until(() => transactionsOf('ledger').length === before + 1, 'the held commit streamed');
      const held = transactionsOf('ledger').at(-1) as StreamTransaction;

      const { rows, info } = await readAll(reader, ledger);
      const snapshot = new Map(rows.map((row) => [String(row.id), row]));
      assert.equal(snapshot.has('9000001'), false, 'the row is not in the snapshot');
      assert.ok(held.commitLsn < info.lsn, 'although its commit LSN is before the snapshot LSN');
      assert.equal(info.visibility.isVisible(held.xid), false, 'the snapshot says it is not visible');
      assert.equal(committed, false, 'the commit was still held during the read');

      await cluster.query(`SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'`);
      await commit; // committed locally: the cancel only ends the wait
      const final = new Map((await readAll(reader, ledger)).rows.map((row) => [String(row.id), row]));
      for (const change of held.changes) {
        const row = await mapStreamed(change);
        snapshot.set(String(row.id), row);
      }
      assert.deepStrictEqual(snapshot, final, 'snapshot + the transaction it does not see = the table');
    } finally {
      await blocked.end();
      await cluster.query('ALTER SYSTEM RESET synchronous_standby_names');
      await cluster.query('ALTER SYSTEM RESET synchronous_commit');
      await cluster.query('SELECT pg_reload_conf()');
    }
  });

  it('rejects with PostgresUnavailableError when its connection is killed mid-read, and reads on with a new one', async () => {
    const single = new TableReader({ url: cluster.url(), maxConnections: 1 });
    const locker = new pg.Client({ connectionString: cluster.url() });
    await locker.connect();
    try {
      await locker.query('BEGIN; LOCK TABLE pairs IN ACCESS EXCLUSIVE MODE');
      const read = assert.rejects(
        single.readTable(table('pairs'), { onRow: () => undefined }),
        PostgresUnavailableError,
      );
      const waiting = async () =>
        cluster.query(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DECLARE c %'`,
        );
      const deadline = Date.now() + 5000;
      while ((await waiting()).length === 0) {
        assert.ok(Date.now() < deadline, 'the read waits for the lock');
        await sleep(20);
      }
      await cluster.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DECLARE c %'`,
      );
      await read;
      await locker.query('ROLLBACK');
      assert.equal((await readAll(single, table('pairs'))).rows.length, 3, 'the dead connection was dropped');
    } finally {
      await locker.end();
      await single.close();
    }
  });

  it('rejects with PostgresUnavailableError while PostgreSQL is down (password left out), and reads again once it is back', async () => {
    const withPassword = cluster.url().replace('postgres@', 'postgres:s3cret@');
    const own = new TableReader({ url: withPassword, maxConnections: 1 });
    try {
      assert.equal((await readAll(own, table('kinds'))).rows.length, 3, 'a pooled connection exists');
      await cluster.stopServer('fast');
      const unavailable = (error: unknown) => {
        assert.ok(error instanceof PostgresUnavailableError, String(error));
        assert.equal(error.name, 'PostgresUnavailableError');
        assert.match(
          error.message,
          /^PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres is unavailable: /,
        );
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      };
      await assert.rejects(own.readTable(table('kinds'), { onRow: () => undefined }), unavailable);
      await assert.rejects(own.readRow(table('kinds'), ['2']), unavailable);
      await cluster.startServer();
      assert.equal((await readAll(own, table('kinds'))).rows.length, 3);
      assert.equal((await own.readRow(table('kinds'), ['2']))?.num, 1.1);
    } finally {
      await own.close();
    }
  });
});
