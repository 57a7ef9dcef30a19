/**
 * What a `where` may cost the server (issue 13, item 2; dev-server/engine/filter-work.ts): a
 * where past `maxFilterWork` on a record is refused naming the limit, at subscribe time over the
 * stored records and later over a new one (the subscription ends with an `error`); a connection's
 * live wheres draw from a `maxFilterWorkPerSecond` bucket; long snapshots and replays are matched
 * in slices, the connection's later frames answered after them in order, and every commit made
 * meanwhile reaches the subscription exactly once.
 */
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import type { Limits, RecordEvent, Where } from '../../protocol/index.js';
import { api, subscribeError } from '../support/record-events.js';
import { RawClient, rest, sleep } from '../support/raw-client.js';
import { KEYS, startTestServer, testConfig, type TestServer } from '../support/test-server.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** `count` orders with a `text` of `length` characters (`a`s: every search scans all of it). */
function orders(count: number, length: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({ id: `r${i}`, n: i, text: 'a'.repeat(length) }));
}

async function serve(records: Record<string, unknown>[], limits: Partial<Limits> = {}): Promise<TestServer> {
  const server = await startTestServer({
    config: testConfig({ records: { acme: { production: { orders: records } } } }),
    limits: { flushIntervalMs: 0, ...limits },
  });
  cleanups.push(() => server.close());
  return server;
}

async function connect(server: TestServer, key: string = KEYS.acmePublic): Promise<RawClient> {
  const client = await RawClient.connect(server, key);
  cleanups.push(() => client.close());
  return client;
}

/** A where of `terms` `$contains` searches of `text` that never match. */
const searches = (terms: number): Where => ({
  $or: Array.from({ length: terms }, (_, i) => ({ text: { $contains: `b${i}` } })),
});

/** Subscribes `slow` with a snapshot of 9 searches over every record: many slices of work. */
function subscribeSlowly(client: RawClient): void {
  client.send({
    type: 'subscribe',
    id: 'slow',
    channel: 'records:orders',
    filter: { where: searches(9) },
    snapshot: true,
  });
}

describe('maxFilterWork: the work of one where on one record', () => {
  it('refuses a subscribe whose where needs more on a stored record, naming the limit, and stays open', async () => {
    // 10 searches of 2 000 characters: 20 010 units, just past the default 20 000.
    const server = await serve(orders(5, 2000));
    const client = await connect(server);
    const error = await subscribeError(client, {
      id: 's',
      channel: 'records:orders',
      filter: { where: searches(10) },
      snapshot: true,
    });
    assert.equal(error.code, 4000);
    assert.match(error.message, /maxFilterWork \(20000\)/);
    assert.match(error.message, /record "r0"/);
    // Nothing of it went live: a write is not delivered, and the connection answers as before.
    await api.create(server, 'orders', { id: 'late', text: 'a' });
    client.send({ type: 'ping', t: 1 });
    await client.next('pong');
    assert.deepEqual(client.events('s'), []);
  });

  it('takes a where that fits, with the same answer as before', async () => {
    const server = await serve(orders(5, 2000));
    const client = await connect(server);
    const answer = await client.subscribe({
      id: 's',
      channel: 'records:orders',
      filter: { where: { $or: [...(searches(8) as { $or: Where[] }).$or, { n: { $lt: 2 } }] } },
      snapshot: true,
    });
    assert.deepEqual(
      answer.snapshot?.map((r) => r.id),
      ['r0', 'r1'],
    );
  });

  it('ends a live subscription when a new record needs more, with an error carrying its id; the others go on', async () => {
    const server = await serve(orders(2, 10));
    const client = await connect(server);
    await client.subscribe({ id: 'search', channel: 'records:orders', filter: { where: searches(10) } });
    await client.subscribe({ id: 'all', channel: 'records:orders' });
    await api.create(server, 'orders', { id: 'big', text: 'a'.repeat(2000) });
    const error = await client.next('error', (m) => m.id === 'search');
    assert.equal(error.code, 4000);
    assert.match(error.message, /maxFilterWork \(20000\).*record "big"/);
    await api.create(server, 'orders', { id: 'small', text: 'b0' });
    await client.waitForEvents(2, 'all');
    await sleep(50);
    assert.deepEqual(client.events('search'), [], 'the ended subscription hears nothing more');
  });

  it('answers a REST list with such a where with 400 naming the limit', async () => {
    const server = await serve(orders(3, 2000));
    const res = await rest(
      server,
      'GET',
      `/api/objects/orders/records?where=${encodeURIComponent(JSON.stringify(searches(11)))}`,
      { key: KEYS.acmePublic },
    );
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(res.body), /maxFilterWork \(20000\)/);
  });
});

describe('maxFilterWorkPerSecond: what a connection’s live wheres cost each second', () => {
  it('ends the subscriptions that find the bucket empty, naming the limit; another connection is untouched', async () => {
    const server = await serve(orders(1, 10), { maxFilterWorkPerSecond: 50_000 });
    const greedy = await connect(server);
    const other = await connect(server);
    // 10 subscriptions × 2 evaluations (an update's before and after) × ~10 000 units each.
    for (let i = 0; i < 10; i++) {
      await greedy.subscribe({ id: `g${i}`, channel: 'records:orders', filter: { where: searches(5) } });
    }
    await other.subscribe({ id: 'o', channel: 'records:orders', filter: { where: searches(5) } });
    await api.patch(server, 'orders', 'r0', { text: 'a'.repeat(2000) });
    const errors = () => greedy.messages.filter((m) => m.type === 'error');
    for (let i = 0; i < 100 && errors().length === 0; i++) await sleep(10);
    assert.ok(errors().length > 0, 'the bucket ran out');
    for (const error of errors()) {
      assert.equal(error.type === 'error' && error.code, 4000);
      assert.match(error.type === 'error' ? error.message : '', /maxFilterWorkPerSecond \(50000\)/);
    }
    assert.equal(
      other.messages.filter((m) => m.type === 'error').length,
      0,
      'another connection has a bucket of its own',
    );
  });
});

describe('long snapshots and replays, in slices', () => {
  it('answers the frames sent meanwhile after the subscribe, in order', async () => {
    const server = await serve(orders(2000, 2000));
    const client = await connect(server);
    subscribeSlowly(client);
    client.send({ type: 'ping', t: 'after' });
    client.send({ type: 'subscribe', id: 'next', channel: 'events:x' });
    await client.next('subscribed', (m) => m.id === 'next', 20_000);
    const order = client.messages
      .filter((m) => m.type === 'subscribed' || m.type === 'pong')
      .map((m) => (m.type === 'pong' ? 'pong' : m.id));
    assert.deepEqual(order, ['slow', 'pong', 'next']);
  });

  it('keeps /healthz answering while a snapshot of 36 M units of work is matched', async () => {
    const server = await serve(orders(2000, 2000));
    const client = await connect(server);
    subscribeSlowly(client);
    let answered = 0;
    let subscribed = false;
    void client.next('subscribed', (m) => m.id === 'slow', 20_000).then(() => (subscribed = true));
    while (!subscribed) {
      const res = await fetch(`${server.url}/healthz`);
      await res.text();
      if (!subscribed) answered++;
    }
    assert.ok(answered >= 3, `healthz was answered ${answered} times while the snapshot was matched`);
  });

  it('delivers every commit made while a snapshot is matched exactly once, after it', async () => {
    const server = await serve(orders(2000, 2000));
    const client = await connect(server);
    const where: Where = { $or: [...(searches(8) as { $or: Where[] }).$or, { n: { $gte: 1995 } }] };
    client.send({
      type: 'subscribe',
      id: 'slow',
      channel: 'records:orders',
      filter: { where },
      snapshot: true,
    });
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      writes.push(api.create(server, 'orders', { id: `w${i}`, n: 5000 + i, text: 'x' }));
      await sleep(2);
    }
    await Promise.all(writes);
    const answer = await client.next('subscribed', (m) => m.id === 'slow', 20_000);
    const all = await client.waitForEvents(20 - ((answer.snapshot?.length ?? 0) - 5), 'slow', 10_000);
    const seen = new Set([
      ...(answer.snapshot ?? []).map((r) => r.id),
      ...all.map((e) => (e as RecordEvent).id),
    ]);
    const expected = [
      'r1995',
      'r1996',
      'r1997',
      'r1998',
      'r1999',
      ...Array.from({ length: 20 }, (_, i) => `w${i}`),
    ];
    assert.deepEqual([...seen].sort(), expected.sort());
    const seqs = all.map((e) => e.seq);
    assert.ok(
      seqs.every((seq, i) => seq > answer.seq && (i === 0 || seq > (seqs[i - 1] as number))),
      'events follow the snapshot, in order',
    );
    assert.equal(new Set(seqs).size + (answer.snapshot?.length ?? 0), 25, 'nothing twice');
  });
});

describe('REST lists: streamed, and bounded per client', () => {
  it('refuses a client past maxConcurrentRequestsPerClient with 429 while its lists are unread', async () => {
    // 20 MB lists: more than the sockets between server and client buffer.
    const server = await serve(orders(10_000, 2000), { maxConcurrentRequestsPerClient: 2 });
    const unread = () =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(`${server.url}/api/objects/orders/records?limit=10000`, {
          headers: { authorization: `Bearer ${KEYS.acmePublic}` },
        });
        req.on('response', (res) => {
          res.pause(); // never read: the server can write only what the socket buffers take
          resolve(res);
        });
        req.on('error', reject);
        req.end();
      });
    const first = await unread();
    const second = await unread();
    const third = await rest(server, 'GET', '/api/objects/orders/records?limit=1', { key: KEYS.acmePublic });
    assert.equal(third.status, 429);
    assert.match(JSON.stringify(third.body), /maxConcurrentRequestsPerClient/);
    const otherClient = await rest(server, 'GET', '/api/objects/orders/records?limit=1', {
      key: KEYS.globexSecret,
    });
    assert.equal(otherClient.status, 200, 'another client is not counted');
    first.destroy();
    second.resume();
    await new Promise((resolve) => second.on('end', resolve));
    let after = await rest(server, 'GET', '/api/objects/orders/records?limit=1', { key: KEYS.acmePublic });
    for (let i = 0; i < 50 && after.status === 429; i++) {
      await sleep(10);
      after = await rest(server, 'GET', '/api/objects/orders/records?limit=1', { key: KEYS.acmePublic });
    }
    assert.equal(after.status, 200, 'the slots came back when the lists were read or dropped');
  });

  it('gives the slot back when a client goes while its list is still being matched', async () => {
    // 20 000 searched records: the match takes several slices, and the client leaves in the first.
    const server = await serve(orders(20_000, 2000), { maxConcurrentRequestsPerClient: 1 });
    const where = encodeURIComponent(JSON.stringify({ text: { $contains: 'b' } }));
    await new Promise<void>((resolve) => {
      const req = request(`${server.url}/api/objects/orders/records?where=${where}`, {
        headers: { authorization: `Bearer ${KEYS.acmePublic}` },
      });
      req.on('error', () => resolve());
      req.end(() => setTimeout(() => (req.destroy(), resolve()), 5));
    });
    let after = await rest(server, 'GET', '/api/objects/orders/records?limit=1', { key: KEYS.acmePublic });
    for (let i = 0; i < 100 && after.status === 429; i++) {
      await sleep(20);
      after = await rest(server, 'GET', '/api/objects/orders/records?limit=1', { key: KEYS.acmePublic });
    }
    assert.equal(after.status, 200, JSON.stringify(after.body));
  });

  it('streams a large list whole, equal to the records', async () => {
    const server = await serve(orders(3000, 1000));
    const res = await rest(server, 'GET', '/api/objects/orders/records?limit=3000&fields=n', {
      key: KEYS.acmePublic,
    });
    assert.equal(res.status, 200);
    const body = res.body as { records: { id: string; n: number }[]; truncated?: boolean };
    assert.equal(body.records.length, 3000);
    assert.equal(body.truncated, undefined);
    assert.deepEqual(body.records[2999], { id: 'r999', n: 999 }, 'id order, projected');
  });
});
