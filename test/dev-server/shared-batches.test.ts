/**
 * The fan-out serializes an event once per (subscription id, change, projection) and builds one
 * batch frame for every connection with the same events waiting. These cases check that sharing
 * never hands a connection an event or a frame that is not exactly its own.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Limits, LiveEvent, ServerMessage } from '../../protocol/index.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';
import { RawClient, sleep } from '../support/raw-client.js';

type Batch = Extract<ServerMessage, { type: 'batch' }>;
type RecordEvent = Extract<LiveEvent, { record: unknown }>;

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

async function connect(): Promise<RawClient> {
  const client = await RawClient.connect(server as TestServer, KEYS.acmeSecret);
  clients.push(client);
  return client;
}

function env() {
  return (server as TestServer).store.environment('acme', 'production');
}

function batches(client: RawClient): Batch[] {
  return client.messages.filter((m): m is Batch => m.type === 'batch');
}

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
