/**
 * Filters of records subscriptions over the wire (PROTOCOL.md section 4, `subscribe` and
 * `batch`): every `where` operator in both forms, the change table, `operations`, `recordId`,
 * `fields`, and how a bad filter is refused. The pure functions behind them have unit tests in
 * test/protocol/; these check that the real server applies them to snapshots and events.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { WHERE_LIMITS, type LiveRecord, type RecordEvent, type Where } from '../../protocol/index.js';
import { api, eventsBefore, recordEvents, subscribeError } from '../support/record-events.js';
import { RawClient } from '../support/raw-client.js';
import { KEYS, startTestServer, testConfig, type TestServer } from '../support/test-server.js';

/** Products with a field for every operator to bite on. */
const PRODUCTS = [
  {
    id: 'p1',
    title: 'Desk',
    price: 120,
    category: 'furniture',
    tags: ['wood', 'office'],
    dims: { w: 120, h: 75 },
    color: null,
  },
  { id: 'p2', title: 'Desk lamp', price: 35, category: 'lighting', tags: ['office'], dims: { w: 20, h: 45 } },
  { id: 'p3', title: 'Chair', price: 80, category: 'furniture', tags: [], discontinued: true },
  { id: 'p4', title: 'Lamp shade', price: '12', category: 'lighting' },
  { id: 'p5', title: 'Gift card', price: 25 },
];

type WhereCase = {
  /** What the case shows, as a sentence. */
  name: string;
  where: Where;
  /** Ids of the seeded products that match. */
  snapshot: string[];
  /** A created product that matches. */
  hit: Record<string, unknown>;
  /** A created product that does not. */
  miss: Record<string, unknown>;
};

const OBJECT_FORM: WhereCase[] = [
  {
    name: 'a plain value means $eq',
    where: { category: 'furniture' },
    snapshot: ['p1', 'p3'],
    hit: { category: 'furniture' },
    miss: { category: 'Furniture' },
  },
  {
    name: '$eq compares without type coercion',
    where: { price: { $eq: 35 } },
    snapshot: ['p2'],
    hit: { price: 35 },
    miss: { price: '35' },
  },
  {
    name: '$ne matches a missing field',
    where: { category: { $ne: 'furniture' } },
    snapshot: ['p2', 'p4', 'p5'],
    hit: { title: 'no category' },
    miss: { category: 'furniture' },
  },
  {
    name: '$gt is strict',
    where: { price: { $gt: 80 } },
    snapshot: ['p1'],
    hit: { price: 81 },
    miss: { price: 80 },
  },
  {
    name: '$gte includes the bound',
    where: { price: { $gte: 80 } },
    snapshot: ['p1', 'p3'],
    hit: { price: 80 },
    miss: { price: 79.5 },
  },
  {
    name: '$lt is strict',
    where: { price: { $lt: 35 } },
    snapshot: ['p5'],
    hit: { price: -1 },
    miss: { price: 35 },
  },
  {
    name: '$lte includes the bound and never compares a string with a number',
    where: { price: { $lte: 35 } },
    snapshot: ['p2', 'p5'],
    hit: { price: 35 },
    miss: { price: '1' },
  },
  {
    name: 'an order comparison of strings is by code units',
    where: { title: { $lt: 'D' } },
    snapshot: ['p3'],
    hit: { title: 'Armchair' },
    miss: { title: 'desk' },
  },
  {
    name: 'a string operand orders only string fields',
    where: { price: { $lt: '5' } },
    snapshot: ['p4'],
    hit: { price: '100' },
    miss: { price: 1 },
  },
  {
    name: '$in matches any listed value',
    where: { category: { $in: ['lighting', 'toys'] } },
    snapshot: ['p2', 'p4'],
    hit: { category: 'toys' },
    miss: { category: 'books' },
  },
  {
    name: '$nin matches a missing field',
    where: { category: { $nin: ['furniture', 'lighting'] } },
    snapshot: ['p5'],
    hit: { title: 'no category' },
    miss: { category: 'lighting' },
  },
  {
    name: '$exists true holds for a null field',
    where: { color: { $exists: true } },
    snapshot: ['p1'],
    hit: { color: null },
    miss: { title: 'no color' },
  },
  {
    name: '$exists false holds for a missing field only',
    where: { discontinued: { $exists: false } },
    snapshot: ['p1', 'p2', 'p4', 'p5'],
    hit: { title: 'current' },
    miss: { discontinued: false },
  },
  {
    name: '$contains finds a substring, case-sensitively',
    where: { title: { $contains: 'amp' } },
    snapshot: ['p2', 'p4'],
    hit: { title: 'Camping stool' },
    miss: { title: 'AMP' },
  },
  {
    name: '$contains finds an array element',
    where: { tags: { $contains: 'office' } },
    snapshot: ['p1', 'p2'],
    hit: { tags: ['home', 'office'] },
    miss: { tags: ['offices'] },
  },
  {
    name: '$startsWith matches a prefix',
    where: { title: { $startsWith: 'Desk' } },
    snapshot: ['p1', 'p2'],
    hit: { title: 'Desktop' },
    miss: { title: 'A Desk' },
  },
  {
    name: 'several operators on one field must all hold',
    where: { price: { $gt: 30, $lt: 100 } },
    snapshot: ['p2', 'p3'],
    hit: { price: 50 },
    miss: { price: 100 },
  },
  {
    name: '$and needs every item',
    where: { $and: [{ category: 'furniture' }, { price: { $lt: 100 } }] },
    snapshot: ['p3'],
    hit: { category: 'furniture', price: 99 },
    miss: { category: 'furniture', price: 100 },
  },
  {
    name: '$or needs one item',
    where: { $or: [{ category: 'lighting' }, { price: { $gte: 100 } }] },
    snapshot: ['p1', 'p2', 'p4'],
    hit: { price: 500 },
    miss: { category: 'toys', price: 5 },
  },
  {
    name: '$not negates a where',
    where: { $not: { category: 'furniture' } },
    snapshot: ['p2', 'p4', 'p5'],
    hit: { category: 'toys' },
    miss: { category: 'furniture' },
  },
  {
    name: 'field-level $not matches a missing field',
    where: { price: { $not: { $gt: 50 } } },
    snapshot: ['p2', 'p4', 'p5'],
    hit: { title: 'no price' },
    miss: { price: 51 },
  },
  {
    name: 'a dotted key reaches into a nested object',
    where: { 'dims.w': { $gte: 100 } },
    snapshot: ['p1'],
    hit: { dims: { w: 100, h: 1 } },
    miss: { dims: { h: 100 } },
  },
  {
    name: 'a plain object means deep equality whatever the key order',
    where: { dims: { h: 45, w: 20 } },
    snapshot: ['p2'],
    hit: { dims: { w: 20, h: 45 } },
    miss: { dims: { w: 20, h: 45, d: 1 } },
  },
  {
    name: 'a plain array means deep equality in order',
    where: { tags: ['wood', 'office'] },
    snapshot: ['p1'],
    hit: { tags: ['wood', 'office'] },
    miss: { tags: ['office', 'wood'] },
  },
];

const LIST_FORM: WhereCase[] = [
  {
    name: '= is equality',
    where: [['category', '=', 'furniture']],
    snapshot: ['p1', 'p3'],
    hit: { category: 'furniture' },
    miss: { category: 'lighting' },
  },
  {
    name: '!= matches a missing field',
    where: [['category', '!=', 'furniture']],
    snapshot: ['p2', 'p4', 'p5'],
    hit: { title: 'no category' },
    miss: { category: 'furniture' },
  },
  {
    name: '> is strict',
    where: [['price', '>', 80]],
    snapshot: ['p1'],
    hit: { price: 80.5 },
    miss: { price: 80 },
  },
  {
    name: '>= includes the bound',
    where: [['price', '>=', 80]],
    snapshot: ['p1', 'p3'],
    hit: { price: 80 },
    miss: { price: '90' },
  },
  {
    name: '< is strict',
    where: [['price', '<', 35]],
    snapshot: ['p5'],
    hit: { price: 0 },
    miss: { price: 35 },
  },
  {
    name: '<= includes the bound',
    where: [['price', '<=', 35]],
    snapshot: ['p2', 'p5'],
    hit: { price: 35 },
    miss: { price: 36 },
  },
  {
    name: 'in matches any listed value',
    where: [['category', 'in', ['lighting', 'toys']]],
    snapshot: ['p2', 'p4'],
    hit: { category: 'lighting' },
    miss: { category: 'books' },
  },
  {
    name: 'nin matches a missing field',
    where: [['category', 'nin', ['furniture', 'lighting']]],
    snapshot: ['p5'],
    hit: { category: 'toys' },
    miss: { category: 'furniture' },
  },
  {
    name: 'contains finds an array element',
    where: [['tags', 'contains', 'office']],
    snapshot: ['p1', 'p2'],
    hit: { tags: ['office'] },
    miss: { tags: [] },
  },
  {
    name: 'startswith matches a prefix',
    where: [['title', 'startswith', 'Desk']],
    snapshot: ['p1', 'p2'],
    hit: { title: 'Desk chair' },
    miss: { title: 'desk chair' },
  },
  {
    name: 'every item must hold',
    where: [
      ['category', '=', 'furniture'],
      ['price', '<', 100],
    ],
    snapshot: ['p3'],
    hit: { category: 'furniture', price: 10 },
    miss: { category: 'lighting', price: 10 },
  },
  {
    name: 'a dotted path reaches into a nested object',
    where: [['dims.h', '>', 50]],
    snapshot: ['p1'],
    hit: { dims: { h: 51 } },
    miss: { dims: { h: 50 } },
  },
  {
    name: '= with an object is deep equality',
    where: [['dims', '=', { h: 45, w: 20 }]],
    snapshot: ['p2'],
    hit: { dims: { w: 20, h: 45 } },
    miss: { dims: { w: 20 } },
  },
];

const ids = (records: readonly Record<string, unknown>[] | undefined) =>
  (records ?? []).map((r) => String(r.id)).sort();

for (const [form, cases] of [
  ['object', OBJECT_FORM],
  ['list', LIST_FORM],
] as const) {
  describe(`where, ${form} form`, () => {
    let server: TestServer;
    let client: RawClient;
    beforeEach(async () => {
      server = await startTestServer({
        config: testConfig({ records: { acme: { production: { products: PRODUCTS } } } }),
      });
      client = await RawClient.connect(server, KEYS.acmeSecret);
    });
    afterEach(async () => {
      client.close();
      await server.close();
    });

    for (const c of cases) {
      it(`${c.name}: snapshot, then added for a match and nothing for a miss`, async () => {
        const sub = await client.subscribe({
          id: 'w',
          channel: 'records:products',
          filter: { where: c.where },
          snapshot: true,
        });
        assert.deepEqual(ids(sub.snapshot), c.snapshot);
        await api.create(server, 'products', { id: 'miss', ...c.miss });
        const hit = await api.create(server, 'products', { id: 'hit', ...c.hit });
        const events = await client.waitForEvents(1, 'w');
        assert.equal(events.length, 1, JSON.stringify(events));
        assert.deepEqual(events[0], {
          ...(events[0] as RecordEvent),
          id: 'hit',
          change: 'added',
          operation: 'create',
          record: hit,
        });
        assert.deepEqual(client.invalid, []);
      });
    }
  });
}

/** Orders as testConfig seeds them: o1 and o3 pending, o2 paid. */
describe('the change table', () => {
  let server: TestServer;
  let client: RawClient;
  beforeEach(async () => {
    server = await startTestServer();
    client = await RawClient.connect(server, KEYS.acmeSecret);
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  type Expected = Pick<RecordEvent, 'operation' | 'change' | 'id'> & {
    record: LiveRecord;
    oldRecord?: LiveRecord;
    changedFields?: string[];
  };
  type Row = { name: string; write: (server: TestServer) => Promise<Expected | null> };

  const ROWS: Row[] = [
    {
      name: 'adds a created record that matches',
      write: async (s) => {
        const record = await api.create(s, 'orders', { id: 'o9', status: 'pending', total: 5 });
        return { operation: 'create', change: 'added', id: 'o9', record };
      },
    },
    {
      name: 'does not deliver a created record that does not match',
      write: async (s) => {
        await api.create(s, 'orders', { id: 'o9', status: 'paid', total: 5 });
        return null;
      },
    },
    {
      name: 'modifies a record that matches before and after an update',
      write: async (s) => {
        const oldRecord = await api.get(s, 'orders', 'o1');
        const record = await api.patch(s, 'orders', 'o1', { total: 11 });
        return {
          operation: 'update',
          change: 'modified',
          id: 'o1',
          record,
          oldRecord,
          changedFields: ['total', 'updatedAt'],
        };
      },
    },
    {
      name: 'removes a record that an update makes stop matching',
      write: async (s) => {
        const oldRecord = await api.get(s, 'orders', 'o1');
        const record = await api.patch(s, 'orders', 'o1', { status: 'paid' });
        return {
          operation: 'update',
          change: 'removed',
          id: 'o1',
          record,
          oldRecord,
          changedFields: ['status', 'updatedAt'],
        };
      },
    },
    {
      name: 'adds a record that an update makes match',
      write: async (s) => {
        const oldRecord = await api.get(s, 'orders', 'o2');
        const record = await api.patch(s, 'orders', 'o2', { status: 'pending' });
        return {
          operation: 'update',
          change: 'added',
          id: 'o2',
          record,
          oldRecord,
          changedFields: ['status', 'updatedAt'],
        };
      },
    },
    {
      name: 'does not deliver an update of a record that matches neither before nor after',
      write: async (s) => {
        await api.patch(s, 'orders', 'o2', { total: 1 });
        return null;
      },
    },
    {
      name: 'removes a deleted record that matched, with its last state',
      write: async (s) => {
        const record = await api.get(s, 'orders', 'o1');
        await api.remove(s, 'orders', 'o1');
        return { operation: 'delete', change: 'removed', id: 'o1', record };
      },
    },
    {
      name: 'does not deliver the delete of a record that did not match',
      write: async (s) => {
        await api.remove(s, 'orders', 'o2');
        return null;
      },
    },
  ];

  for (const channel of ['records:orders', 'records:*']) {
    for (const row of ROWS) {
      it(`${row.name} (${channel})`, async () => {
        const sub = await client.subscribe({
          id: 't',
          channel,
          filter: { where: { status: 'pending' } },
        });
        const expected = await row.write(server);
        await api.create(server, 'orders', { id: 'sentinel', status: 'pending' });
        const events = await eventsBefore(client, 't', (e) => e.id === 'sentinel');
        if (expected === null) {
          assert.deepEqual(events, []);
          return;
        }
        assert.equal(events.length, 1, JSON.stringify(events));
        const event = events[0] as RecordEvent;
        assert.ok(event.seq > sub.seq, `event seq ${event.seq} after subscribed seq ${sub.seq}`);
        assert.equal(typeof event.timestamp, 'string');
        assert.deepEqual(event, {
          seq: event.seq,
          sub: 't',
          channel: 'records:orders',
          object: 'orders',
          timestamp: event.timestamp,
          ...expected,
        });
        assert.deepEqual(client.invalid, []);
      });
    }
  }
});

describe('the operations filter', () => {
  let server: TestServer;
  let client: RawClient;
  beforeEach(async () => {
    server = await startTestServer();
    client = await RawClient.connect(server, KEYS.acmeSecret);
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  const CASES: { operations: string[]; delivered: string[] }[] = [
    { operations: ['create'], delivered: ['create'] },
    { operations: ['update'], delivered: ['update'] },
    { operations: ['delete'], delivered: ['delete'] },
    { operations: ['INSERT'], delivered: ['create'] },
    { operations: ['UPDATE'], delivered: ['update'] },
    { operations: ['DELETE'], delivered: ['delete'] },
    { operations: ['insert', 'Delete'], delivered: ['create', 'delete'] },
    { operations: ['uPdAtE', 'CREATE'], delivered: ['create', 'update'] },
    { operations: ['create', 'update', 'delete'], delivered: ['create', 'update', 'delete'] },
  ];

  /** Creates, updates and deletes one record. */
  async function lifecycle(id: string): Promise<void> {
    await api.create(server, 'orders', { id, status: 'pending' });
    await api.patch(server, 'orders', id, { status: 'paid' });
    await api.remove(server, 'orders', id);
  }

  for (const c of CASES) {
    it(`${JSON.stringify(c.operations)} delivers only ${c.delivered.join(', ')}`, async () => {
      await client.subscribe({ id: 'ops', channel: 'records:orders', filter: { operations: c.operations } });
      await lifecycle('o9');
      await lifecycle('sentinel');
      const last = c.delivered[c.delivered.length - 1];
      const events = await eventsBefore(client, 'ops', (e) => e.id === 'sentinel' && e.operation === last);
      assert.deepEqual(
        events.map((e) => `${e.id} ${e.operation}`),
        [...c.delivered.map((op) => `o9 ${op}`), ...c.delivered.slice(0, -1).map((op) => `sentinel ${op}`)],
      );
    });
  }

  it('delivers every operation when none is given', async () => {
    await client.subscribe({ id: 'all', channel: 'records:orders' });
    await lifecycle('o9');
    const events = (await client.waitForEvents(3, 'all')) as RecordEvent[];
    assert.deepEqual(
      events.map((e) => e.operation),
      ['create', 'update', 'delete'],
    );
  });

  it('keeps the change of an update it lets through', async () => {
    await client.subscribe({
      id: 'upd',
      channel: 'records:orders',
      filter: { operations: ['UPDATE'], where: { status: 'pending' } },
    });
    await api.patch(server, 'orders', 'o1', { status: 'paid' });
    await api.patch(server, 'orders', 'o2', { status: 'pending' });
    await api.patch(server, 'orders', 'o3', { total: 1 });
    const events = (await client.waitForEvents(3, 'upd')) as RecordEvent[];
    assert.deepEqual(
      events.map((e) => `${e.id} ${e.change}`),
      ['o1 removed', 'o2 added', 'o3 modified'],
    );
  });
});

describe('the recordId filter', () => {
  let server: TestServer;
  let client: RawClient;
  beforeEach(async () => {
    server = await startTestServer();
    client = await RawClient.connect(server, KEYS.acmeSecret);
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('snapshots and delivers only the one record', async () => {
    const sub = await client.subscribe({
      id: 'one',
      channel: 'records:orders',
      filter: { recordId: 'o1' },
      snapshot: true,
    });
    assert.deepEqual(sub.snapshot, [await api.get(server, 'orders', 'o1')]);
    await api.patch(server, 'orders', 'o3', { total: 1 });
    await api.create(server, 'orders', { id: 'o9', status: 'pending' });
    await api.patch(server, 'orders', 'o1', { total: 1 });
    await api.remove(server, 'orders', 'o3');
    await api.remove(server, 'orders', 'o1');
    const events = await eventsBefore(client, 'one', (e) => e.operation === 'delete');
    assert.deepEqual(
      events.map((e) => `${e.id} ${e.operation}`),
      ['o1 update'],
    );
  });

  it('combines with where: the record is added when it comes to match', async () => {
    const sub = await client.subscribe({
      id: 'one',
      channel: 'records:orders',
      filter: { recordId: 'o2', where: { status: 'pending' } },
      snapshot: true,
    });
    assert.deepEqual(sub.snapshot, []);
    await api.patch(server, 'orders', 'o1', { total: 1 });
    await api.patch(server, 'orders', 'o2', { status: 'pending' });
    const [event] = (await client.waitForEvents(1, 'one')) as RecordEvent[];
    assert.deepEqual([event?.id, event?.change], ['o2', 'added']);
  });

  it('watches a record that does not exist yet', async () => {
    const sub = await client.subscribe({
      id: 'one',
      channel: 'records:orders',
      filter: { recordId: 'later' },
      snapshot: true,
    });
    assert.deepEqual(sub.snapshot, []);
    await api.create(server, 'orders', { id: 'other', status: 'pending' });
    await api.create(server, 'orders', { id: 'later', status: 'pending' });
    const events = (await client.waitForEvents(1, 'one')) as RecordEvent[];
    assert.deepEqual(
      events.map((e) => e.id),
      ['later'],
    );
  });
});

describe('the fields projection', () => {
  let server: TestServer;
  let client: RawClient;
  beforeEach(async () => {
    server = await startTestServer();
    client = await RawClient.connect(server, KEYS.acmeSecret);
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  const FIELDS = ['status', 'customer.name'];

  it('projects snapshot records, always keeping id', async () => {
    const sub = await client.subscribe({
      id: 'f',
      channel: 'records:orders',
      fields: FIELDS,
      snapshot: true,
    });
    assert.deepEqual(sub.snapshot, [
      { id: 'o1', status: 'pending', customer: { name: 'Ada' } },
      { id: 'o2', status: 'paid', customer: { name: 'Grace' } },
      { id: 'o3', status: 'pending', customer: { name: 'Alan' } },
    ]);
  });

  it('sends only id when fields is empty', async () => {
    const sub = await client.subscribe({
      id: 'f',
      channel: 'records:orders',
      fields: [],
      filter: { where: { status: 'pending' } },
      snapshot: true,
    });
    assert.deepEqual(sub.snapshot, [{ id: 'o1' }, { id: 'o3' }]);
    await api.create(server, 'orders', { id: 'o9', status: 'pending', total: 3 });
    const [event] = (await client.waitForEvents(1, 'f')) as RecordEvent[];
    assert.deepEqual(event?.record, { id: 'o9' });
  });

  it('projects the record of a created and of a deleted record', async () => {
    await client.subscribe({ id: 'f', channel: 'records:orders', fields: FIELDS });
    await api.create(server, 'orders', { id: 'o9', status: 'new', total: 3, customer: { name: 'Bo', x: 1 } });
    await api.remove(server, 'orders', 'o2');
    const events = (await client.waitForEvents(2, 'f')) as RecordEvent[];
    assert.deepEqual(
      events.map((e) => [e.change, e.record, e.oldRecord, e.changedFields]),
      [
        ['added', { id: 'o9', status: 'new', customer: { name: 'Bo' } }, undefined, undefined],
        ['removed', { id: 'o2', status: 'paid', customer: { name: 'Grace' } }, undefined, undefined],
      ],
    );
  });

  it('projects record, oldRecord and changedFields of an update', async () => {
    await client.subscribe({ id: 'f', channel: 'records:orders', fields: FIELDS });
    await api.patch(server, 'orders', 'o1', { status: 'shipped', total: 12 });
    const [event] = (await client.waitForEvents(1, 'f')) as RecordEvent[];
    assert.deepEqual(event && [event.change, event.record, event.oldRecord, event.changedFields], [
      'modified',
      { id: 'o1', status: 'shipped', customer: { name: 'Ada' } },
      { id: 'o1', status: 'pending', customer: { name: 'Ada' } },
      ['status'],
    ]);
  });

  it('delivers a change of a projected nested field, naming its top-level field', async () => {
    await client.subscribe({ id: 'f', channel: 'records:orders', fields: FIELDS });
    await api.patch(server, 'orders', 'o1', { customer: { name: 'Ada L.' } });
    const [event] = (await client.waitForEvents(1, 'f')) as RecordEvent[];
    assert.deepEqual(event && [event.change, event.record, event.oldRecord, event.changedFields], [
      'modified',
      { id: 'o1', status: 'pending', customer: { name: 'Ada L.' } },
      { id: 'o1', status: 'pending', customer: { name: 'Ada' } },
      ['customer'],
    ]);
  });

  const UNPROJECTED: [string, Record<string, unknown>][] = [
    ['a field outside the projection', { total: 11 }],
    ['a nested field outside the projection', { customer: { city: 'Paris' } }],
  ];
  for (const [what, patch] of UNPROJECTED) {
    it(`does not deliver an update of ${what} that keeps the match`, async () => {
      await client.subscribe({
        id: 'f',
        channel: 'records:orders',
        fields: FIELDS,
        filter: { where: { status: 'pending' } },
      });
      await api.patch(server, 'orders', 'o1', patch);
      await api.patch(server, 'orders', 'o3', { status: 'paid' });
      const events = await eventsBefore(client, 'f', (e) => e.id === 'o3');
      assert.deepEqual(events, []);
    });
  }

  it('lists only the projected fields that changed when some unprojected ones changed too', async () => {
    await client.subscribe({ id: 'f', channel: 'records:orders', fields: FIELDS });
    await api.patch(server, 'orders', 'o1', { status: 'paid', total: 1, customer: { city: 'Paris' } });
    const [event] = (await client.waitForEvents(1, 'f')) as RecordEvent[];
    assert.deepEqual(event?.changedFields, ['status']);
  });

  it('delivers an update of unprojected fields that changes the match', async () => {
    await client.subscribe({
      id: 'f',
      channel: 'records:orders',
      fields: ['total'],
      filter: { where: { status: 'pending' } },
    });
    await api.patch(server, 'orders', 'o1', { status: 'paid' });
    await api.patch(server, 'orders', 'o2', { status: 'pending' });
    const events = (await client.waitForEvents(2, 'f')) as RecordEvent[];
    assert.deepEqual(
      events.map((e) => [e.id, e.change, e.record, e.oldRecord, e.changedFields]),
      [
        ['o1', 'removed', { id: 'o1', total: 10 }, { id: 'o1', total: 10 }, []],
        ['o2', 'added', { id: 'o2', total: 250 }, { id: 'o2', total: 250 }, []],
      ],
    );
  });

  it('projects each subscription of a connection by its own fields', async () => {
    await client.subscribe({ id: 'narrow', channel: 'records:orders', fields: ['total'] });
    await client.subscribe({ id: 'wide', channel: 'records:orders' });
    const full = await api.patch(server, 'orders', 'o1', { total: 12 });
    await client.waitForEvents(1, 'narrow');
    await client.waitForEvents(1, 'wide');
    assert.deepEqual(recordEvents(client, 'narrow')[0]?.record, { id: 'o1', total: 12 });
    assert.deepEqual(recordEvents(client, 'wide')[0]?.record, full);
  });
});

describe('a bad filter', () => {
  let server: TestServer;
  let client: RawClient;
  before(async () => (server = await startTestServer()));
  after(() => server.close());
  beforeEach(async () => (client = await RawClient.connect(server, KEYS.acmeSecret)));
  afterEach(() => client.close());

  /** `$not` nested `levels` times around a plain field. */
  const deep = (levels: number): Where => {
    let where: Where = { status: 'pending' };
    for (let i = 0; i < levels; i++) where = { $not: where };
    return where;
  };

  const CASES: { name: string; filter: Record<string, unknown>; says: string[] }[] = [
    {
      name: 'an unknown field operator',
      filter: { where: { total: { $regex: '^1' } } },
      says: ['filter.where', '$regex'],
    },
    {
      name: 'an unknown top-level operator',
      filter: { where: { $nor: [{ status: 'paid' }] } },
      says: ['filter.where', '$nor'],
    },
    {
      name: 'an operator object mixed with plain keys',
      filter: { where: { customer: { $exists: true, name: 'Ada' } } },
      says: ['filter.where.customer', 'mixes'],
    },
    {
      name: '$in without an array',
      filter: { where: { status: { $in: 'paid' } } },
      says: ['filter.where.status', '$in', 'array'],
    },
    {
      name: 'a forbidden path segment',
      filter: { where: { 'customer.constructor': 1 } },
      says: ['filter.where', 'constructor'],
    },
    {
      name: 'a list item that is not a triple',
      filter: { where: [['status', '=']] },
      says: ['filter.where.0', 'item 0', '[path, operator, value]'],
    },
    {
      name: 'a list item that is not an array',
      filter: { where: [['total', '>', 1], 'status'] },
      says: ['filter.where.1', 'item 1'],
    },
    {
      name: 'an unknown list operator',
      filter: { where: [['total', '~', 1]] },
      says: ['filter.where.0', '"~"'],
    },
    {
      name: 'a where nested too deep',
      filter: { where: deep(WHERE_LIMITS.maxDepth) },
      says: ['filter.where', `more than ${WHERE_LIMITS.maxDepth} levels`],
    },
    {
      name: 'a where with too many terms',
      filter: { where: { status: { $in: Array.from({ length: WHERE_LIMITS.maxTerms }, (_, i) => i) } } },
      says: ['filter.where', `more than ${WHERE_LIMITS.maxTerms} terms`],
    },
    {
      name: 'a where that is neither an object nor a list',
      filter: { where: 'status = pending' },
      says: ['filter.where', 'object', 'list'],
    },
    {
      name: 'an unknown operation',
      filter: { operations: ['create', 'upsert'] },
      says: ['filter.operations.1', 'create, update or delete'],
    },
  ];

  for (const c of CASES) {
    it(`answers ${c.name} with 4000 naming the problem, and the connection stays usable`, async () => {
      const error = await subscribeError(client, { id: 'bad', channel: 'records:orders', filter: c.filter });
      assert.equal(error.code, 4000);
      assert.equal(error.name, 'bad_request');
      assert.equal(error.id, 'bad');
      for (const part of c.says) assert.ok(error.message.includes(part), `"${error.message}" names ${part}`);
      const sub = await client.subscribe({ id: 'bad', channel: 'records:orders', snapshot: true });
      assert.ok(sub.snapshot?.some((r) => r.id === 'o1'));
      assert.equal(client.closed, undefined);
    });
  }

  it('accepts a where exactly at the depth limit', async () => {
    // The where itself is level 1 and each $not one more: deep(n) reaches level n + 1.
    const sub = await client.subscribe({
      id: 'deep',
      channel: 'records:orders',
      filter: { where: deep(WHERE_LIMITS.maxDepth - 1) },
      snapshot: true,
    });
    assert.ok(Array.isArray(sub.snapshot));
  });

  it('delivers nothing to a subscription whose filter was refused', async () => {
    await subscribeError(client, { id: 'bad', channel: 'records:orders', filter: { where: { $x: 1 } } });
    await client.subscribe({ id: 'good', channel: 'records:orders' });
    await api.create(server, 'orders', { id: `o-${Date.now()}`, status: 'pending' });
    await client.waitForEvents(1, 'good');
    assert.deepEqual(client.events('bad'), []);
  });
});
