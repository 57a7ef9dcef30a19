/**
 * Start-up of the PostgreSQL source (issue 14, item 1; dev-server/sources/postgres/setup.ts)
 * against a private PostgreSQL 15: it prepares what is missing (replica identity, publication,
 * slot), again and again without harm, and refuses, naming the table and the reason, what it
 * cannot serve.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  PostgresConfigSchema,
  resolvePostgresConfig,
  type ResolvedPostgresConfig,
} from '../../../dev-server/sources/postgres/config.js';
import { PostgresSetupError, preparePostgres } from '../../../dev-server/sources/postgres/setup.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';

let cluster: PostgresCluster;
before(async () => {
  cluster = await PostgresCluster.start();
  await cluster.query(`
    CREATE TABLE products (id bigint PRIMARY KEY, title text NOT NULL, price numeric);
    CREATE TABLE orders (tenant text, id int, total numeric, PRIMARY KEY (tenant, id));
    CREATE TABLE notes (body text);
    CREATE VIEW cheap AS SELECT * FROM products WHERE price < 10;
    CREATE SCHEMA shop;
    CREATE TABLE shop.items (sku text PRIMARY KEY, qty int);
  `);
});
after(() => cluster?.stop());

/** A config of `tables` (client acme, environment production) on the cluster. */
function config(
  tables: { table: string; schema?: string; object?: string }[],
  extra: { slot?: string; publication?: string; url?: string } = {},
): ResolvedPostgresConfig {
  return resolvePostgresConfig(
    PostgresConfigSchema.parse({
      url: extra.url ?? cluster.url(),
      ...(extra.slot ? { slot: extra.slot } : {}),
      ...(extra.publication ? { publication: extra.publication } : {}),
      tables: tables.map((t) => ({ client: 'acme', environment: 'production', ...t })),
    }),
  );
}

async function refusal(setup: ResolvedPostgresConfig): Promise<string> {
  try {
    await preparePostgres(setup);
  } catch (error) {
    assert.ok(error instanceof PostgresSetupError, `not a PostgresSetupError: ${String(error)}`);
    return error.message;
  }
  assert.fail('preparePostgres accepted it');
}

describe('preparing the database', () => {
  it('sets REPLICA IDENTITY FULL, creates the publication and the pgoutput slot, and describes each table', async () => {
    const tables = await preparePostgres(
      config(
        [{ table: 'products' }, { table: 'orders', object: 'orders' }, { table: 'items', schema: 'shop' }],
        {
          slot: 's1',
          publication: 'p1',
        },
      ),
    );
    assert.deepEqual(
      tables.map((t) => [t.schema, t.table, t.primaryKey, t.columns.map((c) => c.name)]),
      [
        ['public', 'products', ['id'], ['id', 'title', 'price']],
        ['public', 'orders', ['tenant', 'id'], ['tenant', 'id', 'total']],
        ['shop', 'items', ['sku'], ['sku', 'qty']],
      ],
    );
    assert.equal(tables[0]?.columns[0]?.typeOid, 20, 'bigint');
    const identities = await cluster.query<{ relname: string; relreplident: string }>(
      `SELECT relname, relreplident FROM pg_class WHERE relname IN ('products', 'orders', 'items') ORDER BY relname`,
    );
    assert.deepEqual(
      identities.map((r) => r.relreplident),
      ['f', 'f', 'f'],
    );
    const published = await cluster.query<{ name: string }>(
      `SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = 'p1' ORDER BY 1`,
    );
    assert.deepEqual(
      published.map((r) => r.name),
      ['public.orders', 'public.products', 'shop.items'],
    );
    const [slot] = await cluster.query<{ plugin: string; slot_type: string }>(
      `SELECT plugin, slot_type FROM pg_replication_slots WHERE slot_name = 's1'`,
    );
    assert.deepEqual(slot, { plugin: 'pgoutput', slot_type: 'logical' });
  });

  it('runs again on a prepared database, adding a table the publication lacks', async () => {
    await cluster.query('CREATE TABLE extra (id int PRIMARY KEY)');
    await preparePostgres(config([{ table: 'products' }], { slot: 's2', publication: 'p2' }));
    await preparePostgres(
      config([{ table: 'products' }, { table: 'extra' }], { slot: 's2', publication: 'p2' }),
    );
    const published = await cluster.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_publication_tables WHERE pubname = 'p2' ORDER BY 1`,
    );
    assert.deepEqual(
      published.map((r) => r.name),
      ['extra', 'products'],
    );
    const slots = await cluster.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 's2'`);
    assert.equal(slots.length, 1, 'the slot is kept, not made twice');
  });
});

describe('refusing what it cannot serve, naming the table and the reason', () => {
  it('an unknown table', async () => {
    assert.match(
      await refusal(config([{ table: 'missing' }], { slot: 'r1', publication: 'r1' })),
      /^table public\.missing \(acme\/production\): no such table/,
    );
  });

  it('a table without a primary key', async () => {
    assert.match(
      await refusal(config([{ table: 'notes' }], { slot: 'r2', publication: 'r2' })),
      /^table public\.notes \(acme\/production\): it has no primary key/,
    );
  });

  it('a view', async () => {
    assert.match(
      await refusal(config([{ table: 'cheap' }], { slot: 'r3', publication: 'r3' })),
      /^table public\.cheap .*it is not a table/,
    );
  });

  it('a role without REPLICATION', async () => {
    await cluster.query(`CREATE ROLE reader LOGIN; GRANT SELECT ON products TO reader`);
    assert.match(
      await refusal(config([{ table: 'products' }], { url: cluster.url('postgres', 'reader'), slot: 'r4' })),
      /^role reader may not read the replication stream: ALTER ROLE reader REPLICATION/,
    );
  });

  it('a table the role may not read, or not write when an object is kept in it', async () => {
    await cluster.query(`CREATE ROLE streamer LOGIN REPLICATION`);
    await cluster.query(`CREATE TABLE secret (id int PRIMARY KEY); ALTER TABLE secret REPLICA IDENTITY FULL`);
    const url = cluster.url('postgres', 'streamer');
    assert.match(
      await refusal(config([{ table: 'secret' }], { url, slot: 'r5', publication: 'r5' })),
      /^table public\.secret .*may not SELECT it: GRANT SELECT ON public\.secret/,
    );
    await cluster.query('GRANT SELECT ON secret TO streamer');
    assert.match(
      await refusal(config([{ table: 'secret', object: 'secrets' }], { url, slot: 'r5', publication: 'r5' })),
      /may not INSERT it \(object secrets is kept in it\)/,
    );
  });

  it('a table whose replica identity the role cannot set', async () => {
    await cluster.query(`CREATE TABLE owned (id int PRIMARY KEY); GRANT SELECT ON owned TO streamer`);
    assert.match(
      await refusal(config([{ table: 'owned' }], { url: cluster.url('postgres', 'streamer'), slot: 'r6' })),
      /^table public\.owned .*cannot set REPLICA IDENTITY FULL .*run ALTER TABLE public\.owned REPLICA IDENTITY FULL as its owner/,
    );
  });

  it('a publication that does not publish truncate', async () => {
    await cluster.query(
      `CREATE PUBLICATION partial FOR TABLE products WITH (publish = 'insert, update, delete')`,
    );
    assert.match(
      await refusal(config([{ table: 'products' }], { slot: 'r7', publication: 'partial' })),
      /^publication partial does not publish truncate/,
    );
  });

  it('a slot of another plugin', async () => {
    await cluster.query(`SELECT pg_create_logical_replication_slot('other', 'test_decoding')`);
    assert.match(
      await refusal(config([{ table: 'products' }], { slot: 'other', publication: 'r8' })),
      /^replication slot other exists but is not a pgoutput slot/,
    );
  });

  it('a database it cannot reach, without its password in the message', async () => {
    const url = `postgres://someone:hunter2@127.0.0.1:1/postgres`;
    const message = await refusal(config([{ table: 'products' }], { url }));
    assert.match(
      message,
      /^cannot connect to PostgreSQL at postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/postgres/,
    );
    assert.doesNotMatch(message, /hunter2/);
  });
});

describe('wal_level', () => {
  let replica: PostgresCluster;
  before(async () => {
    replica = await PostgresCluster.start({ wal_level: 'replica' });
    await replica.query('CREATE TABLE products (id int PRIMARY KEY)');
  });
  after(() => replica?.stop());

  it('refuses a database whose wal_level is not logical, saying how to change it', async () => {
    const setup = resolvePostgresConfig(
      PostgresConfigSchema.parse({
        url: replica.url(),
        tables: [{ client: 'acme', environment: 'production', table: 'products' }],
      }),
    );
    assert.match(
      await refusal(setup),
      /^PostgreSQL's wal_level is replica, not logical: set wal_level = logical/,
    );
  });
});

describe('the postgres config section', () => {
  const issues = (value: unknown) =>
    PostgresConfigSchema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
  const base = {
    url: 'postgres://x@localhost/db',
    tables: [{ client: 'acme', environment: 'production', table: 't' }],
  };

  it('refuses names PostgreSQL or the channel would not take, naming the path', () => {
    assert.deepEqual(issues({ ...base, slot: 'Bad-Slot' }), [
      'slot: slot must be 1-63 lower-case letters, digits or "_"',
    ]);
    assert.deepEqual(
      issues({ ...base, tables: [{ client: 'acme', environment: 'production', table: 'a-b' }] }),
      ['tables.0.table: table must be 1-63 letters, digits or "_", not starting with a digit'],
    );
    assert.deepEqual(issues({ ...base, url: 'mysql://x' }), [
      'url: url must be a postgres:// or postgresql:// URL',
    ]);
  });

  it('refuses a table listed twice, two tables of one name in an environment, an object kept twice', () => {
    const t = (table: string, extra: Record<string, string> = {}) => ({
      client: 'acme',
      environment: 'production',
      table,
      ...extra,
    });
    assert.match(
      issues({ ...base, tables: [t('a'), t('a')] })[0] ?? '',
      /^tables\.1\.table: public\.a is listed twice/,
    );
    assert.match(
      issues({ ...base, tables: [t('a'), t('a', { schema: 'other' })] })[0] ?? '',
      /postgres:a twice/,
    );
    assert.match(
      issues({ ...base, tables: [t('a', { object: 'o' }), t('b', { object: 'o' })] })[0] ?? '',
      /^tables\.1\.object: acme\/production already keeps object o/,
    );
  });
});
