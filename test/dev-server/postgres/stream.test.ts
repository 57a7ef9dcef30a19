/**
 * The replication stream of the PostgreSQL source (issue 14, items 4 and 5;
 * dev-server/sources/postgres/stream.ts) against a private PostgreSQL 15: whole transactions in
 * commit order; exactly once when the reader stops at any transaction and starts again from what
 * it made durable (the off-by-one of research/postgres-cdc.md §2 included); a PostgreSQL restart
 * while writes go on; keepalives answered so an idle stream lives past `wal_sender_timeout`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresConfigSchema, resolvePostgresConfig } from '../../../dev-server/sources/postgres/config.js';
import { parseLsn } from '../../../dev-server/sources/postgres/lsn.js';
import { preparePostgres } from '../../../dev-server/sources/postgres/setup.js';
import {
  PostgresStream,
  type StreamStatus,
  type StreamTransaction,
} from '../../../dev-server/sources/postgres/stream.js';
import { sleep } from '../../support/raw-client.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';

let cluster: PostgresCluster;
before(async () => {
  cluster = await PostgresCluster.start({ wal_sender_timeout: '2s' });
  await cluster.query(`CREATE TABLE items (id int PRIMARY KEY, label text, n int)`);
});
after(() => cluster?.stop());

/** Prepares a slot and publication of its own for one test. */
async function prepare(slot: string): Promise<void> {
  await preparePostgres(
    resolvePostgresConfig(
      PostgresConfigSchema.parse({
        url: cluster.url(),
        slot,
        publication: slot,
        tables: [{ client: 'acme', environment: 'production', table: 'items' }],
      }),
    ),
  );
}

/** A stream that records what it applies; `stopAfter` stops applying (and the stream) after n. */
class Reader {
  readonly applied: StreamTransaction[] = [];
  readonly statuses: StreamStatus[] = [];
  readonly stream: PostgresStream;

  constructor(slot: string, resumeAfter: bigint | undefined) {
    this.stream = new PostgresStream({
      url: cluster.url(),
      slot,
      publication: slot,
      resumeAfter,
      apply: (transaction) => {
        this.applied.push(transaction);
      },
      onStatus: (status) => this.statuses.push(status),
    });
  }

  async until(test: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; applied ${this.applied.length}`);
      await sleep(20);
    }
  }

  /** The `n` column of every insert applied, in order. */
  numbers(): number[] {
    return this.applied.flatMap((t) =>
      t.changes.flatMap((c) => (c.operation === 'INSERT' ? [Number(c.row.n)] : [])),
    );
  }
}

describe('the replication stream', () => {
  it('hands over whole transactions in commit order, with xid, LSNs, commit time and TRUNCATE', async () => {
    await prepare('order_test');
    const reader = new Reader('order_test', undefined);
    await reader.stream.start();
    await reader.until(() => reader.stream.status === 'streaming', 'streaming');
    await cluster.psql(
      `BEGIN; INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2); UPDATE items SET label = 'B' WHERE id = 2; COMMIT;`,
    );
    await cluster.psql(`DELETE FROM items WHERE id = 1`);
    await cluster.psql(`TRUNCATE items`);
    await reader.until(() => reader.applied.length === 3, 'three transactions');
    await reader.stream.stop();

    const [first, second, third] = reader.applied as [
      StreamTransaction,
      StreamTransaction,
      StreamTransaction,
    ];
    assert.deepEqual(
      first.changes.map((c) => [c.operation, 'row' in c ? { ...c.row } : null]),
      [
        ['INSERT', { id: '1', label: 'a', n: '1' }],
        ['INSERT', { id: '2', label: 'b', n: '2' }],
        ['UPDATE', { id: '2', label: 'B', n: '2' }],
      ],
      'one transaction, its changes in order, as wire text',
    );
    const update = first.changes[2];
    assert.deepEqual(update?.operation === 'UPDATE' ? { ...update.old } : null, {
      id: '2',
      label: 'b',
      n: '2',
    });
    const deleted = second.changes[0];
    assert.equal(second.changes.length, 1);
    assert.deepEqual(deleted?.operation === 'DELETE' ? [deleted.relation.name, { ...deleted.old }] : null, [
      'items',
      { id: '1', label: 'a', n: '1' },
    ]);
    assert.equal(third.changes[0]?.operation, 'TRUNCATE');
    assert.ok(first.xid < second.xid && second.xid < third.xid);
    assert.ok(first.commitEndLsn < second.commitLsn && second.commitEndLsn < third.commitLsn);
    assert.ok(Math.abs(Date.parse(first.timestamp) - Date.now()) < 60_000, first.timestamp);
    assert.deepEqual(reader.statuses, ['streaming', 'stopped']);
  });

  it('delivers every transaction exactly once when the reader stops anywhere and resumes from what it made durable', async () => {
    await prepare('once_test');
    await cluster.query('TRUNCATE items');
    let durable: bigint | undefined;
    const seen: number[] = [];
    let next = 0;
    const writes = (async () => {
      // Back-to-back single-row commits: one commit record starts where the one before ends.
      for (; next < 300; next++) await cluster.query(`INSERT INTO items VALUES ($1, 'x', $1)`, [next]);
    })();
    for (let round = 0; round < 6; round++) {
      const reader = new Reader('once_test', durable);
      await reader.stream.start();
      await reader.until(
        () => reader.applied.length >= 20 || (next >= 300 && reader.applied.length > 0),
        'some transactions',
      );
      await reader.stream.stop();
      seen.push(...reader.numbers());
      durable = reader.stream.durablePosition ?? durable;
    }
    await writes;
    const last = new Reader('once_test', durable);
    await last.stream.start();
    await last.until(() => seen.length + last.numbers().length >= 300, 'the rest');
    await sleep(300);
    await last.stream.stop();
    seen.push(...last.numbers());
    assert.deepEqual(
      seen,
      Array.from({ length: 300 }, (_, i) => i),
      'each insert once, in commit order',
    );
  });

  it('carries on through a PostgreSQL restart while writes go on: reconnecting, then streaming, nothing lost or twice', async () => {
    await prepare('restart_test');
    await cluster.query('TRUNCATE items');
    const reader = new Reader('restart_test', undefined);
    await reader.stream.start();
    await reader.until(() => reader.stream.status === 'streaming', 'streaming');
    for (let i = 0; i < 50; i++) await cluster.query(`INSERT INTO items VALUES ($1, 'r', $1)`, [i]);
    await cluster.restart('fast');
    for (let i = 50; i < 100; i++) await cluster.query(`INSERT INTO items VALUES ($1, 'r', $1)`, [i]);
    await reader.until(() => reader.numbers().length >= 100, 'every insert', 30_000);
    await sleep(300);
    await reader.stream.stop();
    assert.deepEqual(
      reader.numbers(),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.ok(reader.statuses.includes('reconnecting'), `statuses ${reader.statuses.join(', ')}`);
    assert.equal(reader.statuses.at(-2), 'streaming');
  });

  it('answers keepalives: an idle stream outlives wal_sender_timeout (2 s here), and confirms the idle position', async () => {
    await prepare('idle_test');
    const reader = new Reader('idle_test', undefined);
    await reader.stream.start();
    await reader.until(() => reader.stream.status === 'streaming', 'streaming');
    await cluster.query(`INSERT INTO items VALUES (1000, 'idle', 1000)`);
    await reader.until(() => reader.applied.length === 1, 'the insert');
    await sleep(5000);
    assert.deepEqual(reader.statuses, ['streaming'], 'never reconnected');
    const [slot] = await cluster.query<{ active: boolean; confirmed: string; current: string }>(
      `SELECT active, confirmed_flush_lsn::text AS confirmed, pg_current_wal_lsn()::text AS current
         FROM pg_replication_slots WHERE slot_name = 'idle_test'`,
    );
    assert.equal(slot?.active, true);
    assert.ok(
      parseLsn(slot?.confirmed ?? '0/0') >= (reader.applied[0]?.commitEndLsn ?? 1n),
      `confirmed ${slot?.confirmed}, past the applied transaction`,
    );
    await reader.stream.stop();
  });
});
