/**
 * Snapshots of PostgreSQL tables and objects kept in tables (issue 14, items 2-4; PROTOCOL.md
 * section 10): the real dev server on a private PostgreSQL 15. A snapshot row equals an event row
 * of the same data; `subscribed.seq` and its snapshot agree while writes race; `records:<object>`
 * and the REST API read and write the table, and every change — through REST or psql — is a record
 * event and a row event.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { LiveEvent, LiveRecord, RecordEvent, RowEvent } from '../../../protocol/index.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { RawClient, rest } from '../../support/raw-client.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const SECRET = 'sk_tables_acme';
const PUBLIC = 'pk_tables_acme';

let cluster: PostgresCluster;
let server: TestServer;
const clients: RawClient[] = [];

before(async () => {
  cluster = await PostgresCluster.start();
  await cluster.query(`
    CREATE TABLE orders (
      id bigserial PRIMARY KEY,
      status text NOT NULL DEFAULT 'pending',
      total numeric NOT NULL,
      details jsonb,
      "createdAt" timestamptz,
      "updatedAt" timestamptz
    );
    CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL, label text);
    INSERT INTO orders (status, total, details) VALUES ('pending', 10, '{"gift":false}'), ('paid', 250, NULL), ('pending', 99, '{"note":"ring"}');
  `);
  server = await startTestServer({
    config: {
      keys: [
        { key: SECRET, client: 'acme', environment: 'production', role: 'secret' },
        { key: PUBLIC, client: 'acme', environment: 'production', role: 'publishable' },
      ],
      objects: ['orders', 'notes'],
      postgres: {
        url: cluster.url(),
        tables: [
          { client: 'acme', environment: 'production', table: 'orders', object: 'orders' },
          { client: 'acme', environment: 'production', table: 'counters' },
        ],
      },
    },
  });
});

after(async () => {
  for (const client of clients) client.close();
  await server?.close();
  await cluster?.stop();
});

async function connect(key = SECRET): Promise<RawClient> {
  const client = await RawClient.connect(server, key);
  clients.push(client);
  return client;
}

const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  rest(server, method, `/api/objects/orders/records${path}`, { key: SECRET, body, headers });

function rowsOf(events: LiveEvent[]): RowEvent[] {
  return events.filter((e): e is RowEvent => 'table' in e);
}
function recordsOf(events: LiveEvent[]): RecordEvent[] {
  return events.filter((e): e is RecordEvent => 'object' in e);
}

describe('snapshots of postgres tables', () => {
  it('answers postgres:<table> with a snapshot (where, sort, limit) whose rows equal event rows', async () => {
    const client = await connect();
    const answer = await client.subscribe({
      id: 's',
      channel: 'postgres:orders',
      filter: { where: { status: 'pending' } },
      snapshot: { sort: ['-total'], limit: 5 },
    });
    assert.deepEqual(
      answer.snapshot?.map((row) => [row.id, row.total, row.details]),
      [
        [3, 99, { note: 'ring' }],
        [1, 10, { gift: false }],
      ],
    );
    const limited = await client.subscribe({
      id: 'l',
      channel: 'postgres:orders',
      snapshot: { limit: 1, sort: ['id'] },
    });
    assert.deepEqual([limited.snapshot?.length, limited.truncated], [1, true]);
    // The same data, streamed: equal to what a snapshot of it gives.
    await cluster.psql(
      `INSERT INTO orders (id, status, total, details, "createdAt") VALUES (500, 'pending', 12345678901234567890.5, '{"a":[1,"x"]}', '2024-06-01 17:30:00.5+05:30')`,
    );
    const [event] = rowsOf(await client.waitForEvents(1, 's', 5000));
    const again = await client.subscribe({
      id: 's2',
      channel: 'postgres:orders',
      filter: { recordId: '500' },
      snapshot: true,
    });
    assert.deepEqual(again.snapshot, [event?.record]);
    assert.equal(again.snapshot?.[0]?.total, '12345678901234567890.5');
    assert.equal(again.snapshot?.[0]?.createdAt, '2024-06-01T12:00:00.500000Z');
    await cluster.psql(`DELETE FROM orders WHERE id = 500`);
  });

  it('keeps subscribed.seq and the snapshot in agreement while writes race', async () => {
    await cluster.psql(`INSERT INTO counters VALUES (1, 0, 'a'), (2, 0, 'b')`);
    const pool = new pg.Pool({ connectionString: cluster.url(), max: 4 });
    let writing = true;
    const writers = [0, 1, 2].map(async (w) => {
      for (let i = 0; writing; i++) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(`INSERT INTO counters VALUES ($1, $2, 'w')`, [1000 + w * 100_000 + i, i]);
          await client.query(`UPDATE counters SET n = n + 1 WHERE id = $1`, [1 + (i % 2)]);
          if (i % 7 === 3)
            await client.query(`DELETE FROM counters WHERE id = $1`, [1000 + w * 100_000 + i - 3]);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      }
    });
    const client = await connect();
    const views: { id: string; rows: Map<string, Record<string, unknown>> }[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const id = `race${i}`;
      const answer = await client.subscribe({ id, channel: 'postgres:counters', snapshot: true });
      const rows = new Map<string, Record<string, unknown>>();
      for (const row of answer.snapshot ?? []) rows.set(String(row.id), row);
      views.push({ id, rows });
    }
    writing = false;
    await Promise.all(writers);
    await pool.end();
    const final = await cluster.query<{ id: number; n: string }>(
      `SELECT id, n::text FROM counters ORDER BY id`,
    );
    // Every event up to the last commit has arrived once the last view has seen the final counter.
    const deadline = Date.now() + 10_000;
    const expected = new Map(final.map((r) => [String(r.id), Number(r.n)]));
    for (const view of views) {
      for (;;) {
        const rows = new Map(view.rows);
        for (const event of rowsOf(client.events(view.id))) {
          if (event.change === 'removed') rows.delete(event.id as string);
          else if (event.record) rows.set(event.id as string, event.record);
        }
        const got = new Map([...rows].map(([id, row]) => [id, Number(row.n)]));
        if (JSON.stringify([...got].sort()) === JSON.stringify([...expected].sort())) break;
        assert.ok(Date.now() < deadline, `${view.id}: snapshot + events never equalled the table`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
});

describe('an object kept in a table', () => {
  it('reads the table through records:<object> and the REST API', async () => {
    const list = await api('GET', '?where={"status":"pending"}&sort=-total&fields=status,total');
    assert.equal(list.status, 200);
    assert.deepEqual((list.body as { records: LiveRecord[] }).records, [
      { id: '3', status: 'pending', total: 99 },
      { id: '1', status: 'pending', total: 10 },
    ]);
    const one = await api('GET', '/2');
    assert.deepEqual(
      [one.status, (one.body as LiveRecord).id, (one.body as LiveRecord).total],
      [200, '2', 250],
    );
    assert.equal((await api('GET', '/999')).status, 404);
    assert.equal((await api('GET', '/abc')).status, 404);
    // Matched as records, as their events are: the id is the key's text.
    const byId = await api('GET', '?where={"id":"2"}');
    assert.deepEqual(
      (byId.body as { records: LiveRecord[] }).records.map((r) => r.id),
      ['2'],
    );
    const client = await connect(PUBLIC);
    const two = await client.subscribe({
      id: 'two',
      channel: 'records:orders',
      filter: { where: { id: '2' } },
      snapshot: true,
    });
    assert.deepEqual(
      two.snapshot?.map((r) => r.id),
      ['2'],
    );
    const answer = await client.subscribe({ id: 'o', channel: 'records:orders', snapshot: { sort: ['id'] } });
    assert.deepEqual(
      answer.snapshot?.map((r) => [r.id, r.status]),
      [
        ['1', 'pending'],
        ['2', 'paid'],
        ['3', 'pending'],
      ],
    );
  });

  it('writes the table through REST; every change is a record event and a row event', async () => {
    const client = await connect();
    await client.subscribe({
      id: 'rec',
      channel: 'records:orders',
      filter: { where: { status: 'pending' } },
    });
    await client.subscribe({ id: 'row', channel: 'postgres:orders' });
    const created = await api(
      'POST',
      '',
      { status: 'pending', total: 42, details: { gift: true, wrap: 'red' } },
      {
        'x-correlation-id': 'req-1',
      },
    );
    assert.equal(created.status, 201);
    const record = created.body as LiveRecord;
    assert.match(record.id, /^\d+$/);
    assert.ok(
      typeof record.createdAt === 'string' && typeof record.updatedAt === 'string',
      'stamped where the table has the columns',
    );
    const patched = await api('PATCH', `/${record.id}`, {
      status: 'paid',
      details: { wrap: null, note: 'hi' },
    });
    assert.equal(patched.status, 200);
    assert.deepEqual((patched.body as LiveRecord).details, { gift: true, note: 'hi' });
    assert.equal((await api('DELETE', `/${record.id}`)).status, 204);

    // The filter is pending orders: the create adds, the patch to paid removes, the delete is not theirs.
    const recs = recordsOf(await client.waitForEvents(2, 'rec', 5000));
    assert.deepEqual(
      recs.map((e) => [e.operation, e.change, e.id, e.channel]),
      [
        ['create', 'added', record.id, 'records:orders'],
        ['update', 'removed', record.id, 'records:orders'],
      ],
    );
    assert.equal(recs[0]?.correlationId, 'req-1');
    assert.deepEqual(recs[0]?.record.details, { gift: true, wrap: 'red' });
    assert.ok(recs[1]?.changedFields?.includes('status'));
    const rows = rowsOf(await client.waitForEvents(3, 'row', 5000));
    assert.deepEqual(
      rows.map((e) => e.operation),
      ['INSERT', 'UPDATE', 'DELETE'],
    );
    assert.equal(recordsOf(client.events('rec')).length, 2, 'the delete of a paid order is not delivered');
    // One change, one seq: the record event and the row event of the insert are the same commit.
    assert.equal(rows[0]?.seq, recs[0]?.seq);
    assert.equal(rows[0]?.correlationId, 'req-1');
  });

  it('refuses what the table cannot take, naming the column, and writes nothing', async () => {
    const before = await cluster.query<{ n: string }>(`SELECT count(*)::text AS n FROM orders`);
    const unknown = await api('POST', '', { total: 1, colour: 'red' });
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(unknown.body), /colour/);
    const wrongType = await api('POST', '', { total: 'lots' });
    assert.equal(wrongType.status, 400);
    assert.match(JSON.stringify(wrongType.body), /total/);
    const duplicate = await api('POST', '', { id: '1', total: 5 });
    assert.equal(duplicate.status, 409);
    assert.equal((await api('PATCH', '/999', { total: 3 })).status, 404);
    const after = await cluster.query<{ n: string }>(`SELECT count(*)::text AS n FROM orders`);
    assert.deepEqual(after, before);
    const forbidden = await rest(server, 'POST', '/api/objects/orders/records', {
      key: PUBLIC,
      body: { total: 1 },
    });
    assert.equal(forbidden.status, 403);
  });

  it('turns psql changes into record events; a TRUNCATE answers records subscriptions afresh', async () => {
    const client = await connect();
    const first = await client.subscribe({ id: 'all', channel: 'records:orders', snapshot: true });
    assert.ok((first.snapshot?.length ?? 0) > 0);
    await client.subscribe({ id: 'rows', channel: 'postgres:orders' });
    await cluster.psql(`UPDATE orders SET total = 11 WHERE id = 1`);
    const [update] = recordsOf(await client.waitForEvents(1, 'all', 5000));
    assert.deepEqual(
      [
        update?.operation,
        update?.change,
        update?.id,
        update?.record.total,
        update?.oldRecord?.total,
        update?.changedFields,
      ],
      ['update', 'modified', '1', 11, 10, ['total']],
    );
    // A client that goes away now and resumes after the TRUNCATE cannot be told what is left.
    const away = await connect();
    const seen = await away.subscribe({ id: 'later', channel: 'records:orders', snapshot: true });
    away.close();
    await cluster.psql(`BEGIN; TRUNCATE orders; INSERT INTO orders (id, total) VALUES (900, 1); COMMIT;`);
    // The live subscription is answered again, with the table as it is now.
    const again = await client.next('subscribed', (m) => m.id === 'all', 5000);
    assert.deepEqual(
      again.snapshot?.map((r) => r.id),
      ['900'],
    );
    assert.ok(again.seq > first.seq);
    const rows = rowsOf(await client.waitForEvents(3, 'rows', 5000));
    assert.deepEqual(
      rows.map((e) => [e.operation, e.change]),
      [
        ['UPDATE', 'modified'],
        ['TRUNCATE', 'reset'],
        ['INSERT', 'added'],
      ],
    );
    // After the new answer only what follows it: no create of 900 twice.
    await cluster.psql(`UPDATE orders SET total = 2 WHERE id = 900`);
    await client.waitForEvents(2, 'all', 5000);
    assert.deepEqual(
      recordsOf(client.events('all')).map((e) => [e.operation, e.id]),
      [
        ['update', '1'],
        ['update', '900'],
      ],
    );
    const back = await connect();
    const resumed = await back.subscribe({
      id: 'later',
      channel: 'records:orders',
      snapshot: true,
      since: seen.seq,
      epoch: (back.messages[0] as { epoch: string }).epoch,
    });
    assert.equal(resumed.resumed, false);
    assert.deepEqual(
      resumed.snapshot?.map((r) => [r.id, r.total]),
      [['900', 2]],
    );
  });
});
