#!/usr/bin/env node
// `npm run demo:postgres`: the demo page (demo/index.html, unchanged) on PostgreSQL. The demo's
// objects, `orders` and `products`, are kept in tables (PROTOCOL.md section 10), so the page's
// `<live-record-list object="orders">` reads the table and follows every change to it, made
// through the REST API or by any SQL client — `psql` included.
//
//   DATABASE_URL=postgres://… node scripts/demo-postgres.mjs [dev server flags…]
//
// With `DATABASE_URL`, that database is used. Without it, a private PostgreSQL 15 cluster is
// created in a temporary folder (test/support/postgres-cluster.ts: `initdb` and `pg_ctl` from
// /usr/lib/postgresql/15/bin or PG_BIN, `wal_level=logical`, a free port of 127.0.0.1, as the
// `postgres` user when run as root) and removed on exit. The tables are created and seeded with
// the built-in demo data (dev-server/engine/demo-data.ts) when missing; tables that exist are
// used as they are. The dev server then runs as `npm start` runs it — the bundle built when stale,
// `--static demo --static dist`, the port 8787 by default, flags given here win — with the demo's
// keys and a `postgres` section, and without simulated writes (the simulator leaves objects kept
// in tables alone): the writes are yours.
//
// Standard output is the CLI's, with the page's URL, the database's URL and ready-to-paste `psql`
// commands after its first line; what this script does before goes to standard error. Ctrl-C or
// SIGTERM stops the server gracefully, then the private cluster is stopped and removed (on a
// `DATABASE_URL`, the replication slot is dropped unless `--data` keeps the server's history, and
// the tables stay). The exit status is the server's; a Ctrl-C while setting up exits with 130.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { tsImport } from 'tsx/esm/api';
import { ensureBundle, forwardSignals, ROOT, spawnDemoServer, STOP_SIGNALS } from './demo-server.mjs';

const SCRIPT = 'demo:postgres';
/** How soon a change reaches the page (the protocol's default is 5 s). */
const DEMO_FLAGS = ['--flush-ms', '500'];
/** The slot and publication: not the server's default, so a demo never takes a real server's slot. */
const SLOT = 'catalyst_demo';
/** The database created in a private cluster. */
const DATABASE = 'demo';
/** The order statuses the demo uses; the table refuses others. */
const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'];

const say = (line) => console.error(`${SCRIPT}: ${line}`);

/** The URL with its password hidden, for printing (the variable's name when it is no URL). */
function redacted(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

const list = (values) => values.map((value) => `'${value}'`).join(', ');

/**
 * Each demo table: created with its seed rows when missing. Ids are text like the built-in demo's
 * (`o38`), new rows number on from the seeds; `createdAt`/`updatedAt` default to the time of the
 * write and a trigger stamps `updatedAt` on every UPDATE, so a change made in psql shows its time
 * on the page as one made through REST does.
 */
const TABLES = {
  orders: {
    prefix: 'o',
    columns: `
      title text NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN (${list(STATUSES)})),
      total numeric(10, 2) NOT NULL,
      customer jsonb NOT NULL DEFAULT '{}'`,
    fields: ['id', 'title', 'status', 'total', 'customer', 'createdAt'],
  },
  products: {
    prefix: 'p',
    columns: `
      title text NOT NULL,
      category text NOT NULL,
      price numeric(10, 2) NOT NULL,
      stock integer NOT NULL DEFAULT 0`,
    fields: ['id', 'title', 'category', 'price', 'stock'],
  },
};

/** Creates (in one transaction each) and seeds the demo tables that are missing; returns their names. */
async function createMissingTables(client, seeds) {
  const created = [];
  for (const [table, { prefix, columns, fields }] of Object.entries(TABLES)) {
    const found = await client.query('SELECT to_regclass($1) AS oid', [`public.${table}`]);
    if (found.rows[0].oid !== null) continue;
    const rows = seeds[table];
    await client.query('BEGIN');
    try {
      await client.query(`
        CREATE OR REPLACE FUNCTION catalyst_demo_touch() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN NEW."updatedAt" := now(); RETURN NEW; END $$;
        CREATE SEQUENCE ${table}_number;
        CREATE TABLE ${table} (
          id text PRIMARY KEY DEFAULT '${prefix}' || nextval('${table}_number'),${columns},
          "createdAt" timestamptz NOT NULL DEFAULT now(),
          "updatedAt" timestamptz NOT NULL DEFAULT now()
        );
        ALTER SEQUENCE ${table}_number OWNED BY ${table}.id;
        CREATE TRIGGER ${table}_touch BEFORE UPDATE ON ${table}
          FOR EACH ROW EXECUTE FUNCTION catalyst_demo_touch();`);
      const names = fields.map((field) => `"${field}"`).join(', ');
      const params = fields.map((_, i) => `$${i + 1}`).join(', ');
      for (const row of rows) {
        const values = fields.map((field) =>
          field === 'customer' ? JSON.stringify(row[field]) : row[field],
        );
        await client.query(`INSERT INTO ${table} (${names}) VALUES (${params})`, values);
      }
      await client.query(`SELECT setval('${table}_number', $1)`, [rows.length]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw new Error(`cannot create table ${table}: ${error.message}`, { cause: error });
    }
    created.push(table);
  }
  return created;
}

/** The newest pending order, which the page lists first; undefined when the table has another shape. */
async function newestPendingOrder(client) {
  try {
    const { rows } = await client.query(
      `SELECT id FROM orders WHERE status = 'pending' ORDER BY "createdAt" DESC LIMIT 1`,
    );
    return rows[0]?.id;
  } catch {
    return undefined;
  }
}

/** Drops the demo's slot once the server has let go of it (its walsender ends just after). */
async function dropSlot(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const deadline = Date.now() + 5_000;
    for (;;) {
      const { rows } = await client.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [
        SLOT,
      ]);
      if (rows.length === 0) return;
      if (!rows[0].active || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await client.query('SELECT pg_drop_replication_slot($1)', [SLOT]);
    say(`dropped replication slot ${SLOT}, so it keeps no WAL`);
  } catch (error) {
    say(
      `could not drop replication slot ${SLOT} (${error.message}); it keeps WAL until you do: SELECT pg_drop_replication_slot('${SLOT}');`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

// ---- set up ------------------------------------------------------------------------------------

await ensureBundle(SCRIPT);

let aborted = false;
const abort = () => {
  aborted = true;
};
for (const signal of STOP_SIGNALS) process.on(signal, abort);

const givenUrl = process.env.DATABASE_URL || undefined;
/** `--data` keeps the server's history, and so its position in the slot: then the slot stays. */
const durable = process.argv.slice(2).some((arg) => arg === '--data' || arg.startsWith('--data='));
const configDir = mkdtempSync(join(tmpdir(), 'catalyst-demo-postgres-'));
let cluster;
let cleanedUp = false;

/** Removes what this script made: the config, the private cluster, or the slot on a given database. */
async function cleanUp() {
  if (cleanedUp) return;
  cleanedUp = true;
  rmSync(configDir, { recursive: true, force: true });
  if (cluster) {
    await cluster.stop();
    say(`stopped and removed the private cluster in ${cluster.dir}`);
  } else if (givenUrl && !durable) await dropSlot(givenUrl);
}

/** Throws when a signal came while the last step ran: set-up stops there. */
const checkpoint = () => {
  if (aborted) throw new Error('interrupted');
};

let url;
let serverFlags;
let extraLines;
try {
  const [{ DEMO_KEYS, demoConfig }, { PostgresCluster }] = await Promise.all([
    tsImport(join(ROOT, 'dev-server/engine/demo-data.ts'), import.meta.url),
    givenUrl ? {} : tsImport(join(ROOT, 'test/support/postgres-cluster.ts'), import.meta.url),
  ]);
  let origin;
  if (givenUrl) {
    url = givenUrl;
    origin = `DATABASE_URL; its tables stay, replication slot ${SLOT} is ${durable ? 'kept for --data' : 'dropped on exit'}`;
  } else {
    say('creating a private PostgreSQL 15 cluster (initdb)…');
    cluster = await PostgresCluster.start();
    checkpoint();
    await cluster.query(`CREATE DATABASE ${DATABASE}`);
    url = cluster.url(DATABASE);
    origin = `a private PostgreSQL 15 cluster in ${cluster.dir}, removed on exit`;
  }
  checkpoint();

  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  let created;
  let pending;
  try {
    await client.connect().catch((error) => {
      throw new Error(`cannot connect to ${redacted(url)}: ${error.message}`, { cause: error });
    });
    const { records } = demoConfig();
    created = await createMissingTables(client, records.demo.production);
    pending = await newestPendingOrder(client);
  } finally {
    await client.end().catch(() => undefined);
  }
  checkpoint();
  const tables = Object.keys(TABLES);
  say(
    created.length === tables.length
      ? `created and seeded tables ${tables.join(' and ')}`
      : created.length > 0
        ? `created and seeded table ${created.join(', ')}; using the existing ${tables.filter((t) => !created.includes(t)).join(', ')}`
        : `using the existing tables ${tables.join(' and ')}`,
  );

  const config = {
    allowedOrigins: ['*'],
    keys: [
      { key: DEMO_KEYS.secret, client: 'demo', environment: 'production', role: 'secret' },
      { key: DEMO_KEYS.publishable, client: 'demo', environment: 'production', role: 'publishable' },
    ],
    objects: tables,
    postgres: {
      url,
      slot: SLOT,
      publication: SLOT,
      tables: tables.map((table) => ({ client: 'demo', environment: 'production', table, object: table })),
    },
  };
  const configPath = join(configDir, 'config.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);

  // A password stays off the screen: the commands then read the URL from the variable.
  const target = givenUrl && redacted(givenUrl) !== givenUrl ? '"$DATABASE_URL"' : `"${url}"`;
  extraLines = (page) => [
    `  demo page: ${page}/`,
    `  database: ${redacted(url)} (${origin})`,
    `  keys: ${DEMO_KEYS.secret} (secret), ${DEMO_KEYS.publishable} (publishable)`,
    `  orders and products live in its tables: a change from any SQL client shows on the page. Try:`,
    ...(pending === undefined
      ? []
      : [`    psql ${target} -c "UPDATE orders SET status = 'shipped' WHERE id = '${pending}'"`]),
    `    psql ${target} -c "INSERT INTO orders (title, total, customer) VALUES ('2 × Oak shelf', 198, jsonb_build_object('name', 'Ada Lovelace', 'city', 'London'))"`,
  ];
  serverFlags = [...DEMO_FLAGS, '--config', configPath];
} catch (error) {
  say(aborted ? 'interrupted' : error.message);
  await cleanUp().catch((problem) => say(problem.message));
  process.exit(aborted ? 130 : 1);
}

// ---- run ---------------------------------------------------------------------------------------

for (const signal of STOP_SIGNALS) process.off(signal, abort);
const server = spawnDemoServer(serverFlags, extraLines);
forwardSignals(server);
// 'close', not 'exit': every line it printed has been passed on by then.
server.on('close', async (code, signal) => {
  await cleanUp().catch((problem) => say(problem.message));
  process.exit(code ?? (signal ? 128 + constants.signals[signal] : 0));
});
