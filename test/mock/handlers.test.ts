/**
 * The mock's msw handlers seen from outside, where the shared protocol cases do not reach: SSE
 * streamed through msw, the base URL, the config, and what each fault does to raw requests and
 * sockets.
 */
import '../support/node-websocket.js';
import { setupServer } from 'msw/node';
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { AuditRecord } from '../../protocol/index.js';
import { ConfigError, createMock, MOCK_URL, type Mock, type MockOptions } from '../../mock/index.js';
import { DomSocketClient } from '../support/dom-socket-client.js';
import { getToken, rest } from '../support/raw-client.js';
import { connectSse, openSse } from '../support/sse-client.js';
import { FAST_LIMITS, KEYS, testConfig } from '../support/test-server.js';

const msw = setupServer();
before(() => msw.listen({ onUnhandledRequest: 'error' }));
after(() => msw.close());

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
  cleanups = [];
  msw.resetHandlers();
});

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

const socketUrl = (mock: Mock, query = '') =>
  `${mock.url.replace(/^http/, 'ws')}/ws/events/object-records/${query}`;

async function socket(mock: Mock, key: string): Promise<DomSocketClient> {
  const client = await DomSocketClient.open(socketUrl(mock, `?token=${await getToken(mock, key)}`));
  cleanups.push(() => client.close());
  await client.next('welcome');
  return client;
}

describe('the msw mock', () => {
  it('streams SSE through msw, framed as the Node server frames it', async () => {
    const mock = startMock();
    const stream = await connectSse(mock, KEYS.acmePublic, {
      subscriptions: [{ id: 'a', channel: 'records:orders', snapshot: true }],
    });
    cleanups.push(() => stream.close());
    assert.equal((await stream.next('subscribed')).snapshot?.length, 3);
    mock.control.patch('orders', 'o1', { total: 1 });
    const [event] = await stream.waitForEvents(1);
    assert.deepEqual([event?.seq, stream.frames.at(-1)?.id], [1, '1']);
    assert.deepEqual(stream.invalid, []);
    stream.close();
    await stream.waitForEnd();
    // msw cancels the body stream when the client aborts: the engine lets the connection go.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(mock.engine.connectionCount, 0);
  });

  it('ends an SSE stream with `event: close` when the engine closes it, and cuts it on drop()', async () => {
    const mock = startMock();
    const expired = await connectSse(mock, KEYS.acmePublic);
    mock.control.expireSession();
    await expired.waitForEnd();
    assert.equal(expired.closeData?.code, 4001);
    const dropped = await connectSse(mock, KEYS.acmePublic);
    assert.equal(mock.control.drop(), 1);
    await dropped.waitForEnd();
    assert.deepEqual([dropped.closeData, mock.engine.connectionCount], [undefined, 0]);
  });

  it('gives back the quota place of every SSE stream and socket the engine closed, once it is gone', async () => {
    const mock = startMock({ limits: { maxConnectionsPerClient: 1 } });
    const gone = async () => {
      for (let i = 0; i < 100 && mock.engine.connectionCount > 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      assert.equal(mock.engine.connectionCount, 0);
    };
    for (let round = 0; round < 3; round++) {
      const stream = await connectSse(mock, KEYS.acmePublic);
      assert.equal(mock.control.expireSession(), 1);
      await stream.waitForEnd();
      await gone();
      const client = await socket(mock, KEYS.acmePublic);
      assert.equal(mock.control.expireSession(), 1);
      assert.equal((await client.waitForClose()).code, 4001);
      await gone();
    }
  });

  it('answers under a base URL that carries a path, and under MOCK_URL by default', async () => {
    const mock = startMock({ baseUrl: 'https://api.example.test/realtime/' });
    assert.equal(mock.url, 'https://api.example.test/realtime');
    assert.equal((await rest(mock, 'GET', '/healthz')).status, 200);
    const client = await socket(mock, KEYS.acmePublic);
    client.send({ type: 'ping', t: 1 });
    assert.equal((await client.next('pong')).t, 1);
    const plain = createMock({ config: testConfig() });
    plain.close();
    assert.equal(plain.url, MOCK_URL);
  });

  it('closes a socket on another path as a refused upgrade: 1006, never open', async () => {
    const mock = startMock();
    await assert.rejects(
      DomSocketClient.open(`${mock.url.replace(/^http/, 'ws')}/ws/other/`),
      /closed \(1006\)/,
    );
  });

  it('refuses a config the dev server would refuse, naming the path', () => {
    assert.throws(
      () =>
        createMock({
          config: { ...testConfig(), keys: [{ key: 'short', client: 'a', environment: 'b', role: 'x' }] },
        }),
      (error: unknown) =>
        error instanceof ConfigError && error.problems.some((p) => p.path === 'keys.0.role'),
    );
  });

  it('refuses a postgres section: the browser has no database to read', () => {
    const postgres = {
      url: 'postgres://postgres@127.0.0.1:5432/shop',
      tables: [{ client: 'acme', environment: 'production', table: 'orders' }],
    };
    assert.throws(
      () => createMock({ config: { ...testConfig(), postgres } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((p) => p.path === 'postgres' && /no PostgreSQL/.test(p.message)),
    );
  });

  it('fails every request with a network error while offline, and refuses sockets before they open', async () => {
    const mock = startMock();
    const token = await getToken(mock, KEYS.acmePublic);
    mock.control.offline();
    await assert.rejects(fetch(`${mock.url}/healthz`), TypeError);
    await assert.rejects(DomSocketClient.open(socketUrl(mock, `?token=${token}`)), /closed \(1006\)/);
    mock.control.online();
    assert.equal((await rest(mock, 'GET', '/healthz')).status, 200);
  });

  it('answers 403 to ws-auth and SSE, and closes new sockets with 4003, while denying', async () => {
    const mock = startMock();
    const token = await getToken(mock, KEYS.acmePublic);
    mock.control.deny();
    assert.equal((await rest(mock, 'GET', '/api/users/ws-auth/', { key: KEYS.acmePublic })).status, 403);
    assert.equal((await openSse(mock, { token })).status, 403);
    const client = await DomSocketClient.open(socketUrl(mock, `?token=${token}`));
    assert.equal((await client.waitForClose()).code, 4003);
    assert.equal(
      (await rest(mock, 'GET', '/api/objects/orders/records', { key: KEYS.acmePublic })).status,
      200,
    );
  });

  it('refuses new sockets with 4008 and SSE with 429 while over the quota', async () => {
    const mock = startMock();
    mock.control.exceedQuota();
    const client = await DomSocketClient.open(
      socketUrl(mock, `?token=${await getToken(mock, KEYS.acmePublic)}`),
    );
    assert.equal((await client.waitForClose()).code, 4008);
    assert.equal((await openSse(mock, { token: await getToken(mock, KEYS.acmePublic) })).status, 429);
    mock.control.restoreQuota();
    await socket(mock, KEYS.acmePublic);
  });

  it('expires the sessions of one client through the engine, which audits each close', async () => {
    const mock = startMock();
    const suspended: AuditRecord[] = [];
    mock.engine.on('session.suspended', (record) => suspended.push(record));
    const acme = await socket(mock, KEYS.acmePublic);
    const globex = await socket(mock, KEYS.globexSecret);
    assert.equal(mock.control.expireSession({ client: 'globex' }), 1);
    assert.deepEqual(await globex.waitForClose(), { code: 4001, reason: 'session reached sessionTtlMs' });
    assert.deepEqual(
      suspended.map((r) => [r.client, r.details?.code]),
      [['globex', 4001]],
    );
    acme.send({ type: 'ping' });
    await acme.next('pong');
  });

  it('reset() turns every fault off', async () => {
    const mock = startMock();
    mock.control.offline();
    mock.control.deny();
    mock.control.exceedQuota();
    mock.control.refuseTokens(3);
    mock.control.reset();
    assert.deepEqual(mock.control.faults, {
      offline: false,
      denied: false,
      quotaExceeded: false,
      refusedTokens: 0,
    });
    await socket(mock, KEYS.acmePublic);
  });
});
