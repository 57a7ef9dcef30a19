/**
 * Server-Sent Events (PROTOCOL.md section 6): the same server messages as WebSocket, as
 * `event:`/`data:`/`id:` blocks, with resume from the URL, heartbeat comments, refusals before the
 * stream starts and `event: close` where a WebSocket would be closed.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ErrorBodySchema,
  HealthResponseSchema,
  type LiveEvent,
  type WelcomeMessage,
} from '../../protocol/index.js';
import { RawClient, getToken, rest, sleep } from '../support/raw-client.js';
import { connectSse, openSse, type SseAnswer, type SseStream } from '../support/sse-client.js';
import { KEYS, connectionCount, startTestServer, type TestServer } from '../support/test-server.js';
import { UnreadStream } from '../support/unread-stream.js';

/** Streams and clients a test opened; closed after it. */
const open: { streams: SseStream[]; clients: RawClient[] } = { streams: [], clients: [] };
function track(stream: SseStream): SseStream {
  open.streams.push(stream);
  return stream;
}
afterEach(() => {
  for (const s of open.streams) {
    assert.deepEqual(s.invalid, []);
    s.close();
  }
  for (const c of open.clients) c.close();
  open.streams = [];
  open.clients = [];
});

function streamOf(answer: SseAnswer): SseStream {
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.ok(answer.stream);
  return track(answer.stream);
}

function refusal(answer: SseAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.stream, undefined);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(ErrorBodySchema.parse(answer.body).error.code, code);
}

function recordIds(events: LiveEvent[]): string[] {
  return events.map((e) => ('object' in e ? e.record.id : `(${e.channel})`));
}

async function welcomeOf(server: TestServer): Promise<WelcomeMessage> {
  const client = await RawClient.connect(server, KEYS.acmeSecret);
  open.clients.push(client);
  const welcome = client.messages.find((m) => m.type === 'welcome');
  assert.ok(welcome && welcome.type === 'welcome');
  return welcome;
}

describe('SSE stream', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('sends welcome, then subscribed with the snapshot, then batches, each as event/data/id', async () => {
    const answer = await openSse(server, {
      token: await getToken(server, KEYS.acmePublic),
      subscriptions: [
        { id: 's', channel: 'records:orders', filter: { where: { status: 'pending' } }, snapshot: true },
      ],
    });
    const stream = streamOf(answer);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/event-stream/);

    const welcome = await stream.nextFrame('welcome');
    assert.equal(welcome.message?.type, 'welcome');
    assert.equal(welcome.id, String(welcome.message.seq));
    assert.deepEqual([welcome.message.client, welcome.message.environment], ['acme', 'production']);
    const subscribed = await stream.next('subscribed');
    assert.equal(subscribed.id, 's');
    assert.deepEqual(
      subscribed.snapshot?.map((r) => r.id),
      ['o1', 'o3'],
    );

    const created = await rest(server, 'POST', '/api/objects/orders/records', {
      key: KEYS.acmeSecret,
      body: { id: 'sse1', status: 'pending' },
    });
    assert.equal(created.status, 201);
    const batch = await stream.nextFrame('batch');
    assert.equal(batch.message?.type, 'batch');
    const [event] = batch.message.events;
    assert.ok(event && 'operation' in event);
    assert.deepEqual([event.sub, event.change, event.id], ['s', 'added', 'sse1']);
    assert.equal(batch.id, String(event.seq));
    assert.deepEqual(
      stream.frames.map((f) => f.event),
      ['welcome', 'subscribed', 'batch'],
    );
  });

  it('applies the URL since and epoch to subscriptions without their own, and replays what they missed', async () => {
    const { seq: since, epoch } = await welcomeOf(server);
    await rest(server, 'POST', '/api/objects/orders/records', { key: KEYS.acmeSecret, body: { id: 'r1' } });
    await rest(server, 'POST', '/api/events/promo', { key: KEYS.acmeSecret, body: 'missed' });
    await rest(server, 'PATCH', '/api/objects/orders/records/r1', { key: KEYS.acmeSecret, body: { n: 1 } });
    const now = since + 3;

    const stream = streamOf(
      await openSse(server, {
        token: await getToken(server, KEYS.acmeSecret),
        since,
        epoch,
        subscriptions: [
          { id: 'r', channel: 'records:orders' },
          { id: 'e', channel: 'events:*' },
          { id: 'own', channel: 'records:orders', since: now },
        ],
      }),
    );
    const r = await stream.next('subscribed', (m) => m.id === 'r');
    assert.deepEqual([r.resumed, r.seq], [true, since]);
    const e = await stream.next('subscribed', (m) => m.id === 'e');
    assert.deepEqual([e.resumed, e.seq], [true, since]);
    const own = await stream.next('subscribed', (m) => m.id === 'own');
    assert.deepEqual([own.resumed, own.seq], [true, now]);

    const replayed = await stream.waitForEvents(3);
    assert.deepEqual(
      replayed.map((ev) => [ev.sub, ev.seq]),
      [
        ['r', since + 1],
        ['r', since + 3],
        ['e', since + 2],
      ],
    );
    // A replay of several events leaves in one batch whose id is the largest seq in it.
    const replayBatch = stream.frames.find(
      (f) => f.message?.type === 'batch' && f.message.events.length === 2,
    );
    assert.equal(replayBatch?.id, String(since + 3));

    await rest(server, 'DELETE', '/api/objects/orders/records/r1', { key: KEYS.acmeSecret });
    const live = await stream.waitForEvents(5);
    assert.deepEqual(
      live.slice(3).map((ev) => [ev.sub, ev.seq]),
      [
        ['r', now + 1],
        ['own', now + 1],
      ],
    );
  });

  it('gives resumed: false and a fresh snapshot for a URL since in another epoch', async () => {
    const { seq } = await welcomeOf(server);
    const stream = streamOf(
      await openSse(server, {
        token: await getToken(server, KEYS.acmeSecret),
        since: Math.max(0, seq - 1),
        epoch: 'e_gone',
        subscriptions: [{ id: 'p', channel: 'records:products', snapshot: true }],
      }),
    );
    const subscribed = await stream.next('subscribed');
    assert.equal(subscribed.resumed, false);
    assert.equal(subscribed.seq, seq);
    assert.deepEqual(
      subscribed.snapshot?.map((r) => r.id),
      ['p1'],
    );
  });

  it('sends a refused subscription as event: error without an id, and keeps the stream', async () => {
    const stream = streamOf(
      await openSse(server, {
        token: await getToken(server, KEYS.acmeSecret),
        subscriptions: [
          { id: 'bad', channel: 'records:invoices' },
          { id: 'ok', channel: 'events:*' },
        ],
      }),
    );
    const error = await stream.nextFrame('error');
    assert.equal(error.id, undefined);
    assert.ok(error.message?.type === 'error');
    assert.deepEqual([error.message.code, error.message.id], [4010, 'bad']);
    await stream.next('subscribed', (m) => m.id === 'ok');
    await rest(server, 'POST', '/api/events/after-error', { key: KEYS.acmeSecret, body: 1 });
    const [event] = await stream.waitForEvents(1, 'ok');
    assert.equal(event?.channel, 'events:after-error');
  });

  it('lets a publishable key stream the objects it may read', async () => {
    const stream = track(
      await connectSse(server, KEYS.acmeProductsOnly, {
        subscriptions: [
          { id: 'all', channel: 'records:*' },
          { id: 'orders', channel: 'records:orders' },
        ],
      }),
    );
    await stream.next('subscribed', (m) => m.id === 'all');
    const error = await stream.next('error');
    assert.deepEqual([error.code, error.id], [4003, 'orders']);
    await rest(server, 'PATCH', '/api/objects/orders/records/o2', { key: KEYS.acmeSecret, body: { x: 1 } });
    await rest(server, 'PATCH', '/api/objects/products/records/p1', { key: KEYS.acmeSecret, body: { x: 1 } });
    const events = await stream.waitForEvents(1);
    await sleep(40);
    assert.deepEqual(recordIds(stream.events()), ['p1']);
    assert.equal(events[0]?.channel, 'records:products');
  });

  const badRequests: {
    title: string;
    subscriptions?: string;
    since?: string;
    epoch?: string;
    details: boolean;
  }[] = [
    { title: 'subscriptions that are not JSON', subscriptions: '[{"id":', details: false },
    {
      title: 'subscriptions that are not an array',
      subscriptions: '{"id":"s","channel":"events:*"}',
      details: true,
    },
    { title: 'a subscription without a channel', subscriptions: '[{"id":"s"}]', details: true },
    {
      title: 'a subscription with an unknown field',
      subscriptions: '[{"id":"s","channel":"events:*","x":1}]',
      details: true,
    },
    { title: 'a negative since', subscriptions: '[]', since: '-1', details: false },
    { title: 'a since that is not a number', subscriptions: '[]', since: 'latest', details: false },
    { title: 'an empty since (not 0)', subscriptions: '[]', since: '', details: false },
    { title: 'a since in hexadecimal', subscriptions: '[]', since: '0x10', details: false },
    {
      title: 'a since past the safe integers',
      subscriptions: '[]',
      since: '9007199254740993',
      details: false,
    },
    { title: 'an empty epoch', subscriptions: '[]', since: '1', epoch: '', details: false },
    { title: 'an epoch over 128 characters', subscriptions: '[]', epoch: 'e'.repeat(129), details: false },
  ];
  for (const { title, subscriptions, since, epoch, details } of badRequests) {
    it(`answers 400 bad_request to ${title}, before the stream, and spends the token`, async () => {
      const token = await getToken(server, KEYS.acmeSecret);
      const answer = await openSse(server, {
        token,
        ...(subscriptions === undefined ? {} : { subscriptions }),
        ...(since === undefined ? {} : { since }),
        ...(epoch === undefined ? {} : { epoch }),
      });
      refusal(answer, 400, 'bad_request');
      if (details) assert.ok(Array.isArray(ErrorBodySchema.parse(answer.body).error.details));
      // A token is spent by its first use, successful or not (section 3).
      refusal(await openSse(server, { token }), 401, 'token_invalid');
    });
  }

  it('names the problem of an empty since', async () => {
    const answer = await openSse(server, { token: await getToken(server, KEYS.acmeSecret), since: '' });
    refusal(answer, 400, 'bad_request');
    assert.match(ErrorBodySchema.parse(answer.body).error.message, /since is empty/);
  });

  it('refuses a stream from an origin not allowed with 403, and answers an allowed one with CORS', async () => {
    refusal(
      await openSse(
        server,
        { token: await getToken(server, KEYS.acmeSecret) },
        { origin: 'http://evil.test' },
      ),
      403,
      'forbidden',
    );
    const answer = await openSse(
      server,
      { token: await getToken(server, KEYS.acmeSecret) },
      { origin: 'http://allowed.test' },
    );
    streamOf(answer);
    assert.equal(answer.headers.get('access-control-allow-origin'), 'http://allowed.test');
  });

  it('counts in /healthz while open and is released when the client goes away', async () => {
    const count = async () =>
      HealthResponseSchema.parse((await rest(server, 'GET', '/healthz')).body).connections;
    const settle = async (n: number) => {
      const deadline = Date.now() + 2000;
      while ((await count()) !== n && Date.now() < deadline) await sleep(5);
      assert.equal(await count(), n);
    };
    await settle(0); // the connections of earlier tests are gone
    const stream = track(await connectSse(server, KEYS.acmeSecret));
    assert.equal(await count(), 1);
    stream.close();
    await settle(0);
  });
});

describe('SSE tokens', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('answers 401 token_invalid without a token', async () => {
    refusal(await openSse(server, {}), 401, 'token_invalid');
  });

  it('answers 401 token_invalid to an unknown token', async () => {
    refusal(await openSse(server, { token: globalThis.crypto.randomUUID() }), 401, 'token_invalid');
  });

  it('answers 401 token_invalid to a token already used by a stream', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    streamOf(await openSse(server, { token }));
    refusal(await openSse(server, { token }), 401, 'token_invalid');
  });

  it('answers 401 token_invalid to a token already used by a WebSocket', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    const client = await RawClient.open(`${server.wsUrl}?token=${token}`);
    open.clients.push(client);
    await client.next('welcome');
    refusal(await openSse(server, { token }), 401, 'token_invalid');
  });

  it('answers 401 token_expired to a token older than tokenTtlMs', async () => {
    const shortLived = await startTestServer({ limits: { tokenTtlMs: 30 } });
    try {
      const token = await getToken(shortLived, KEYS.acmeSecret);
      await sleep(50);
      refusal(await openSse(shortLived, { token }), 401, 'token_expired');
    } finally {
      await shortLived.close();
    }
  });
});

describe('SSE limits and lifetime', () => {
  it('ends the socket of a stream closed with 4009 within a second when its client does not read, and counts it toward the quota until then', async () => {
    // 8 MiB: more than the kernel's socket buffers take, so the server still holds data at the close.
    const server = await startTestServer({
      limits: { maxBufferedBytes: 8 * 1024 * 1024, maxConnectionsPerClient: 1, historySize: 10 },
    });
    const suspended: number[] = [];
    server.on('session.suspended', (r) => {
      if (r.details.code === 4009) suspended.push(Date.now());
    });
    try {
      const subscriptions = encodeURIComponent(JSON.stringify([{ id: 'f', channel: 'events:flood' }]));
      const token = await getToken(server, KEYS.acmeSecret);
      const stream = await UnreadStream.open(
        server.url,
        `/sse/events/object-records/?token=${token}&subscriptions=${subscriptions}`,
      );
      for (let i = 0; i < 200 && (await connectionCount(server)) === 0; i++) await sleep(5);
      const pad = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 1000 && suspended.length === 0; i++) {
        await rest(server, 'POST', '/api/events/flood', { key: KEYS.acmeSecret, body: { pad } });
      }
      assert.equal(suspended.length, 1, 'closed with 4009');
      // Closed by the server, but its socket is still there: it still counts.
      assert.equal(await connectionCount(server), 1);
      refusal(
        await openSse(server, { token: await getToken(server, KEYS.acmeSecret) }),
        429,
        'quota_exceeded',
      );

      for (let i = 0; i < 400 && (await connectionCount(server)) > 0; i++) await sleep(5);
      const goneAfter = Date.now() - (suspended[0] as number);
      assert.equal(await connectionCount(server), 0);
      assert.ok(goneAfter < 3000, `the socket was ended ${goneAfter} ms after the close (grace 1000 ms)`);
      streamOf(await openSse(server, { token: await getToken(server, KEYS.acmeSecret) }));

      // Reading again, the client finds its socket ended: it closes as soon as the backlog is read.
      stream.resume();
      assert.ok(await stream.waitForClose(2000), 'the server ended the socket');
    } finally {
      await server.close();
    }
  });

  it('sends a ":" comment every heartbeatMs, and never closes a stream for client silence', async () => {
    const server = await startTestServer({ limits: { heartbeatMs: 40 } });
    try {
      const opened = Date.now();
      const stream = track(await connectSse(server, KEYS.acmeSecret));
      const deadline = opened + 2000;
      while (stream.comments.length < 3 && Date.now() < deadline) await sleep(5);
      const elapsed = Date.now() - opened;
      assert.equal(stream.comments.length, 3, `${stream.comments.length} comments in ${elapsed} ms`);
      // One per heartbeatMs, not faster; and 3 × heartbeatMs is past the 2 × that closes a silent WebSocket.
      assert.ok(elapsed >= 3 * 40 - 5, `3 comments after only ${elapsed} ms`);
      await sleep(10);
      assert.equal(stream.ended, false);
      assert.deepEqual(
        stream.frames.map((f) => f.event),
        ['welcome'],
      );
    } finally {
      await server.close();
    }
  });

  it('counts streams toward maxConnectionsPerClient: 429 quota_exceeded past it', async () => {
    const server = await startTestServer({ limits: { maxConnectionsPerClient: 2 } });
    try {
      const ws = await RawClient.connect(server, KEYS.acmeSecret);
      open.clients.push(ws);
      const first = track(await connectSse(server, KEYS.acmePublic));
      refusal(
        await openSse(server, { token: await getToken(server, KEYS.acmeSecret) }),
        429,
        'quota_exceeded',
      );
      // The quota is per client: globex is not affected by acme's connections.
      track(await connectSse(server, KEYS.globexSecret));
      // A stream that ends gives its place back.
      first.close();
      const deadline = Date.now() + 2000;
      let answer = await openSse(server, { token: await getToken(server, KEYS.acmeStaging) });
      while (answer.status === 429 && Date.now() < deadline) {
        await sleep(10);
        answer = await openSse(server, { token: await getToken(server, KEYS.acmeStaging) });
      }
      await streamOf(answer).next('welcome');
    } finally {
      await server.close();
    }
  });

  it('ends the stream with event: close {code: 1001, name, message} when the server closes', async () => {
    const server = await startTestServer();
    const stream = track(
      await connectSse(server, KEYS.acmeSecret, { subscriptions: [{ id: 'e', channel: 'events:*' }] }),
    );
    await stream.next('subscribed');
    await server.close();
    const close = await stream.nextFrame('close');
    assert.equal(close.id, undefined);
    assert.equal(stream.closeData?.code, 1001);
    assert.equal(stream.closeData?.name, 'going_away');
    assert.equal(typeof stream.closeData?.message, 'string');
    await stream.waitForEnd();
    assert.equal(stream.frames.at(-1)?.event, 'close');
  });

  it('delivers events still queued before the close on shutdown', async () => {
    const server = await startTestServer({ limits: { flushIntervalMs: 5000 } });
    const stream = track(
      await connectSse(server, KEYS.acmeSecret, { subscriptions: [{ id: 'e', channel: 'events:*' }] }),
    );
    await stream.next('subscribed');
    await rest(server, 'POST', '/api/events/last', { key: KEYS.acmeSecret, body: 'bye' });
    await server.close();
    await stream.waitForEnd();
    assert.deepEqual(
      stream.frames.map((f) => f.event),
      ['welcome', 'subscribed', 'batch', 'close'],
    );
  });
});
