/**
 * The HTTP API of PROTOCOL.md section 2, driven over real HTTP: record reads and writes, the
 * events writes emit, the error body and statuses, CORS and `/healthz`.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  ErrorBodySchema,
  HealthResponseSchema,
  PublishResponseSchema,
  RecordListResponseSchema,
  RecordSchema,
  type LiveEvent,
  type RecordEvent,
  type WelcomeMessage,
} from '../../protocol/index.js';
import { RawClient, rest, sleep } from '../support/raw-client.js';
import { KEYS, startTestServer, testConfig, type TestServer } from '../support/test-server.js';

const ORDERS = '/api/objects/orders/records';
const ALLOWED = 'http://allowed.test';

function welcomeOf(client: RawClient): WelcomeMessage {
  const welcome = client.messages.find((m) => m.type === 'welcome');
  assert.ok(welcome && welcome.type === 'welcome');
  return welcome;
}

function recordEvent(event: LiveEvent | undefined): RecordEvent {
  assert.ok(event && 'object' in event, `expected a record event, got ${JSON.stringify(event)}`);
  return event;
}

function ids(body: unknown): string[] {
  return RecordListResponseSchema.parse(body).records.map((r) => r.id);
}

function isIsoTime(value: unknown): boolean {
  return typeof value === 'string' && new Date(value).toISOString() === value;
}

/** Asserts the documented error body and returns it. */
function errorOf(answer: { status: number; body: unknown }, status: number, code: string) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  const body = ErrorBodySchema.parse(answer.body);
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0);
  return body.error;
}

describe('REST reads', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('lists every record of an object, ordered by id', async () => {
    const answer = await rest(server, 'GET', ORDERS, { key: KEYS.acmeSecret });
    assert.equal(answer.status, 200);
    assert.deepEqual(ids(answer.body), ['o1', 'o2', 'o3']);
  });

  const queries: { title: string; query: string; expected: string[] }[] = [
    { title: 'where in object form', query: `where=${enc({ status: 'pending' })}`, expected: ['o1', 'o3'] },
    { title: 'where in list form', query: `where=${enc([['total', '>=', 99]])}`, expected: ['o2', 'o3'] },
    {
      title: 'where with an operator on a nested field',
      query: `where=${enc({ 'customer.city': { $startsWith: 'Lon' } })}`,
      expected: ['o1'],
    },
    { title: 'a descending sort', query: 'sort=-total', expected: ['o2', 'o3', 'o1'] },
    {
      title: 'a sort of several keys',
      query: `sort=${encodeURIComponent('status, -total')}`,
      expected: ['o2', 'o3', 'o1'],
    },
    { title: 'a limit', query: 'sort=-total&limit=2', expected: ['o2', 'o3'] },
    {
      title: 'where, sort and limit together',
      query: `where=${enc({ status: 'pending' })}&sort=-total&limit=1`,
      expected: ['o3'],
    },
  ];
  for (const { title, query, expected } of queries) {
    it(`lists with ${title}`, async () => {
      const answer = await rest(server, 'GET', `${ORDERS}?${query}`, { key: KEYS.acmeSecret });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(ids(answer.body), expected);
    });
  }

  it('projects listed records to fields, always keeping id', async () => {
    const answer = await rest(server, 'GET', `${ORDERS}?fields=status,customer.name&limit=1`, {
      key: KEYS.acmeSecret,
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(RecordListResponseSchema.parse(answer.body).records, [
      { id: 'o1', status: 'pending', customer: { name: 'Ada' } },
    ]);
  });

  it('returns one record by id, with the timestamps the server stamped', async () => {
    const answer = await rest(server, 'GET', `${ORDERS}/o2`, { key: KEYS.acmeSecret });
    assert.equal(answer.status, 200);
    const record = RecordSchema.parse(answer.body);
    assert.equal(record.id, 'o2');
    assert.equal(record.total, 250);
    assert.ok(isIsoTime(record.createdAt) && isIsoTime(record.updatedAt));
  });

  it('lets a publishable key read the objects it is allowed', async () => {
    const all = await rest(server, 'GET', ORDERS, { key: KEYS.acmePublic });
    assert.deepEqual(ids(all.body), ['o1', 'o2', 'o3']);
    const products = await rest(server, 'GET', '/api/objects/products/records/p1', {
      key: KEYS.acmeProductsOnly,
    });
    assert.equal(products.status, 200);
    assert.equal(RecordSchema.parse(products.body).id, 'p1');
  });
});

describe('REST writes', () => {
  let server: TestServer;
  let watcher: RawClient;
  let startSeq: number;
  beforeEach(async () => {
    server = await startTestServer();
    watcher = await RawClient.connect(server, KEYS.acmeSecret);
    startSeq = welcomeOf(watcher).seq;
    await watcher.subscribe({ id: 'w', channel: 'records:orders' });
  });
  afterEach(async () => {
    assert.deepEqual(watcher.invalid, []);
    watcher.close();
    await server.close();
  });

  it('creates a record with 201, stamps createdAt and updatedAt, and emits create', async () => {
    const answer = await rest(server, 'POST', ORDERS, {
      key: KEYS.acmeSecret,
      body: { id: 'o9', status: 'pending', total: 7 },
    });
    assert.equal(answer.status, 201);
    const record = RecordSchema.parse(answer.body);
    assert.equal(record.id, 'o9');
    assert.equal(record.status, 'pending');
    assert.ok(isIsoTime(record.createdAt) && isIsoTime(record.updatedAt));

    const event = recordEvent((await watcher.waitForEvents(1, 'w'))[0]);
    assert.equal(event.operation, 'create');
    assert.equal(event.change, 'added');
    assert.equal(event.channel, 'records:orders');
    assert.equal(event.id, 'o9');
    assert.equal(event.seq, startSeq + 1);
    assert.deepEqual(event.record, record);

    const read = await rest(server, 'GET', `${ORDERS}/o9`, { key: KEYS.acmeSecret });
    assert.deepEqual(read.body, record);
  });

  it('assigns an id when the body has none', async () => {
    const answer = await rest(server, 'POST', ORDERS, { key: KEYS.acmeSecret, body: { status: 'new' } });
    assert.equal(answer.status, 201);
    const record = RecordSchema.parse(answer.body);
    assert.ok(!['o1', 'o2', 'o3'].includes(record.id));
    const again = await rest(server, 'POST', ORDERS, { key: KEYS.acmeSecret, body: { status: 'new' } });
    assert.notEqual(RecordSchema.parse(again.body).id, record.id);
    const read = await rest(server, 'GET', `${ORDERS}/${encodeURIComponent(record.id)}`, {
      key: KEYS.acmeSecret,
    });
    assert.deepEqual(read.body, record);
  });

  it('keeps a createdAt the body gives, and stamps updatedAt', async () => {
    const createdAt = '2020-01-02T03:04:05.000Z';
    const answer = await rest(server, 'POST', ORDERS, {
      key: KEYS.acmeSecret,
      body: { id: 'old', createdAt },
    });
    const record = RecordSchema.parse(answer.body);
    assert.equal(record.createdAt, createdAt);
    assert.ok(isIsoTime(record.updatedAt) && record.updatedAt !== createdAt);
  });

  it('answers 409 to a create of an existing id, and emits nothing', async () => {
    const answer = await rest(server, 'POST', ORDERS, { key: KEYS.acmeSecret, body: { id: 'o1', total: 1 } });
    errorOf(answer, 409, 'conflict');
    const read = await rest(server, 'GET', `${ORDERS}/o1`, { key: KEYS.acmeSecret });
    assert.equal(RecordSchema.parse(read.body).total, 10);
    await rest(server, 'DELETE', `${ORDERS}/o2`, { key: KEYS.acmeSecret });
    const [event] = await watcher.waitForEvents(1, 'w');
    assert.equal(recordEvent(event).operation, 'delete');
    assert.equal(event?.seq, startSeq + 1);
  });

  it('refuses the ids "." and ".." with 400 naming why, and creates other dotted ids, each reachable by its URL', async () => {
    for (const id of ['.', '..']) {
      const answer = await rest(server, 'POST', ORDERS, { key: KEYS.acmeSecret, body: { id } });
      assert.match(errorOf(answer, 400, 'bad_request').message, /dot segment/);
    }
    for (const id of ['...', '.a', 'a.']) {
      assert.equal((await rest(server, 'POST', ORDERS, { key: KEYS.acmeSecret, body: { id } })).status, 201);
      const read = await rest(server, 'GET', `${ORDERS}/${encodeURIComponent(id)}`, { key: KEYS.acmeSecret });
      assert.equal(RecordSchema.parse(read.body).id, id);
    }
    const [event] = await watcher.waitForEvents(3, 'w');
    assert.equal(recordEvent(event).id, '...', 'the refused creates emitted nothing');
  });

  it('merges a PATCH as a JSON Merge Patch: null removes a field, objects merge, the rest replaces', async () => {
    const before = RecordSchema.parse(
      (await rest(server, 'GET', `${ORDERS}/o1`, { key: KEYS.acmeSecret })).body,
    );
    await sleep(2); // so that the new updatedAt differs
    const answer = await rest(server, 'PATCH', `${ORDERS}/o1`, {
      key: KEYS.acmeSecret,
      body: { status: 'paid', total: null, customer: { city: null, zip: 'N1' }, tags: ['a'] },
    });
    assert.equal(answer.status, 200);
    const record = RecordSchema.parse(answer.body);
    const { updatedAt, ...rest_ } = record;
    assert.deepEqual(rest_, {
      id: 'o1',
      status: 'paid',
      customer: { name: 'Ada', zip: 'N1' },
      tags: ['a'],
      createdAt: before.createdAt,
    });
    assert.ok(isIsoTime(updatedAt) && updatedAt !== before.updatedAt);

    const event = recordEvent((await watcher.waitForEvents(1, 'w'))[0]);
    assert.equal(event.operation, 'update');
    assert.equal(event.change, 'modified');
    assert.deepEqual(event.record, record);
    assert.deepEqual(event.oldRecord, before);
    assert.deepEqual([...(event.changedFields ?? [])].sort(), [
      'customer',
      'status',
      'tags',
      'total',
      'updatedAt',
    ]);
    const read = await rest(server, 'GET', `${ORDERS}/o1`, { key: KEYS.acmeSecret });
    assert.deepEqual(read.body, record);
  });

  it('answers a PATCH that changes nothing with the record as it is, and emits no event', async () => {
    const before = (await rest(server, 'GET', `${ORDERS}/o1`, { key: KEYS.acmeSecret })).body;
    const answer = await rest(server, 'PATCH', `${ORDERS}/o1`, {
      key: KEYS.acmeSecret,
      body: { status: 'pending', missing: null, customer: { name: 'Ada' } },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, before);
    await rest(server, 'PATCH', `${ORDERS}/o1`, { key: KEYS.acmeSecret, body: { status: 'paid' } });
    await watcher.waitForEvents(1, 'w');
    await sleep(40); // two flush intervals: anything else queued would be here by now
    const events = watcher.events('w').map(recordEvent);
    assert.deepEqual(
      events.map((e) => [e.seq, e.record.status]),
      [[startSeq + 1, 'paid']],
    );
  });

  it('refuses a PATCH that changes the id, and accepts one that repeats it', async () => {
    const refused = await rest(server, 'PATCH', `${ORDERS}/o1`, { key: KEYS.acmeSecret, body: { id: 'o7' } });
    errorOf(refused, 400, 'bad_request');
    const gone = await rest(server, 'GET', `${ORDERS}/o7`, { key: KEYS.acmeSecret });
    assert.equal(gone.status, 404);
    const same = await rest(server, 'PATCH', `${ORDERS}/o1`, {
      key: KEYS.acmeSecret,
      body: { id: 'o1', total: 11 },
    });
    assert.equal(same.status, 200);
    assert.equal(RecordSchema.parse(same.body).total, 11);
  });

  it('deletes with 204 and no body, emits delete with the last state, and then answers 404', async () => {
    const last = (await rest(server, 'GET', `${ORDERS}/o3`, { key: KEYS.acmeSecret })).body;
    const answer = await rest(server, 'DELETE', `${ORDERS}/o3`, { key: KEYS.acmeSecret });
    assert.equal(answer.status, 204);
    assert.equal(answer.body, undefined);
    const event = recordEvent((await watcher.waitForEvents(1, 'w'))[0]);
    assert.equal(event.operation, 'delete');
    assert.equal(event.change, 'removed');
    assert.deepEqual(event.record, last);
    errorOf(await rest(server, 'GET', `${ORDERS}/o3`, { key: KEYS.acmeSecret }), 404, 'not_found');
    errorOf(await rest(server, 'DELETE', `${ORDERS}/o3`, { key: KEYS.acmeSecret }), 404, 'not_found');
  });

  it('carries X-Correlation-Id as correlationId on the events of each write', async () => {
    const writes: [string, string, unknown][] = [
      ['POST', ORDERS, { id: 'c1' }],
      ['PATCH', `${ORDERS}/c1`, { total: 3 }],
      ['DELETE', `${ORDERS}/c1`, undefined],
    ];
    for (const [i, [method, path, body]] of writes.entries()) {
      const answer = await rest(server, method, path, {
        key: KEYS.acmeSecret,
        body,
        headers: { 'x-correlation-id': `req-${i}` },
      });
      assert.ok(answer.status < 300);
    }
    await rest(server, 'POST', ORDERS, { key: KEYS.acmeSecret, body: { id: 'c2' } });
    const events = (await watcher.waitForEvents(4, 'w')).map(recordEvent);
    assert.deepEqual(
      events.map((e) => [e.operation, e.correlationId]),
      [
        ['create', 'req-0'],
        ['update', 'req-1'],
        ['delete', 'req-2'],
        ['create', undefined],
      ],
    );
  });

  it('publishes a custom event with 202 and the seq it took', async () => {
    const answer = await rest(server, 'POST', '/api/events/promo', {
      key: KEYS.acmeSecret,
      body: { off: 10 },
    });
    assert.equal(answer.status, 202);
    assert.equal(PublishResponseSchema.parse(answer.body).seq, startSeq + 1);
  });
});

describe('REST errors', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  type Case = {
    title: string;
    method: string;
    path: string;
    key?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    status: number;
    code: string;
    /** The first element of every issue path in `details`, when the error must carry zod issues. */
    details?: string;
  };
  const json = { 'content-type': 'application/json' };
  const secret = KEYS.acmeSecret;
  const cases: Case[] = [
    {
      title: 'a body that is not JSON',
      method: 'POST',
      path: ORDERS,
      key: secret,
      rawBody: '{"id":',
      headers: json,
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'an empty body',
      method: 'POST',
      path: ORDERS,
      key: secret,
      rawBody: '',
      headers: json,
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'an array body',
      method: 'POST',
      path: ORDERS,
      key: secret,
      body: [{ id: 'x' }],
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'a string body',
      method: 'POST',
      path: ORDERS,
      key: secret,
      body: 'x',
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'a null patch',
      method: 'PATCH',
      path: `${ORDERS}/o1`,
      key: secret,
      body: null,
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'an id that is not a string',
      method: 'POST',
      path: ORDERS,
      key: secret,
      body: { id: 7 },
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'a __proto__ key in a created record',
      method: 'POST',
      path: ORDERS,
      key: secret,
      rawBody: '{"id":"p","__proto__":{"admin":true}}',
      headers: json,
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'a nested __proto__ key in a patch',
      method: 'PATCH',
      path: `${ORDERS}/o1`,
      key: secret,
      rawBody: '{"customer":{"__proto__":{"admin":true}}}',
      headers: json,
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'a __proto__ key in event data',
      method: 'POST',
      path: '/api/events/promo',
      key: secret,
      rawBody: '[{"__proto__":1}]',
      headers: json,
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'where that is not JSON',
      method: 'GET',
      path: `${ORDERS}?where=%7B`,
      key: secret,
      status: 400,
      code: 'bad_request',
    },
    {
      title: 'where with an unknown operator',
      method: 'GET',
      path: `${ORDERS}?where=${enc({ total: { $regex: 'x' } })}`,
      key: secret,
      status: 400,
      code: 'bad_request',
      details: 'where',
    },
    {
      title: 'where on a __proto__ field',
      method: 'GET',
      path: `${ORDERS}?where=${enc({ '__proto__.x': 1 })}`,
      key: secret,
      status: 400,
      code: 'bad_request',
      details: 'where',
    },
    {
      title: 'a sort key with an empty segment',
      method: 'GET',
      path: `${ORDERS}?sort=customer..name`,
      key: secret,
      status: 400,
      code: 'bad_request',
      details: 'sort',
    },
    {
      title: 'a limit of 0',
      method: 'GET',
      path: `${ORDERS}?limit=0`,
      key: secret,
      status: 400,
      code: 'bad_request',
      details: 'limit',
    },
    {
      title: 'a limit that is not a number',
      method: 'GET',
      path: `${ORDERS}?limit=ten`,
      key: secret,
      status: 400,
      code: 'bad_request',
      details: 'limit',
    },
    {
      title: 'a limit that is not an integer',
      method: 'GET',
      path: `${ORDERS}?limit=1.5`,
      key: secret,
      status: 400,
      code: 'bad_request',
      details: 'limit',
    },
    {
      title: 'a limit over 10 000',
      method: 'GET',
      path: `${ORDERS}?limit=10001`,
      key: secret,
      status: 400,
      code: 'bad_request',
      details: 'limit',
    },
    {
      title: 'fields naming __proto__',
      method: 'GET',
      path: `${ORDERS}?fields=__proto__`,
      key: secret,
      status: 400,
      code: 'bad_request',
      details: 'fields',
    },
    { title: 'a read without a key', method: 'GET', path: ORDERS, status: 401, code: 'unauthorized' },
    {
      title: 'a write without a key',
      method: 'POST',
      path: ORDERS,
      body: { id: 'x' },
      status: 401,
      code: 'unauthorized',
    },
    {
      title: 'an unknown key',
      method: 'GET',
      path: ORDERS,
      key: 'sk_nobody',
      status: 401,
      code: 'unauthorized',
    },
    {
      title: 'a key not sent as a Bearer token',
      method: 'GET',
      path: ORDERS,
      headers: { authorization: KEYS.acmeSecret },
      status: 401,
      code: 'unauthorized',
    },
    {
      title: 'a ws-auth without a key',
      method: 'GET',
      path: '/api/users/ws-auth/',
      status: 401,
      code: 'unauthorized',
    },
    {
      title: 'a create with a publishable key',
      method: 'POST',
      path: ORDERS,
      key: KEYS.acmePublic,
      body: { id: 'x' },
      status: 403,
      code: 'forbidden',
    },
    {
      title: 'a patch with a publishable key',
      method: 'PATCH',
      path: `${ORDERS}/o1`,
      key: KEYS.acmePublic,
      body: { total: 1 },
      status: 403,
      code: 'forbidden',
    },
    {
      title: 'a delete with a publishable key',
      method: 'DELETE',
      path: `${ORDERS}/o1`,
      key: KEYS.acmePublic,
      status: 403,
      code: 'forbidden',
    },
    {
      title: 'a custom event with a publishable key',
      method: 'POST',
      path: '/api/events/promo',
      key: KEYS.acmePublic,
      body: 1,
      status: 403,
      code: 'forbidden',
    },
    {
      title: 'a list of an object the key may not read',
      method: 'GET',
      path: ORDERS,
      key: KEYS.acmeProductsOnly,
      status: 403,
      code: 'forbidden',
    },
    {
      title: 'a record of an object the key may not read',
      method: 'GET',
      path: `${ORDERS}/o1`,
      key: KEYS.acmeProductsOnly,
      status: 403,
      code: 'forbidden',
    },
    {
      title: 'a request from an origin not allowed',
      method: 'GET',
      path: ORDERS,
      key: secret,
      headers: { origin: 'http://evil.test' },
      status: 403,
      code: 'forbidden',
    },
    {
      title: 'a ws-auth from an origin not allowed',
      method: 'GET',
      path: '/api/users/ws-auth/',
      key: secret,
      headers: { origin: 'http://evil.test' },
      status: 403,
      code: 'forbidden',
    },
    {
      title: 'an unknown object',
      method: 'GET',
      path: '/api/objects/invoices/records',
      key: secret,
      status: 404,
      code: 'not_found',
    },
    {
      title: 'a write to an unknown object',
      method: 'POST',
      path: '/api/objects/invoices/records',
      key: secret,
      body: { id: 'x' },
      status: 404,
      code: 'not_found',
    },
    {
      title: 'an unknown record',
      method: 'GET',
      path: `${ORDERS}/nope`,
      key: secret,
      status: 404,
      code: 'not_found',
    },
    {
      title: 'a patch of an unknown record',
      method: 'PATCH',
      path: `${ORDERS}/nope`,
      key: secret,
      body: { a: 1 },
      status: 404,
      code: 'not_found',
    },
    {
      title: 'an unknown path',
      method: 'GET',
      path: '/api/nothing-here',
      key: secret,
      status: 404,
      code: 'not_found',
    },
    { title: 'the root path', method: 'GET', path: '/', status: 404, code: 'not_found' },
    {
      title: 'a create of an existing id',
      method: 'POST',
      path: ORDERS,
      key: secret,
      body: { id: 'o2' },
      status: 409,
      code: 'conflict',
    },
  ];

  for (const c of cases) {
    it(`answers ${c.status} ${c.code} to ${c.title}`, async () => {
      const answer = await rest(server, c.method, c.path, {
        key: c.key,
        body: c.body,
        rawBody: c.rawBody,
        headers: c.headers,
      });
      const error = errorOf(answer, c.status, c.code);
      if (c.details !== undefined) {
        assert.ok(Array.isArray(error.details) && error.details.length > 0, JSON.stringify(error));
        for (const issue of error.details as { path: unknown[]; message: unknown }[]) {
          assert.equal(issue.path[0], c.details);
          assert.equal(typeof issue.message, 'string');
        }
      }
    });
  }

  it('leaves the store untouched after every refused write', async () => {
    const answer = await rest(server, 'GET', ORDERS, { key: KEYS.acmeSecret });
    assert.deepEqual(ids(answer.body), ['o1', 'o2', 'o3']);
    const o1 = RecordSchema.parse((await rest(server, 'GET', `${ORDERS}/o1`, { key: KEYS.acmeSecret })).body);
    assert.equal(o1.total, 10);
    assert.equal(Object.getPrototypeOf(o1), Object.prototype);
  });

  const big = 'x'.repeat(1_048_576);
  it('answers 413 payload_too_large to a body over 1 MiB', async () => {
    const answer = await rest(server, 'POST', ORDERS, { key: KEYS.acmeSecret, body: { id: 'big', big } });
    errorOf(answer, 413, 'payload_too_large');
  });

  it('answers 413 to a body over 1 MiB sent without a length', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(65_536));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 17; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await fetch(`${server.url}${ORDERS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.acmeSecret}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    errorOf({ status: res.status, body: await res.json() }, 413, 'payload_too_large');
  });

  it('accepts a body of just under 1 MiB', async () => {
    const filler = 'x'.repeat(1_048_576 - 100);
    const answer = await rest(server, 'POST', ORDERS, {
      key: KEYS.acmeSecret,
      body: { id: 'almost', filler },
    });
    assert.equal(answer.status, 201);
  });
});

describe('CORS', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('answers a preflight from an allowed origin with the allowed origin, methods and headers', async () => {
    const answer = await rest(server, 'OPTIONS', `${ORDERS}/o1`, {
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization, content-type, x-correlation-id',
      },
    });
    assert.ok(answer.status === 200 || answer.status === 204, String(answer.status));
    assert.equal(answer.headers.get('access-control-allow-origin'), ALLOWED);
    const methods = splitList(answer.headers.get('access-control-allow-methods'));
    for (const m of ['get', 'post', 'patch', 'delete']) assert.ok(methods.includes(m), `${m} in ${methods}`);
    const headers = splitList(answer.headers.get('access-control-allow-headers'));
    for (const h of ['authorization', 'content-type', 'x-correlation-id'])
      assert.ok(headers.includes(h), `${h} in ${headers}`);
  });

  it('answers a GET from an allowed origin with its allow-origin header', async () => {
    const answer = await rest(server, 'GET', ORDERS, { key: KEYS.acmeSecret, headers: { origin: ALLOWED } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('access-control-allow-origin'), ALLOWED);
  });

  it('sends the allow-origin header on errors too, so a browser can read them', async () => {
    for (const answer of [
      await rest(server, 'GET', ORDERS, { headers: { origin: ALLOWED } }),
      await rest(server, 'GET', `${ORDERS}/nope`, { key: KEYS.acmeSecret, headers: { origin: ALLOWED } }),
      await rest(server, 'POST', ORDERS, {
        key: KEYS.acmeSecret,
        body: { big: 'x'.repeat(1_048_576) },
        headers: { origin: ALLOWED },
      }),
    ]) {
      assert.ok(answer.status >= 400);
      assert.equal(answer.headers.get('access-control-allow-origin'), ALLOWED, String(answer.status));
    }
  });

  it('refuses a preflight and a request from an origin not allowed with 403 and no allow-origin', async () => {
    for (const method of ['OPTIONS', 'GET']) {
      const answer = await rest(server, method, ORDERS, {
        key: KEYS.acmeSecret,
        headers: { origin: 'http://evil.test', 'access-control-request-method': 'GET' },
      });
      errorOf(answer, 403, 'forbidden');
      assert.equal(answer.headers.get('access-control-allow-origin'), null);
    }
  });

  it('lets a request without Origin through, without CORS headers', async () => {
    const answer = await rest(server, 'GET', ORDERS, { key: KEYS.acmeSecret });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
  });

  it('answers any origin when allowedOrigins holds "*"', async () => {
    const open = await startTestServer({ config: testConfig({ allowedOrigins: ['*'] }) });
    try {
      const answer = await rest(open, 'GET', ORDERS, {
        key: KEYS.acmeSecret,
        headers: { origin: 'http://any.test' },
      });
      assert.equal(answer.status, 200);
      assert.ok(['*', 'http://any.test'].includes(answer.headers.get('access-control-allow-origin') ?? ''));
    } finally {
      await open.close();
    }
  });
});

describe('/healthz', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('answers 200 {ok, connections, uptimeMs} without a key', async () => {
    const first = await rest(server, 'GET', '/healthz');
    assert.equal(first.status, 200);
    const health = HealthResponseSchema.parse(first.body);
    assert.ok(health.uptimeMs >= 0);
    await sleep(15);
    const later = HealthResponseSchema.parse((await rest(server, 'GET', '/healthz')).body);
    assert.ok(later.uptimeMs >= health.uptimeMs + 10, `${later.uptimeMs} after ${health.uptimeMs}`);
  });

  it('counts open connections', async () => {
    const count = async () =>
      HealthResponseSchema.parse((await rest(server, 'GET', '/healthz')).body).connections;
    assert.equal(await count(), 0);
    const a = await RawClient.connect(server, KEYS.acmeSecret);
    const b = await RawClient.connect(server, KEYS.globexSecret);
    assert.equal(await count(), 2);
    a.close();
    await a.waitForClose();
    const deadline = Date.now() + 2000;
    while ((await count()) !== 1 && Date.now() < deadline) await sleep(5);
    assert.equal(await count(), 1);
    b.close();
    await b.waitForClose();
  });
});

function enc(value: unknown): string {
  return encodeURIComponent(JSON.stringify(value));
}

function splitList(header: string | null): string[] {
  return (header ?? '').split(',').map((s) => s.trim().toLowerCase());
}
