/**
 * PROTOCOL.md section 4 "batch" and section 5's sequence: how events are grouped into batches
 * and when those leave, their order per subscription, and the gap-free `seq` of an environment;
 * and the fan-out's sharing: an event is serialized once per (subscription id, change, projection)
 * and one batch frame is built for every connection with the same events waiting, yet no
 * connection gets an event or a frame that is not exactly its own.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Limits, LiveEvent, ServerMessage } from '../../protocol/index.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';
import { RawClient, rest, sleep } from '../support/raw-client.js';

type Batch = Extract<ServerMessage, { type: 'batch' }>;

let server: TestServer | undefined;
let clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  await server?.close();
  server = undefined;
});

async function start(limits: Partial<Limits>): Promise<TestServer> {
  server = await startTestServer({ limits });
  return server;
}

async function connect(key: string = KEYS.acmeSecret): Promise<RawClient> {
  const client = await RawClient.connect(server as TestServer, key);
  clients.push(client);
  return client;
}

/** The batches a client received so far. */
function batches(client: RawClient): Batch[] {
  return client.messages.filter((m): m is Batch => m.type === 'batch');
}

/** The acme/production environment of the test server: writes made in the server process. */
function env() {
  return (server as TestServer).store.environment('acme', 'production');
}

/** Creates `count` orders at once, in one turn of the event loop. */
function createOrders(count: number, from = 0): void {
  for (let i = from; i < from + count; i++) env().create('orders', { id: `n${i}`, status: 'new', total: i });
}

function seqs(events: readonly LiveEvent[]): number[] {
  return events.map((e) => e.seq);
}

function assertIncreasing(values: readonly number[], what: string): void {
  for (let i = 1; i < values.length; i++) {
    assert.ok(
      (values[i] as number) > (values[i - 1] as number),
      `${what}: ${values[i]} follows ${values[i - 1]}`,
    );
  }
}

describe('batch size', () => {
  it('never puts more than maxBatchEvents events in one batch', async () => {
    await start({ maxBatchEvents: 10, flushIntervalMs: 20 });
    const client = await connect();
    await client.subscribe({ id: 'a', channel: 'records:orders' });
    await client.subscribe({ id: 'b', channel: 'records:*' });
    createOrders(35);
    await client.waitForEvents(70);
    await sleep(60);
    const sizes = batches(client).map((b) => b.events.length);
    assert.ok(
      sizes.every((n) => n >= 1 && n <= 10),
      `batch sizes ${sizes.join(',')}`,
    );
    assert.equal(client.events().length, 70);
    assert.deepEqual(client.invalid, []);
  });

  it('sends a full batch at once instead of waiting for flushIntervalMs', async () => {
    await start({ maxBatchEvents: 5, flushIntervalMs: 10_000 });
    const client = await connect();
    await client.subscribe({ id: 's', channel: 'records:orders' });
    const t0 = Date.now();
    createOrders(5);
    const batch = await client.next('batch', () => true, 2000);
    assert.ok(Date.now() - t0 < 2000, 'a full batch left well before flushIntervalMs');
    assert.deepEqual(
      batch.events.map((e) => 'id' in e && e.id),
      ['n0', 'n1', 'n2', 'n3', 'n4'],
    );
  });

  it('holds fewer than maxBatchEvents events until the interval, then flushes them with the next full batch', async () => {
    await start({ maxBatchEvents: 5, flushIntervalMs: 10_000 });
    const client = await connect();
    await client.subscribe({ id: 's', channel: 'records:orders' });
    createOrders(4);
    await sleep(250);
    assert.equal(batches(client).length, 0, 'four waiting events are not a full batch');
    createOrders(1, 4);
    const batch = await client.next('batch', () => true, 2000);
    assert.equal(batch.events.length, 5);
  });

  it('splits a waiting burst larger than maxBatchEvents into full batches and a remainder', async () => {
    await start({ maxBatchEvents: 4, flushIntervalMs: 50 });
    const client = await connect();
    await client.subscribe({ id: 's', channel: 'records:orders' });
    createOrders(10);
    await client.waitForEvents(10);
    await sleep(100);
    assert.deepEqual(
      batches(client).map((b) => b.events.length),
      [4, 4, 2],
    );
  });
});

describe('flush interval', () => {
  const INTERVAL = 300;

  it('keeps a lone event back for flushIntervalMs and then sends it', async () => {
    await start({ flushIntervalMs: INTERVAL });
    const client = await connect();
    await client.subscribe({ id: 's', channel: 'records:orders' });
    const t0 = Date.now();
    createOrders(1);
    await sleep(INTERVAL / 2);
    assert.equal(batches(client).length, 0, 'no batch before the interval');
    const batch = await client.next('batch', () => true, INTERVAL + 3000);
    const waited = Date.now() - t0;
    assert.ok(waited >= INTERVAL - 10, `the batch came after ${waited} ms, before ${INTERVAL}`);
    assert.equal(batch.events.length, 1);
  });

  it('sends every event of a steady stream within flushIntervalMs of its commit', async () => {
    await start({ flushIntervalMs: INTERVAL });
    const client = await connect();
    await client.subscribe({ id: 's', channel: 'records:orders' });
    const committedAt = new Map<number, number>();
    const arrivedAt = new Map<number, number>();
    client.ws.on('message', () => {
      for (const e of client.events()) if (!arrivedAt.has(e.seq)) arrivedAt.set(e.seq, Date.now());
    });
    const env = server?.store.environment('acme', 'production');
    // A write every 50 ms for 1.2 s: a deadline that moved with every new event would hold them all.
    for (let i = 0; i < 24; i++) {
      env?.create('orders', { id: `t${i}`, status: 'new' });
      committedAt.set(env?.seq ?? 0, Date.now());
      await sleep(50);
    }
    await client.waitForEvents(24, 's', INTERVAL + 3000);
    const first = Math.min(...committedAt.values());
    const firstArrival = Math.min(...arrivedAt.values());
    assert.ok(
      firstArrival - first < INTERVAL + 700,
      `the first event waited ${firstArrival - first} ms while writes went on`,
    );
    for (const [seq, at] of committedAt) {
      const delay = (arrivedAt.get(seq) ?? Infinity) - at;
      assert.ok(delay < INTERVAL + 700, `seq ${seq} waited ${delay} ms`);
    }
  });

  it('sends as soon as the event loop turns with flushIntervalMs 0, one batch per turn', async () => {
    await start({ flushIntervalMs: 0, maxBatchEvents: 1000 });
    const client = await connect();
    await client.subscribe({ id: 's', channel: 'records:orders' });
    const t0 = Date.now();
    createOrders(3);
    const batch = await client.next('batch', () => true, 1000);
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(batch.events.length, 3, 'the writes of one turn share a batch');
  });
});

describe('order within and across batches', () => {
  it('delivers the events of each subscription in seq order', async () => {
    await start({ maxBatchEvents: 7, flushIntervalMs: 10 });
    const client = await connect();
    await client.subscribe({ id: 'orders', channel: 'records:orders' });
    await client.subscribe({ id: 'all', channel: 'records:*' });
    await client.subscribe({
      id: 'pending',
      channel: 'records:orders',
      filter: { where: { status: 'new' } },
    });
    await client.subscribe({ id: 'events', channel: 'events:*' });
    const env = server?.store.environment('acme', 'production');
    for (let round = 0; round < 10; round++) {
      env?.create('orders', { id: `r${round}`, status: 'new' });
      env?.create('products', { id: `q${round}`, price: round });
      env?.publish('promo', { round });
      env?.patch('orders', `r${round}`, { status: 'paid' });
      if (round % 3 === 0) await sleep(15);
    }
    await client.waitForEvents(30, 'all');
    await sleep(50);
    const expected: Record<string, number> = { orders: 20, all: 30, pending: 20, events: 10 };
    for (const [sub, count] of Object.entries(expected)) {
      const list = seqs(client.events(sub));
      assert.equal(list.length, count, `${sub} received ${list.length} events`);
      assertIncreasing(list, sub);
    }
    for (const batch of batches(client)) assert.ok(batch.events.length <= 7);
  });
});

describe('sequence numbers', () => {
  it('numbers every committed change of an environment 1, 2, 3, … without gaps', async () => {
    await start({ flushIntervalMs: 10 });
    const watcher = await connect();
    assert.equal(watcher.messages[0]?.type === 'welcome' && watcher.messages[0].seq, 0);
    await watcher.subscribe({ id: 'records', channel: 'records:*' });
    await watcher.subscribe({ id: 'events', channel: 'events:*' });
    await watcher.subscribe({ id: 'room', channel: 'presence:lobby' });
    // The room commits the join at its flush; the watcher hears nothing of its own join, but a
    // later welcome shows the seq it took.
    await sleep(40);
    const ownJoin = await connect();
    const welcome = ownJoin.messages[0];
    assert.ok(welcome?.type === 'welcome');
    const s = server as TestServer;
    const key = KEYS.acmeSecret;
    const seen = [welcome.seq];
    assert.equal(
      (await rest(s, 'POST', '/api/objects/orders/records', { key, body: { id: 'x1' } })).status,
      201,
    );
    assert.equal(
      (await rest(s, 'PATCH', '/api/objects/orders/records/x1', { key, body: { total: 3 } })).status,
      200,
    );
    // A patch that changes nothing commits nothing, so it takes no seq.
    await rest(s, 'PATCH', '/api/objects/orders/records/x1', { key, body: { total: 3 } });
    const published = await rest(s, 'POST', '/api/events/promo', { key, body: { n: 1 } });
    seen.push((published.body as { seq: number }).seq);
    // Other environments keep their own sequence.
    await rest(s, 'POST', '/api/objects/orders/records', { key: KEYS.globexSecret, body: { id: 'g9' } });
    await rest(s, 'POST', '/api/objects/orders/records', { key: KEYS.acmeStaging, body: { id: 's9' } });
    const other = await connect(KEYS.acmePublic);
    await other.subscribe({ id: 'room', channel: 'presence:lobby' });
    await watcher.waitForEvents(1, 'room'); // committed, so the leave below cannot cancel it
    other.send({ type: 'publish', id: 'p', channel: 'events:promo', data: 2 });
    assert.equal((await other.next('error')).code, 4003, 'a refused publish commits nothing');
    const publisher = await connect();
    publisher.send({ type: 'publish', id: 'p', channel: 'events:promo', data: 3 });
    seen.push((await publisher.next('published')).seq);
    await rest(s, 'DELETE', '/api/objects/orders/records/x1', { key });
    other.send({ type: 'unsubscribe', id: 'room' });
    await other.next('unsubscribed');
    // create, update, event, join, event, delete, leave
    await watcher.waitForEvents(7);
    const all = [...new Set([...seen, ...seqs(watcher.events())])].sort((a, b) => a - b);
    assert.deepEqual(all, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(watcher.events().length, 7, 'each change reached the watcher once');
  });
});

describe('a burst of writes', () => {
  it('loses nothing of 2500 writes and keeps every batch within maxBatchEvents', async () => {
    const CAP = 250;
    await start({ maxBatchEvents: CAP, flushIntervalMs: 20 });
    const client = await connect(KEYS.acmePublic);
    await client.subscribe({ id: 's', channel: 'records:orders' });
    const env = server?.store.environment('acme', 'production');
    const rests: Promise<unknown>[] = [];
    for (let i = 0; i < 2000; i++) {
      env?.create('orders', { id: `b${i}`, total: i });
      if (i % 400 === 399) {
        for (let j = 0; j < 100; j++) {
          const n = rests.length;
          rests.push(
            rest(server as TestServer, 'POST', '/api/objects/orders/records', {
              key: KEYS.acmeSecret,
              body: { id: `h${n}`, total: n },
            }),
          );
        }
        await sleep(1);
      }
    }
    const answers = (await Promise.all(rests)) as { status: number }[];
    assert.ok(answers.every((a) => a.status === 201));
    await client.waitForEvents(2500, 's', 10_000);
    await sleep(100);
    const events = client.events('s');
    assert.equal(events.length, 2500);
    const list = seqs(events);
    assertIncreasing(list, 'burst');
    assert.equal(new Set(list).size, 2500);
    assert.deepEqual([list[0], list[2499]], [1, 2500]);
    assert.equal(new Set(events.map((e) => 'id' in e && e.id)).size, 2500, 'every record once');
    const sizes = batches(client).map((b) => b.events.length);
    assert.ok(Math.max(...sizes) <= CAP, `largest batch ${Math.max(...sizes)}`);
    assert.ok(sizes.length >= 2500 / CAP);
    assert.deepEqual(client.invalid, []);
  });
});

type RecordEvent = Extract<LiveEvent, { record: unknown }>;

/** What a test compares of an event: its seq, subscription, change and record. */
function summary(e: LiveEvent): [number, string, string, unknown] {
  const r = e as RecordEvent;
  return [e.seq, e.sub, 'change' in r ? r.change : '', r.record];
}

describe('shared events and batch frames', () => {
  it('projects each subscription of a connection by its own fields within one batch, ["*"] included', async () => {
    await start({ flushIntervalMs: 100 });
    const client = await connect();
    // ["*"] names a field called "*": its projection is only the id, unlike no fields at all.
    await client.subscribe({ id: 'star', channel: 'records:orders', fields: ['*'] });
    await client.subscribe({ id: 'all', channel: 'records:orders' });
    await client.subscribe({ id: 'total', channel: 'records:orders', fields: ['total'] });
    const record = env().create('orders', { id: 'n1', status: 'new', total: 7 });
    const seq = env().seq;
    await client.waitForEvents(3);
    assert.equal(batches(client).length, 1, 'one commit, one batch');
    assert.deepEqual(client.events().map(summary), [
      [seq, 'star', 'added', { id: 'n1' }],
      [seq, 'all', 'added', record],
      [seq, 'total', 'added', { id: 'n1', total: 7 }],
    ]);
    assert.deepEqual(client.invalid, []);
  });

  it('gives each of many connections with alike subscriptions exactly its own events', async () => {
    await start({ flushIntervalMs: 0 });
    const pending: RawClient[] = [];
    const paid: RawClient[] = [];
    for (let i = 0; i < 6; i++) {
      const a = await connect();
      await a.subscribe({ id: 's', channel: 'records:orders', filter: { where: { status: 'pending' } } });
      pending.push(a);
      const b = await connect();
      await b.subscribe({ id: 's', channel: 'records:orders', filter: { where: { status: 'paid' } } });
      paid.push(b);
    }
    // One pending connection also hears products: its queue parts from the others' mid-burst.
    const extra = pending[0] as RawClient;
    await extra.subscribe({ id: 'p', channel: 'records:products' });

    // One burst in one turn of the event loop: every connection gets one batch.
    const written: { seq: number; sub: string; id: string; status?: string }[] = [];
    for (let i = 0; i < 20; i++) {
      if (i === 7) {
        env().create('products', { id: 'px', title: 'Lamp', price: 30 });
        written.push({ seq: env().seq, sub: 'p', id: 'px' });
      }
      const status = i % 2 ? 'paid' : 'pending';
      env().create('orders', { id: `b${i}`, status, total: i });
      written.push({ seq: env().seq, sub: 's', id: `b${i}`, status });
    }
    const expect = (status: string, withProducts: boolean) =>
      written
        .filter((w) => w.status === status || (withProducts && w.sub === 'p'))
        .map((w) => [w.seq, w.sub, w.id]);

    for (const [group, status] of [
      [pending, 'pending'],
      [paid, 'paid'],
    ] as const) {
      for (const client of group) {
        const want = expect(status, client === extra);
        await client.waitForEvents(want.length);
        await sleep(20); // nothing more may follow
        assert.deepEqual(
          client.events().map((e) => [e.seq, e.sub, (e as RecordEvent).id]),
          want,
        );
        assert.equal(batches(client).length, 1, 'one batch per turn');
        assert.deepEqual(client.invalid, []);
      }
    }
  });

  it('drops the waiting events of an unsubscribed subscription from its connection only', async () => {
    await start({ flushIntervalMs: 300 });
    const leaver = await connect();
    const stayer = await connect();
    for (const client of [leaver, stayer]) {
      await client.subscribe({ id: 'orders', channel: 'records:orders' });
      await client.subscribe({ id: 'products', channel: 'records:products' });
    }
    env().create('orders', { id: 'u1', status: 'new', total: 1 });
    env().create('products', { id: 'u2', title: 'Chair', price: 40 });
    env().create('orders', { id: 'u3', status: 'new', total: 3 });
    // Both queues hold the same three events until the flush; the leaver drops its products.
    leaver.send({ type: 'unsubscribe', id: 'products' });
    await leaver.next('unsubscribed');
    await stayer.waitForEvents(3);
    await leaver.waitForEvents(2);
    await sleep(20);
    assert.deepEqual(
      leaver.events().map((e) => [e.sub, (e as RecordEvent).id]),
      [
        ['orders', 'u1'],
        ['orders', 'u3'],
      ],
    );
    assert.deepEqual(
      stayer.events().map((e) => [e.sub, (e as RecordEvent).id]),
      [
        ['orders', 'u1'],
        ['products', 'u2'],
        ['orders', 'u3'],
      ],
    );
  });

  it('sends batches as text frames', async () => {
    await start({ flushIntervalMs: 0 });
    const client = await connect();
    const kinds: boolean[] = [];
    client.ws.on('message', (_data, isBinary) => kinds.push(isBinary));
    await client.subscribe({ id: 's', channel: 'records:orders' });
    env().create('orders', { id: 't1', status: 'new', total: 1, note: 'ünïcödé ✓ 漢字' });
    const [event] = (await client.waitForEvents(1)) as RecordEvent[];
    assert.equal(event?.record.note, 'ünïcödé ✓ 漢字');
    assert.ok(kinds.length > 0 && kinds.every((binary) => !binary), 'no binary frame');
  });
});
