/**
 * The frame rate limit (`maxMessagesPerSecond` with `maxMessageBurst`, code 4029), the coalesced
 * `message` audit, and when a connection stops counting toward the quota: over real sockets
 * against the dev server, and, where seconds and intervals matter, against the engine on a clock
 * the test drives (test/support/manual-clock.ts).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { resolveConfig } from '../../dev-server/engine/config.js';
import { Engine } from '../../dev-server/engine/engine.js';
import type { EngineSocket, SocketHandle } from '../../dev-server/engine/socket.js';
import {
  CODE,
  SERVER_BOUNDS,
  type AuditRecord,
  type ErrorMessage,
  type Limits,
  type ServerMessage,
  type WsAuthResponse,
} from '../../protocol/index.js';
import { ClientPool } from '../support/client-pool.js';
import { ManualClock } from '../support/manual-clock.js';
import { RawClient, sleep } from '../support/raw-client.js';
import { KEYS, startTestServer, testConfig, type TestServer } from '../support/test-server.js';

const RATE = { maxMessagesPerSecond: 10, maxMessageBurst: 5 } as const;

describe('frame rate limit (4029), over real sockets', () => {
  let server: TestServer;
  const pool = new ClientPool();
  const audit: AuditRecord[] = [];
  before(async () => {
    server = await startTestServer({ limits: RATE });
    server.on('*', (r) => audit.push(r));
  });
  afterEach(() => pool.closeAll());
  after(() => server.close());

  const errors = (messages: readonly ServerMessage[]) =>
    messages.filter((m): m is ErrorMessage => m.type === 'error');

  it('answers each frame past the burst with error 4029 naming the limit, drops it, and reads frames again as the rate allows', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    for (let i = 0; i < RATE.maxMessageBurst + 1; i++) client.send({ type: 'ping', t: i });
    const error = await client.next('error');
    assert.deepEqual([error.code, error.name, error.id], [CODE.rate_limited, 'rate_limited', undefined]);
    assert.match(error.message, /maxMessagesPerSecond \(10 a second.*maxMessageBurst 5/);
    const pongs = client.messages.filter((m) => m.type === 'pong').map((m) => m.t);
    assert.deepEqual(pongs, [0, 1, 2, 3, 4], 'the burst is read, the frame past it is not');

    await sleep(250); // two frames' worth at 10 a second
    client.send({ type: 'ping', t: 'later' });
    assert.equal((await client.next('pong')).t, 'later');
    assert.equal(client.closed, undefined);
  });

  it('counts every frame: bad frames and subscribes use the budget as pings do', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    for (let i = 0; i < 3; i++) client.send('not json');
    client.send({ type: 'subscribe', id: 'a', channel: 'events:a' });
    client.send({ type: 'subscribe', id: 'a', channel: 'events:b' }); // a replacement counts too
    client.send({ type: 'subscribe', id: 'c', channel: 'events:c' });
    const limited = await client.next('error', (m) => m.code === CODE.rate_limited);
    assert.equal(limited.id, 'c');
    assert.deepEqual(
      errors(client.messages).map((e) => e.code),
      [4000, 4000, 4000, CODE.rate_limited],
    );
  });

  it('counts a large frame once per started KiB: a 3 KiB frame takes four of the burst', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const padding = 'x'.repeat(3 * SERVER_BOUNDS.messageBytesPerToken);
    client.send({ type: 'ping', t: 'big', pad: padding } as never); // an unknown key: a 4000 after it is read
    client.send({ type: 'ping', t: 'fits' });
    client.send({ type: 'ping', t: 'over' });
    const limited = await client.next('error', (m) => m.code === CODE.rate_limited);
    assert.ok(limited);
    assert.deepEqual(
      client.messages.filter((m) => m.type === 'pong').map((m) => m.t),
      ['fits'],
      'the large frame took 4 of the 5, the next one the last',
    );
  });

  /** Dropped frames and the id their 4029 names: the top-level `"id"` JSON.parse would read, when plain. */
  const DROPPED: { frame: string; id: string | undefined }[] = [
    { frame: JSON.stringify({ type: 'subscribe', channel: 'events:s9', id: 's9' }), id: 's9' },
    { frame: ' { "type" : "unsubscribe" , "id" : "u1" }', id: 'u1' },
    {
      frame: JSON.stringify({ type: 'publish', id: 'p1', channel: 'events:s9', data: { id: 'no' } }),
      id: 'p1',
    },
    {
      frame: JSON.stringify({
        type: 'subscribe',
        channel: 'records:orders',
        filter: { where: { id: 'o1' } },
        id: 'w',
      }),
      id: 'w',
    },
    { frame: '{"type":"subscribe","id":"a","channel":"events:x","id":"last"}', id: 'last' },
    { frame: '{"type":"subscribe","channel":"id","x":["id"]}', id: undefined },
    { frame: '{"type":"subscribe","id":"esc\\"aped","channel":"events:s9"}', id: undefined },
    { frame: `{"type":"subscribe","id":"${'x'.repeat(65)}","channel":"events:s9"}`, id: undefined },
    { frame: '{"type":"subscribe","id":7}', id: undefined },
    { frame: 'not json "id":"x"', id: undefined },
  ];

  it('names the id of a dropped frame when it can tell it without parsing, and nothing of the frame happens', async () => {
    const server = await startTestServer({ limits: { maxMessagesPerSecond: 1, maxMessageBurst: 20 } });
    try {
      const client = await RawClient.connect(server, KEYS.acmeSecret);
      for (let i = 0; i < 20; i++) client.send({ type: 'ping' });
      for (const { frame } of DROPPED) client.send(frame);
      for (let i = 0; i < 100 && errors(client.messages).length < DROPPED.length; i++) await sleep(10);
      assert.deepEqual(
        errors(client.messages).map((e) => [e.code, e.id]),
        DROPPED.map((d) => [CODE.rate_limited, d.id]),
      );
      await sleep(1100);
      client.send({ type: 'ping', t: 'after' });
      await client.next('pong', (m) => m.t === 'after');
      assert.ok(
        !client.messages.some(
          (m) => m.type === 'subscribed' || m.type === 'published' || m.type === 'unsubscribed',
        ),
        'a dropped frame is not acted on',
      );
      client.close();
    } finally {
      await server.close();
    }
  });

  it('closes a connection that keeps on with 4029 after more than a burst of dropped frames, audited as session.suspended', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const welcome = client.messages[0];
    assert.ok(welcome?.type === 'welcome');
    for (let i = 0; i < 200; i++) client.send({ type: 'ping' });
    const close = await client.waitForClose();
    assert.equal(close.code, CODE.rate_limited);
    assert.match(close.reason, /maxMessagesPerSecond/);
    // The burst was read, a burst of drops answered, and nothing after the close.
    const answered = errors(client.messages).length;
    assert.equal(answered, RATE.maxMessageBurst, 'the 4029 answers are bounded by a burst');
    assert.equal(client.messages.filter((m) => m.type === 'pong').length, RATE.maxMessageBurst);

    const own = () => audit.filter((r) => r.connectionId === welcome.connectionId);
    for (let i = 0; i < 100 && !own().some((r) => r.type === 'disconnect'); i++) await sleep(10);
    const suspended = own().find((r) => r.type === 'session.suspended');
    assert.deepEqual(suspended?.details, { code: CODE.rate_limited, reason: 'rate_limited' });
    const messages = own().filter((r) => r.type === 'message');
    assert.deepEqual(
      messages.map((r) => [r.details.counts, r.details.dropped]),
      [[{ ping: RATE.maxMessageBurst }, RATE.maxMessageBurst + 1]],
      'one message record: the frames read by type, and the dropped ones',
    );
  });
});

/** A socket for the engine that keeps what it was sent; the test says when it is gone. */
class FakeSocket implements EngineSocket {
  readonly sent: ServerMessage[] = [];
  closedWith: { code: number; reason: string } | undefined;
  handle: SocketHandle | undefined;
  bufferedAmount = 0;

  send(frame: string): void {
    this.sent.push(JSON.parse(frame) as ServerMessage);
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }

  /** Sends `n` pings, as fast as they come. */
  pings(n: number): void {
    for (let i = 0; i < n; i++) this.handle?.receive('{"type":"ping"}');
  }

  count(type: ServerMessage['type'], code?: number): number {
    return this.sent.filter(
      (m) => m.type === type && (code === undefined || ('code' in m && m.code === code)),
    ).length;
  }
}

/** An engine on a manual clock, and a way to open WebSockets on it. */
function engineOn(limits: Partial<Limits> = {}) {
  const clock = new ManualClock();
  const engine = new Engine(resolveConfig(testConfig(), { heartbeatMs: 3_600_000, ...RATE, ...limits }), {
    clock,
  });
  const audit: AuditRecord[] = [];
  engine.on('*', (r) => audit.push(r));
  const open = (key: string = KEYS.acmeSecret) => {
    const socket = new FakeSocket();
    const { token } = engine.issueToken(engine.authorize(`Bearer ${key}`)) as WsAuthResponse; // one process: at once
    socket.handle = engine.openWebSocket(socket, token);
    return socket;
  };
  return { clock, engine, audit, open };
}

describe('frame rate limit and message audit, on a manual clock', () => {
  it('refills the bucket at maxMessagesPerSecond, up to maxMessageBurst', () => {
    const { clock, open } = engineOn();
    const socket = open();
    socket.pings(RATE.maxMessageBurst + 1);
    assert.deepEqual([socket.count('pong'), socket.count('error', CODE.rate_limited)], [5, 1]);
    clock.advance(300); // three frames' worth
    socket.pings(4);
    assert.deepEqual([socket.count('pong'), socket.count('error', CODE.rate_limited)], [8, 2]);
    clock.advance(60_000); // a minute of quiet fills the bucket to the burst, no more
    socket.pings(RATE.maxMessageBurst + 1);
    assert.deepEqual([socket.count('pong'), socket.count('error', CODE.rate_limited)], [13, 3]);
    assert.equal(socket.closedWith, undefined);
  });

  it('never closes a client whose excess stays under a burst per window: it only loses the excess', () => {
    // 10 a second with bursts of 20: up to 20 dropped per 10 s window are let go.
    const { clock, open } = engineOn({ maxMessageBurst: 20 });
    const socket = open();
    // 11.5 frames a second for a minute: 1.5 dropped a second, 15 per window.
    for (let i = 0; i < 11.5 * 60; i++) {
      socket.pings(1);
      clock.advance(1000 / 11.5);
    }
    assert.equal(socket.closedWith, undefined);
    const read = socket.count('pong');
    assert.ok(read >= 10 * 60 && read <= 10 * 60 + 20, `${read} frames read`);
    assert.equal(read + socket.count('error', CODE.rate_limited), 11.5 * 60);
  });

  it(`closes a client at three times its rate with 4029 within ${SERVER_BOUNDS.rateLimitWindowMs / 1000} s`, () => {
    const { clock, open } = engineOn();
    const socket = open();
    let elapsed = 0;
    while (!socket.closedWith && elapsed < 60_000) {
      socket.pings(3);
      clock.advance(100);
      elapsed += 100;
    }
    assert.equal(socket.closedWith?.code, CODE.rate_limited);
    assert.ok(elapsed <= SERVER_BOUNDS.rateLimitWindowMs, `closed after ${elapsed} ms`);
  });

  it('writes one message record per connection per interval, with counts by type, and one for the rest at disconnect', () => {
    const { clock, open, audit } = engineOn({ maxMessagesPerSecond: 1000, maxMessageBurst: 1000 });
    const socket = open();
    const messages = () => audit.filter((r) => r.type === 'message');
    socket.handle?.receive('{"type":"subscribe","id":"a","channel":"events:a"}');
    socket.pings(500);
    clock.advance(SERVER_BOUNDS.messageAuditIntervalMs - 1);
    assert.deepEqual(messages(), [], 'nothing before the interval ends');
    clock.advance(1);
    assert.deepEqual(
      messages().map((r) => r.details),
      [
        {
          from: new Date(clock.now() - SERVER_BOUNDS.messageAuditIntervalMs).toISOString(),
          counts: { subscribe: 1, ping: 500 },
          dropped: 0,
        },
      ],
    );
    clock.advance(60_000);
    assert.equal(messages().length, 1, 'a quiet connection writes none');

    socket.pings(1001);
    socket.handle?.receive('{"type":"unsubscribe","id":"a"}');
    socket.handle?.closed(1000);
    assert.deepEqual(
      messages()
        .slice(1)
        .map((r) => [r.details.counts, r.details.dropped]),
      [[{ ping: 1000 }, 2]],
    );
    const types = audit.map((r) => r.type);
    assert.equal(types.indexOf('message', types.indexOf('message') + 1), types.indexOf('disconnect') - 1);
  });
});

describe('the quota counts a connection until its socket is gone', () => {
  it('keeps a connection the server closed in the count until the transport reports its socket closed', () => {
    const { engine, open } = engineOn({ maxConnectionsPerClient: 1 });
    const socket = open();
    assert.equal(engine.connectionCount, 1);
    socket.pings(20); // 5 read, 5 answered with 4029, the 11th closes
    assert.equal(socket.closedWith?.code, CODE.rate_limited);
    assert.equal(engine.connectionCount, 1, 'its socket is still open');
    const refused = open();
    assert.equal(refused.closedWith?.code, CODE.quota_exceeded);
    socket.handle?.closed(CODE.rate_limited);
    assert.equal(engine.connectionCount, 0);
    const next = open();
    assert.equal(next.closedWith, undefined);
    assert.equal(next.sent[0]?.type, 'welcome');
  });

  it('closes each connection once, however often closeConnections is called before its socket ends', () => {
    const { engine, open } = engineOn();
    open();
    open();
    assert.equal(engine.closeConnections('token_expired'), 2);
    assert.equal(engine.closeConnections('token_expired'), 0, 'closing already');
    assert.equal(engine.connectionCount, 2);
  });
});
