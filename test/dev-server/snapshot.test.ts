/**
 * Snapshots of records subscriptions over the wire (PROTOCOL.md section 4, `subscribe`): `true`
 * versus a sorted, limited window, `truncated` and the caps, the `seq` a snapshot reflects,
 * `records:*`, replacing a subscription, and the REST list that answers the same query.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  PROTOCOL_BOUNDS,
  type RecordEvent,
  type RecordListResponse,
  type SnapshotRequest,
  type SubscribedMessage,
  type Where,
} from '../../protocol/index.js';
import { api, eventsBefore, recordEvents, subscribeError } from '../support/record-events.js';
import { RawClient, rest, sleep } from '../support/raw-client.js';
import { KEYS, startTestServer, testConfig, type TestServer } from '../support/test-server.js';

/** Orders with ties, nulls and missing fields to sort. */
const ORDERS = [
  { id: 'a1', status: 'pending', total: 10, priority: 2, customer: { name: 'Ada', city: 'London' } },
  { id: 'a2', status: 'paid', total: 250, priority: null },
  { id: 'a3', status: 'pending', total: 99, priority: 1, customer: { name: 'Alan', city: 'Manchester' } },
  { id: 'a4', status: 'paid', total: 10 },
  { id: 'a5', status: 'pending', priority: 3 },
  { id: 'a6', status: 'refunded', total: null, priority: 2, customer: { name: 'Grace', city: 'Madrid' } },
];

const withOrders = (orders: readonly Record<string, unknown>[]) =>
  testConfig({ records: { acme: { production: { orders, products: [{ id: 'p1', title: 'Desk' }] } } } });

const ids = (records: readonly Record<string, unknown>[] | undefined) =>
  (records ?? []).map((r) => String(r.id));

/** The `welcome` a client got when it connected. */
function welcomeOf(client: RawClient) {
  const welcome = client.messages.find((m) => m.type === 'welcome');
  assert.ok(welcome?.type === 'welcome');
  return welcome;
}

describe('snapshot: true and a window', () => {
  let server: TestServer;
  let client: RawClient;
  before(async () => {
    server = await startTestServer({ config: withOrders(ORDERS) });
    client = await RawClient.connect(server, KEYS.acmeSecret);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it('true sends every matching record as stored', async () => {
    const sub = await client.subscribe({
      id: 'all',
      channel: 'records:orders',
      filter: { where: { status: 'pending' } },
      snapshot: true,
    });
    const expected = await Promise.all(['a1', 'a3', 'a5'].map((id) => api.get(server, 'orders', id)));
    assert.deepEqual(
      [...(sub.snapshot ?? [])].sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1)),
      expected,
    );
    assert.equal(sub.truncated, undefined);
  });

  it('an empty window is the same as true', async () => {
    const sub = await client.subscribe({ id: 'empty', channel: 'records:orders', snapshot: {} });
    assert.deepEqual(ids(sub.snapshot).sort(), ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
  });

  for (const snapshot of [undefined, false] as const) {
    it(`${String(snapshot)} sends no snapshot`, async () => {
      const sub = await client.subscribe({ id: 'none', channel: 'records:orders', snapshot });
      assert.equal('snapshot' in sub, false);
      assert.equal('truncated' in sub, false);
    });
  }

  const SORTS: { sort: string[]; order: string[] }[] = [
    { sort: ['total'], order: ['a1', 'a4', 'a3', 'a2', 'a5', 'a6'] },
    { sort: ['-total'], order: ['a2', 'a3', 'a1', 'a4', 'a5', 'a6'] },
    { sort: ['status', '-total'], order: ['a2', 'a4', 'a3', 'a1', 'a5', 'a6'] },
    { sort: ['-priority', 'total'], order: ['a5', 'a1', 'a6', 'a3', 'a4', 'a2'] },
    { sort: ['customer.name'], order: ['a1', 'a3', 'a6', 'a2', 'a4', 'a5'] },
    { sort: ['-customer.name'], order: ['a6', 'a3', 'a1', 'a2', 'a4', 'a5'] },
  ];
  for (const { sort, order } of SORTS) {
    it(`sorts by ${sort.join(', ')} with missing and null values last`, async () => {
      const sub = await client.subscribe({ id: 'sorted', channel: 'records:orders', snapshot: { sort } });
      assert.deepEqual(ids(sub.snapshot), order);
      assert.equal(sub.truncated, undefined);
    });
  }

  const WINDOWS: {
    name: string;
    where?: Where;
    snapshot: SnapshotRequest;
    order: string[];
    truncated: boolean;
  }[] = [
    {
      name: 'limit cuts the sorted list',
      snapshot: { sort: ['-total'], limit: 2 },
      order: ['a2', 'a3'],
      truncated: true,
    },
    {
      name: 'limit applies to the matching records',
      where: { status: 'pending' },
      snapshot: { sort: ['-total'], limit: 2 },
      order: ['a3', 'a1'],
      truncated: true,
    },
    {
      name: 'a limit equal to the matches is not truncated',
      where: { status: 'pending' },
      snapshot: { sort: ['total'], limit: 3 },
      order: ['a1', 'a3', 'a5'],
      truncated: false,
    },
    {
      name: 'a limit above the matches is not truncated',
      where: { status: 'paid' },
      snapshot: { sort: ['-total'], limit: 1000 },
      order: ['a2', 'a4'],
      truncated: false,
    },
    {
      name: 'nothing matching is an empty snapshot',
      where: { status: 'lost' },
      snapshot: { limit: 1 },
      order: [],
      truncated: false,
    },
  ];
  for (const w of WINDOWS) {
    it(`${w.name}${w.truncated ? ', and says truncated' : ''}`, async () => {
      const sub = await client.subscribe({
        id: 'window',
        channel: 'records:orders',
        ...(w.where ? { filter: { where: w.where } } : {}),
        snapshot: w.snapshot,
      });
      assert.deepEqual(ids(sub.snapshot), w.order);
      assert.equal(sub.truncated, w.truncated ? true : undefined);
    });
  }

  it('a limit without sort still sends at most limit records', async () => {
    const sub = await client.subscribe({ id: 'lim', channel: 'records:orders', snapshot: { limit: 4 } });
    assert.equal(sub.snapshot?.length, 4);
    assert.equal(sub.truncated, true);
  });

  it('shapes the snapshot only: events cover every record matching where', async () => {
    const sub = await client.subscribe({
      id: 'top',
      channel: 'records:orders',
      filter: { where: { status: 'paid' } },
      snapshot: { sort: ['-total'], limit: 1 },
    });
    assert.deepEqual(ids(sub.snapshot), ['a2']);
    await api.patch(server, 'orders', 'a4', { total: 11 });
    const [event] = (await client.waitForEvents(1, 'top')) as RecordEvent[];
    assert.deepEqual([event?.id, event?.change], ['a4', 'modified']);
  });

  const BAD_WINDOWS: { snapshot: unknown; says: string }[] = [
    { snapshot: { limit: PROTOCOL_BOUNDS.maxSnapshotLimit + 1 }, says: 'snapshot' },
    { snapshot: { limit: 0 }, says: 'snapshot' },
    { snapshot: { limit: 2.5 }, says: 'snapshot' },
    { snapshot: { sort: ['-'] }, says: 'sort' },
    // zod reports a union whose every branch fails on type as "snapshot: Invalid input".
    { snapshot: { sort: 'total' }, says: 'snapshot' },
    { snapshot: { size: 3 }, says: 'snapshot' },
  ];
  for (const { snapshot, says } of BAD_WINDOWS) {
    it(`answers snapshot ${JSON.stringify(snapshot)} with 4000`, async () => {
      const error = await subscribeError(client, { id: 'badwin', channel: 'records:orders', snapshot });
      assert.deepEqual([error.code, error.name, error.id], [4000, 'bad_request', 'badwin']);
      assert.ok(error.message.includes(says), error.message);
    });
  }
});

describe('the snapshot caps', () => {
  const COUNT = PROTOCOL_BOUNDS.maxSnapshotRecords + 1;
  let server: TestServer;
  let client: RawClient;
  before(async () => {
    const many = Array.from({ length: COUNT }, (_, i) => ({ id: `m${String(i).padStart(5, '0')}`, n: i }));
    server = await startTestServer({ config: withOrders(many) });
    client = await RawClient.connect(server, KEYS.acmeSecret);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it(`sends at most ${PROTOCOL_BOUNDS.maxSnapshotRecords} records, saying truncated`, async () => {
    const sub = await client.subscribe({
      id: 'cap',
      channel: 'records:orders',
      fields: ['n'],
      snapshot: true,
    });
    assert.equal(sub.snapshot?.length, PROTOCOL_BOUNDS.maxSnapshotRecords);
    assert.equal(sub.truncated, true);
  });

  it(`accepts a limit of ${PROTOCOL_BOUNDS.maxSnapshotLimit}`, async () => {
    const sub = await client.subscribe({
      id: 'max',
      channel: 'records:orders',
      snapshot: { limit: PROTOCOL_BOUNDS.maxSnapshotLimit, sort: ['-n'] },
    });
    assert.equal(sub.snapshot?.length, PROTOCOL_BOUNDS.maxSnapshotLimit);
    assert.equal(sub.snapshot?.[0]?.n, COUNT - 1);
    assert.equal(sub.truncated, true);
  });

  it(`refuses a limit of ${PROTOCOL_BOUNDS.maxSnapshotLimit + 1} with 4000 and stays usable`, async () => {
    const error = await subscribeError(client, {
      id: 'over',
      channel: 'records:orders',
      snapshot: { limit: PROTOCOL_BOUNDS.maxSnapshotLimit + 1 },
    });
    assert.deepEqual([error.code, error.id], [4000, 'over']);
    assert.ok(error.message.includes('snapshot.limit'), error.message);
    assert.ok(error.message.includes(String(PROTOCOL_BOUNDS.maxSnapshotLimit)), error.message);
    const sub = await client.subscribe({ id: 'over', channel: 'records:orders', snapshot: { limit: 1 } });
    assert.equal(sub.snapshot?.length, 1);
  });
});

describe('the seq of subscribed', () => {
  let server: TestServer;
  beforeEach(async () => (server = await startTestServer()));
  afterEach(() => server.close());

  it("equals the environment's seq, and every later event has a larger one", async () => {
    await api.create(server, 'orders', { id: 'x1', status: 'pending' });
    await api.create(server, 'orders', { id: 'x2', status: 'pending' });
    await api.patch(server, 'orders', 'x1', { total: 1 });
    const client = await RawClient.connect(server, KEYS.acmeSecret);
    const welcome = welcomeOf(client);
    assert.equal(welcome.seq, 3);
    const sub = await client.subscribe({ id: 's', channel: 'records:orders', snapshot: true });
    assert.equal(sub.seq, welcome.seq);
    assert.deepEqual(ids(sub.snapshot).sort(), ['o1', 'o2', 'o3', 'x1', 'x2']);
    assert.equal(sub.snapshot?.find((r) => r.id === 'x1')?.total, 1);

    await api.create(server, 'orders', { id: 'x3', status: 'pending' });
    await api.remove(server, 'orders', 'x2');
    const events = await client.waitForEvents(2, 's');
    assert.deepEqual(
      events.map((e) => e.seq),
      [sub.seq + 1, sub.seq + 2],
    );
    client.close();
  });

  it('is the seq of the latest commit also without a snapshot, and for a later subscription', async () => {
    const client = await RawClient.connect(server, KEYS.acmeSecret);
    const first = await client.subscribe({ id: 'first', channel: 'records:orders' });
    assert.equal(first.seq, welcomeOf(client).seq);
    await api.create(server, 'orders', { id: 'x1' });
    await api.create(server, 'products', { id: 'x2' });
    await api.create(server, 'orders', { id: 'x3' });
    const seen = await client.waitForEvents(2, 'first');
    const second = await client.subscribe({ id: 'second', channel: 'records:products', snapshot: true });
    assert.equal(second.seq, first.seq + 3);
    assert.equal(seen.at(-1)?.seq, second.seq);
    await api.patch(server, 'products', 'x2', { title: 'Lamp' });
    const [event] = await client.waitForEvents(1, 'second');
    assert.ok((event?.seq ?? 0) > second.seq);
    client.close();
  });

  it('puts a record written while subscribing in the snapshot or in the events after it, once', async () => {
    const watcher = await RawClient.connect(server, KEYS.acmeSecret);
    await watcher.subscribe({ id: 'w', channel: 'records:orders' });
    const client = await RawClient.connect(server, KEYS.acmeSecret);
    for (let i = 0; i < 15; i++) {
      const id = `race${i}`;
      // One of the two starts up to 2 ms after the other, so they land in either order.
      const lag = (i % 5) - 2;
      const [, sub] = await Promise.all([
        sleep(Math.max(0, -lag)).then(() => api.create(server, 'orders', { id })),
        sleep(Math.max(0, lag)).then(() =>
          client.subscribe({ id: `r${i}`, channel: 'records:orders', snapshot: true }),
        ),
      ]);
      await api.create(server, 'orders', { id: `after${i}` });
      const written = (await eventsBefore(watcher, 'w', (e) => e.id === `after${i}`)).find(
        (e) => e.id === id,
      );
      assert.ok(written);
      const events = await eventsBefore(client, `r${i}`, (e) => e.id === `after${i}`);
      const snapshotted = sub.snapshot?.some((r) => r.id === id) ?? false;
      if (snapshotted) {
        assert.ok(sub.seq >= written.seq, `snapshot with ${id} (seq ${written.seq}) says seq ${sub.seq}`);
        assert.deepEqual(events, []);
      } else {
        assert.ok(sub.seq < written.seq, `snapshot without ${id} (seq ${written.seq}) says seq ${sub.seq}`);
        assert.deepEqual(
          events.map((e) => [e.id, e.seq, e.change]),
          [[id, written.seq, 'added']],
        );
      }
    }
    watcher.close();
    client.close();
  });
});

describe('records:*', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());
  let client: RawClient | undefined;
  afterEach(() => client?.close());

  for (const snapshot of [true, { limit: 5 }, { sort: ['id'] }] as const) {
    it(`refuses snapshot ${JSON.stringify(snapshot)} with 4000 and stays usable`, async () => {
      client = await RawClient.connect(server, KEYS.acmeSecret);
      const error = await subscribeError(client, { id: 'star', channel: 'records:*', snapshot });
      assert.deepEqual([error.code, error.name, error.id], [4000, 'bad_request', 'star']);
      assert.ok(error.message.includes('snapshot'), error.message);
      const sub = await client.subscribe({ id: 'star', channel: 'records:*', snapshot: false });
      assert.equal(sub.snapshot, undefined);
    });
  }

  const KEYS_AND_OBJECTS: { key: string; who: string; objects: string[] }[] = [
    { key: KEYS.acmeSecret, who: 'a secret key', objects: ['orders', 'products'] },
    { key: KEYS.acmePublic, who: 'a publishable key without objects', objects: ['orders', 'products'] },
    { key: KEYS.acmeProductsOnly, who: 'a publishable key limited to products', objects: ['products'] },
  ];
  for (const { key, who, objects } of KEYS_AND_OBJECTS) {
    it(`delivers ${who} the events of ${objects.join(' and ')}, each on its concrete channel`, async () => {
      client = await RawClient.connect(server, key);
      await client.subscribe({ id: 'star', channel: 'records:*' });
      const tag = `${Date.now()}-${objects.length}-${key.length}`;
      await api.create(server, 'orders', { id: `o-${tag}` });
      await api.create(server, 'products', { id: `p-${tag}` });
      await api.create(server, 'orders', { id: `g-${tag}` }, KEYS.globexSecret);
      await api.create(server, 'orders', { id: `s-${tag}` }, KEYS.acmeStaging);
      await api.patch(server, 'products', `p-${tag}`, { title: 'sentinel' });
      const events = await eventsBefore(client, 'star', (e) => e.operation === 'update');
      const expected = objects.map((object) => [`records:${object}`, object, `${object[0]}-${tag}`]);
      assert.deepEqual(
        events.map((e) => [e.channel, e.object, e.id]),
        expected,
      );
      assert.deepEqual(
        recordEvents(client, 'star')
          .slice(events.length)
          .map((e) => e.channel),
        ['records:products'],
      );
      assert.deepEqual(client.invalid, []);
    });
  }

  it('refuses a publishable key limited to products the orders channel with 4003', async () => {
    client = await RawClient.connect(server, KEYS.acmeProductsOnly);
    const error = await subscribeError(client, { id: 'o', channel: 'records:orders' });
    assert.deepEqual([error.code, error.name, error.id], [4003, 'scope_denied', 'o']);
  });
});

describe('replacing a subscription', () => {
  const FLUSH = 400;
  let server: TestServer;
  let client: RawClient;
  beforeEach(async () => {
    server = await startTestServer({ limits: { flushIntervalMs: FLUSH } });
    client = await RawClient.connect(server, KEYS.acmeSecret);
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  /** Subscribes `s` and a `witness` with the same filter, then queues an event for both. */
  async function queueOldEvent(): Promise<number> {
    await client.subscribe({ id: 's', channel: 'records:orders', filter: { where: { status: 'pending' } } });
    await client.subscribe({
      id: 'witness',
      channel: 'records:orders',
      filter: { where: { status: 'pending' } },
    });
    const queuedAt = Date.now();
    await api.create(server, 'orders', { id: 'old', status: 'pending' });
    return queuedAt;
  }

  it('drops the queued events of the old one: nothing of it follows the new subscribed', async () => {
    const queuedAt = await queueOldEvent();
    const replaced = await client.subscribe({
      id: 's',
      channel: 'records:orders',
      filter: { where: { status: 'paid' } },
      snapshot: true,
    });
    assert.ok(Date.now() - queuedAt < FLUSH / 2, 'replaced while the old event was still queued');
    assert.deepEqual(ids(replaced.snapshot), ['o2']);
    await api.create(server, 'orders', { id: 'new', status: 'paid' });
    await api.create(server, 'orders', { id: 'other', status: 'pending' });

    await client.waitForEvents(2, 'witness', FLUSH * 5);
    await client.waitForEvents(1, 's', FLUSH * 5);
    assert.deepEqual(
      recordEvents(client, 'witness').map((e) => e.id),
      ['old', 'other'],
    );
    const events = recordEvents(client, 's');
    assert.deepEqual(
      events.map((e) => [e.id, e.change]),
      [['new', 'added']],
    );
    const subscribedAt = client.messages.indexOf(replaced as SubscribedMessage);
    const firstBatch = client.messages.findIndex(
      (m) => m.type === 'batch' && m.events.some((e) => e.sub === 's'),
    );
    assert.ok(subscribedAt >= 0 && firstBatch > subscribedAt);
  });

  it('replaced with the same filter, covers the dropped event with its snapshot', async () => {
    const queuedAt = await queueOldEvent();
    const replaced = await client.subscribe({
      id: 's',
      channel: 'records:orders',
      filter: { where: { status: 'pending' } },
      snapshot: true,
    });
    assert.ok(Date.now() - queuedAt < FLUSH / 2, 'replaced while the old event was still queued');
    assert.deepEqual(ids(replaced.snapshot).sort(), ['o1', 'o3', 'old']);
    await api.patch(server, 'orders', 'old', { total: 2 });
    await client.waitForEvents(2, 'witness', FLUSH * 5);
    const events = await client.waitForEvents(1, 's', FLUSH * 5);
    assert.deepEqual(
      (events as RecordEvent[]).map((e) => [e.id, e.change, e.seq > replaced.seq]),
      [['old', 'modified', true]],
    );
  });
});

describe('the REST list', () => {
  let server: TestServer;
  let client: RawClient;
  before(async () => {
    server = await startTestServer({ config: withOrders(ORDERS) });
    client = await RawClient.connect(server, KEYS.acmePublic);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  type Query = { where?: Where; sort?: string[]; limit?: number; fields?: string[] };
  const QUERIES: Query[] = [
    {},
    { where: { status: 'pending' } },
    { where: [['total', '>=', 50]] },
    { sort: ['-total'], limit: 2 },
    { sort: ['status', '-total'], fields: ['status', 'customer.name'] },
    { where: { 'customer.city': { $startsWith: 'M' } }, fields: ['total'] },
    { where: { $or: [{ priority: { $gte: 2 } }, { total: null }] }, sort: ['-priority', 'total'], limit: 3 },
    { where: { status: { $ne: 'paid' } }, sort: ['customer.name'], fields: [] },
  ];

  for (const q of QUERIES) {
    it(`answers ${JSON.stringify(q)} with the records of the same snapshot`, async () => {
      const params = new URLSearchParams();
      if (q.where) params.set('where', JSON.stringify(q.where));
      if (q.sort) params.set('sort', q.sort.join(','));
      if (q.limit) params.set('limit', String(q.limit));
      if (q.fields) params.set('fields', q.fields.join(','));
      const res = await rest(server, 'GET', `/api/objects/orders/records?${params}`, {
        key: KEYS.acmePublic,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const list = res.body as RecordListResponse;

      const sub = await client.subscribe({
        id: 'same',
        channel: 'records:orders',
        ...(q.where ? { filter: { where: q.where } } : {}),
        ...(q.fields ? { fields: q.fields } : {}),
        snapshot: { ...(q.sort ? { sort: q.sort } : {}), ...(q.limit ? { limit: q.limit } : {}) },
      });
      assert.ok(list.records.length > 0);
      assert.deepEqual(list.records, sub.snapshot);
      assert.equal(list.truncated, sub.truncated);
    });
  }

  it('answers a bad where with 400 naming the problem', async () => {
    const where = encodeURIComponent(JSON.stringify({ total: { $regex: '^1' } }));
    const res = await rest(server, 'GET', `/api/objects/orders/records?where=${where}`, {
      key: KEYS.acmePublic,
    });
    assert.equal(res.status, 400);
    const body = res.body as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'bad_request');
    assert.ok(body.error.message.includes('where'), body.error.message);
    assert.ok(body.error.message.includes('$regex'), body.error.message);
  });
});
