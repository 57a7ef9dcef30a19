/**
 * Starting the CLI with a `postgres` section (issue 14, item 1; PROTOCOL.md section 10): it
 * prepares the database and streams, or it refuses — exit status 2, a message on stderr naming
 * the table (or the database, or the config's JSON path) and the reason, nothing listening, and
 * nothing changed in the database.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CliProcess, tempDir, writeJson, type ExitInfo } from '../../support/cli-process.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { rest, sleep } from '../../support/raw-client.js';
import { freePort } from '../../support/test-server.js';

let cluster: PostgresCluster;
let replicaCluster: PostgresCluster;
const dir = tempDir('catalyst-pg-startup-');
let cleanups: (() => unknown)[] = [];

before(async () => {
  [cluster, replicaCluster] = await Promise.all([
    PostgresCluster.start(),
    PostgresCluster.start({ wal_level: 'replica' }),
  ]);
  await Promise.all([
    cluster.query(`
      CREATE TABLE products (id int PRIMARY KEY, title text);
      CREATE TABLE gizmos (id int PRIMARY KEY, name text);
      CREATE TABLE loose (body text);
      CREATE VIEW cheap AS SELECT * FROM products;
      CREATE ROLE reader LOGIN;
      GRANT SELECT ON products TO reader;
    `),
    replicaCluster.query(`CREATE TABLE products (id int PRIMARY KEY, title text)`),
  ]);
});
after(async () => {
  await Promise.all([cluster?.stop(), replicaCluster?.stop()]);
  dir.remove();
});
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

const ACME = { client: 'acme', environment: 'production' } as const;
const KEYS = [
  { key: 'sk_pg_start_acme', ...ACME, role: 'secret' },
  { key: 'sk_pg_start_globex', client: 'globex', environment: 'production', role: 'secret' },
];

/** A config of `postgres` (merged over a valid one of acme's products) and `extra` top-level keys. */
function config(postgres: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    keys: KEYS,
    objects: ['notes'],
    postgres: { url: cluster.url(), tables: [{ ...ACME, table: 'products' }], ...postgres },
    ...extra,
  };
}

let files = 0;
/** Runs the CLI on `value` on a free port until it exits by itself. */
async function refusedStart(
  value: unknown,
): Promise<ExitInfo & { stdout: string; stderr: string; path: string }> {
  const path = writeJson(dir.file(`config-${++files}.json`), value);
  const port = await freePort();
  const cli = CliProcess.spawn(['--config', path, '--port', String(port)]);
  const exit = await cli.exit(20_000); // killed (and so failing the test) if it does not exit by itself
  const listening = await fetch(`http://127.0.0.1:${port}/healthz`).then(
    () => true,
    () => false,
  );
  assert.equal(listening, false, 'nothing listens on the port');
  assert.doesNotMatch(cli.stdout, /listening/);
  return { ...exit, stdout: cli.stdout, stderr: cli.stderr, path };
}

/** The slot and publication of that name, as the database has them. */
async function leftovers(name: string, on: PostgresCluster = cluster): Promise<string[]> {
  const rows = await on.query<{ what: string }>(
    `SELECT 'slot ' || slot_name AS what FROM pg_replication_slots WHERE slot_name = $1
     UNION ALL SELECT 'publication ' || pubname FROM pg_publication WHERE pubname = $1`,
    [name],
  );
  return rows.map((r) => r.what);
}

async function identity(table: string): Promise<string | undefined> {
  const rows = await cluster.query<{ relreplident: string }>(
    `SELECT relreplident FROM pg_class WHERE oid = $1::regclass`,
    [table],
  );
  return rows[0]?.relreplident;
}

describe('a CLI that cannot serve the postgres section exits with status 2', { concurrency: 4 }, () => {
  const refusals: [string, () => Record<string, unknown>, RegExp][] = [
    [
      'a table without a primary key',
      () => ({ slot: 'r_nokey', publication: 'r_nokey', tables: [{ ...ACME, table: 'loose' }] }),
      /^catalyst-dev-server: PostgreSQL: table public\.loose \(acme\/production\): it has no primary key: .*ADD PRIMARY KEY/m,
    ],
    [
      'an unknown table',
      () => ({ slot: 'r_unknown', publication: 'r_unknown', tables: [{ ...ACME, table: 'nope' }] }),
      /^catalyst-dev-server: PostgreSQL: table public\.nope \(acme\/production\): no such table in this database/m,
    ],
    [
      'a table in an unknown schema',
      () => ({
        slot: 'r_schema',
        publication: 'r_schema',
        tables: [{ ...ACME, table: 'products', schema: 'shop' }],
      }),
      /^catalyst-dev-server: PostgreSQL: table shop\.products \(acme\/production\): no such table in this database/m,
    ],
    [
      'a view instead of a table',
      () => ({ slot: 'r_view', publication: 'r_view', tables: [{ ...ACME, table: 'cheap' }] }),
      /^catalyst-dev-server: PostgreSQL: table public\.cheap \(acme\/production\): it is not a table \(relkind v\): expose tables only/m,
    ],
    [
      'a role without REPLICATION',
      () => ({ slot: 'r_role', publication: 'r_role', url: cluster.url('postgres', 'reader') }),
      /^catalyst-dev-server: PostgreSQL: role reader may not read the replication stream: ALTER ROLE reader REPLICATION$/m,
    ],
    [
      'a database whose wal_level is not logical',
      () => ({ slot: 'r_wal', publication: 'r_wal', url: replicaCluster.url() }),
      /^catalyst-dev-server: PostgreSQL: PostgreSQL's wal_level is replica, not logical: set wal_level = logical/m,
    ],
  ];
  for (const [what, postgres, message] of refusals) {
    it(`refuses ${what}, naming it and the reason, and changes nothing`, async () => {
      const section = postgres();
      const exit = await refusedStart(config(section));
      assert.deepEqual([exit.code, exit.signal], [2, null], exit.stderr);
      assert.match(exit.stderr, message);
      const on = section.url === replicaCluster.url() ? replicaCluster : cluster;
      assert.deepEqual(await leftovers(String(section.slot), on), [], 'no slot or publication left behind');
    });
  }

  it('refuses an unreachable database, naming its URL without the password', async () => {
    const port = await freePort();
    const exit = await refusedStart(config({ url: `postgres://app:s3cret@127.0.0.1:${port}/shop` }));
    assert.deepEqual([exit.code, exit.signal], [2, null], exit.stderr);
    assert.match(
      exit.stderr,
      new RegExp(
        `^catalyst-dev-server: PostgreSQL: cannot connect to PostgreSQL at postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/shop: .*ECONNREFUSED`,
        'm',
      ),
    );
    assert.doesNotMatch(exit.stderr, /s3cret/);
  });

  it('refuses a later table without changing an earlier one', async () => {
    await cluster.query('CREATE TABLE fresh (id int PRIMARY KEY)');
    assert.equal(await identity('fresh'), 'd');
    const exit = await refusedStart(
      config({
        slot: 'r_later',
        publication: 'r_later',
        tables: [
          { ...ACME, table: 'fresh' },
          { ...ACME, table: 'loose' },
        ],
      }),
    );
    assert.equal(exit.code, 2, exit.stderr);
    assert.match(exit.stderr, /table public\.loose \(acme\/production\): it has no primary key/);
    assert.equal(await identity('fresh'), 'd', 'the replica identity of public.fresh is unchanged');
    assert.deepEqual(await leftovers('r_later'), []);
  });

  const configErrors: [string, () => Record<string, unknown>, string][] = [
    [
      "a key's tables entry naming a table its environment does not expose",
      () =>
        config(
          {
            tables: [
              { ...ACME, table: 'products' },
              { client: 'globex', environment: 'production', table: 'gizmos' },
            ],
          },
          {
            keys: [
              ...KEYS,
              { key: 'pk_pg_start_acme', ...ACME, role: 'publishable', tables: ['products', 'gizmos'] },
            ],
          },
        ),
      'keys.2.tables.1: table "gizmos" is not in postgres.tables for acme/production',
    ],
    [
      'a tables list on a secret key',
      () => config({}, { keys: [{ ...KEYS[0], tables: ['products'] }] }),
      'keys.0.tables: only publishable keys take a tables list; a secret key reads every table of its environment',
    ],
    [
      'a table exposed to an environment no key belongs to',
      () =>
        config({
          tables: [
            { ...ACME, table: 'products' },
            { client: 'acme', environment: 'staging', table: 'gizmos' },
          ],
        }),
      'postgres.tables.1.environment: no key belongs to acme/staging, so no one could read this table; add a key or fix the names',
    ],
    [
      'a table kept as an object that is not in objects',
      () => config({ tables: [{ ...ACME, table: 'products', object: 'products' }] }),
      'postgres.tables.0.object: object "products" is not in objects',
    ],
  ];
  for (const [what, value, problem] of configErrors) {
    it(`refuses a config with ${what}, naming its JSON path`, async () => {
      const exit = await refusedStart(value());
      assert.deepEqual([exit.code, exit.signal], [2, null], exit.stderr);
      assert.equal(exit.stderr, `catalyst-dev-server: bad config ${exit.path}:\n  ${problem}\n`);
    });
  }
});

describe('a CLI that can serve the postgres section', () => {
  it('prepares the database and streams: slot, publication, REPLICA IDENTITY FULL, /healthz', async () => {
    assert.equal(await identity('gizmos'), 'd');
    const path = writeJson(
      dir.file('config-ok.json'),
      config({
        slot: 'startup_ok',
        publication: 'startup_ok',
        tables: [
          { ...ACME, table: 'products' },
          { client: 'globex', environment: 'production', table: 'gizmos' },
        ],
      }),
    );
    const cli = await CliProcess.start(['--config', path, '--port', '0']);
    cleanups.push(() => cli.stop('SIGKILL'));
    let health: Record<string, unknown> = {};
    for (let i = 0; i < 100 && health.postgres !== 'streaming'; i++) {
      if (i > 0) await sleep(50);
      health = (await rest(cli, 'GET', '/healthz')).body as Record<string, unknown>;
    }
    assert.equal(health.postgres, 'streaming', JSON.stringify(health));
    assert.equal(health.ok, true);

    const slots = await cluster.query(
      `SELECT slot_type, plugin, active, database FROM pg_replication_slots WHERE slot_name = 'startup_ok'`,
    );
    assert.deepEqual(slots, [
      { slot_type: 'logical', plugin: 'pgoutput', active: true, database: 'postgres' },
    ]);
    const published = await cluster.query<{ name: string }>(
      `SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = 'startup_ok' ORDER BY 1`,
    );
    assert.deepEqual(
      published.map((r) => r.name),
      ['public.gizmos', 'public.products'],
    );
    assert.equal(await identity('products'), 'f');
    assert.equal(await identity('gizmos'), 'f');

    // A clean stop leaves the slot (it keeps the position) but no consumer on it.
    assert.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
    const after = await cluster.query(
      `SELECT active FROM pg_replication_slots WHERE slot_name = 'startup_ok'`,
    );
    assert.deepEqual(after, [{ active: false }]);
  });
});
