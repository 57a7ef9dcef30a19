/**
 * `postgres:<table>` and `postgres:*` channels end to end (issue 14, item 2; PROTOCOL.md section
 * 10): the real dev server on a private PostgreSQL 15, writes made with `psql`, events read over
 * real WebSockets. Row events and their shape, transactions as consecutive seqs in one batch,
 * TRUNCATE, every filter, projection, isolation between environments, the publishable key's
 * `tables` scope, and a PostgreSQL restart that the clients live through.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HealthResponseSchema, type LiveEvent, type RowEvent } from '../../../protocol/index.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { RawClient, rest } from '../../support/raw-client.js';
import { connectSse } from '../../support/sse-client.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const KEY = {
  acme: 'sk_pg_acme_prod',
  acmePublic: 'pk_pg_acme_prod',
  acmeProductsOnly: 'pk_pg_acme_products',
  globex: 'sk_pg_globex_prod',
} as const;

let cluster: PostgresCluster;
let server: TestServer;
const clients: RawClient[] = [];

before(async () => {
  cluster = await PostgresCluster.start();
  await cluster.query(`
    CREATE TABLE products (id int PRIMARY KEY, title text NOT NULL, price numeric, tags text[], meta jsonb);
    CREATE TABLE stock (sku text, site int, qty int, PRIMARY KEY (sku, site));
    CREATE TABLE gizmos (id bigint PRIMARY KEY, name text);
    INSERT INTO products VALUES (1, 'Desk', 120, '{wood}', '{"colour":"oak"}');
  `);
  server = await startTestServer({
    config: {
      keys: [
        { key: KEY.acme, client: 'acme', environment: 'production', role: 'secret' },
        { key: KEY.acmePublic, client: 'acme', environment: 'production', role: 'publishable' },
        {
          key: KEY.acmeProductsOnly,
          client: 'acme',
          environment: 'production',
          role: 'publishable',
          tables: ['products'],
        },
        { key: KEY.globex, client: 'globex', environment: 'production', role: 'secret' },
      ],
      objects: ['notes'],
      postgres: {
        url: cluster.url(),
        tables: [
          { client: 'acme', environment: 'production', table: 'products' },
          { client: 'acme', environment: 'production', table: 'stock' },
          { client: 'globex', environment: 'production', table: 'gizmos' },
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

async function connect(key: string): Promise<RawClient> {
  const client = await RawClient.connect(server, key);
  clients.push(client);
  return client;
}

/** Row events of one subscription, as received so far. */
function rows(client: RawClient, sub: string): RowEvent[] {
  return client.events(sub).filter((e): e is RowEvent => 'table' in e);
}

/** Waits for `count` events of a subscription and returns them as row events. */
async function waitRows(client: RawClient, sub: string, count: number): Promise<RowEvent[]> {
  await client.waitForEvents(count, sub, 5000);
  return rows(client, sub);
}

/** The batches (by index of arrival) the events of a subscription came in. */
function batchesOf(client: RawClient, sub: string): number[][] {
  const out: number[][] = [];
  for (const m of client.messages) {
    if (m.type !== 'batch') continue;
    const seqs = m.events.filter((e: LiveEvent) => e.sub === sub).map((e) => e.seq);
    if (seqs.length) out.push(seqs);
  }
  return out;
}

describe('postgres channels', () => {
  it('streams INSERT, UPDATE and DELETE made with psql as row events of section 10', async () => {
    const client = await connect(KEY.acme);
    const answer = await client.subscribe({ id: 'p', channel: 'postgres:products' });
    assert.equal(answer.seq, 0);
    // Three psql runs: one run of several statements is one transaction.
    await cluster.psql(
      `INSERT INTO products VALUES (2, 'Lamp', 19.90, '{metal,"warm light"}', '{"w":[1,2]}')`,
    );
    await cluster.psql(`UPDATE products SET price = 24.5 WHERE id = 2`);
    await cluster.psql(`DELETE FROM products WHERE id = 2`);
    const [insert, update, remove] = await waitRows(client, 'p', 3);
    assert.ok(insert && update && remove);
    assert.deepEqual(
      [insert.seq, insert.operation, insert.change, insert.id, insert.channel, insert.table, insert.schema],
      [1, 'INSERT', 'added', '2', 'postgres:products', 'products', 'public'],
    );
    assert.deepEqual(insert.record, {
      id: 2,
      title: 'Lamp',
      price: 19.9,
      tags: ['metal', 'warm light'],
      meta: { w: [1, 2] },
    });
    assert.equal(insert.oldRecord, undefined);
    assert.deepEqual(
      [update.operation, update.change, update.changedColumns],
      ['UPDATE', 'modified', ['price']],
    );
    assert.equal(update.oldRecord?.price, 19.9);
    assert.equal(update.record?.price, 24.5);
    assert.deepEqual([remove.operation, remove.change, remove.record?.title], ['DELETE', 'removed', 'Lamp']);
    assert.equal(remove.changedColumns, undefined);
    // Each transaction has its own xid, lsns rise with seq, and the commit time is now.
    assert.equal(new Set([insert.xid, update.xid, remove.xid]).size, 3);
    assert.match(insert.lsn, /^[0-9A-F]+\/[0-9A-F]+$/);
    assert.ok(BigInt(`0x${update.lsn.replace('/', '')}`) > BigInt(`0x${insert.lsn.replace('/', '')}`));
    assert.ok(Math.abs(Date.parse(insert.timestamp) - Date.now()) < 10_000);
    assert.match(insert.timestamp, /Z$/);
  });

  it('gives the changes of one transaction consecutive seqs, one xid and one batch', async () => {
    const client = await connect(KEY.acme);
    const { seq } = await client.subscribe({ id: 't', channel: 'postgres:*' });
    await cluster.psql(`
      BEGIN;
      INSERT INTO products VALUES (10, 'Chair', 45, NULL, NULL);
      INSERT INTO stock VALUES ('chair', 1, 4), ('chair', 2, 0);
      UPDATE products SET title = 'Armchair' WHERE id = 10;
      COMMIT;
    `);
    const events = await waitRows(client, 't', 4);
    assert.deepEqual(
      events.map((e) => e.seq),
      [seq + 1, seq + 2, seq + 3, seq + 4],
    );
    assert.equal(new Set(events.map((e) => e.xid)).size, 1);
    assert.equal(new Set(events.map((e) => e.lsn)).size, 1);
    assert.deepEqual(
      events.map((e) => [e.table, e.operation, e.id]),
      [
        ['products', 'INSERT', '10'],
        ['stock', 'INSERT', '["chair",1]'],
        ['stock', 'INSERT', '["chair",2]'],
        ['products', 'UPDATE', '10'],
      ],
    );
    assert.deepEqual(batchesOf(client, 't'), [events.map((e) => e.seq)]);
  });

  it('reports a TRUNCATE as one reset event per subscription, with no row', async () => {
    const client = await connect(KEY.acme);
    await client.subscribe({ id: 'all', channel: 'postgres:stock' });
    await client.subscribe({
      id: 'some',
      channel: 'postgres:stock',
      filter: { where: { qty: { $gt: 100 } } },
    });
    await client.subscribe({ id: 'none', channel: 'postgres:stock', filter: { operations: ['INSERT'] } });
    await client.subscribe({ id: 'only', channel: 'postgres:stock', filter: { operations: ['truncate'] } });
    await cluster.psql(`INSERT INTO stock VALUES ('lamp', 1, 3); TRUNCATE stock;`);
    const [first, reset] = await waitRows(client, 'all', 2);
    assert.equal(first?.operation, 'INSERT');
    assert.deepEqual(
      [reset?.operation, reset?.change, reset?.table, reset?.record, reset?.id],
      ['TRUNCATE', 'reset', 'stock', undefined, undefined],
    );
    const [some] = await waitRows(client, 'some', 1);
    assert.deepEqual([some?.operation, some?.seq], ['TRUNCATE', reset?.seq]);
    const [only] = await waitRows(client, 'only', 1);
    assert.equal(only?.operation, 'TRUNCATE');
    assert.deepEqual(
      rows(client, 'none').map((e) => e.operation),
      ['INSERT'],
    );
  });

  it('classifies against where (and its alias predicates): a row leaving the filter is removed', async () => {
    const client = await connect(KEY.acme);
    await client.subscribe({
      id: 'cheap',
      channel: 'postgres:products',
      filter: { where: { price: { $lt: 50 } } },
    });
    await client.subscribe({
      id: 'alias',
      channel: 'postgres:products',
      filter: { predicates: [['price', '<', 50]] },
    });
    await cluster.psql(`
      INSERT INTO products VALUES (20, 'Pen', 2, NULL, NULL);
      UPDATE products SET price = 3 WHERE id = 20;
      UPDATE products SET price = 300 WHERE id = 20;
      UPDATE products SET price = 400 WHERE id = 20;
      UPDATE products SET price = 4 WHERE id = 20;
    `);
    for (const sub of ['cheap', 'alias']) {
      const events = await waitRows(client, sub, 4);
      assert.deepEqual(
        events.map((e) => e.change),
        ['added', 'modified', 'removed', 'added'],
        sub,
      );
    }
  });

  it('narrows with recordId, entity, operations and fields', async () => {
    const client = await connect(KEY.acme);
    await client.subscribe({ id: 'one', channel: 'postgres:products', filter: { recordId: '30' } });
    await client.subscribe({ id: 'entity', channel: 'postgres:*', filter: { entity: 'stock' } });
    await client.subscribe({
      id: 'deletes',
      channel: 'postgres:products',
      filter: { operations: ['delete'] },
    });
    await client.subscribe({ id: 'titles', channel: 'postgres:products', fields: ['id', 'title'] });
    await cluster.psql(`
      INSERT INTO products VALUES (30, 'Rug', 80, NULL, NULL), (31, 'Vase', 15, NULL, NULL);
      UPDATE products SET price = 70 WHERE id = 30;
      INSERT INTO stock VALUES ('rug', 3, 1);
      UPDATE products SET title = 'Big rug' WHERE id = 30;
      DELETE FROM products WHERE id = 31;
    `);
    const one = await waitRows(client, 'one', 3);
    assert.deepEqual(
      one.map((e) => [e.operation, e.id]),
      [
        ['INSERT', '30'],
        ['UPDATE', '30'],
        ['UPDATE', '30'],
      ],
    );
    const [stock] = await waitRows(client, 'entity', 1);
    assert.deepEqual([stock?.table, stock?.id], ['stock', '["rug",3]']);
    const [deleted] = await waitRows(client, 'deletes', 1);
    assert.deepEqual([deleted?.operation, deleted?.id], ['DELETE', '31']);
    // The price-only update changes no projected column: not delivered to `titles`.
    const titles = await waitRows(client, 'titles', 4);
    assert.deepEqual(
      titles.map((e) => [e.operation, e.id, e.changedColumns ?? null]),
      [
        ['INSERT', '30', null],
        ['INSERT', '31', null],
        ['UPDATE', '30', ['title']],
        ['DELETE', '31', null],
      ],
    );
    assert.deepEqual(titles[2]?.record, { id: 30, title: 'Big rug' });
    assert.deepEqual(titles[2]?.oldRecord, { id: 30, title: 'Rug' });
    assert.equal(rows(client, 'entity').length, 1);
  });

  it('keeps environments apart and honours the publishable key’s tables scope', async () => {
    const acme = await connect(KEY.acme);
    const globex = await connect(KEY.globex);
    const limited = await connect(KEY.acmeProductsOnly);
    const open = await connect(KEY.acmePublic);
    await globex.subscribe({ id: 'g', channel: 'postgres:*' });
    await limited.subscribe({ id: 'l', channel: 'postgres:*' });
    await open.subscribe({ id: 'o', channel: 'postgres:*' });
    await acme.subscribe({ id: 'a', channel: 'postgres:*' });

    const refusal = async (client: RawClient, id: string, spec: Record<string, unknown>) => {
      client.send({ type: 'subscribe', id, channel: 'postgres:products', ...spec });
      const error = await client.next('error', (m) => m.id === id);
      return [error.code, error.message];
    };
    assert.deepEqual(await refusal(globex, 'x1', {}), [
      4010,
      'unknown table "products": this environment does not expose it',
    ]);
    assert.deepEqual(await refusal(limited, 'x2', { channel: 'postgres:stock' }), [
      4003,
      'this key may not read table "stock"',
    ]);
    assert.equal((await refusal(acme, 'x3', { channel: 'postgres:nope' }))[0], 4010);
    assert.equal((await refusal(acme, 'x4', { filter: { entity: 'stock' } }))[0], 4000);
    assert.equal(
      (await refusal(acme, 'x5', { channel: 'records:notes', filter: { operations: ['TRUNCATE'] } }))[0],
      4000,
    );
    assert.equal((await refusal(acme, 'x6', { channel: 'postgres:*', snapshot: true }))[0], 4000);
    assert.equal(
      (await refusal(acme, 'x7', { filter: { where: { id: 1 }, predicates: { id: 1 } } }))[0],
      4000,
    );

    await cluster.psql(`
      INSERT INTO stock VALUES ('iso', 9, 9);
      INSERT INTO gizmos VALUES (1, 'sprocket');
      INSERT INTO products VALUES (40, 'Shelf', 60, NULL, NULL);
    `);
    const a = await waitRows(acme, 'a', 2);
    assert.deepEqual(
      a.map((e) => e.table),
      ['stock', 'products'],
    );
    const [g] = await waitRows(globex, 'g', 1);
    assert.deepEqual([g?.table, g?.seq, g?.record], ['gizmos', 1, { id: 1, name: 'sprocket' }]);
    assert.deepEqual(
      (await waitRows(limited, 'l', 1)).map((e) => e.table),
      ['products'],
    );
    assert.deepEqual(
      (await waitRows(open, 'o', 2)).map((e) => e.table),
      ['stock', 'products'],
    );
    // The limited key's stock event was never sent: the products event came after it, alone.
    assert.equal(rows(limited, 'l').length, 1);
    assert.equal(rows(globex, 'g').length, 1);
  });

  it('serves postgres channels over Server-Sent Events too, snapshot included', async () => {
    const stream = await connectSse(server, KEY.acmePublic, {
      subscriptions: [{ id: 'e', channel: 'postgres:products', snapshot: { sort: ['id'], limit: 2 } }],
    });
    try {
      const answer = await stream.next('subscribed');
      assert.deepEqual(
        answer.snapshot?.map((row) => row.id),
        [1, 10],
      );
      await cluster.psql(`INSERT INTO products VALUES (50, 'Clock', 30, NULL, NULL)`);
      const [event] = await stream.waitForEvents(1, 'e', 5000);
      assert.ok(event && 'table' in event);
      assert.deepEqual([event.operation, event.id, event.record?.title], ['INSERT', '50', 'Clock']);
    } finally {
      stream.close();
    }
  });

  it('lives through a PostgreSQL restart: clients stay connected and get what was committed meanwhile', async () => {
    const client = await connect(KEY.acme);
    await client.subscribe({ id: 'r', channel: 'postgres:*' });
    const globex = await connect(KEY.globex);
    await globex.subscribe({ id: 'r', channel: 'postgres:gizmos' });
    const audited: unknown[] = [];
    const off = server.on('postgres.status', (record) => audited.push(record.details.status));
    const health = async () => HealthResponseSchema.parse((await rest(server, 'GET', '/healthz')).body);
    assert.equal((await health()).postgres, 'streaming');
    await cluster.restart();
    await cluster.psql(`INSERT INTO gizmos VALUES (2, 'cog'), (3, 'gear');`);
    const deadline = Date.now() + 20_000;
    const seen: string[] = [];
    while (Date.now() < deadline) {
      const status = (await health()).postgres ?? '';
      if (seen.at(-1) !== status) seen.push(status);
      if (rows(globex, 'r').length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(
      rows(globex, 'r').map((e) => e.record?.name),
      ['cog', 'gear'],
    );
    assert.equal(globex.closed, undefined);
    assert.equal((await health()).postgres, 'streaming');
    // Each failed attempt is audited as reconnecting (with its error); then streaming, once.
    assert.deepEqual(
      [audited[0], audited.at(-1), audited.filter((s) => s === 'streaming').length],
      ['reconnecting', 'streaming', 1],
      `the audit says when the stream was lost and back: ${audited.join(', ')}`,
    );
    assert.ok(seen.includes('reconnecting'), `healthz said ${seen.join(', ')}`);
    off();
    assert.equal(client.closed, undefined);
    assert.equal(rows(client, 'r').length, 0, 'acme does not see globex’s table');
  });
});
