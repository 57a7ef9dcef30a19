/**
 * Start-up of the PostgreSQL source (PROTOCOL.md section 10): checks that the database can serve
 * the exposed tables through logical replication, and prepares what is missing — `REPLICA
 * IDENTITY FULL` on each table (so updates and deletes carry the whole previous row), the
 * publication (created, or extended with the tables it lacks) and the `pgoutput` slot. Anything
 * it cannot do is a `PostgresSetupError` naming the table (or the database) and the reason, with
 * what to change; the CLI exits with status 2 on it.
 *
 * Checked, in order: the connection; `wal_level` is `logical`; the role may replicate
 * (`REPLICATION` or superuser); each table exists, is a table, has a primary key, and may be read
 * (and written, when an object is kept in it); its replica identity; the publication publishes
 * inserts, updates, deletes and truncates; an existing slot uses `pgoutput` in this database.
 */
import pg from 'pg';
import type { ResolvedPostgresConfig } from './config.js';

/** The database cannot serve the config; the message says what and how to fix it. */
export class PostgresSetupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PostgresSetupError';
  }
}

/** One column of an exposed table. */
export type PreparedColumn = { name: string; typeOid: number };

/** An exposed table as the database describes it, ready to stream. */
export type PreparedTable = ResolvedPostgresConfig['tables'][number] & {
  /** The table's OID (pgoutput's relation id). */
  oid: number;
  columns: PreparedColumn[];
  /** The primary key's columns, in key order. */
  primaryKey: string[];
};

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured postgres.url';
  }
}

/** Checks and prepares the database for `config`; resolves with its tables. */
export async function preparePostgres(config: ResolvedPostgresConfig): Promise<PreparedTable[]> {
  const client = new pg.Client({ connectionString: config.url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined); // a dropped connection fails the query in progress instead
  try {
    await client.connect();
  } catch (error) {
    throw new PostgresSetupError(
      `cannot connect to PostgreSQL at ${redactedUrl(config.url)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    await checkServer(client);
    // Every table is checked before any is altered: a refusal leaves the database as it was.
    const checked: CheckedTable[] = [];
    for (const table of config.tables) checked.push(await checkTable(client, table));
    const tables: PreparedTable[] = [];
    for (const table of checked) tables.push(await setReplicaIdentity(client, table));
    await preparePublication(client, config.publication, tables);
    await prepareSlot(client, config.slot);
    return tables;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkServer(client: pg.Client): Promise<void> {
  const walLevel = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level;
  if (walLevel !== 'logical') {
    throw new PostgresSetupError(
      `PostgreSQL's wal_level is ${walLevel}, not logical: set wal_level = logical in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL`,
    );
  }
  const role = (
    await client.query<{ name: string; super: boolean; replication: boolean }>(
      'SELECT rolname AS name, rolsuper AS super, rolreplication AS replication FROM pg_roles WHERE rolname = current_user',
    )
  ).rows[0];
  if (!role?.super && !role?.replication) {
    throw new PostgresSetupError(
      `role ${role?.name ?? '(unknown)'} may not read the replication stream: ALTER ROLE ${role?.name ?? '…'} REPLICATION`,
    );
  }
}

/** A table that passed the checks, with its replica identity as found (`f` is FULL). */
type CheckedTable = PreparedTable & { identity: string };

async function checkTable(
  client: pg.Client,
  table: ResolvedPostgresConfig['tables'][number],
): Promise<CheckedTable> {
  const name = `${table.schema}.${table.table}`;
  const fail = (reason: string) =>
    new PostgresSetupError(`table ${name} (${table.client}/${table.environment}): ${reason}`);
  const found = (
    await client.query<{ oid: number; kind: string; identity: string }>(
      `SELECT c.oid::int AS oid, c.relkind AS kind, c.relreplident AS identity
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [table.schema, table.table],
    )
  ).rows[0];
  if (!found) throw fail('no such table in this database');
  if (found.kind !== 'r' && found.kind !== 'p') {
    throw fail(`it is not a table (relkind ${found.kind}): expose tables only, not views or sequences`);
  }
  const primaryKey = (
    await client.query<{ name: string }>(
      `SELECT a.attname AS name
         FROM pg_index i
         JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) ON true
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1 AND i.indisprimary
        ORDER BY k.position`,
      [found.oid],
    )
  ).rows.map((r) => r.name);
  if (primaryKey.length === 0)
    throw fail('it has no primary key: an event names its row by it (ALTER TABLE … ADD PRIMARY KEY)');
  const needed = table.object === undefined ? ['SELECT'] : ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
  for (const privilege of needed) {
    const allowed = (
      await client.query<{ allowed: boolean }>('SELECT has_table_privilege($1::oid, $2) AS allowed', [
        found.oid,
        privilege,
      ])
    ).rows[0]?.allowed;
    if (!allowed) {
      throw fail(
        `the role may not ${privilege} it${table.object === undefined ? '' : ` (object ${table.object} is kept in it)`}: GRANT ${privilege} ON ${name} TO …`,
      );
    }
  }
  const columns = (
    await client.query<PreparedColumn>(
      `SELECT attname AS name, atttypid::int AS "typeOid" FROM pg_attribute
        WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [found.oid],
    )
  ).rows;
  return { ...table, oid: found.oid, columns, primaryKey, identity: found.identity };
}

/** Sets `REPLICA IDENTITY FULL` on a checked table that lacks it; returns the table. */
async function setReplicaIdentity(client: pg.Client, checked: CheckedTable): Promise<PreparedTable> {
  const { identity, ...table } = checked;
  if (identity === 'f') return table;
  const name = `${table.schema}.${table.table}`;
  try {
    await client.query(`ALTER TABLE ${quoted(client, table.schema, table.table)} REPLICA IDENTITY FULL`);
  } catch (error) {
    throw new PostgresSetupError(
      `table ${name} (${table.client}/${table.environment}): cannot set REPLICA IDENTITY FULL (${(error as Error).message}): run ALTER TABLE ${name} REPLICA IDENTITY FULL as its owner, or let the role own it`,
      { cause: error },
    );
  }
  return table;
}

async function preparePublication(
  client: pg.Client,
  publication: string,
  tables: PreparedTable[],
): Promise<void> {
  const existing = (
    await client.query<{
      all: boolean;
      insert: boolean;
      update: boolean;
      delete: boolean;
      truncate: boolean;
    }>(
      `SELECT puballtables AS all, pubinsert AS insert, pubupdate AS update, pubdelete AS delete, pubtruncate AS truncate
         FROM pg_publication WHERE pubname = $1`,
      [publication],
    )
  ).rows[0];
  const list = (names: PreparedTable[]) => names.map((t) => quoted(client, t.schema, t.table)).join(', ');
  if (!existing) {
    await publicationDdl(
      client,
      publication,
      `CREATE PUBLICATION ${client.escapeIdentifier(publication)} FOR TABLE ${list(tables)}`,
    );
    return;
  }
  const skipped = (['insert', 'update', 'delete', 'truncate'] as const).filter((op) => !existing[op]);
  if (skipped.length > 0) {
    throw new PostgresSetupError(
      `publication ${publication} does not publish ${skipped.join(', ')}: ALTER PUBLICATION ${publication} SET (publish = 'insert, update, delete, truncate'), or name another publication in postgres.publication`,
    );
  }
  if (existing.all) return;
  const published = new Set(
    (
      await client.query<{ name: string }>(
        `SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1`,
        [publication],
      )
    ).rows.map((r) => r.name),
  );
  const missing = tables.filter((t) => !published.has(`${t.schema}.${t.table}`));
  if (missing.length > 0) {
    await publicationDdl(
      client,
      publication,
      `ALTER PUBLICATION ${client.escapeIdentifier(publication)} ADD TABLE ${list(missing)}`,
    );
  }
}

async function publicationDdl(client: pg.Client, publication: string, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    throw new PostgresSetupError(
      `cannot create or extend publication ${publication} (${(error as Error).message}): run "${sql}" as the tables' owner, or let the role own them`,
      { cause: error },
    );
  }
}

async function prepareSlot(client: pg.Client, slot: string): Promise<void> {
  const existing = (
    await client.query<{ plugin: string | null; type: string; database: string | null; current: string }>(
      `SELECT plugin, slot_type AS type, database, current_database() AS current
         FROM pg_replication_slots WHERE slot_name = $1`,
      [slot],
    )
  ).rows[0];
  if (existing) {
    if (
      existing.type !== 'logical' ||
      existing.plugin !== 'pgoutput' ||
      existing.database !== existing.current
    ) {
      throw new PostgresSetupError(
        `replication slot ${slot} exists but is not a pgoutput slot of database ${existing.current} (${existing.type}, ${existing.plugin ?? 'no plugin'}, database ${existing.database ?? 'none'}): name another slot in postgres.slot, or drop it (SELECT pg_drop_replication_slot('${slot}'))`,
      );
    }
    return;
  }
  try {
    await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  } catch (error) {
    throw new PostgresSetupError(
      `cannot create replication slot ${slot} (${(error as Error).message}): check max_replication_slots and the role's REPLICATION attribute`,
      { cause: error },
    );
  }
}

function quoted(client: pg.Client, schema: string, table: string): string {
  return `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
}
