/**
 * The private HAProxy of test/support/haproxy.ts in front of three real dev servers: REST requests
 * go round-robin (the `X-Backend` header names who answered); a WebSocket and an SSE stream pass
 * through it with their welcome and events, the WebSocket idle past the HTTP timeouts (`timeout
 * tunnel`), the SSE stream as long as the server's heartbeats flow; and with one server closed,
 * requests keep succeeding, and the health check takes it out (the measured time is printed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BACKEND_HEADER, Haproxy } from '../support/haproxy.js';
import { RawClient, rest, sleep } from '../support/raw-client.js';
import { openSse, type SseStream } from '../support/sse-client.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';

/** A one-time token from server `pin` (tokens of independent servers are good on that one only). */
async function tokenFrom(proxy: { url: string }, pin: string): Promise<string> {
  const res = await fetch(`${proxy.url}/api/users/ws-auth/`, {
    headers: { authorization: `Bearer ${KEYS.acmeSecret}`, [BACKEND_HEADER]: pin },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get(BACKEND_HEADER), pin, 'the pinned server answered');
  return ((await res.json()) as { token: string }).token;
}

/** Creates an order through the proxy on server `pin`. */
async function createOrder(proxy: { url: string }, pin: string, id: string): Promise<void> {
  const created = await rest(proxy, 'POST', '/api/objects/orders/records', {
    key: KEYS.acmeSecret,
    body: { id, status: 'pending', total: 1 },
    headers: { [BACKEND_HEADER]: pin },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.headers.get(BACKEND_HEADER), pin);
}

async function openWebSocket(proxy: { url: string }, pin: string): Promise<RawClient> {
  const token = await tokenFrom(proxy, pin);
  const client = await RawClient.open(
    `${proxy.url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
    { [BACKEND_HEADER]: pin },
  );
  await client.next('welcome');
  return client;
}

async function openStream(proxy: { url: string }, pin: string): Promise<SseStream> {
  const answer = await openSse(
    proxy,
    {
      token: await tokenFrom(proxy, pin),
      subscriptions: [{ id: 's', channel: 'records:orders', snapshot: true }],
    },
    { [BACKEND_HEADER]: pin },
  );
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.headers.get(BACKEND_HEADER), pin);
  const stream = answer.stream as SseStream;
  await stream.next('welcome');
  await stream.next('subscribed');
  return stream;
}

describe('HAProxy in front of three dev servers', () => {
  let servers: TestServer[];
  let proxy: Haproxy;
  before(async () => {
    servers = await Promise.all([1, 2, 3].map(() => startTestServer()));
    proxy = await Haproxy.start(servers.map((s) => s.url));
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
  });

  it('sends REST requests round-robin across the servers', async () => {
    const answeredBy: string[] = [];
    for (let i = 0; i < 9; i++) {
      const res = await rest(proxy, 'GET', '/api/objects/orders/records', { key: KEYS.acmeSecret });
      assert.equal(res.status, 200);
      answeredBy.push(res.headers.get(BACKEND_HEADER) ?? '(none)');
    }
    assert.deepEqual(
      answeredBy.slice(3),
      [...answeredBy.slice(0, 3), ...answeredBy.slice(0, 3)],
      'the same rotation',
    );
    assert.deepEqual([...answeredBy.slice(0, 3)].sort(), ['s1', 's2', 's3'], 'every server in turn');
  });

  it('carries a WebSocket: welcome, a subscription and its events', async () => {
    const client = await openWebSocket(proxy, 's2');
    try {
      const subscribed = await client.subscribe({ id: 'w', channel: 'records:orders', snapshot: true });
      assert.ok(subscribed.snapshot?.some((r) => r.id === 'o1'));
      await createOrder(proxy, 's2', 'ws-1');
      const [event] = await client.waitForEvents(1, 'w');
      assert.equal(event && 'record' in event ? event.record?.id : undefined, 'ws-1');
      assert.deepEqual(client.invalid, []);
    } finally {
      client.close();
    }
  });

  it('carries an SSE stream: welcome, subscribed and events', async () => {
    const stream = await openStream(proxy, 's3');
    try {
      await createOrder(proxy, 's3', 'sse-1');
      await createOrder(proxy, 's3', 'sse-2');
      const events = await stream.waitForEvents(2, 's');
      assert.deepEqual(
        events.map((e) => ('record' in e ? e.record?.id : '')),
        ['sse-1', 'sse-2'],
      );
      assert.deepEqual(stream.invalid, []);
    } finally {
      stream.close();
    }
  });

  it('keeps an idle WebSocket past the HTTP timeouts, and an SSE stream while heartbeats flow', async () => {
    // HTTP inactivity 500 ms; the second server sends an SSE heartbeat every 200 ms.
    const beating = await startTestServer({ limits: { heartbeatMs: 200 } });
    const strict = await Haproxy.start([servers[0]!.url, beating.url], { http: 500 });
    try {
      const client = await openWebSocket(strict, 's1');
      await client.subscribe({ id: 'w', channel: 'records:orders' });
      const stream = await openStream(strict, 's2');
      await sleep(1200);
      assert.equal(client.closed, undefined, 'the idle WebSocket is open');
      assert.equal(stream.ended, false, 'the SSE stream is open');
      assert.ok(stream.comments.length >= 3, `heartbeats passed: ${stream.comments.length}`);
      await createOrder(strict, 's1', 'idle-ws');
      await createOrder(strict, 's2', 'idle-sse');
      const [wsEvent] = await client.waitForEvents(1, 'w');
      const [sseEvent] = await stream.waitForEvents(1, 's');
      assert.equal(wsEvent && 'record' in wsEvent ? wsEvent.record?.id : undefined, 'idle-ws');
      assert.equal(sseEvent && 'record' in sseEvent ? sseEvent.record?.id : undefined, 'idle-sse');
      client.close();
      stream.close();
    } finally {
      await strict.stop();
      await beating.close();
    }
  });

  it('keeps answering with a server closed, and its health check takes it out', async () => {
    const closedAt = Date.now();
    const closing = servers[1]!.close();
    const answers: (string | number)[] = [];
    let down = false;
    const downAfter = proxy.waitForStatus('s2', 'DOWN', 5000).then((ms) => {
      down = true;
      return ms;
    });
    while (!down) {
      const res = await fetch(`${proxy.url}/healthz`).catch((error: Error) => error);
      answers.push(res instanceof Error ? res.message : res.status === 200 ? 200 : res.status);
      if (!(res instanceof Error)) await res.text();
      await sleep(20);
    }
    const downMs = await downAfter;
    await closing;
    assert.deepEqual(new Set(answers), new Set([200]), 'every request before it was out succeeded');
    const after: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await rest(proxy, 'GET', '/api/objects/orders/records', { key: KEYS.acmeSecret });
      assert.equal(res.status, 200);
      after.push(res.headers.get(BACKEND_HEADER) ?? '(none)');
    }
    assert.deepEqual([...new Set(after)].sort(), ['s1', 's3'], 'the other two answer, in turn');
    console.log(
      `server closed → marked DOWN by the health check after ${downMs} ms (inter 500 ms, fall 2); ${answers.length} requests meanwhile, all 200 (redispatched); ${Date.now() - closedAt} ms in all`,
    );
  });
});
