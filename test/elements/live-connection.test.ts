/**
 * The connection manager (DESIGN.md "Connection manager", PROTOCOL.md sections 3, 5 and 7) in
 * Node, over real sockets: against the real dev server for everything it does, and against a
 * scripted stand-in for what the dev server never does (go silent, send a bad frame, repeat
 * events, close with any code of section 7).
 * Event delivery is checked by `seq` against the REST writes that caused it, and the applied
 * state against a fresh REST query.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { connect, type ConnectionStatus } from '../../elements/connection/index.js';
import {
  CODE,
  parseClientMessage,
  stringifyServerMessage,
  type SubscriptionSpec,
} from '../../protocol/index.js';
import type { DevServerOptions } from '../../dev-server/node/server.js';
import { tempDir } from '../support/cli-process.js';
import { connectionsBecome } from '../support/client-pool.js';
import {
  FAST_BACKOFF,
  SubscriptionLog,
  Writer,
  changes,
  manage,
  operations,
  queryOrders,
  receivedOf,
  sentOf,
  stateBecomes,
  until,
  type Harness,
  type HarnessOptions,
} from '../support/live-harness.js';
import { sleep } from '../support/raw-client.js';
import { startScriptedServer, type ScriptedServer } from '../support/scripted-server.js';
import { KEYS, connectionCount, freePort, startTestServer, type TestServer } from '../support/test-server.js';

const PENDING = { status: 'pending' };
const ALL_ORDERS = { channel: 'records:orders', snapshot: true } as const;
const PENDING_ORDERS = { channel: 'records:orders', filter: { where: PENDING }, snapshot: true } as const;

let cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function serve(options: DevServerOptions = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  cleanups.push(() => server.close());
  return server;
}

async function serveScripted(options: Parameters<typeof startScriptedServer>[0]): Promise<ScriptedServer> {
  const server = await startScriptedServer(options);
  cleanups.push(() => server.close());
  return server;
}

/** A manager that is closed (and its sockets cut) after the test. */
function managed(url: string, options: HarnessOptions = {}): Harness {
  const harness = manage(url, options);
  cleanups.push(() => {
    harness.connection.close();
    for (const socket of harness.sockets) socket.terminate();
  });
  return harness;
}

/** Subscribes `log` and waits for the first `subscribed`. */
async function subscribed(harness: Harness, request: Omit<SubscriptionSpec, 'id'>, log: SubscriptionLog) {
  const handle = harness.connection.subscribe(request, log.handlers);
  await until(`subscribed ${handle.id}`, () => log.subscribed.length > 0);
  return handle;
}

/** Subscribes to every order and to the pending ones, both with a snapshot. */
async function allAndPending(harness: Harness): Promise<{ all: SubscriptionLog; pending: SubscriptionLog }> {
  const all = new SubscriptionLog();
  const pending = new SubscriptionLog();
  await subscribed(harness, ALL_ORDERS, all);
  await subscribed(harness, PENDING_ORDERS, pending);
  return { all, pending };
}

/** Waits until both subscriptions hold every event the writer caused since `subscribed` number `from`. */
async function caughtUp(
  writer: Writer,
  all: SubscriptionLog,
  pending: SubscriptionLog,
  from = 0,
): Promise<void> {
  const seqOf = (log: SubscriptionLog) => log.subscribed[from]?.seq ?? Infinity;
  await until(
    'every event of the writes',
    () =>
      all.subscribed.length > from &&
      pending.subscribed.length > from &&
      operations(all, from).length >= writer.all(seqOf(all)).length &&
      changes(pending, from).length >= writer.pendingOnly(seqOf(pending)).length,
    5000,
  );
  await sleep(100); // anything doubled would arrive now
}

/**
 * Asserts that, since their `subscribed` number `from`, both subscriptions received exactly the
 * events of the writes, in seq order, once each, and that their state is a fresh REST query's.
 */
async function assertExact(
  server: TestServer,
  writer: Writer,
  all: SubscriptionLog,
  pending: SubscriptionLog,
  from = 0,
): Promise<void> {
  const allFrom = (all.subscribed[from] as { seq: number }).seq;
  const pendingFrom = (pending.subscribed[from] as { seq: number }).seq;
  assert.deepEqual(operations(all, from), writer.all(allFrom));
  assert.deepEqual(changes(pending, from), writer.pendingOnly(pendingFrom));
  assert.deepEqual(all.sorted(), await queryOrders(server));
  assert.deepEqual(pending.sorted(), await queryOrders(server, PENDING));
}

/** The states a manager went through. */
const states = (harness: Harness) => harness.statuses.map((s) => s.state);

/** The code of each status's `lastError`. */
const codesSeen = (harness: Harness) => harness.statuses.map((s) => s.lastError?.code);

describe('lazy open and linger close', () => {
  it('opens no socket before the first subscribe, then goes idle → connecting → open', async () => {
    const server = await serve();
    const harness = managed(server.url);
    await sleep(50);
    assert.equal(harness.connection.status.state, 'idle');
    assert.equal(harness.sockets.length, 0);
    assert.equal(harness.authRequests.length, 0);
    assert.equal(await connectionCount(server), 0);

    const log = new SubscriptionLog();
    await subscribed(harness, ALL_ORDERS, log);
    assert.deepEqual(states(harness), ['connecting', 'open']);
    assert.equal(harness.sockets.length, 1);
    assert.equal(harness.authRequests.length, 1);
    assert.equal(await connectionCount(server), 1);
    assert.deepEqual(log.sorted(), await queryOrders(server));
  });

  it('closes lingerMs after the last unsubscribe, back to idle, and keeps the socket for a subscribe meanwhile', async () => {
    const server = await serve();
    const harness = managed(server.url, { lingerMs: 150 });
    const a = await subscribed(harness, ALL_ORDERS, new SubscriptionLog());
    const b = await subscribed(harness, { channel: 'records:products' }, new SubscriptionLog());
    a.unsubscribe();
    await sleep(250);
    assert.equal(harness.connection.status.state, 'open', 'one subscription is left');

    b.unsubscribe();
    await sleep(50);
    const c = await subscribed(harness, PENDING_ORDERS, new SubscriptionLog());
    await sleep(200);
    assert.equal(harness.connection.status.state, 'open', 'a subscribe within lingerMs keeps the socket');
    assert.equal(harness.sockets.length, 1);

    const left = Date.now();
    c.unsubscribe();
    await stateBecomes(harness, 'idle');
    assert.ok(Date.now() - left >= 140, `idle after ${Date.now() - left} ms, before lingerMs`);
    await connectionsBecome(server, 0);
    assert.deepEqual(states(harness), ['connecting', 'open', 'idle']);
    assert.deepEqual(
      sentOf(harness, 'unsubscribe').map((m) => m.id),
      [a.id, b.id, c.id],
    );

    await subscribed(harness, ALL_ORDERS, new SubscriptionLog());
    assert.equal(harness.sockets.length, 2, 'a subscribe after idle opens again');
  });
});

describe('multiplexing', () => {
  it('carries many subscriptions on one socket, each with its own snapshot', async () => {
    const server = await serve();
    const harness = managed(server.url);
    assert.equal(connect({ url: `${server.url}/`, apiKey: KEYS.acmeSecret }), harness.connection);
    const wheres = [
      undefined,
      PENDING,
      { status: 'paid' },
      { total: { $gte: 50 } },
      { 'customer.city': 'London' },
    ];
    const logs = wheres.map(() => new SubscriptionLog());
    for (const [i, where] of wheres.entries()) {
      const request = where ? { ...ALL_ORDERS, filter: { where } } : ALL_ORDERS;
      await subscribed(harness, request, logs[i] as SubscriptionLog);
    }
    assert.equal(harness.sockets.length, 1);
    assert.equal(harness.authRequests.length, 1);
    assert.equal(await connectionCount(server), 1);
    assert.equal(sentOf(harness, 'subscribe').length, wheres.length);
    for (const [i, where] of wheres.entries()) {
      assert.deepEqual((logs[i] as SubscriptionLog).sorted(), await queryOrders(server, where));
    }
  });

  it("hands each subscription its events of a batch once, as one array, and nobody else's", async () => {
    const server = await serve({ limits: { flushIntervalMs: 100 } });
    const harness = managed(server.url);
    const pending = new SubscriptionLog();
    const all = new SubscriptionLog();
    const products = new SubscriptionLog();
    const promo = new SubscriptionLog();
    const quiet = new SubscriptionLog();
    const handles = [
      await subscribed(harness, PENDING_ORDERS, pending),
      await subscribed(harness, ALL_ORDERS, all),
      await subscribed(harness, { channel: 'records:products' }, products),
      await subscribed(harness, { channel: 'events:promo' }, promo),
      await subscribed(harness, { channel: 'events:other' }, quiet),
    ];
    const env = server.store.environment('acme', 'production');
    env.create('orders', { id: 'n1', status: 'pending' });
    env.create('orders', { id: 'n2', status: 'paid' });
    env.patch('orders', 'o1', { status: 'paid' });
    env.patch('orders', 'o3', { total: 1 });
    env.create('products', { id: 'p2', title: 'Lamp' });
    env.publish('promo', { x: 1 });
    await until('the batch', () => [pending, all, products, promo].every((log) => log.batches.length > 0));
    await sleep(150);

    const frames = receivedOf(harness, 'batch');
    assert.equal(frames.length, 1, 'the writes left in one batch frame');
    const frame = frames[0] as (typeof frames)[number];
    for (const [i, log] of [pending, all, products, promo].entries()) {
      const id = (handles[i] as { id: string }).id;
      assert.equal(log.batches.length, 1, `subscription ${id} got its events in one call`);
      assert.deepEqual(
        log.batches[0],
        frame.events.filter((e) => e.sub === id),
      );
    }
    assert.deepEqual(quiet.batches, []);
    assert.deepEqual(changes(pending), ['1 added n1', '3 removed o1', '4 modified o3']);
    assert.deepEqual(operations(all), ['1 create n1', '2 create n2', '3 update o1', '4 update o3']);
    assert.deepEqual(pending.sorted(), await queryOrders(server, PENDING));
    assert.deepEqual(all.sorted(), await queryOrders(server));
  });
});

describe('no event lost or doubled', () => {
  it('across a server restart with --data, resuming where it was', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const port = await freePort();
    const data = dir.file('store.json');
    let server = await serve({ port, data });
    const writer = new Writer(server);
    const harness = managed(server.url);
    const { all, pending } = await allAndPending(harness);
    await writer.burst(10);
    await caughtUp(writer, all, pending);

    await server.close();
    await until('a failed attempt while the server is down', () =>
      harness.statuses.some((s) => s.retryInMs !== undefined && s.lastError?.name === 'network'),
    );
    harness.gate.close();
    server = await serve({ port, data });
    writer.server = server;
    await writer.burst(10); // while the manager waits for a token: it must replay these
    assert.equal(harness.connection.status.state, 'reconnecting');
    harness.gate.open();
    await stateBecomes(harness, 'open');
    await writer.burst(10);
    await caughtUp(writer, all, pending);

    assert.deepEqual(
      all.subscribed.map((s) => s.resumed),
      [undefined, true],
    );
    assert.deepEqual(
      pending.subscribed.map((s) => s.resumed),
      [undefined, true],
    );
    await assertExact(server, writer, all, pending);
  });

  it('across a restart without --data, replacing its state with a fresh snapshot (resumed: false)', async () => {
    const port = await freePort();
    let server = await serve({ port });
    const writer = new Writer(server);
    const harness = managed(server.url);
    const { all, pending } = await allAndPending(harness);
    await writer.burst(10);
    await caughtUp(writer, all, pending);
    const before = { seq: all.lastSeq, epoch: receivedOf(harness, 'welcome')[0]?.epoch };

    await server.close();
    await stateBecomes(harness, 'reconnecting');
    harness.gate.close();
    server = await serve({ port });
    writer.restartedEmpty(server);
    await writer.burst(5); // before the resubscribe: in the snapshot, not events
    harness.gate.open();
    await until('both resubscribed', () => all.subscribed.length === 2 && pending.subscribed.length === 2);
    await writer.burst(10);
    await caughtUp(writer, all, pending, 1);

    for (const log of [all, pending]) {
      const again = log.subscribed[1];
      assert.equal(again?.resumed, false);
      assert.ok(again?.snapshot, 'a fresh snapshot came with resumed: false');
    }
    const resent = sentOf(harness, 'subscribe').filter((m) => m.id === sentOf(harness, 'subscribe')[0]?.id);
    assert.deepEqual(
      resent.map((m) => [m.since, m.epoch]),
      [
        [undefined, undefined],
        [before.seq, before.epoch],
      ],
    );
    await assertExact(server, writer, all, pending, 1);
  });

  it('across session expiry (4001), reconnecting at once with a new token each time', async () => {
    const server = await serve({ limits: { sessionTtlMs: 300 } });
    const writer = new Writer(server);
    // A backoff would take at least a second: every reconnect below must be far quicker.
    const harness = managed(server.url, { backoff: { minMs: 2000, maxMs: 4000, factor: 2 } });
    // Hold each reconnect back 30 ms so that writes certainly land while it is down.
    harness.connection.onStatus((status) => {
      if (status.state !== 'reconnecting') return;
      harness.gate.close();
      setTimeout(() => harness.gate.open(), 30);
    });
    const { all, pending } = await allAndPending(harness);
    const stop = writer.run();
    await until('four sessions', () => states(harness).filter((s) => s === 'open').length >= 4, 5000);
    await stop();
    await caughtUp(writer, all, pending);

    const opens = states(harness).filter((s) => s === 'open').length;
    const drops = harness.statuses.filter((s) => s.state === 'reconnecting');
    assert.ok(drops.length >= 3);
    for (const drop of drops) assert.equal(drop.lastError?.code, CODE.token_expired);
    assert.ok(
      harness.statuses.every((s) => s.retryInMs === undefined),
      'no backoff after 4001',
    );
    for (const [i, status] of harness.statuses.entries()) {
      if (status.state !== 'reconnecting') continue;
      const back = harness.statuses.slice(i).find((s) => s.state === 'open') as ConnectionStatus;
      assert.ok(back.at - status.at < 500, `reconnected ${back.at - status.at} ms after 4001`);
    }
    assert.equal(harness.authRequests.length, opens);
    assert.equal(new Set(harness.tokens).size, opens, 'a new token for every connection');
    for (const log of [all, pending]) {
      assert.equal(log.subscribed.length, opens);
      assert.ok(log.subscribed.slice(1).every((s) => s.resumed === true));
    }
    await assertExact(server, writer, all, pending);
  });

  it('across a slow-consumer close (4009)', async () => {
    const server = await serve({ limits: { maxBufferedBytes: 65_536, flushIntervalMs: 0 } });
    let suspended = false;
    server.on('session.suspended', () => (suspended = true));
    const writer = new Writer(server);
    const harness = managed(server.url);
    const { all, pending } = await allAndPending(harness);
    await writer.burst(5);
    await caughtUp(writer, all, pending);

    harness.gate.close();
    const socket = harness.sockets.at(-1);
    assert.ok(socket);
    socket.pause(); // stop reading: the server's unsent data grows
    const pad = 'x'.repeat(200_000);
    for (let i = 0; i < 100 && !suspended; i++) await writer.write(pad);
    assert.ok(suspended, 'the server closed the slow consumer');
    socket.resume();
    await stateBecomes(harness, 'reconnecting');
    await writer.burst(10);
    harness.gate.open();
    await stateBecomes(harness, 'open');
    await writer.burst(10);
    await caughtUp(writer, all, pending);

    assert.ok(codesSeen(harness).includes(CODE.slow_consumer), `close codes: ${codesSeen(harness).join()}`);
    for (const log of [all, pending]) {
      assert.deepEqual(
        log.subscribed.map((s) => s.resumed),
        [undefined, true],
      );
    }
    await assertExact(server, writer, all, pending);
  });

  it('across a heartbeat close (4011) of a client that stopped reading', async () => {
    const server = await serve({ limits: { heartbeatMs: 150 } });
    const writer = new Writer(server);
    const harness = managed(server.url);
    const { all, pending } = await allAndPending(harness);
    await writer.burst(5);
    await caughtUp(writer, all, pending);
    await sleep(400);
    assert.equal(harness.connection.status.state, 'open', 'answering pings keeps the connection');

    harness.gate.close();
    const socket = harness.sockets.at(-1);
    assert.ok(socket);
    socket.pause(); // neither reads the server's pings nor answers them
    await writer.burst(5);
    await stateBecomes(harness, 'reconnecting');
    socket.resume();
    await writer.burst(5);
    harness.gate.open();
    await stateBecomes(harness, 'open');
    await writer.burst(10);
    await caughtUp(writer, all, pending);

    assert.ok(
      codesSeen(harness).includes(CODE.heartbeat_timeout),
      `close codes: ${codesSeen(harness).join()}`,
    );
    for (const log of [all, pending]) {
      assert.deepEqual(
        log.subscribed.map((s) => s.resumed),
        [undefined, true],
      );
    }
    await assertExact(server, writer, all, pending);
  });
});

describe('close codes and failures', () => {
  it('goes denied on an unknown key, with lastError, and asks for no more tokens', async () => {
    const server = await serve();
    const harness = managed(server.url, { apiKey: 'sk_unknown' });
    harness.connection.subscribe(ALL_ORDERS, new SubscriptionLog().handlers);
    await stateBecomes(harness, 'denied');
    const error = harness.connection.status.lastError;
    assert.equal(error?.code, 401);
    assert.equal(error?.name, 'unauthorized');
    assert.ok(error?.message);
    await sleep(400); // twice the largest backoff
    assert.equal(harness.authRequests.length, 1);
    assert.equal(harness.sockets.length, 0);
    assert.deepEqual(states(harness), ['connecting', 'denied']);
  });

  it('reports reconnecting with retryInMs while the server is down, and opens when it is back', async () => {
    const port = await freePort();
    const harness = managed(`http://127.0.0.1:${port}`);
    const log = new SubscriptionLog();
    harness.connection.subscribe(ALL_ORDERS, log.handlers);
    const waits = () =>
      harness.statuses.filter((s) => s.state === 'reconnecting' && s.retryInMs !== undefined);
    await until('three scheduled retries', () => waits().length >= 3);
    for (const status of waits()) {
      assert.ok(
        (status.retryInMs as number) >= 10 && (status.retryInMs as number) <= 200,
        `${status.retryInMs}`,
      );
      assert.equal(status.lastError?.name, 'network');
    }
    assert.equal(harness.sockets.length, 0, 'no socket without a token');

    const server = await serve({ port });
    await stateBecomes(harness, 'open');
    assert.equal(harness.connection.status.lastError, undefined);
    await until('subscribed', () => log.subscribed.length === 1);
    assert.deepEqual(log.sorted(), await queryOrders(server));
  });
});

describe('subscriptions', () => {
  it("update() replaces the subscription: a new snapshot, and the old filter's events stop", async () => {
    const server = await serve({ limits: { flushIntervalMs: 50 } });
    const harness = managed(server.url);
    const log = new SubscriptionLog();
    const handle = await subscribed(harness, PENDING_ORDERS, log);
    assert.deepEqual(log.sorted(), await queryOrders(server, PENDING));

    const env = server.store.environment('acme', 'production');
    env.create('orders', { id: 'x0', status: 'pending' }); // not yet sent when the filter changes
    handle.update({ ...ALL_ORDERS, filter: { where: { status: 'paid' } } });
    await until('the new subscribed', () => log.subscribed.length === 2);
    assert.deepEqual(log.subscribed[1]?.snapshot?.map((r) => r.id).sort(), ['o2']);
    assert.deepEqual(log.sorted(), await queryOrders(server, { status: 'paid' }));

    env.create('orders', { id: 'x1', status: 'pending' });
    env.create('orders', { id: 'x2', status: 'paid' });
    await until('the paid order', () => log.recordEvents().some((e) => e.id === 'x2'));
    await sleep(100);
    assert.deepEqual(changes(log), ['3 added x2']);
    assert.deepEqual(log.sorted(), await queryOrders(server, { status: 'paid' }));
    const sent = sentOf(harness, 'subscribe');
    assert.equal(sent.length, 2);
    assert.equal(sent[1]?.id, handle.id, 'the same id: replaced, not added');
    assert.equal(sent[1]?.since, undefined);

    handle.resync();
    await until('the resync', () => log.subscribed.length === 3);
    assert.equal(sentOf(harness, 'subscribe')[2]?.since, undefined, 'a resync asks for a fresh snapshot');
    assert.deepEqual(log.sorted(), await queryOrders(server, { status: 'paid' }));
  });

  it('calls onError for a refused subscription and does not send it again after a reconnect', async () => {
    const server = await serve({ limits: { sessionTtlMs: 300 } });
    const harness = managed(server.url);
    const refused = new SubscriptionLog();
    const good = new SubscriptionLog();
    const bad = harness.connection.subscribe({ channel: 'records:nope' }, refused.handlers);
    await subscribed(harness, ALL_ORDERS, good);
    await until('the refusal', () => refused.errors.length === 1);
    assert.equal(refused.errors[0]?.code, CODE.channel_unavailable);
    assert.equal(
      harness.connection.status.state,
      'open',
      'a refused subscription does not end the connection',
    );

    await until('two reconnects', () => good.subscribed.length === 3);
    assert.equal(sentOf(harness, 'subscribe').filter((m) => m.id === bad.id).length, 1);
    assert.equal(refused.errors.length, 1);
    assert.deepEqual(refused.subscribed, []);
  });

  it('treats a subscription refused with 4029 (rate limited) like one refused with 4008: onError, the connection stays, not sent again', async () => {
    // Two frames at once, then one a second: of three subscribes sent together the third is dropped.
    const server = await serve({
      limits: { maxMessagesPerSecond: 1, maxMessageBurst: 2, sessionTtlMs: 300 },
    });
    const harness = managed(server.url);
    const logs = [new SubscriptionLog(), new SubscriptionLog(), new SubscriptionLog()];
    const handles = logs.map((log, i) =>
      harness.connection.subscribe({ channel: `events:t${i}` }, log.handlers),
    );
    await until('the refusal', () => logs[2]?.errors.length === 1);
    assert.deepEqual(
      [logs[2]?.errors[0]?.code, logs[2]?.errors[0]?.name],
      [CODE.rate_limited, 'rate_limited'],
    );
    assert.equal(
      harness.connection.status.state,
      'open',
      'a refused subscription does not end the connection',
    );

    await until('two reconnects', () => (logs[0]?.subscribed.length ?? 0) >= 3);
    const refusedId = handles[2]?.id;
    assert.equal(sentOf(harness, 'subscribe').filter((m) => m.id === refusedId).length, 1);
    assert.deepEqual(logs[2]?.subscribed, []);
    assert.equal(logs[2]?.errors.length, 1);
  });

  it('publishes on the socket and resolves with the seq; a refused publish rejects and the connection stays', async () => {
    const server = await serve();
    const secret = managed(server.url);
    await assert.rejects(secret.connection.publish('events:promo', 1), { name: 'not_connected' });
    const promo = new SubscriptionLog();
    await subscribed(secret, { channel: 'events:promo' }, promo);
    const seq = await secret.connection.publish('events:promo', { sale: 20 });
    await until('the custom event', () => promo.events.length === 1);
    assert.deepEqual(
      promo.events.map((e) => [e.seq, 'data' in e ? e.data : undefined]),
      [[seq, { sale: 20 }]],
    );

    const publishable = managed(server.url, { apiKey: KEYS.acmePublic });
    await subscribed(publishable, { channel: 'events:promo' }, new SubscriptionLog());
    await assert.rejects(publishable.connection.publish('events:promo', 2), { code: CODE.scope_denied });
    assert.equal(publishable.connection.status.state, 'open');
  });
});

describe('heartbeat and bad frames (scripted server)', () => {
  it('reconnects after 2 × heartbeatMs of silence from the server', async () => {
    const server = await serveScripted({ heartbeatMs: 100 });
    const harness = managed(server.url);
    harness.connection.subscribe(ALL_ORDERS, new SubscriptionLog().handlers);
    await until('a second connection', () => server.welcomedAt.length >= 2);
    const [first, second] = server.welcomedAt as [number, number];
    assert.ok(second - first >= 200, `reconnected after ${second - first} ms of silence`);
    assert.ok(second - first < 1000, `reconnected only after ${second - first} ms`);
    await stateBecomes(harness, 'open');
    assert.ok(codesSeen(harness).includes(CODE.heartbeat_timeout));
  });

  it('reports a frame that fails the schema in lastError and stays open', async () => {
    const server = await serveScripted({
      heartbeatMs: 60_000,
      afterWelcome: (socket) => {
        socket.send('{"type":"batch","events":[{"seq":"one"}]}');
        socket.send('not json');
        socket.send('{"type":"ping","t":7}');
      },
    });
    const harness = managed(server.url);
    harness.connection.subscribe(ALL_ORDERS, new SubscriptionLog().handlers);
    await until('the pong', () => server.received.some((text) => text.includes('"pong"')));
    const pong = server.received.map(parseClientMessage).find((m) => m.ok && m.message.type === 'pong');
    assert.deepEqual(pong, { ok: true, message: { type: 'pong', t: 7 } });
    const status = harness.connection.status;
    assert.equal(status.state, 'open');
    assert.equal(status.lastError?.name, 'bad_frame');
    assert.match(status.lastError?.message ?? '', /JSON/);
    await sleep(200);
    assert.equal(server.welcomedAt.length, 1, 'no reconnect');
  });

  it('drops events it has already seen, even from a server that sends them again', async () => {
    const server = await serveScripted({
      heartbeatMs: 60_000,
      afterWelcome: (socket) =>
        socket.on('message', (data) => {
          const parsed = parseClientMessage(String(data));
          if (!parsed.ok || parsed.message.type !== 'subscribe') return;
          const sub = parsed.message.id;
          const timestamp = new Date().toISOString();
          const event = (seq: number) => ({
            seq,
            sub,
            channel: 'events:promo',
            topic: 'promo',
            data: seq,
            timestamp,
          });
          const batch = (...seqs: number[]) =>
            socket.send(stringifyServerMessage({ type: 'batch', events: seqs.map(event) }));
          socket.send(stringifyServerMessage({ type: 'subscribed', id: sub, seq: 0 }));
          batch(1, 2);
          batch(2, 3);
          batch(1);
          batch(4);
        }),
    });
    const harness = managed(server.url);
    const log = new SubscriptionLog();
    harness.connection.subscribe({ channel: 'events:promo' }, log.handlers);
    await until('the last event', () => log.events.some((e) => e.seq === 4));
    assert.deepEqual(
      log.batches.map((events) => events.map((e) => e.seq)),
      [[1, 2], [3], [4]],
    );
  });
});

/** PROTOCOL.md section 7's "client should" column, as the manager must act on each close. */
const STEERING = [
  { name: 'token_expired', then: 'at once' },
  { name: 'token_invalid', then: 'with backoff' },
  { name: 'scope_denied', then: 'denied' },
  { name: 'quota_exceeded', then: 'at the maximum backoff' },
  { name: 'rate_limited', then: 'at the maximum backoff' },
  { name: 'slow_consumer', then: 'with backoff' },
  { name: 'heartbeat_timeout', then: 'with backoff' },
  { name: 'going_away', then: 'with backoff' },
  { name: 'policy_violation', then: 'with backoff' },
  { name: 'message_too_big', then: 'with backoff' },
] as const;

describe('close codes steer the retry (scripted server)', () => {
  for (const { name, then } of STEERING) {
    const code = CODE[name];
    const title =
      then === 'denied'
        ? `stops at denied on ${code} (${name}) and asks for no more tokens`
        : `reconnects ${then} on ${code} (${name})`;
    it(title, async () => {
      let welcomed = 0;
      const server = await serveScripted({
        heartbeatMs: 60_000,
        afterWelcome: (socket) => {
          if (++welcomed === 1) socket.close(code, `scripted ${name}`);
        },
      });
      const harness = managed(server.url);
      harness.connection.subscribe(ALL_ORDERS, new SubscriptionLog().handlers);
      if (then === 'denied') {
        await stateBecomes(harness, 'denied');
        await sleep(400); // twice the largest backoff
        assert.equal(harness.connection.status.state, 'denied');
        assert.equal(harness.connection.status.lastError?.code, code);
        assert.equal(harness.authRequests.length, 1);
        assert.equal(server.welcomedAt.length, 1);
        return;
      }
      await until('the second connection', () => server.welcomedAt.length === 2);
      await stateBecomes(harness, 'open');
      assert.deepEqual(states(harness).slice(0, 2), ['connecting', 'open']);
      assert.equal(harness.statuses[2]?.state, 'reconnecting');
      assert.equal(harness.statuses[2]?.lastError?.code, code);
      const waits = harness.statuses.flatMap((s) => (s.retryInMs === undefined ? [] : [s.retryInMs]));
      if (then === 'at once') assert.deepEqual(waits, []);
      else if (then === 'at the maximum backoff') assert.deepEqual(waits, [FAST_BACKOFF.maxMs]);
      else {
        assert.equal(waits.length, 1);
        const wait = waits[0] as number;
        assert.ok(
          wait >= FAST_BACKOFF.minMs / 2 && wait <= FAST_BACKOFF.minMs,
          `first retry after ${wait} ms`,
        );
      }
      assert.equal(harness.authRequests.length, 2, 'a new token for the new connection');
    });
  }
});
