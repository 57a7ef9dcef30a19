/**
 * The connection manager over Server-Sent Events (PROTOCOL.md section 6) against the real dev
 * server: `transport: 'sse'`, and `auto` falling back to SSE when WebSocket cannot open (its
 * upgrades go to a port where nothing listens, as behind a proxy that refuses them). Delivery is
 * checked by `seq` against the REST writes, and the applied state against a fresh query.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { DevServerOptions } from '../../dev-server/node/server.js';
import { tempDir } from '../support/cli-process.js';
import {
  SubscriptionLog,
  Writer,
  changes,
  manage,
  operations,
  queryOrders,
  stateBecomes,
  until,
  type Harness,
  type HarnessOptions,
} from '../support/live-harness.js';
import { connectionCount, freePort, startTestServer, type TestServer } from '../support/test-server.js';

const ALL_ORDERS = { channel: 'records:orders', snapshot: true } as const;
const PENDING_ORDERS = {
  channel: 'records:orders',
  filter: { where: { status: 'pending' } },
  snapshot: true,
} as const;

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

function managed(url: string, options: HarnessOptions): Harness {
  const harness = manage(url, options);
  cleanups.push(() => harness.connection.close());
  return harness;
}

/** Subscribes with a log and waits for its snapshot. */
async function subscribed(
  harness: Harness,
  request: object,
  log = new SubscriptionLog(),
): Promise<SubscriptionLog> {
  harness.connection.subscribe(request as typeof ALL_ORDERS, log.handlers);
  await until('the snapshot', () => log.subscribed.length > 0);
  return log;
}

/** Waits for every write's events, then checks them exactly, and the state against a query. */
async function exact(server: TestServer, writer: Writer, all: SubscriptionLog, pending: SubscriptionLog) {
  const allFrom = all.subscribed[0]?.seq ?? 0;
  const pendingFrom = pending.subscribed[0]?.seq ?? 0;
  await until(
    'every event of the writes',
    () =>
      operations(all).length >= writer.all(allFrom).length &&
      changes(pending).length >= writer.pendingOnly(pendingFrom).length,
  );
  assert.deepEqual(operations(all), writer.all(allFrom));
  assert.deepEqual(changes(pending), writer.pendingOnly(pendingFrom));
  assert.deepEqual(all.sorted(), await queryOrders(server));
  assert.deepEqual(pending.sorted(), await queryOrders(server, { status: 'pending' }));
}

describe('transport: sse', () => {
  it('delivers snapshots and every event once, on one stream, across a subscription added later', async () => {
    const server = await serve();
    const writer = new Writer(server);
    const harness = managed(server.url, { transport: 'sse' });
    const all = await subscribed(harness, ALL_ORDERS);
    await writer.burst(6);
    // A new subscription means a new stream carrying both, the first resuming with `since`.
    const pending = await subscribed(harness, PENDING_ORDERS);
    await writer.burst(8);
    await exact(server, writer, all, pending);
    assert.equal(harness.sockets.length, 0, 'no WebSocket was opened');
    assert.equal(await connectionCount(server), 1);
    assert.ok(all.subscribed.slice(1).every((message) => message.resumed === true));
  });

  it('resumes with since across a server restart with --data: nothing lost or doubled', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const port = await freePort();
    const data = dir.file('store.json');
    let server = await serve({ port, data });
    const writer = new Writer(server);
    const harness = managed(server.url, { transport: 'sse' });
    const all = await subscribed(harness, ALL_ORDERS);
    const pending = await subscribed(harness, PENDING_ORDERS);
    await writer.burst(5);
    await until('the first writes', () => operations(all).length === 5);

    await server.close();
    await until('reconnecting while the server is down', () =>
      harness.statuses.some((status) => status.state === 'reconnecting'),
    );
    server = await serve({ port, data });
    writer.server = server;
    await writer.burst(5);
    await stateBecomes(harness, 'open');
    await writer.burst(5);
    await exact(server, writer, all, pending);
  });

  it('refuses to publish, saying why', async () => {
    const server = await serve();
    const harness = managed(server.url, { transport: 'sse' });
    await subscribed(harness, ALL_ORDERS);
    await assert.rejects(harness.connection.publish('events:promo', { x: 1 }), (error: { message: string }) =>
      /needs a WebSocket/.test(error.message),
    );
  });
});

describe('transport: auto', () => {
  it('falls back to SSE when WebSocket never opens, and delivers everything there', async () => {
    const server = await serve();
    const closedPort = await freePort();
    /** Every upgrade goes where nothing listens: the socket fails as a refused upgrade does. */
    class BlockedWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address.replace(/:\d+\//, `:${closedPort}/`), protocols);
      }
    }
    const writer = new Writer(server);
    const harness = managed(server.url, { transport: 'auto', WebSocket: BlockedWebSocket });
    const all = await subscribed(harness, ALL_ORDERS);
    const pending = await subscribed(harness, PENDING_ORDERS);
    await writer.burst(8);
    await exact(server, writer, all, pending);
    assert.equal(harness.sockets.length, 3, 'three WebSocket attempts, then SSE');
    assert.equal(harness.connection.status.state, 'open');
  });
});
