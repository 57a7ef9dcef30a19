/**
 * The WebSocket connection as a client sees it (PROTOCOL.md sections 3, 4 and 7): every client
 * message and its answer, `welcome`, the heartbeat, and every error and close code that a
 * connection past authentication can meet. Authentication itself is in auth.test.ts.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CODE, PROTOCOL_NAME, type ServerMessage } from '../../protocol/index.js';
import { ClientPool, connectionsBecome } from '../support/client-pool.js';
import { getToken, rest, sleep } from '../support/raw-client.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';

type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

/** Milliseconds since `start`. */
const since = (start: number) => Date.now() - start;

describe('client messages and their answers', () => {
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer()));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it('welcomes a client that sends auth as its first frame instead of ?token', async () => {
    const client = await pool.connectWithAuthFrame(server, KEYS.acmeSecret);
    const pong = (client.send({ type: 'ping', t: 1 }), await client.next('pong'));
    assert.deepEqual(pong, { type: 'pong', t: 1 });
    assert.deepEqual(client.invalid, []);
  });

  it('answers subscribe with subscribed carrying the same id and the current seq', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const welcome = client.messages[0] as Extract<ServerMessage, { type: 'welcome' }>;
    client.send({ type: 'subscribe', id: 'orders-1', channel: 'records:orders' });
    assert.deepEqual(await client.next('subscribed'), {
      type: 'subscribed',
      id: 'orders-1',
      seq: welcome.seq,
    });
  });

  it('answers unsubscribe with unsubscribed, and delivers nothing more to that subscription', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    await client.subscribe({ id: 'promo', channel: 'events:promo' });
    client.send({ type: 'unsubscribe', id: 'promo' });
    assert.deepEqual(await client.next('unsubscribed'), { type: 'unsubscribed', id: 'promo' });
    client.send({ type: 'publish', id: 'p', channel: 'events:promo', data: 1 });
    await client.next('published');
    await sleep(80); // four flush intervals
    assert.deepEqual(client.events(), []);
  });

  it('answers unsubscribe of an id that is not live with unsubscribed all the same', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    client.send({ type: 'unsubscribe', id: 'never-subscribed' });
    assert.deepEqual(await client.next('unsubscribed'), { type: 'unsubscribed', id: 'never-subscribed' });
    await client.subscribe({ id: 'twice', channel: 'events:a' });
    client.send({ type: 'unsubscribe', id: 'twice' });
    client.send({ type: 'unsubscribe', id: 'twice' });
    await client.next('unsubscribed', (m) => m.id === 'twice');
    await client.next('unsubscribed', (m) => m.id === 'twice');
  });

  it('answers publish with published carrying the id, the channel and the seq the event took', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    await client.subscribe({ id: 'promo', channel: 'events:promo' });
    client.send({ type: 'publish', id: 'p1', channel: 'events:promo', data: { off: 10 } });
    const published = await client.next('published');
    assert.equal(published.id, 'p1');
    assert.equal(published.channel, 'events:promo');
    const [event] = await client.waitForEvents(1, 'promo');
    assert.equal(event?.seq, published.seq);
    assert.deepEqual(event && 'data' in event && event.data, { off: 10 });
  });

  it('answers publish without an id with published without an id', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    client.send({ type: 'publish', channel: 'events:anonymous', data: null });
    const first = await client.next('published');
    assert.deepEqual(Object.keys(first).sort(), ['channel', 'seq', 'type']);
    client.send({ type: 'publish', channel: 'events:anonymous', data: null });
    const second = await client.next('published');
    assert.equal(second.seq, first.seq + 1, 'each publish takes the next seq of the environment');
  });

  for (const t of [42, 'tok-1', 0, ''] as const) {
    it(`answers ping with t = ${JSON.stringify(t)} with a pong carrying the same t`, async () => {
      const client = await pool.connect(server, KEYS.acmePublic);
      client.send({ type: 'ping', t });
      assert.deepEqual(await client.next('pong'), { type: 'pong', t });
    });
  }

  it('answers ping without t with a pong without t', async () => {
    const client = await pool.connect(server, KEYS.acmePublic);
    client.send({ type: 'ping' });
    assert.deepEqual(await client.next('pong'), { type: 'pong' });
  });

  it('does not answer a client pong', async () => {
    const client = await pool.connect(server, KEYS.acmePublic);
    client.send({ type: 'pong', t: 7 });
    client.send({ type: 'pong' });
    client.send({ type: 'ping', t: 'after' });
    await client.next('pong', (m) => m.t === 'after');
    assert.deepEqual(client.messages.slice(1), [{ type: 'pong', t: 'after' }]);
  });

  it('answers a second auth with a 4000 error and stays open', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    client.send({ type: 'auth', token: await getToken(server, KEYS.acmeSecret) });
    const error = await client.next('error');
    assert.equal(error.code, CODE.bad_request);
    client.send({ type: 'ping', t: 2 });
    assert.deepEqual(await client.next('pong'), { type: 'pong', t: 2 });
  });
});

describe('welcome', () => {
  const limits = {
    maxSubscriptions: 7,
    maxBatchEvents: 9,
    flushIntervalMs: 25,
    maxMessageBytes: 4096,
    heartbeatMs: 45_000,
    sessionTtlMs: 600_000,
  };
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer({ limits })));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it('names the protocol, the client, the environment, the heartbeat, the session end and the limits', async () => {
    const before = Date.now();
    const client = await pool.connect(server, KEYS.acmeSecret);
    const welcome = client.messages[0];
    assert.ok(welcome?.type === 'welcome');
    assert.equal(welcome.protocol, PROTOCOL_NAME);
    assert.equal(welcome.protocol, 'catalyst-realtime.v1');
    assert.match(welcome.connectionId, /^c_./);
    assert.equal(welcome.client, 'acme');
    assert.equal(welcome.environment, 'production');
    assert.match(welcome.epoch, /^e_./);
    assert.ok(Number.isInteger(welcome.seq) && welcome.seq >= 0);
    assert.equal(welcome.heartbeatMs, limits.heartbeatMs);
    assert.deepEqual(welcome.limits, {
      maxSubscriptions: limits.maxSubscriptions,
      maxBatchEvents: limits.maxBatchEvents,
      flushIntervalMs: limits.flushIntervalMs,
      maxMessageBytes: limits.maxMessageBytes,
    });
    const expires = Date.parse(welcome.sessionExpiresAt);
    assert.equal(new Date(expires).toISOString(), welcome.sessionExpiresAt, 'an ISO 8601 UTC time');
    assert.ok(expires >= before + limits.sessionTtlMs && expires <= Date.now() + limits.sessionTtlMs);
    assert.deepEqual(client.invalid, []);
  });

  it("carries the environment's current seq, which every commit advances, in the same epoch", async () => {
    const first = await pool.connect(server, KEYS.acmeSecret);
    const a = first.messages[0] as Extract<ServerMessage, { type: 'welcome' }>;
    const created = await rest(server, 'POST', '/api/objects/orders/records', {
      key: KEYS.acmeSecret,
      body: { status: 'new' },
    });
    assert.equal(created.status, 201);
    const second = await pool.connect(server, KEYS.acmePublic);
    const b = second.messages[0] as Extract<ServerMessage, { type: 'welcome' }>;
    assert.equal(b.seq, a.seq + 1);
    assert.equal(b.epoch, a.epoch);
    assert.notEqual(b.connectionId, a.connectionId);
  });

  it("names the key's own client and environment", async () => {
    const staging = await pool.connect(server, KEYS.acmeStaging);
    const globex = await pool.connect(server, KEYS.globexSecret);
    const production = await pool.connect(server, KEYS.acmeSecret);
    const [s, g, p] = [staging, globex, production].map(
      (c) => c.messages[0] as Extract<ServerMessage, { type: 'welcome' }>,
    );
    assert.deepEqual([s?.client, s?.environment], ['acme', 'staging']);
    assert.deepEqual([g?.client, g?.environment], ['globex', 'production']);
    assert.notEqual(s?.epoch, p?.epoch, 'each environment has its own history');
  });
});

describe('heartbeat', () => {
  const heartbeatMs = 100;
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer({ limits: { heartbeatMs } })));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it('sends a ping with a t every heartbeatMs', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const start = Date.now();
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ping = await client.next('ping', () => true, 1000);
      times.push(since(start));
      assert.notEqual(ping.t, undefined);
      client.send({ type: 'pong', t: ping.t });
    }
    // Timers never fire early, so the third ping cannot come before 3 × heartbeatMs (less the
    // welcome's travel time); single gaps get slack for a loaded machine.
    assert.ok(times[2]! >= 3 * heartbeatMs - 20, `third ping after ${times[2]} ms`);
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      assert.ok(gap >= heartbeatMs / 2 && gap < heartbeatMs * 3, `pings ${gap} ms apart`);
    }
    assert.equal(client.closed, undefined);
  });

  it('closes a client that sent nothing for 2 × heartbeatMs with 4011', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const start = Date.now();
    const close = await client.waitForClose(1000);
    assert.equal(close.code, CODE.heartbeat_timeout);
    assert.ok(since(start) >= 2 * heartbeatMs - 20, `closed after ${since(start)} ms`);
  });

  it('does not count WebSocket ping control frames as messages', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const timer = setInterval(() => client.ws.ping(), 10);
    try {
      assert.equal((await client.waitForClose(1000)).code, CODE.heartbeat_timeout);
    } finally {
      clearInterval(timer);
    }
  });

  it('keeps a client open that sends pings of its own', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    for (let i = 0; i < 6; i++) {
      client.send({ type: 'ping', t: i });
      await sleep(heartbeatMs / 2);
    }
    assert.equal(client.closed, undefined, `closed with ${client.closed?.code}`);
    await client.next('pong', (m) => m.t === 5);
  });

  it("keeps a client open that answers the server's pings with pong", async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    for (let i = 0; i < 3; i++) {
      const ping = await client.next('ping', () => true, 1000);
      client.send({ type: 'pong', t: ping.t });
    }
    assert.equal(client.closed, undefined);
  });
});

describe('bad frames (4000, then 1008)', () => {
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer()));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  const cases: { what: string; frame: string; id?: string }[] = [
    { what: 'a frame that is not JSON', frame: 'hello' },
    { what: 'a JSON array', frame: '[1,2]' },
    { what: 'a JSON string', frame: '"subscribe"' },
    { what: 'an unknown type', frame: '{"type":"shout"}' },
    { what: 'a message without type', frame: '{"id":"x1"}', id: 'x1' },
    { what: 'a subscribe without channel', frame: '{"type":"subscribe","id":"s1"}', id: 's1' },
    {
      what: 'a subscribe with an unknown field',
      frame: '{"type":"subscribe","id":"s2","channel":"records:orders","colour":"red"}',
      id: 's2',
    },
    {
      what: 'a subscribe with an unknown where operator',
      frame:
        '{"type":"subscribe","id":"s3","channel":"records:orders","filter":{"where":{"a":{"$regex":"x"}}}}',
      id: 's3',
    },
    {
      what: 'a snapshot on records:*',
      frame: '{"type":"subscribe","id":"s4","channel":"records:*","snapshot":true}',
      id: 's4',
    },
    { what: 'an id over 64 characters', frame: `{"type":"unsubscribe","id":"${'x'.repeat(65)}"}` },
    { what: 'a ping whose t is an object', frame: '{"type":"ping","t":{"a":1}}' },
  ];
  for (const { what, frame, id } of cases) {
    it(`answers ${what} with error 4000${id ? ' carrying the same id' : ''}, and stays open`, async () => {
      const client = await pool.connect(server, KEYS.acmeSecret);
      client.send(frame);
      const error = await client.next('error');
      assert.equal(error.code, 4000);
      assert.equal(error.name, 'bad_request');
      assert.ok(error.message.length > 0);
      assert.equal(error.id, id);
      client.send({ type: 'ping', t: 'still-open' });
      await client.next('pong');
    });
  }

  it('closes the connection with 1008 at the 11th bad frame within a minute', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    for (let i = 0; i < 10; i++) client.send(`bad ${i}`);
    client.send({ type: 'ping', t: 'after ten' });
    await client.next('pong');
    assert.equal(client.messages.filter((m) => m.type === 'error').length, 10);
    assert.equal(client.closed, undefined);
    client.send('bad 11');
    assert.equal((await client.waitForClose()).code, CODE.policy_violation);
    assert.equal(client.messages.filter((m) => m.type === 'error').length, 10);
  });
});

describe('channels (4010)', () => {
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer()));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  const unavailable: { what: string; channel: string }[] = [
    { what: 'an unknown object', channel: 'records:invoices' },
    { what: 'a channel without a kind', channel: 'orders' },
    { what: 'an unknown kind', channel: 'rooms:lobby' },
    { what: 'an empty object name', channel: 'records:' },
    { what: 'an empty topic', channel: 'events:' },
    { what: 'an empty room', channel: 'presence:' },
    { what: 'presence:*', channel: 'presence:*' },
    { what: 'a name with a space', channel: 'records:has space' },
    { what: 'a name starting with a dash', channel: 'events:-promo' },
    { what: 'a name over 128 characters', channel: `events:${'a'.repeat(129)}` },
  ];
  for (const { what, channel } of unavailable) {
    it(`answers a subscribe to ${what} with error 4010 carrying the id, and stays open`, async () => {
      const client = await pool.connect(server, KEYS.acmeSecret);
      client.send({ type: 'subscribe', id: 'bad', channel });
      const error = await client.next('error');
      assert.equal(error.code, 4010);
      assert.equal(error.name, 'channel_unavailable');
      assert.equal(error.id, 'bad');
      await client.subscribe({ id: 'good', channel: 'records:orders' });
    });
  }

  for (const channel of ['records:orders', 'records:*', 'events:promo', 'events:*', 'presence:lobby']) {
    it(`accepts ${channel}`, async () => {
      const client = await pool.connect(server, KEYS.acmeSecret);
      const subscribed = await client.subscribe({ id: 'ok', channel });
      assert.equal(subscribed.id, 'ok');
    });
  }

  it('answers a publish to a malformed channel with error 4010 carrying the id', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    client.send({ type: 'publish', id: 'p', channel: 'events:no spaces', data: 1 });
    const error = await client.next('error');
    assert.deepEqual([error.code, error.id], [4010, 'p']);
  });
});

describe('scope (4003)', () => {
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer()));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it('refuses a publish with a publishable key with error 4003, and publishes nothing', async () => {
    const watcher = await pool.connect(server, KEYS.acmeSecret);
    await watcher.subscribe({ id: 'all', channel: 'events:*' });
    const client = await pool.connect(server, KEYS.acmePublic);
    client.send({ type: 'publish', id: 'p1', channel: 'events:promo', data: 1 });
    const error = await client.next('error');
    assert.equal(error.code, 4003);
    assert.equal(error.name, 'scope_denied');
    assert.equal(error.id, 'p1');
    client.send({ type: 'ping', t: 1 });
    await client.next('pong');
    await sleep(80);
    assert.deepEqual(watcher.events(), []);
  });

  it('refuses a subscribe to an object outside a publishable key’s objects list with error 4003', async () => {
    const client = await pool.connect(server, KEYS.acmeProductsOnly);
    client.send({ type: 'subscribe', id: 'orders', channel: 'records:orders', snapshot: true });
    const error = await client.next('error');
    assert.deepEqual([error.code, error.name, error.id], [4003, 'scope_denied', 'orders']);
    assert.ok(!client.messages.some((m) => m.type === 'subscribed'), 'no snapshot leaked');
    const products = await client.subscribe({ id: 'products', channel: 'records:products', snapshot: true });
    assert.deepEqual(
      products.snapshot?.map((r) => r.id),
      ['p1'],
    );
  });

  it('lets a publishable key without an objects list read every object', async () => {
    const client = await pool.connect(server, KEYS.acmePublic);
    await client.subscribe({ id: 'orders', channel: 'records:orders' });
    await client.subscribe({ id: 'products', channel: 'records:products' });
  });
});

describe('quotas (4008)', () => {
  const limits = { maxConnectionsPerClient: 3, maxSubscriptions: 3 };
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer({ limits })));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it("closes a client's connection past maxConnectionsPerClient with 4008, leaving other clients alone", async () => {
    // One client's connections count together, whatever key and environment they use.
    const open = [
      await pool.connect(server, KEYS.acmeSecret),
      await pool.connect(server, KEYS.acmePublic),
      await pool.connect(server, KEYS.acmeStaging),
    ];
    const extra = await pool.open(server, await getToken(server, KEYS.acmeSecret));
    const close = await extra.waitForClose();
    assert.equal(close.code, CODE.quota_exceeded);
    assert.ok(!extra.messages.some((m) => m.type === 'welcome'));

    const globex = await pool.connect(server, KEYS.globexSecret);
    assert.equal(globex.messages[0]?.type, 'welcome');
    for (const client of open) {
      client.send({ type: 'ping', t: 'alive' });
      await client.next('pong');
    }

    open[0]!.close();
    await connectionsBecome(server, 3); // two acme, one globex
    await pool.connect(server, KEYS.acmeSecret);
  });

  it('answers the subscribe past maxSubscriptions with error 4008 and keeps the connection usable', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    for (const id of ['s1', 's2', 's3']) await client.subscribe({ id, channel: `events:${id}` });
    client.send({ type: 'subscribe', id: 's4', channel: 'events:s4' });
    const error: ErrorMessage = await client.next('error');
    assert.deepEqual([error.code, error.name, error.id], [4008, 'quota_exceeded', 's4']);
    assert.equal(client.closed, undefined);

    // Replacing a live id does not count as one more.
    await client.subscribe({ id: 's1', channel: 'records:orders' });
    client.send({ type: 'ping', t: 'ok' });
    await client.next('pong');

    client.send({ type: 'unsubscribe', id: 's2' });
    await client.next('unsubscribed');
    await client.subscribe({ id: 's4', channel: 'events:s4' });
  });
});

describe('frame size (1009)', () => {
  const maxMessageBytes = 256;
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer({ limits: { maxMessageBytes } })));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  /** A valid publish frame of exactly `bytes` bytes. */
  function publishFrame(bytes: number): string {
    const bare = JSON.stringify({ type: 'publish', id: 'big', channel: 'events:size', data: '' });
    return JSON.stringify({
      type: 'publish',
      id: 'big',
      channel: 'events:size',
      data: 'x'.repeat(bytes - bare.length),
    });
  }

  it('accepts a frame of exactly maxMessageBytes', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const frame = publishFrame(maxMessageBytes);
    assert.equal(Buffer.byteLength(frame), maxMessageBytes);
    client.send(frame);
    await client.next('published');
  });

  it('closes the connection with 1009 on a frame over maxMessageBytes', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    client.send(publishFrame(maxMessageBytes + 1));
    assert.equal((await client.waitForClose()).code, CODE.message_too_big);
    assert.ok(!client.messages.some((m) => m.type === 'published'));
  });

  it('counts bytes, not characters', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const ascii = publishFrame(maxMessageBytes);
    const frame = ascii.replace('xxx', 'é'.repeat(2)); // 3 characters of 1 byte become 2 of 2 bytes
    assert.equal(Buffer.byteLength(frame), maxMessageBytes + 1);
    client.send(frame);
    assert.equal((await client.waitForClose()).code, CODE.message_too_big);
  });
});

describe('origin check on upgrade', () => {
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer()));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it('refuses an upgrade from an Origin that is not allowed with HTTP 403', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    await assert.rejects(pool.open(server, token, { origin: 'http://evil.test' }), /HTTP 403/);
  });

  it('lets an upgrade without Origin through', async () => {
    const client = await pool.open(server, await getToken(server, KEYS.acmeSecret));
    await client.next('welcome');
  });

  it('lets an upgrade from an allowed Origin through', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    const client = await pool.open(server, token, { origin: 'http://allowed.test' });
    await client.next('welcome');
  });
});

describe('server close (1001)', () => {
  const pool = new ClientPool();
  afterEach(() => pool.closeAll());

  it('closes every connection with 1001 when the server closes', async () => {
    const server = await startTestServer();
    try {
      const clients = [
        await pool.connect(server, KEYS.acmeSecret),
        await pool.connect(server, KEYS.globexSecret),
        await pool.connectWithAuthFrame(server, KEYS.acmeStaging),
      ];
      const closing = server.close();
      for (const client of clients) assert.equal((await client.waitForClose()).code, CODE.going_away);
      await closing;
    } finally {
      await server.close();
    }
  });
});
