/**
 * REST writes of objects kept in tables (PROTOCOL.md §10, last bullet;
 * dev-server/sources/postgres/table-writer.ts) against a private PostgreSQL 15: inserts with
 * assigned, given and composite keys; merge patches into jsonb; no-op patches that write nothing;
 * timestamps stamped only where the columns exist; values that come back as a SELECT and the
 * replication stream map them; every refusal a specific error that changes nothing; and a
 * stopped database a 503 until it is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { JsonValue } from '../../../protocol/index.js';
import { ApiError } from '../../../dev-server/engine/api-error.js';
import { PostgresConfigSchema, resolvePostgresConfig } from '../../../dev-server/sources/postgres/config.js';
import { preparePostgres, type PreparedTable } from '../../../dev-server/sources/postgres/setup.js';
import { PostgresStream, type StreamTransaction } from '../../../dev-server/sources/postgres/stream.js';
import {
  CORRELATION_MESSAGE_PREFIX,
  TableWriter,
} from '../../../dev-server/sources/postgres/table-writer.js';
import { PgTypeCatalog } from '../../../dev-server/sources/postgres/type-catalog.js';
import {
  fieldColumns,
  mapRow,
  PG_SESSION_OPTIONS,
  RAW_TEXT_TYPES,
} from '../../../dev-server/sources/postgres/values.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { sleep } from '../../support/raw-client.js';

const SCHEMA = `
  CREATE TYPE mood AS ENUM ('ok', 'so, so');
  CREATE TABLE customers (id int PRIMARY KEY, name text);
  CREATE TABLE orders (
    id serial PRIMARY KEY,
    title text NOT NULL,
    qty int,
    paid boolean,
    meta jsonb,
    due timestamptz,
    tags text[],
    grid int[],
    moods mood[],
    photo bytea,
    price numeric(6,2),
    big bigint,
    code varchar(5),
    customer int REFERENCES customers (id),
    "createdAt" timestamptz,
    "updatedAt" timestamptz
  );
  CREATE TABLE products (sku text PRIMARY KEY, label text CHECK (label <> ''));
  CREATE TABLE lines (
    tenant text, n int, note text, created_at timestamp, updated_at timestamp,
    PRIMARY KEY (tenant, n)
  );
  CREATE TABLE docs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body jsonb, blobs bytea[],
    "updatedAt" text -- not a timestamp: never stamped
  );
  CREATE TABLE tallies (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    qty int,
    double int GENERATED ALWAYS AS (qty * 2) STORED
  );
  INSERT INTO customers VALUES (1, 'Ada');`;

const TABLES = ['orders', 'products', 'lines', 'docs', 'tallies'] as const;

let cluster: PostgresCluster;
let writer: TableWriter;
let reader: pg.Client;
let catalog: PgTypeCatalog;
const tables = {} as Record<(typeof TABLES)[number], PreparedTable>;

before(async () => {
  cluster = await PostgresCluster.start();
  await cluster.query(SCHEMA);
  const prepared = await preparePostgres(
    resolvePostgresConfig(
      PostgresConfigSchema.parse({
        url: cluster.url(),
        tables: TABLES.map((table) => ({ client: 'acme', environment: 'production', table, object: table })),
      }),
    ),
  );
  for (const table of prepared) tables[table.table as (typeof TABLES)[number]] = table;
  // trust authentication ignores the password: it is here to show that messages leave it out.
  writer = new TableWriter({ url: cluster.url().replace('postgres@', 'postgres:s3cret@') });
  reader = new pg.Client({
    connectionString: cluster.url(),
    options: PG_SESSION_OPTIONS,
    types: RAW_TEXT_TYPES,
  });
  reader.on('error', () => undefined); // the 503 test stops PostgreSQL under it
  await reader.connect();
  catalog = new PgTypeCatalog(reader);
});

after(async () => {
  await writer?.close();
  await reader?.end();
  await cluster?.stop();
});

/** A row read by SELECT and mapped as snapshots map it. */
async function selected(table: string, where: string, params: unknown[]): Promise<Record<string, JsonValue>> {
  const result = await reader.query(`SELECT * FROM ${table} WHERE ${where}`, params);
  const columns = fieldColumns(result.fields);
  await catalog.load(columns.map((column) => column.typeOid));
  assert.equal(result.rows.length, 1, `one row of ${table} where ${where}`);
  return mapRow(catalog, columns, result.rows[0]);
}

async function count(table: string): Promise<number> {
  return Number((await reader.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
}

async function xmin(table: string, id: number): Promise<string> {
  return (await reader.query(`SELECT xmin::text AS x FROM ${table} WHERE id = $1`, [id])).rows[0].x;
}

/** The ApiError a write is refused with. */
async function refusal(write: Promise<unknown>): Promise<ApiError> {
  try {
    await write;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  assert.fail('the write was accepted');
}

async function refused(write: Promise<unknown>, code: ApiError['code'], message: RegExp): Promise<void> {
  const error = await refusal(write);
  assert.equal(error.code, code, error.message);
  assert.match(error.message, message);
}

const ORDER = {
  title: 'first',
  qty: 3,
  paid: true,
  meta: { a: { b: 1, c: [1, 'x', null] }, s: 'text', n: null },
  due: '2024-06-01T12:00:00.654321Z',
  tags: ['a', null, 'NULL', '', 'c,d', '"q"', 'back\\slash', '{x}', 'sp ace', '🙂'],
  grid: [
    [1, 2],
    [3, null],
  ],
  moods: ['ok', 'so, so', null],
  photo: '3q2+7w==',
  price: 12.5,
  big: '9007199254740993',
  code: 'ab"c',
  customer: 1,
};

describe('TableWriter', () => {
  it('inserts a row with a serial key and returns it exactly as SELECT maps it', async () => {
    const { row, id, xid } = await writer.insert(tables.orders, ORDER);
    assert.equal(id, '1');
    assert.equal(typeof xid, 'number');
    assert.deepStrictEqual(row, await selected('orders', 'id = $1', [1]));
    const { createdAt, updatedAt, ...rest } = row;
    assert.deepStrictEqual(rest, { id: 1, ...ORDER }, 'every value round-trips unchanged');
    assert.match(String(createdAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(updatedAt, createdAt, 'both stamped with the same time');
  });

  it('inserts given keys; a body "id" stands for a key column of another name', async () => {
    assert.equal((await writer.insert(tables.products, { sku: 'A1', label: 'one' })).id, 'A1');
    const aliased = await writer.insert(tables.products, { id: 'B2', label: 'two' });
    assert.deepStrictEqual([aliased.id, aliased.row], ['B2', { sku: 'B2', label: 'two' }]);
    // A record read back with its id agrees with its key column, so it may be sent again.
    assert.equal((await writer.insert(tables.products, { id: 'C3', sku: 'C3' })).id, 'C3');
    await refused(
      writer.insert(tables.products, { id: 'X', sku: 'D4' }),
      'bad_request',
      /"id" "X" disagrees with column "sku"/,
    );
    const { row, id } = await writer.insert(tables.docs, { body: { k: 1 }, blobs: ['3q2+7w==', '', null] });
    assert.match(id, /^[0-9a-f-]{36}$/, 'PostgreSQL assigned the uuid');
    assert.deepStrictEqual(row, { id, body: { k: 1 }, blobs: ['3q2+7w==', '', null], updatedAt: null });
    assert.deepStrictEqual(row, await selected('docs', 'id = $1', [id]));
  });

  it('writes composite keys, named by the JSON array text of their values', async () => {
    const { id, row } = await writer.insert(tables.lines, { tenant: 'acme', n: 1, note: 'a' });
    assert.equal(id, '["acme",1]');
    assert.equal(row.note, 'a');
    const updated = await writer.update(tables.lines, id, { note: 'b' });
    assert.deepStrictEqual([updated.changed, updated.row.note], [true, 'b']);
    assert.equal((await writer.insert(tables.lines, { id: '["acme",2]', note: 'c' })).row.n, 2);
    await refused(writer.update(tables.lines, '["acme",3]', { note: 'x' }), 'not_found', /no row with id/);
    await refused(writer.update(tables.lines, 'acme', { note: 'x' }), 'not_found', /no row with id "acme"/);
    await refused(writer.delete(tables.lines, '["acme"]'), 'not_found', /no row/);
    assert.deepStrictEqual((await writer.delete(tables.lines, id)).oldRow.note, 'b');
    assert.equal(await count('lines'), 1);
  });

  it('stamps createdAt and updatedAt only where the table has such columns', async () => {
    const given = await writer.insert(tables.orders, {
      title: 'dated',
      createdAt: '2020-01-01T00:00:00Z',
      updatedAt: '2020-01-01T00:00:00Z',
    });
    assert.equal(given.row.createdAt, '2020-01-01T00:00:00.000000Z', 'a given createdAt is kept');
    assert.notEqual(given.row.updatedAt, '2020-01-01T00:00:00.000000Z', 'updatedAt is always the write time');
    const patched = await writer.update(tables.orders, given.id, { qty: 1 });
    assert.equal(patched.row.createdAt, given.row.createdAt);
    assert.ok(String(patched.row.updatedAt) > String(given.row.updatedAt), 'updatedAt moves on update');
    // created_at/updated_at of type timestamp (no time zone) are stamped too, in UTC.
    const line = await writer.insert(tables.lines, { tenant: 't', n: 9 });
    assert.match(String(line.row.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(line.row.updated_at, line.row.created_at);
    // products has neither column, and no write tries to set one.
    const product = await writer.update(tables.products, 'A1', { label: 'uno' });
    assert.deepStrictEqual(product.row, { sku: 'A1', label: 'uno' });
    // docs has an updatedAt column, but of type text: it is an ordinary column.
    const doc = await writer.insert(tables.docs, { body: 1 });
    assert.equal(doc.row.updatedAt, null);
    assert.equal((await writer.update(tables.docs, doc.id, { body: 2 })).row.updatedAt, null);
  });

  it('merges a patch into a jsonb column: null removes a key at any depth, other values replace', async () => {
    const { id } = await writer.insert(tables.orders, {
      title: 'merge',
      qty: 5,
      meta: { a: { b: 1, c: 2 }, list: [1, 2], s: 'x' },
    });
    const merged = await writer.update(tables.orders, id, {
      meta: { a: { c: null, d: { e: true } }, list: [9], s: null, t: 'new' },
      qty: null,
    });
    assert.deepStrictEqual(merged.oldRow.meta, { a: { b: 1, c: 2 }, list: [1, 2], s: 'x' });
    assert.deepStrictEqual(merged.row.meta, { a: { b: 1, d: { e: true } }, list: [9], t: 'new' });
    assert.equal(merged.row.qty, null, 'null sets a plain column to NULL');
    assert.deepStrictEqual((await writer.update(tables.orders, id, { meta: [1, { x: null }] })).row.meta, [
      1,
      { x: null },
    ]);
    assert.deepStrictEqual((await writer.update(tables.orders, id, { meta: { k: null, v: 1 } })).row.meta, {
      v: 1,
    });
    assert.equal((await writer.update(tables.orders, id, { meta: null })).row.meta, null);
    assert.deepStrictEqual((await writer.update(tables.orders, id, { meta: { v: 2 } })).row.meta, { v: 2 });
    assert.deepStrictEqual(
      await selected('orders', 'id = $1', [Number(id)]),
      (await writer.update(tables.orders, id, {})).row,
    );
  });

  it('writes nothing for a patch that changes no value, however the values are spelled', async () => {
    const { id, row } = await writer.insert(tables.orders, ORDER);
    const before = await xmin('orders', Number(id));
    const same = await writer.update(tables.orders, id, {
      id: Number(id),
      qty: '3',
      due: '2024-06-01 17:30:00.654321+05:30',
      price: '12.50',
      big: '9007199254740993',
      meta: { s: 'text', zzz: null },
      tags: ORDER.tags,
      photo: ORDER.photo,
    });
    assert.deepStrictEqual([same.changed, same.xid], [false, undefined]);
    assert.deepStrictEqual(same.row, row);
    assert.equal(await xmin('orders', Number(id)), before, 'no UPDATE ran');
    const changed = await writer.update(tables.orders, id, { qty: 4, due: ORDER.due });
    assert.equal(changed.changed, true);
    assert.notEqual(await xmin('orders', Number(id)), before);
    assert.deepStrictEqual(changed.row, { ...row, qty: 4, updatedAt: changed.row.updatedAt });
  });

  it('serialises concurrent patches of one row, so no merge is lost, on more writes than connections', async () => {
    const { id } = await writer.insert(tables.orders, { title: 'busy', meta: {} });
    const patches = Array.from({ length: 12 }, (_, i) =>
      writer.update(tables.orders, id, { meta: { [`k${i}`]: i } }),
    );
    await Promise.all(patches);
    const { meta } = await selected('orders', 'id = $1', [Number(id)]);
    assert.deepStrictEqual(meta, Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i])));
  });

  it('refuses an unknown column by name before sending any SQL', async () => {
    const nowhere = new TableWriter({ url: 'postgres://postgres@127.0.0.1:1/none' });
    try {
      await refused(
        nowhere.insert(tables.orders, { title: 't', colour: 'red' }),
        'bad_request',
        /^unknown column "colour" in table public\.orders$/,
      );
      await refused(nowhere.update(tables.orders, '1', { colour: 'red' }), 'bad_request', /"colour"/);
      await refused(
        nowhere.insert(tables.products, { sku: 'x', id: 'x', colour: 1 }),
        'bad_request',
        /"colour"/,
      );
    } finally {
      await nowhere.close();
    }
  });

  const WRONG: readonly [string, Record<string, unknown>, RegExp][] = [
    [
      'a word for an integer',
      { qty: 'abc' },
      /column "qty" in table public\.orders takes an integer .*not the string "abc"/,
    ],
    [
      'a fraction for an integer',
      { qty: 1.5 },
      /"qty" in table public\.orders takes an integer .*not the number 1\.5$/,
    ],
    [
      'an integer out of range',
      { qty: 2 ** 31 },
      /"qty" in table public\.orders takes an integer from -2147483648 to 2147483647/,
    ],
    ['a string for a boolean', { paid: 'yes' }, /"paid" in table public\.orders takes true or false/],
    [
      'U+0000 in a jsonb string',
      { meta: { s: '\u0000' } },
      /column "meta" in table public\.orders: unsupported Unicode escape/,
    ],
    [
      'a number for a timestamptz',
      { due: 1717243200 },
      /"due" .* takes a date and time as ISO 8601 text, not the number/,
    ],
    [
      'a word for a timestamptz',
      { due: 'soon' },
      /column "due" in table public\.orders: invalid input syntax for type timestamp with time zone/,
    ],
    ['a string for an array', { tags: 'a,b' }, /"tags" .* takes an array whose elements are text/],
    ['a number in a text array', { tags: ['a', 1] }, /"tags" .* element \[1\] is the number 1/],
    [
      'a ragged array',
      { grid: [[1, 2], [3]] },
      /column "grid" in table public\.orders: .*malformed array literal.*: Multidimensional arrays must have sub-arrays with matching dimensions/,
    ],
    [
      'an unknown enum value',
      { moods: ['ok', 'grumpy'] },
      /column "moods" .*invalid input value for enum mood: "grumpy"/,
    ],
    [
      'a numeric past its precision',
      { price: 12345.5 },
      /column "price" in table public\.orders: numeric field overflow/,
    ],
    ['text too long', { code: 'abcdef' }, /"code" .* takes text of at most 5 characters/],
    ['text that is not base64 for a bytea', { photo: 'not base64!' }, /"photo" .* takes base64 text/],
    ['an object for a text column', { title: { a: 1 } }, /"title" .* takes text, not an object/],
    ['a fraction for a bigint', { big: '1.5' }, /"big" .* takes an integer/],
  ];

  for (const [what, values, message] of WRONG) {
    it(`refuses ${what}, naming the column, and writes nothing`, async () => {
      const rows = await count('orders');
      await refused(writer.insert(tables.orders, { title: 'wrong', ...values }), 'bad_request', message);
      assert.equal(await count('orders'), rows);
      const before = await selected('orders', 'id = 1', []);
      await refused(
        writer.update(tables.orders, '1', { title: 'changed', ...values }),
        'bad_request',
        message,
      );
      assert.deepStrictEqual(await selected('orders', 'id = 1', []), before);
    });
  }

  it('answers a duplicate key with 409 naming the key', async () => {
    await refused(
      writer.insert(tables.products, { sku: 'A1', label: 'again' }),
      'conflict',
      /products_pkey.*\(sku\)=\(A1\)/,
    );
    await refused(
      writer.insert(tables.orders, { id: 1, title: 'again' }),
      'conflict',
      /orders_pkey.*\(id\)=\(1\)/,
    );
  });

  it('answers 404 for a row that is not there, or an id its key type cannot hold', async () => {
    await refused(
      writer.update(tables.orders, '999', { qty: 1 }),
      'not_found',
      /table public\.orders has no row with id "999"/,
    );
    await refused(writer.delete(tables.orders, '999'), 'not_found', /no row with id "999"/);
    await refused(writer.update(tables.orders, 'abc', { qty: 1 }), 'not_found', /no row with id "abc"/);
    await refused(writer.delete(tables.docs, 'not-a-uuid'), 'not_found', /no row with id "not-a-uuid"/);
  });

  it('refuses NULL in a NOT NULL column, naming it', async () => {
    await refused(
      writer.insert(tables.orders, { qty: 1 }),
      'bad_request',
      /^column "title" in table public\.orders may not be null$/,
    );
    await refused(
      writer.update(tables.orders, '1', { title: null }),
      'bad_request',
      /column "title" .* may not be null/,
    );
  });

  it('refuses a foreign key or check violation with PostgreSQL’s message', async () => {
    const rows = await count('orders');
    await refused(
      writer.insert(tables.orders, { title: 'fk', customer: 42 }),
      'bad_request',
      /violates foreign key constraint "orders_customer_fkey".*Key \(customer\)=\(42\) is not present/,
    );
    assert.equal(await count('orders'), rows);
    await refused(
      writer.update(tables.products, 'A1', { label: '' }),
      'bad_request',
      /violates check constraint "products_label_check"/,
    );
  });

  it('refuses a patch that changes the primary key, and accepts one that repeats it', async () => {
    await refused(
      writer.update(tables.products, 'A1', { sku: 'Z9' }),
      'bad_request',
      /"sku" is the primary key of table public\.products/,
    );
    await refused(
      writer.update(tables.products, 'A1', { id: 'Z9' }),
      'bad_request',
      /"sku" is the primary key/,
    );
    await refused(writer.update(tables.orders, '1', { id: 2 }), 'bad_request', /"id" is the primary key/);
    const same = await writer.update(tables.products, 'A1', { sku: 'A1', id: 'A1', label: 'eins' });
    assert.deepStrictEqual(same.row, { sku: 'A1', label: 'eins' });
  });

  it('lets PostgreSQL compute generated and identity ALWAYS columns, refusing values for them', async () => {
    const { id, row } = await writer.insert(tables.tallies, { qty: 2 });
    assert.deepStrictEqual(row, { id: Number(id), qty: 2, double: 4 });
    await refused(
      writer.insert(tables.tallies, { id: 5, qty: 1 }),
      'bad_request',
      /"id" .* cannot be written: it is GENERATED ALWAYS AS IDENTITY/,
    );
    await refused(
      writer.update(tables.tallies, id, { double: 9 }),
      'bad_request',
      /"double" .* cannot be written: it is a generated column/,
    );
    assert.equal((await writer.update(tables.tallies, id, { double: 4 })).changed, false);
  });

  it('writes what replication streams, in a transaction with its xid and correlation id', async () => {
    await cluster.query(`SELECT pg_create_logical_replication_slot('corr', 'test_decoding')`);
    const inserted = await writer.insert(
      tables.orders,
      { ...ORDER, title: 'streamed' },
      { correlationId: 'req-1' },
    );
    const updated = await writer.update(
      tables.orders,
      inserted.id,
      { meta: { s: null } },
      { correlationId: 'req-2' },
    );
    const deleted = await writer.delete(tables.orders, inserted.id);
    const decoded = await cluster.query<{ xid: string; data: string }>(
      `SELECT xid::text, data FROM pg_logical_slot_get_changes('corr', NULL, NULL) WHERE data LIKE 'message:%'`,
    );
    await cluster.query(`SELECT pg_drop_replication_slot('corr')`);
    assert.deepStrictEqual(
      decoded.map((r) => [Number(r.xid), r.data.replace(/ sz: \d+/, '')]),
      [
        [inserted.xid, `message: transactional: 1 prefix: ${CORRELATION_MESSAGE_PREFIX}, content:req-1`],
        [updated.xid, `message: transactional: 1 prefix: ${CORRELATION_MESSAGE_PREFIX}, content:req-2`],
      ],
    );

    const applied: StreamTransaction[] = [];
    const stream = new PostgresStream({
      url: cluster.url(),
      slot: 'catalyst',
      publication: 'catalyst',
      resumeAfter: undefined,
      apply: (transaction) => void applied.push(transaction),
    });
    await stream.start();
    try {
      const deadline = Date.now() + 10_000;
      while (!applied.some((t) => t.xid === deleted.xid)) {
        assert.ok(Date.now() < deadline, 'the delete was streamed within 10 s');
        await sleep(20);
      }
    } finally {
      await stream.stop();
    }
    const streamed = async (xid: number) => {
      const [change] = applied.find((t) => t.xid === xid)?.changes ?? [];
      assert.ok(change && change.operation !== 'TRUNCATE');
      await catalog.load(change.relation.columns.map((column) => column.typeOid));
      const raw = change.operation === 'DELETE' ? change.old : change.row;
      return mapRow(catalog, change.relation.columns, raw);
    };
    assert.deepStrictEqual(await streamed(inserted.xid), inserted.row);
    assert.deepStrictEqual(await streamed(updated.xid as number), updated.row);
    assert.deepStrictEqual(await streamed(deleted.xid), deleted.oldRow);
    assert.deepStrictEqual(deleted.oldRow, updated.row);
  });

  it('answers 503 naming the database while PostgreSQL is down, and writes again once it is back', async () => {
    await cluster.stopServer();
    try {
      const down = await refusal(writer.insert(tables.products, { sku: 'down' }));
      assert.equal(down.code, 'unavailable');
      assert.equal(down.status, 503);
      assert.match(
        down.message,
        new RegExp(
          `^PostgreSQL at postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${cluster.port}/postgres is unavailable`,
        ),
      );
      assert.doesNotMatch(down.message, /s3cret/);
      await refused(writer.update(tables.products, 'A1', { label: 'x' }), 'unavailable', /is unavailable/);
      await refused(writer.delete(tables.products, 'A1'), 'unavailable', /is unavailable/);
    } finally {
      await cluster.startServer();
    }
    assert.equal((await writer.insert(tables.products, { sku: 'up', label: 'back' })).id, 'up');
    await reader.end();
    reader = new pg.Client({
      connectionString: cluster.url(),
      options: PG_SESSION_OPTIONS,
      types: RAW_TEXT_TYPES,
    });
    await reader.connect();
    catalog = new PgTypeCatalog(reader);
    assert.deepStrictEqual(await selected('products', 'sku = $1', ['up']), { sku: 'up', label: 'back' });
  });
});
