/**
 * The real connection manager (`connect` from `elements/connection`) against the msw mock, with
 * msw's Node interception patching the global `fetch` and `WebSocket` it is given: snapshots and
 * live events, and each fault of the control API with the effect a page shows for it.
 */
import '../support/node-websocket.js';
import { setupServer } from 'msw/node';
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  connect,
  type BackoffOptions,
  type ConnectionStatus,
  type LiveConnection,
} from '../../elements/connection/index.js';
import type { AuditRecord, SubscriptionSpec } from '../../protocol/index.js';
import { seededRandom } from '../../dev-server/engine/demo-data.js';
import { createMock, type Mock, type MockOptions } from '../../mock/index.js';
import { FAST_BACKOFF, SubscriptionLog, queryOrders, until } from '../support/live-harness.js';
import { rest, sleep } from '../support/raw-client.js';
import { FAST_LIMITS, KEYS, testConfig } from '../support/test-server.js';

const PENDING = { status: 'pending' };
const ALL_ORDERS = { channel: 'records:orders', snapshot: true } as const;

const msw = setupServer();
before(() => msw.listen({ onUnhandledRequest: 'error' }));
after(() => msw.close());

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
  cleanups = [];
  msw.resetHandlers();
});

/** A mock with the test config and fast limits, intercepted until the test ends. */
function startMock(options: MockOptions = {}): Mock {
  const mock = createMock({
    config: testConfig(),
    ...options,
    limits: { ...FAST_LIMITS, ...options.limits },
  });
  msw.resetHandlers(...mock.handlers);
  cleanups.push(() => mock.close());
  return mock;
}

type Managed = { connection: LiveConnection; statuses: ConnectionStatus[] };

/** The manager on the mock, with the globals msw patched; closed when the test ends. */
function manage(mock: Mock, options: { apiKey?: string; backoff?: BackoffOptions } = {}): Managed {
  const connection = connect({
    url: mock.url,
    apiKey: options.apiKey ?? KEYS.acmeSecret,
    WebSocket: globalThis.WebSocket,
    fetch: globalThis.fetch,
    backoff: options.backoff ?? FAST_BACKOFF,
    lingerMs: 50,
  });
  const statuses: ConnectionStatus[] = [];
  connection.onStatus((status) => statuses.push(status));
  cleanups.push(() => connection.close());
  return { connection, statuses };
}

/** Subscribes and waits for the first `subscribed`. */
async function follow(managed: Managed, request: Omit<SubscriptionSpec, 'id'>): Promise<SubscriptionLog> {
  const log = new SubscriptionLog();
  managed.connection.subscribe(request, log.handlers);
  await until('subscribed', () => log.subscribed.length > 0);
  return log;
}

/** Waits until the manager has reported a status that passes `test`. */
function reported(managed: Managed, what: string, test: (s: ConnectionStatus) => boolean): Promise<void> {
  return until(what, () => managed.statuses.some(test));
}

const state = (managed: Managed, value: ConnectionStatus['state']) =>
  until(
    `state ${value} (now ${managed.connection.status.state})`,
    () => managed.connection.status.state === value,
  );

describe('the connection manager on the msw mock', () => {
  it('gets the snapshot, then live events from control writes and from REST writes', async () => {
    const mock = startMock();
    const log = await follow(manage(mock), { ...ALL_ORDERS, filter: { where: PENDING } });
    assert.deepEqual([...log.records.keys()].sort(), ['o1', 'o3']);
    mock.control.create('orders', { id: 'm1', status: 'pending', total: 1 });
    const patched = await rest(mock, 'PATCH', '/api/objects/orders/records/o1', {
      key: KEYS.acmeSecret,
      body: { status: 'paid' },
    });
    assert.equal(patched.status, 200);
    mock.control.write('orders', { id: 'm1', total: 2 }); // exists: a patch
    mock.control.write('orders', { id: 'm2', status: 'pending' }); // new: a create
    await until('four events', () => log.events.length === 4);
    assert.deepEqual(log.sorted(), await queryOrders(mock, PENDING));
    assert.deepEqual(
      log.recordEvents().map((e) => `${e.seq} ${e.change} ${e.id}`),
      ['1 added m1', '2 removed o1', '3 modified m1', '4 added m2'],
    );
  });

  it('hands custom events from control.publish to events:<topic> subscribers', async () => {
    const mock = startMock();
    const log = await follow(manage(mock), { channel: 'events:alerts' });
    mock.control.publish('alerts', { level: 'high' });
    await until('the event', () => log.events.length === 1);
    assert.deepEqual(log.events[0] && 'data' in log.events[0] && log.events[0].data, { level: 'high' });
  });

  it('shows reconnecting after drop(), then resumes with since: no event lost or applied twice', async () => {
    const mock = startMock();
    const managed = manage(mock);
    const log = await follow(managed, ALL_ORDERS);
    mock.control.patch('orders', 'o1', { total: 1 });
    await until('the first event', () => log.events.length === 1);
    assert.equal(mock.control.drop(), 1);
    await reported(
      managed,
      'reconnecting after a 1006',
      (s) => s.state === 'reconnecting' && s.lastError?.code === 1006,
    );
    mock.control.patch('orders', 'o2', { total: 2 });
    mock.control.remove('orders', 'o3');
    await state(managed, 'open');
    await until('three events', () => log.events.length === 3);
    await sleep(60); // a duplicate would arrive with the next flush
    assert.deepEqual(
      log.events.map((e) => e.seq),
      [1, 2, 3],
    );
    assert.equal(log.subscribed.at(-1)?.resumed, true);
    assert.deepEqual(log.sorted(), await queryOrders(mock));
  });

  it('is refused with 4002 for the next tokens, then gets in with a fresh one', async () => {
    const mock = startMock();
    const denied: AuditRecord[] = [];
    mock.engine.on('auth.denied', (record) => denied.push(record));
    mock.control.refuseTokens(2);
    const managed = manage(mock);
    const log = await follow(managed, ALL_ORDERS);
    assert.equal(managed.connection.status.state, 'open');
    assert.deepEqual(
      denied.map((r) => r.details?.reason),
      ['token_invalid', 'token_invalid'],
    );
    assert.equal(
      managed.statuses.filter((s) => s.lastError?.code === 4002 && s.retryInMs === undefined).length,
      2,
    );
    assert.equal(log.subscribed.length, 1);
  });

  it('shows denied after deny(): the socket closes with 4003 and the manager stops trying', async () => {
    const mock = startMock();
    const managed = manage(mock);
    await follow(managed, ALL_ORDERS);
    mock.control.deny();
    await state(managed, 'denied');
    assert.equal(managed.connection.status.lastError?.code, 4003);
    await sleep(150);
    assert.deepEqual([managed.connection.status.state, mock.engine.connectionCount], ['denied', 0]);
  });

  it('shows denied when ws-auth answers 403, and gets in on retry() once allowed', async () => {
    const mock = startMock();
    mock.control.deny();
    const managed = manage(mock);
    managed.connection.subscribe(ALL_ORDERS, {});
    await state(managed, 'denied');
    assert.equal(managed.connection.status.lastError?.code, 403);
    mock.control.allow();
    managed.connection.retry();
    await state(managed, 'open');
  });

  it('renews at once after expireSession(): 4001, a new token and a resumed subscription, no backoff', async () => {
    const mock = startMock();
    // Any backoff would wait at least 2.5 s: renewing must not.
    const managed = manage(mock, { backoff: { minMs: 5000, maxMs: 5000, factor: 2 } });
    const log = await follow(managed, ALL_ORDERS);
    const suspended: AuditRecord[] = [];
    mock.engine.on('session.suspended', (record) => suspended.push(record));
    assert.equal(mock.control.expireSession(), 1);
    await reported(managed, 'the 4001', (s) => s.lastError?.code === 4001);
    await until('subscribed again', () => log.subscribed.length === 2, 1000);
    assert.equal(managed.connection.status.state, 'open');
    assert.equal(log.subscribed[1]?.resumed, true);
    assert.deepEqual(
      suspended.map((r) => r.details?.code),
      [4001],
    );
  });

  it('waits the longest backoff after exceedQuota() (4008), and gets in once the quota is back', async () => {
    const mock = startMock();
    const managed = manage(mock, { backoff: { minMs: 20, maxMs: 300, factor: 2 } });
    await follow(managed, ALL_ORDERS);
    mock.control.exceedQuota();
    await reported(
      managed,
      'a 300 ms wait after 4008',
      (s) => s.state === 'reconnecting' && s.retryInMs === 300 && s.lastError?.code === 4008,
    );
    mock.control.restoreQuota();
    await state(managed, 'open');
  });

  it('loses ws-auth to a network error while offline, and reconnects once online', async () => {
    const mock = startMock();
    const managed = manage(mock);
    await follow(managed, ALL_ORDERS);
    mock.control.offline();
    // Node has no navigator.onLine, so the manager says `reconnecting`; a browser says `offline`.
    await reported(
      managed,
      'a network error',
      (s) => s.state === 'reconnecting' && s.lastError?.name === 'network',
    );
    assert.equal(mock.engine.connectionCount, 0);
    mock.control.online();
    await state(managed, 'open');
    assert.equal(mock.engine.connectionCount, 1);
  });

  it('delivers a burst of 1000 events in batches of at most maxBatchEvents, in seq order', async () => {
    const mock = startMock({ limits: { maxBatchEvents: 100 } });
    const log = await follow(manage(mock), ALL_ORDERS);
    mock.control.burst(1000, { object: 'orders', random: seededRandom(7) });
    await until('1000 events', () => log.events.length === 1000);
    assert.ok(log.batches.every((batch) => batch.length <= 100));
    assert.deepEqual(
      log.events.map((e) => e.seq),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    assert.deepEqual(log.sorted(), await queryOrders(mock));
  });

  it('simulates traffic at a rate until stopped', async () => {
    const mock = startMock();
    const log = await follow(manage(mock), { channel: 'records:*' });
    const stop = mock.control.simulate(100, { random: seededRandom(3) });
    await until('ten events', () => log.events.length >= 10);
    stop();
    await sleep(150); // the last writes' batch, still on its way
    const count = log.events.length;
    await sleep(150);
    assert.equal(log.events.length, count);
  });

  it('seeds records without events: a page subscribing afterwards finds exactly them', async () => {
    const mock = startMock();
    mock.control.seed('orders', [{ id: 'a' }, { id: 'b', status: 'pending' }], { replace: true });
    const log = await follow(manage(mock), ALL_ORDERS);
    assert.deepEqual([...log.records.keys()], ['a', 'b']);
    assert.equal(mock.control.environment().seq, 0);
  });
});
