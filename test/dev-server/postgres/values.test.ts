/**
 * PostgreSQL values → JSON (PROTOCOL.md §10, `dev-server/sources/postgres/values.ts`) against a
 * real PostgreSQL 15: every row is read twice, by SELECT over a raw-text connection and through
 * logical replication (pgoutput, pg-logical-replication), and both must map to the same JSON
 * value, the one spelled out here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type { JsonValue } from '../../../protocol/index.js';
import { PgTypeCatalog } from '../../../dev-server/sources/postgres/type-catalog.js';
import {
  fieldColumns,
  keepWireText,
  mapRow,
  mapValue,
  PG_SESSION_OPTIONS,
  RAW_TEXT_TYPES,
  recordId,
} from '../../../dev-server/sources/postgres/values.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';

/** Every type §10 names, plus types only the catalog knows (domain, enum, uuid[], box[], …). */
const COLUMNS = {
  i2: 'int2',
  i4: 'int4',
  i8: 'int8',
  num: 'numeric',
  f4: 'float4',
  f8: 'float8',
  b: 'bool',
  t: 'text',
  vc: 'varchar(40)',
  js: 'json',
  jb: 'jsonb',
  tz: 'timestamptz',
  ts: 'timestamp',
  d: 'date',
  tm: 'time',
  by: 'bytea',
  ta: 'text[]',
  i4a: 'int4[]',
  i8a: 'int8[]',
  numa: 'numeric[]',
  jba: 'jsonb[]',
  ba: 'bool[]',
  tza: 'timestamptz[]',
  u: 'uuid',
  m: 'mood',
  ma: 'mood[]',
  iv: 'interval',
  dom: 'positive',
  doma: 'positive[]',
  ua: 'uuid[]',
  vca: 'varchar[]',
  bx: 'box[]',
} as const;

type Column = keyof typeof COLUMNS;

interface Case {
  readonly name: string;
  readonly id: number;
  /** SQL expressions of the non-NULL columns. */
  readonly sql: Partial<Record<Column, string>>;
  /** Their JSON values; every other column is null. */
  readonly json: Partial<Record<Column, JsonValue>>;
}

const CASES: readonly Case[] = [
  {
    name: 'maps extreme and unusual values of every type',
    id: 1,
    sql: {
      i2: '32767',
      i4: '2147483647',
      i8: '9007199254740993',
      num: '12345678901234567890.123456789',
      f4: `'0.1'`,
      f8: `'0.1'`,
      b: 'true',
      t: `$$he said "hi"$$ || E'\\n' || $$🙂 it's a back\\slash$$`,
      vc: `'varchar, with comma'`,
      js: `'{"b": [1, 2.5], "a": null}'`,
      jb: `'{"k": [1, [2, null]], "n": null, "s": "x"}'`,
      tz: `'2024-06-01 17:30:00.654321+05:30'`,
      ts: `'2024-01-02 03:04:05.123'`,
      d: `'2024-01-02'`,
      tm: `'03:04:05.5'`,
      by: `'\\xdeadbeef'`,
      ta: `ARRAY['a', NULL, 'NULL', '', 'c,d', '"q"', 'back\\slash', '{x}', 'sp ace']`,
      i4a: `'{{1,2},{3,NULL}}'`,
      i8a: `'{9007199254740991,9007199254740993,-5}'`,
      numa: `'{0.1,1.10,12345678901234567890.1,NaN}'`,
      jba: `ARRAY['{"a": 1}', '[1, "x"]', 'null', NULL]::jsonb[]`,
      ba: `'{t,f,NULL}'`,
      tza: `ARRAY['2024-06-01 17:30:00.5+05:30', 'infinity']::timestamptz[]`,
      u: `'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'`,
      m: `'so, so'`,
      ma: `'{ok,"so, so",NULL}'`,
      iv: `'1 year 2 mons 3 days 04:05:06.7'`,
      dom: '5',
      doma: `'{1,2}'`,
      ua: `'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'`,
      vca: `'{a,"b c",""}'`,
      bx: `ARRAY[box '((1,1),(0,0))', box '((3,3),(2,2))', NULL]`,
    },
    json: {
      i2: 32767,
      i4: 2147483647,
      i8: '9007199254740993',
      num: '12345678901234567890.123456789',
      f4: 0.1,
      f8: 0.1,
      b: true,
      t: `he said "hi"\n🙂 it's a back\\slash`,
      vc: 'varchar, with comma',
      js: { b: [1, 2.5], a: null },
      jb: { k: [1, [2, null]], n: null, s: 'x' },
      tz: '2024-06-01T12:00:00.654321Z',
      ts: '2024-01-02T03:04:05.123000',
      d: '2024-01-02',
      tm: '03:04:05.500000',
      by: '3q2+7w==',
      ta: ['a', null, 'NULL', '', 'c,d', '"q"', 'back\\slash', '{x}', 'sp ace'],
      i4a: [
        [1, 2],
        [3, null],
      ],
      i8a: [9007199254740991, '9007199254740993', -5],
      numa: [0.1, 1.1, '12345678901234567890.1', 'NaN'],
      jba: [{ a: 1 }, [1, 'x'], null, null],
      ba: [true, false, null],
      tza: ['2024-06-01T12:00:00.500000Z', 'infinity'],
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      m: 'so, so',
      ma: ['ok', 'so, so', null],
      iv: '1 year 2 mons 3 days 04:05:06.7',
      dom: 5,
      doma: [1, 2],
      ua: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', null],
      vca: ['a', 'b c', ''],
      bx: ['(1,1),(0,0)', '(3,3),(2,2)', null],
    },
  },
  {
    name: 'keeps NaN, infinities and integers past 2^53 as text',
    id: 2,
    sql: {
      i2: '-32768',
      i4: '-2147483648',
      i8: '-9007199254740993',
      num: `'NaN'`,
      f4: `'NaN'`,
      f8: `'Infinity'`,
      b: 'false',
      t: `''`,
      js: `'[]'`,
      jb: `'null'`,
      tz: `'infinity'`,
      ts: `'-infinity'`,
      d: `'infinity'`,
      tm: `'24:00:00'`,
      by: `'\\x'`,
      ta: `'{}'`,
      i4a: `'{}'`,
      tza: `ARRAY['-infinity']::timestamptz[]`,
    },
    json: {
      i2: -32768,
      i4: -2147483648,
      i8: '-9007199254740993',
      num: 'NaN',
      f4: 'NaN',
      f8: 'Infinity',
      b: false,
      t: '',
      js: [],
      jb: null,
      tz: 'infinity',
      ts: '-infinity',
      d: 'infinity',
      tm: '24:00:00.000000',
      by: '',
      ta: [],
      i4a: [],
      tza: ['-infinity'],
    },
  },
  {
    name: 'gives exact decimals as numbers, whatever their scale',
    id: 3,
    sql: {
      i8: '9007199254740991',
      num: '1.10',
      f4: `'3.4028235e+38'`,
      f8: `'-Infinity'`,
      tz: `'0044-03-15 12:00:00+00 BC'`,
      ts: `'10000-01-01 00:00:00.5'`,
      d: `'0044-03-15 BC'`,
      numa: `'{0.0000001,-0.5,100.000,9007199254740992.0}'`,
    },
    json: {
      i8: 9007199254740991,
      num: 1.1,
      f4: 3.4028235e38,
      f8: '-Infinity',
      tz: '0044-03-15 12:00:00+00 BC',
      ts: '+010000-01-01T00:00:00.500000',
      d: '0044-03-15 BC',
      numa: [1e-7, -0.5, 100, '9007199254740992.0'],
    },
  },
  {
    name: 'writes years past 9999 in the expanded ISO form',
    id: 4,
    sql: {
      i8: '-9007199254740991',
      num: '0.1',
      f8: `'1e-7'`,
      tz: `'10000-01-01 00:00:00+00'`,
      d: `'10000-01-01'`,
      ts: `'294276-12-31 23:59:59.999999'`,
      tza: `ARRAY['294276-12-31 23:59:59.999999+00', '0001-01-01 00:00:00+00']::timestamptz[]`,
    },
    json: {
      i8: -9007199254740991,
      num: 0.1,
      f8: 1e-7,
      tz: '+010000-01-01T00:00:00.000000Z',
      d: '+010000-01-01',
      ts: '+294276-12-31T23:59:59.999999',
      tza: ['+294276-12-31T23:59:59.999999Z', '0001-01-01T00:00:00.000000Z'],
    },
  },
  { name: 'maps NULL in every column to null', id: 5, sql: {}, json: {} },
];

function expectedRow(test: Case): Record<string, JsonValue> {
  const row: Record<string, JsonValue> = { id: test.id };
  for (const column of Object.keys(COLUMNS) as Column[]) row[column] = test.json[column] ?? null;
  return row;
}

function insertSql(test: Case): string {
  const columns = ['id', ...Object.keys(test.sql)];
  const values = [String(test.id), ...Object.values(test.sql)];
  return `INSERT INTO everything (${columns.join(', ')}) VALUES (${values.join(', ')})`;
}

type WireRow = Record<string, string | null>;

describe('PostgreSQL values (§10)', () => {
  let cluster: PostgresCluster;
  let client: pg.Client;
  let catalog: PgTypeCatalog;
  let service: LogicalReplicationService;
  const changes: (Pgoutput.MessageInsert | Pgoutput.MessageUpdate)[] = [];
  let changeArrived = (): void => {};
  let streamError: Error | undefined;

  /** The next replicated insert or update, in stream order; fails rather than hangs. */
  async function nextChange(): Promise<Pgoutput.MessageInsert | Pgoutput.MessageUpdate> {
    const deadline = Date.now() + 10_000;
    while (changes.length === 0) {
      if (streamError) throw streamError;
      if (Date.now() > deadline) throw new Error('no change replicated within 10 s');
      await new Promise<void>((resolve) => {
        changeArrived = resolve;
        setTimeout(resolve, 100);
      });
    }
    return changes.shift() as Pgoutput.MessageInsert | Pgoutput.MessageUpdate;
  }

  async function mapReplicated(relation: Pgoutput.MessageRelation, row: WireRow) {
    await catalog.load(relation.columns.map((column) => column.typeOid));
    return mapRow(catalog, relation.columns, row);
  }

  async function selectRow(id: number) {
    const result = await client.query<WireRow>('SELECT * FROM everything WHERE id = $1', [id]);
    const columns = fieldColumns(result.fields);
    await catalog.load(columns.map((column) => column.typeOid));
    return mapRow(catalog, columns, result.rows[0] as WireRow);
  }

  before(async () => {
    cluster = await PostgresCluster.start();
    client = new pg.Client({
      connectionString: cluster.url(),
      options: PG_SESSION_OPTIONS,
      types: RAW_TEXT_TYPES,
    });
    await client.connect();
    catalog = new PgTypeCatalog(client);
    const columns = Object.entries(COLUMNS).map(([name, type]) => `${name} ${type}`);
    await client.query(`
      CREATE TYPE mood AS ENUM ('ok', 'sad', 'so, so');
      CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
      CREATE TABLE everything (id int4 PRIMARY KEY, ${columns.join(', ')});
      ALTER TABLE everything REPLICA IDENTITY FULL;
      CREATE PUBLICATION values_test FOR TABLE everything;`);
    // Not in the statement above: a slot cannot be created in a transaction that has written.
    await client.query(`SELECT pg_create_logical_replication_slot('values_test', 'pgoutput')`);

    service = new LogicalReplicationService(
      { connectionString: cluster.url(), options: PG_SESSION_OPTIONS },
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    service.on('error', (error: Error) => (streamError = error));
    service.on('data', (_lsn: string, message: Pgoutput.Message) => {
      if (message.tag === 'relation') keepWireText(message);
      if (message.tag === 'insert' || message.tag === 'update') {
        changes.push(message);
        changeArrived();
      }
    });
    // Resolves only when the stream ends; the slot holds every change since its creation anyway.
    service
      .subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: ['values_test'] }), 'values_test')
      .catch((error: Error) => (streamError ??= error));
    for (const test of CASES) await client.query(insertSql(test));
  });

  after(async () => {
    await service?.stop();
    await client?.end();
    await cluster?.stop();
  });

  for (const test of CASES) {
    it(test.name, async () => {
      const change = await nextChange();
      assert.equal(change.tag, 'insert');
      const replicated = await mapReplicated(change.relation, change.new as WireRow);
      const selected = await selectRow(test.id);
      assert.deepStrictEqual(replicated, selected, 'replication and SELECT agree');
      assert.deepStrictEqual(selected, expectedRow(test));
    });
  }

  it('maps both rows of an UPDATE under REPLICA IDENTITY FULL', async () => {
    await client.query(
      `UPDATE everything SET i4 = 7, jb = jb || '{"s": "y"}', tza = tza || '2000-01-01 00:00:00+00'::timestamptz WHERE id = 1`,
    );
    const change = await nextChange();
    assert.equal(change.tag, 'update');
    const update = change as Pgoutput.MessageUpdate;
    assert.ok(update.old, 'FULL sends the old row');
    const before = expectedRow(CASES[0] as Case);
    const after = {
      ...before,
      i4: 7,
      jb: { k: [1, [2, null]], n: null, s: 'y' },
      tza: ['2024-06-01T12:00:00.500000Z', 'infinity', '2000-01-01T00:00:00.000000Z'],
    };
    assert.deepStrictEqual(await mapReplicated(update.relation, update.old as WireRow), before);
    const replicated = await mapReplicated(update.relation, update.new as WireRow);
    assert.deepStrictEqual(replicated, await selectRow(1), 'replication and SELECT agree');
    assert.deepStrictEqual(replicated, after);
  });

  it('applies any UTC offset, so the value does not depend on the session time zone', async () => {
    const cases = [
      // [the instant, the text under America/New_York, its mapped value]
      ['1883-11-18 12:00:00+00', '1883-11-18 07:03:58-04:56:02', '1883-11-18T12:00:00.000000Z'],
      ['0001-01-01 12:00:00.25+00', '0001-01-01 07:03:58.25-04:56:02', '0001-01-01T12:00:00.250000Z'],
      ['2024-06-01 02:00:00.000001+00', '2024-05-31 22:00:00.000001-04', '2024-06-01T02:00:00.000001Z'],
    ];
    const other = new pg.Client({
      connectionString: cluster.url(),
      options: '-c DateStyle=ISO -c TimeZone=America/New_York',
      types: RAW_TEXT_TYPES,
    });
    await other.connect();
    try {
      for (const [instant, local, json] of cases) {
        const { rows } = await other.query<{ t: string }>('SELECT $1::timestamptz AS t', [instant]);
        assert.equal(rows[0]?.t, local);
        assert.equal(mapValue(catalog, 1184, local as string), json);
      }
    } finally {
      await other.end();
    }
  });

  it('refuses text written under other session settings, naming the fix', () => {
    assert.throws(() => mapValue(catalog, 1184, '01/06/2024 17:30:00.654321 IST'), /PG_SESSION_OPTIONS/);
    assert.throws(() => mapValue(catalog, 17, '\\336\\255'), /bytea_output=hex/);
    assert.throws(() => mapValue(catalog, 999999, 'x'), /not loaded/);
  });

  it('makes the id from the mapped primary key values', async () => {
    const row = await selectRow(1);
    assert.equal(recordId([row.id as JsonValue]), '1');
    assert.equal(recordId([row.u as JsonValue]), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    assert.equal(recordId([row.i8 as JsonValue]), '9007199254740993');
    assert.equal(
      recordId([row.id as JsonValue, row.t as JsonValue]),
      `[1,"he said \\"hi\\"\\n🙂 it's a back\\\\slash"]`,
    );
    assert.equal(recordId([row.b as JsonValue]), 'true');
  });
});
