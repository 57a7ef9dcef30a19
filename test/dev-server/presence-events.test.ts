/**
 * Custom events (`events:<topic>`, REST and `publish`), presence rooms (`presence:<room>`) and
 * what publishable keys may do, over real WebSockets (PROTOCOL.md sections 2 and 4).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  PublishResponseSchema,
  type CustomEvent,
  type LiveEvent,
  type PresenceEvent,
  type WelcomeMessage,
} from '../../protocol/index.js';
import { RawClient, rest, sleep } from '../support/raw-client.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';

function welcomeOf(client: RawClient): WelcomeMessage {
  const welcome = client.messages.find((m) => m.type === 'welcome');
  assert.ok(welcome && welcome.type === 'welcome');
  return welcome;
}

function customEvent(event: LiveEvent | undefined): CustomEvent {
  assert.ok(event && 'topic' in event, `expected a custom event, got ${JSON.stringify(event)}`);
  return event;
}

function presenceEvent(event: LiveEvent | undefined): PresenceEvent {
  assert.ok(event && 'member' in event, `expected a presence event, got ${JSON.stringify(event)}`);
  return event;
}

/**
 * Waits until the room has committed the changes made so far: a room commits at its next flush,
 * `flushIntervalMs` (20 ms here) after its first waiting change. The server runs in this process,
 * so its flush timer, set earlier and due sooner, fires before this one.
 */
const committed = () => sleep(60);

function isIsoTime(value: unknown): boolean {
  return typeof value === 'string' && new Date(value).toISOString() === value;
}

/** A server and the clients a test opened, all closed after it. */
function setup() {
  const state = { server: undefined as unknown as TestServer, clients: [] as RawClient[] };
  beforeEach(async () => {
    state.server = await startTestServer();
    state.clients = [];
  });
  afterEach(async () => {
    for (const c of state.clients) {
      assert.deepEqual(c.invalid, []);
      c.close();
    }
    await state.server.close();
  });
  const connect = async (key: string) => {
    const client = await RawClient.connect(state.server, key);
    state.clients.push(client);
    return client;
  };
  return { state, connect };
}

describe('custom events', () => {
  const { state, connect } = setup();

  it('delivers a REST-published event to events:<topic> and events:* with topic, data, seq and timestamp', async () => {
    const topic = await connect(KEYS.acmeSecret);
    const all = await connect(KEYS.acmePublic);
    await topic.subscribe({ id: 't', channel: 'events:promo' });
    await all.subscribe({ id: 'a', channel: 'events:*' });

    const answer = await rest(state.server, 'POST', '/api/events/promo', {
      key: KEYS.acmeSecret,
      body: { off: 10 },
    });
    assert.equal(answer.status, 202);
    const { seq } = PublishResponseSchema.parse(answer.body);
    assert.equal(seq, welcomeOf(topic).seq + 1);

    for (const [client, sub] of [
      [topic, 't'],
      [all, 'a'],
    ] as const) {
      const event = customEvent((await client.waitForEvents(1, sub))[0]);
      assert.equal(event.sub, sub);
      assert.equal(event.channel, 'events:promo');
      assert.equal(event.topic, 'promo');
      assert.deepEqual(event.data, { off: 10 });
      assert.equal(event.seq, seq);
      assert.ok(isIsoTime(event.timestamp));
    }
  });

  it('answers a ws publish with published {id, channel, seq} and delivers it the same way', async () => {
    const publisher = await connect(KEYS.acmeSecret);
    const all = await connect(KEYS.acmeSecret);
    await all.subscribe({ id: 'a', channel: 'events:*' });
    publisher.send({ type: 'publish', id: 'p1', channel: 'events:chat', data: ['hi', 1] });
    const published = await publisher.next('published');
    assert.deepEqual(published, {
      type: 'published',
      id: 'p1',
      channel: 'events:chat',
      seq: welcomeOf(publisher).seq + 1,
    });
    publisher.send({ type: 'publish', channel: 'events:chat', data: null });
    const second = await publisher.next('published');
    assert.equal(second.id, undefined);
    assert.equal(second.seq, published.seq + 1);

    const events = (await all.waitForEvents(2, 'a')).map(customEvent);
    assert.deepEqual(
      events.map((e) => [e.channel, e.topic, e.data, e.seq]),
      [
        ['events:chat', 'chat', ['hi', 1], published.seq],
        ['events:chat', 'chat', null, second.seq],
      ],
    );
  });

  it('carries any JSON value as data', async () => {
    const all = await connect(KEYS.acmeSecret);
    await all.subscribe({ id: 'a', channel: 'events:*' });
    const values: unknown[] = ['text', 42, true, null, [1, { a: [] }], { nested: { deep: 'yes' } }];
    for (const value of values) {
      const answer = await rest(state.server, 'POST', '/api/events/any', {
        key: KEYS.acmeSecret,
        body: value,
      });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
    }
    const events = (await all.waitForEvents(values.length, 'a')).map(customEvent);
    assert.deepEqual(
      events.map((e) => e.data),
      values,
    );
  });

  it('does not deliver an event to subscribers of another topic', async () => {
    const other = await connect(KEYS.acmeSecret);
    await other.subscribe({ id: 'o', channel: 'events:other' });
    await rest(state.server, 'POST', '/api/events/promo', { key: KEYS.acmeSecret, body: 1 });
    other.send({ type: 'publish', channel: 'events:promo-2', data: 2 });
    await other.next('published');
    await rest(state.server, 'POST', '/api/events/other', { key: KEYS.acmeSecret, body: 3 });
    const events = (await other.waitForEvents(1, 'o')).map(customEvent);
    await sleep(40);
    assert.deepEqual(
      other.events().map((e) => customEvent(e).data),
      [3],
    );
    assert.equal(events[0]?.topic, 'other');
  });

  it('gives one event to each matching subscription of a connection', async () => {
    const client = await connect(KEYS.acmeSecret);
    await client.subscribe({ id: 'one', channel: 'events:promo' });
    await client.subscribe({ id: 'all', channel: 'events:*' });
    await rest(state.server, 'POST', '/api/events/promo', { key: KEYS.acmeSecret, body: 'x' });
    const events = await client.waitForEvents(2);
    await sleep(40);
    assert.deepEqual(
      client
        .events()
        .map((e) => e.sub)
        .sort(),
      ['all', 'one'],
    );
    assert.equal(events[0]?.seq, events[1]?.seq);
  });

  it('replays only custom events of the topic to a resumed events subscription', async () => {
    const client = await connect(KEYS.acmeSecret);
    const { seq, epoch } = welcomeOf(client);
    await rest(state.server, 'POST', '/api/objects/orders/records', {
      key: KEYS.acmeSecret,
      body: { id: 'n1' },
    });
    await rest(state.server, 'POST', '/api/events/promo', { key: KEYS.acmeSecret, body: 'a' });
    await rest(state.server, 'POST', '/api/events/other', { key: KEYS.acmeSecret, body: 'b' });
    await rest(state.server, 'PATCH', '/api/objects/orders/records/n1', {
      key: KEYS.acmeSecret,
      body: { x: 1 },
    });
    const one = await client.subscribe({ id: 'one', channel: 'events:promo', since: seq, epoch });
    const all = await client.subscribe({ id: 'all', channel: 'events:*', since: seq, epoch });
    assert.deepEqual([one.resumed, all.resumed], [true, true]);
    await client.waitForEvents(3);
    await sleep(40);
    assert.deepEqual(
      client.events().map((e) => [e.sub, e.seq, customEvent(e).data]),
      [
        ['one', seq + 2, 'a'],
        ['all', seq + 2, 'a'],
        ['all', seq + 3, 'b'],
      ],
    );
  });

  const refusals: { title: string; channel: string; code: number }[] = [
    { title: 'a wildcard topic', channel: 'events:*', code: 4010 },
    { title: 'a records channel', channel: 'records:orders', code: 4010 },
    { title: 'a presence channel', channel: 'presence:lobby', code: 4010 },
    { title: 'a malformed topic', channel: 'events:no spaces', code: 4010 },
  ];
  for (const { title, channel, code } of refusals) {
    it(`refuses a publish to ${title} with error ${code}, keeping the connection`, async () => {
      const client = await connect(KEYS.acmeSecret);
      client.send({ type: 'publish', id: 'bad', channel, data: 1 });
      const error = await client.next('error');
      assert.equal(error.code, code);
      assert.equal(error.id, 'bad');
      client.send({ type: 'ping', t: 1 });
      assert.equal((await client.next('pong')).t, 1);
    });
  }
});

describe('presence', () => {
  const { connect } = setup();

  it('lists everyone in the room, this connection included, in subscribed.members', async () => {
    const a = await connect(KEYS.acmeSecret);
    const b = await connect(KEYS.acmeSecret);
    const first = await a.subscribe({ id: 'p', channel: 'presence:lobby', meta: { name: 'Ada' } });
    assert.deepEqual(first.members, [{ connectionId: welcomeOf(a).connectionId, meta: { name: 'Ada' } }]);
    await committed();
    const second = await b.subscribe({ id: 'p', channel: 'presence:lobby', meta: { name: 'Grace' } });
    assert.deepEqual(
      sortMembers(second.members ?? []),
      sortMembers([
        { connectionId: welcomeOf(a).connectionId, meta: { name: 'Ada' } },
        { connectionId: welcomeOf(b).connectionId, meta: { name: 'Grace' } },
      ]),
    );
  });

  it('tells the others of a join with the member connectionId and meta, and not the joiner', async () => {
    const a = await connect(KEYS.acmeSecret);
    const b = await connect(KEYS.acmeSecret);
    const c = await connect(KEYS.acmeSecret);
    await a.subscribe({ id: 'pa', channel: 'presence:lobby', meta: { name: 'Ada' } });
    await committed();
    const joined = await b.subscribe({ id: 'pb', channel: 'presence:lobby', meta: { name: 'Grace' } });
    const join = presenceEvent((await a.waitForEvents(1, 'pa'))[0]);
    assert.equal(join.channel, 'presence:lobby');
    assert.equal(join.change, 'join');
    assert.deepEqual(join.member, { connectionId: welcomeOf(b).connectionId, meta: { name: 'Grace' } });
    // The join is committed at the room's flush, after the answer: its seq is the next one.
    assert.equal(join.seq, joined.seq + 1);
    assert.ok(isIsoTime(join.timestamp));

    // c's join is the first thing b hears: nothing of its own join came before it.
    await c.subscribe({ id: 'pc', channel: 'presence:lobby' });
    const [first] = await b.waitForEvents(1, 'pb');
    assert.deepEqual(presenceEvent(first).member, { connectionId: welcomeOf(c).connectionId, meta: {} });
    await sleep(40);
    assert.equal(b.events().length, 1);
    assert.equal(c.events().length, 0);
  });

  it('tells the others of a leave on unsubscribe, and not the member that left', async () => {
    const a = await connect(KEYS.acmeSecret);
    const b = await connect(KEYS.acmeSecret);
    await a.subscribe({ id: 'p', channel: 'presence:lobby', meta: { name: 'Ada' } });
    await committed();
    await b.subscribe({ id: 'p', channel: 'presence:lobby', meta: { name: 'Grace' } });
    await a.waitForEvents(1, 'p'); // a join and a leave within one flush interval would cancel
    b.send({ type: 'unsubscribe', id: 'p' });
    await b.next('unsubscribed', (m) => m.id === 'p');
    const events = (await a.waitForEvents(2, 'p')).map(presenceEvent);
    assert.deepEqual(
      events.map((e) => [e.change, e.member]),
      [
        ['join', { connectionId: welcomeOf(b).connectionId, meta: { name: 'Grace' } }],
        ['leave', { connectionId: welcomeOf(b).connectionId, meta: { name: 'Grace' } }],
      ],
    );
    assert.ok((events[1]?.seq ?? 0) > (events[0]?.seq ?? 0));
    await sleep(40);
    assert.deepEqual(b.events(), []);
    const again = await a.subscribe({ id: 'q', channel: 'presence:lobby' });
    assert.deepEqual(
      sortMembers(again.members ?? []).map((m) => m.connectionId),
      [welcomeOf(a).connectionId, welcomeOf(a).connectionId],
    );
  });

  it('tells the others of a leave when a member disconnects', async () => {
    const a = await connect(KEYS.acmeSecret);
    const b = await connect(KEYS.acmeSecret);
    await a.subscribe({ id: 'p', channel: 'presence:lobby' });
    await b.subscribe({ id: 'p', channel: 'presence:lobby', meta: { n: 2 } });
    await a.waitForEvents(1, 'p'); // a join and a leave within one flush interval would cancel
    b.close();
    const events = (await a.waitForEvents(2, 'p')).map(presenceEvent);
    assert.equal(events[1]?.change, 'leave');
    assert.deepEqual(events[1]?.member, { connectionId: welcomeOf(b).connectionId, meta: { n: 2 } });
    const c = await connect(KEYS.acmeSecret);
    const joined = await c.subscribe({ id: 'p', channel: 'presence:lobby' });
    assert.deepEqual(
      (joined.members ?? []).map((m) => m.connectionId).sort(),
      [welcomeOf(a).connectionId, welcomeOf(c).connectionId].sort(),
    );
  });

  it('keeps rooms apart', async () => {
    const a = await connect(KEYS.acmeSecret);
    const b = await connect(KEYS.acmeSecret);
    await a.subscribe({ id: 'p', channel: 'presence:lobby' });
    const other = await b.subscribe({ id: 'p', channel: 'presence:kitchen' });
    assert.deepEqual(
      other.members?.map((m) => m.connectionId),
      [welcomeOf(b).connectionId],
    );
    await b.subscribe({ id: 'q', channel: 'presence:lobby' });
    const [join] = await a.waitForEvents(1, 'p');
    assert.equal(join?.channel, 'presence:lobby');
    await sleep(40);
    assert.equal(a.events().length, 1);
  });

  const metas: { title: string; size: number; accepted: boolean }[] = [
    { title: 'a meta of exactly 1 KiB of JSON', size: 1024, accepted: true },
    { title: 'a meta one byte over 1 KiB', size: 1025, accepted: false },
    { title: 'a meta of 10 KiB', size: 10_240, accepted: false },
  ];
  for (const { title, size, accepted } of metas) {
    it(`${accepted ? 'accepts' : 'refuses with error 4000'} ${title}`, async () => {
      const a = await connect(KEYS.acmeSecret);
      const b = await connect(KEYS.acmeSecret);
      await a.subscribe({ id: 'p', channel: 'presence:lobby' });
      await committed();
      const meta = { m: 'x'.repeat(size - '{"m":""}'.length) };
      assert.equal(JSON.stringify(meta).length, size);
      b.send({ type: 'subscribe', id: 'big', channel: 'presence:lobby', meta });
      if (accepted) {
        const subscribed = await b.next('subscribed', (m) => m.id === 'big');
        assert.equal(subscribed.members?.length, 2);
        return;
      }
      const error = await b.next('error');
      assert.equal(error.code, 4000);
      assert.equal(error.name, 'bad_request');
      assert.equal(error.id, 'big');
      // No member was added: the next joiner sees a alone, and a heard no join of b.
      const c = await connect(KEYS.acmeSecret);
      const joined = await c.subscribe({ id: 'p', channel: 'presence:lobby' });
      assert.equal(joined.members?.length, 2);
      const [join] = await a.waitForEvents(1, 'p');
      assert.equal(presenceEvent(join).member.connectionId, welcomeOf(c).connectionId);
    });
  }
});

describe('publishable keys', () => {
  const { state, connect } = setup();

  it('read records over REST and subscribe with a snapshot, then receive the events', async () => {
    const client = await connect(KEYS.acmePublic);
    const subscribed = await client.subscribe({ id: 'r', channel: 'records:orders', snapshot: true });
    assert.deepEqual(
      subscribed.snapshot?.map((r) => r.id),
      ['o1', 'o2', 'o3'],
    );
    await rest(state.server, 'PATCH', '/api/objects/orders/records/o1', {
      key: KEYS.acmeSecret,
      body: { status: 'paid' },
    });
    const [event] = await client.waitForEvents(1, 'r');
    assert.ok(event && 'operation' in event && event.operation === 'update');
  });

  it('subscribe to custom events and join presence rooms', async () => {
    const visitor = await connect(KEYS.acmePublic);
    const staff = await connect(KEYS.acmeSecret);
    await visitor.subscribe({ id: 'e', channel: 'events:*' });
    const joined = await visitor.subscribe({ id: 'p', channel: 'presence:landing', meta: { page: '/' } });
    assert.equal(joined.members?.length, 1);
    await staff.subscribe({ id: 'p', channel: 'presence:landing' });
    await visitor.waitForEvents(1, 'p'); // the join is committed at the room's flush
    staff.send({ type: 'publish', channel: 'events:promo', data: 'sale' });
    await staff.next('published');
    const events = await visitor.waitForEvents(2);
    assert.deepEqual(
      events.map((e) => [e.sub, e.channel]),
      [
        ['p', 'presence:landing'],
        ['e', 'events:promo'],
      ],
    );
  });

  it('cannot write records (403)', async () => {
    for (const [method, path] of [
      ['POST', '/api/objects/orders/records'],
      ['PATCH', '/api/objects/orders/records/o1'],
      ['DELETE', '/api/objects/orders/records/o1'],
    ] as const) {
      const answer = await rest(state.server, method, path, {
        key: KEYS.acmePublic,
        body: { id: 'o1', a: 1 },
      });
      assert.equal(answer.status, 403, `${method} ${path}`);
    }
    const o1 = await rest(state.server, 'GET', '/api/objects/orders/records/o1', { key: KEYS.acmePublic });
    assert.equal((o1.body as { a?: unknown }).a, undefined);
  });

  it('cannot publish: REST answers 403 and a ws publish gets error 4003, nothing is delivered', async () => {
    const listener = await connect(KEYS.acmeSecret);
    await listener.subscribe({ id: 'e', channel: 'events:*' });
    const visitor = await connect(KEYS.acmePublic);

    const answer = await rest(state.server, 'POST', '/api/events/promo', { key: KEYS.acmePublic, body: 1 });
    assert.equal(answer.status, 403);
    visitor.send({ type: 'publish', id: 'p', channel: 'events:promo', data: 2 });
    const error = await visitor.next('error');
    assert.equal(error.code, 4003);
    assert.equal(error.name, 'scope_denied');
    assert.equal(error.id, 'p');
    visitor.send({ type: 'ping', t: 'still-open' });
    assert.equal((await visitor.next('pong')).t, 'still-open');

    await rest(state.server, 'POST', '/api/events/promo', { key: KEYS.acmeSecret, body: 3 });
    const [event] = await listener.waitForEvents(1, 'e');
    assert.equal(customEvent(event).data, 3);
    assert.equal(event?.seq, welcomeOf(listener).seq + 1);
  });

  it('limited to some objects, get 4003 on another object and only theirs on records:*', async () => {
    const client = await connect(KEYS.acmeProductsOnly);
    client.send({ type: 'subscribe', id: 'o', channel: 'records:orders' });
    const error = await client.next('error', (m) => m.id === 'o');
    assert.equal(error.code, 4003);
    await client.subscribe({ id: 'all', channel: 'records:*' });
    await rest(state.server, 'PATCH', '/api/objects/orders/records/o1', {
      key: KEYS.acmeSecret,
      body: { status: 'paid' },
    });
    await rest(state.server, 'PATCH', '/api/objects/products/records/p1', {
      key: KEYS.acmeSecret,
      body: { price: 99 },
    });
    const [event] = await client.waitForEvents(1, 'all');
    await sleep(40);
    assert.equal(client.events().length, 1);
    assert.equal(event?.channel, 'records:products');
  });
});

function sortMembers<T extends { connectionId: string }>(members: T[]): T[] {
  return [...members].sort((x, y) => (x.connectionId < y.connectionId ? -1 : 1));
}
