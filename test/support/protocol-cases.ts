/**
 * One table of protocol cases (PROTOCOL.md sections 2–7) that every server implementation must
 * pass: the Node dev server and the in-page mock run it alike (`test/mock/protocol-cases.test.ts`),
 * so the two cannot drift. A case sees a server only through `CaseTarget` (`protocol-target.ts`):
 * the HTTP API and a raw socket; every assertion is about what goes over the wire.
 */
import assert from 'node:assert/strict';
import { CODE, PROTOCOL_NAME, type WsAuthResponse } from '../../protocol/index.js';
import { events, open, subscribe, subscribed, token, type ProtocolCase } from './protocol-target.js';
import { KEYS } from './test-server.js';

export type { CaseSocket, CaseTarget, ProtocolCase, ProtocolDriver } from './protocol-target.js';

const ids = (records: readonly Record<string, unknown>[] | undefined) =>
  (records ?? []).map((r) => String(r.id));
const ordersPath = '/api/objects/orders/records';
const PENDING = { status: 'pending' };

/** A write through REST and the event a `status = pending` subscription gets for it (or none). */
type ChangeRow = {
  name: string;
  write: { method: string; path: string; body?: unknown };
  expect: { change: string; operation: string; id: string; changedFields?: string[] } | null;
};

/** The change table (PROTOCOL.md section 4): what a write does to a filtered subscription. */
const CHANGE_ROWS: ChangeRow[] = [
  {
    name: 'sends added for a created record that matches the filter',
    write: { method: 'POST', path: ordersPath, body: { id: 'o9', status: 'pending', total: 1 } },
    expect: { change: 'added', operation: 'create', id: 'o9' },
  },
  {
    name: 'sends modified, with changedFields, for an update that keeps the record in the filter',
    write: { method: 'PATCH', path: `${ordersPath}/o1`, body: { total: 11 } },
    expect: { change: 'modified', operation: 'update', id: 'o1', changedFields: ['total', 'updatedAt'] },
  },
  {
    name: 'sends added for an update that moves a record into the filter',
    write: { method: 'PATCH', path: `${ordersPath}/o2`, body: { status: 'pending' } },
    expect: { change: 'added', operation: 'update', id: 'o2' },
  },
  {
    name: 'sends removed for an update that moves a record out of the filter',
    write: { method: 'PATCH', path: `${ordersPath}/o1`, body: { status: 'paid' } },
    expect: { change: 'removed', operation: 'update', id: 'o1' },
  },
  {
    name: 'sends removed for a deleted record that matched',
    write: { method: 'DELETE', path: `${ordersPath}/o3` },
    expect: { change: 'removed', operation: 'delete', id: 'o3' },
  },
  {
    name: 'sends nothing for a write to a record that never matches',
    write: { method: 'PATCH', path: `${ordersPath}/o2`, body: { total: 1 } },
    expect: null,
  },
];

function changeCase(row: ChangeRow): ProtocolCase {
  return {
    name: row.name,
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      await subscribed(socket, { id: 'p', channel: 'records:orders', filter: { where: PENDING } });
      const write = await t.rest(row.write.method, row.write.path, {
        key: KEYS.acmeSecret,
        body: row.write.body,
      });
      assert.ok(write.status < 300, `write answered ${write.status}`);
      if (row.expect === null) {
        // A later write that does match must be the first event this subscription gets.
        await t.rest('PATCH', `${ordersPath}/o1`, { key: KEYS.acmeSecret, body: { total: 12 } });
        const [first] = (await events(socket, 1)).events;
        assert.ok(first && 'id' in first, JSON.stringify(first));
        assert.deepEqual([first.seq, first.id], [2, 'o1']);
        return;
      }
      const [event] = (await events(socket, 1)).events;
      assert.ok(event && 'object' in event, JSON.stringify(event));
      assert.equal(event.seq, 1);
      assert.equal(event.sub, 'p');
      assert.equal(event.channel, 'records:orders');
      assert.deepEqual(
        { change: event.change, operation: event.operation, id: event.id },
        { change: row.expect.change, operation: row.expect.operation, id: row.expect.id },
      );
      if (row.expect.changedFields) assert.deepEqual(event.changedFields, row.expect.changedFields);
    },
  };
}

// ---- the table -------------------------------------------------------------------------------

/** Every case, in the order they run. */
export const PROTOCOL_CASES: ProtocolCase[] = [
  {
    name: "welcomes a connection with the protocol, the key's client and environment, seq and limits",
    limits: { maxBatchEvents: 7 },
    async run(t) {
      const { welcome } = await open(t, KEYS.acmePublic);
      assert.equal(welcome.protocol, PROTOCOL_NAME);
      assert.deepEqual([welcome.client, welcome.environment, welcome.seq], ['acme', 'production', 0]);
      assert.equal(welcome.limits.maxBatchEvents, 7);
      assert.equal(welcome.limits.flushIntervalMs, 20);
    },
  },
  {
    name: 'authenticates with an auth frame when the URL carries no token',
    async run(t) {
      const socket = await t.socket('');
      socket.send({ type: 'auth', token: await token(t, KEYS.acmeSecret) });
      assert.equal((await socket.next('welcome')).client, 'acme');
    },
  },
  {
    name: 'closes with 4002 when a token is used a second time',
    async run(t) {
      const once = await token(t, KEYS.acmePublic);
      const first = await t.socket(`?token=${once}`);
      await first.next('welcome');
      const second = await t.socket(`?token=${once}`);
      assert.equal((await second.waitForClose()).code, CODE.token_invalid);
    },
  },
  {
    name: 'returns every record of the object as the snapshot, ordered by id',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      const answer = await subscribed(socket, { id: 'all', channel: 'records:orders', snapshot: true });
      assert.deepEqual([answer.seq, ids(answer.snapshot)], [0, ['o1', 'o2', 'o3']]);
    },
  },
  {
    name: 'filters the snapshot with a where in object form',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      const where = { status: 'pending', total: { $gte: 50 } };
      const answer = await subscribed(socket, {
        id: 'w',
        channel: 'records:orders',
        filter: { where },
        snapshot: true,
      });
      assert.deepEqual(ids(answer.snapshot), ['o3']);
    },
  },
  {
    name: 'filters the snapshot with a where in list form',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      const answer = await subscribed(socket, {
        id: 'w',
        channel: 'records:orders',
        filter: {
          where: [
            ['customer.city', 'startswith', 'M'],
            ['total', '>', 50],
          ],
        },
        snapshot: true,
      });
      assert.deepEqual(ids(answer.snapshot), ['o3']);
    },
  },
  {
    name: 'sorts, limits and projects the snapshot window',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      const answer = await subscribed(socket, {
        id: 'top',
        channel: 'records:orders',
        fields: ['total'],
        snapshot: { sort: ['-total'], limit: 2 },
      });
      assert.deepEqual(answer.snapshot, [
        { id: 'o2', total: 250 },
        { id: 'o3', total: 99 },
      ]);
    },
  },
  ...CHANGE_ROWS.map(changeCase),
  {
    name: 'splits events into batches of at most maxBatchEvents, in seq order',
    limits: { maxBatchEvents: 3, flushIntervalMs: 500 },
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      await subscribed(socket, { id: 'all', channel: 'records:orders' });
      for (let i = 1; i <= 8; i++) {
        await t.rest('POST', ordersPath, { key: KEYS.acmeSecret, body: { id: `n${i}`, status: 'new' } });
      }
      const got = await events(socket, 8);
      assert.deepEqual(
        got.events.map((e) => e.seq),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.ok(got.sizes.every((n) => n <= 3) && got.sizes.length >= 3, `batch sizes ${got.sizes}`);
    },
  },
  {
    name: 'resumes with since and epoch: replays exactly the events missed meanwhile',
    async run(t) {
      const first = await open(t, KEYS.acmePublic);
      const answer = await subscribed(first.socket, { id: 'r', channel: 'records:orders' });
      first.socket.close();
      await t.rest('PATCH', `${ordersPath}/o1`, { key: KEYS.acmeSecret, body: { total: 20 } });
      await t.rest('PATCH', `${ordersPath}/o2`, { key: KEYS.acmeSecret, body: { total: 30 } });
      const second = await open(t, KEYS.acmePublic);
      const resumed = await subscribed(second.socket, {
        id: 'r',
        channel: 'records:orders',
        since: answer.seq,
        epoch: first.welcome.epoch,
        snapshot: true,
      });
      assert.deepEqual([resumed.resumed, resumed.seq, resumed.snapshot], [true, 0, undefined]);
      const replay = await events(second.socket, 2);
      assert.deepEqual(
        replay.events.map((e) => [e.seq, 'id' in e ? e.id : '']),
        [
          [1, 'o1'],
          [2, 'o2'],
        ],
      );
    },
  },
  {
    name: 'answers resumed false with a fresh snapshot when the epoch is not the server’s',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      const answer = await subscribed(socket, {
        id: 'r',
        channel: 'records:orders',
        since: 0,
        epoch: 'e_another_server',
        snapshot: true,
      });
      assert.deepEqual([answer.resumed, ids(answer.snapshot)], [false, ['o1', 'o2', 'o3']]);
    },
  },
  {
    name: 'answers a frame that is not JSON with error 4000 and keeps the connection',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      socket.send('not json');
      const error = await socket.next('error');
      assert.deepEqual([error.code, error.name], [CODE.bad_request, 'bad_request']);
      socket.send({ type: 'ping', t: 7 });
      assert.equal((await socket.next('pong')).t, 7);
    },
  },
  {
    name: 'refuses a subscription to an object the key may not read with 4003',
    async run(t) {
      const { socket } = await open(t, KEYS.acmeProductsOnly);
      const answer = await subscribe(socket, { id: 'o', channel: 'records:orders' });
      assert.deepEqual([answer.type, 'code' in answer && answer.code], ['error', CODE.scope_denied]);
      await subscribed(socket, { id: 'p', channel: 'records:products' });
    },
  },
  {
    name: 'refuses a subscription to an unknown object with 4010',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      const answer = await subscribe(socket, { id: 'x', channel: 'records:invoices' });
      assert.deepEqual([answer.type, 'code' in answer && answer.code], ['error', CODE.channel_unavailable]);
    },
  },
  {
    name: 'refuses a publish from a publishable key with 4003',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      socket.send({ type: 'publish', id: 'p1', channel: 'events:alerts', data: {} });
      const error = await socket.next('error', (m) => m.id === 'p1');
      assert.equal(error.code, CODE.scope_denied);
    },
  },
  {
    name: 'publishes over the socket to the subscribers of events:<topic>',
    async run(t) {
      const listener = await open(t, KEYS.acmePublic);
      await subscribed(listener.socket, { id: 'a', channel: 'events:alerts' });
      const publisher = await open(t, KEYS.acmeSecret);
      publisher.socket.send({ type: 'publish', id: 'p1', channel: 'events:alerts', data: { level: 'high' } });
      const published = await publisher.socket.next('published');
      assert.deepEqual([published.id, published.seq], ['p1', 1]);
      const [event] = (await events(listener.socket, 1)).events;
      assert.deepEqual(event && 'topic' in event && [event.topic, event.data, event.seq], [
        'alerts',
        { level: 'high' },
        1,
      ]);
    },
  },
  {
    name: 'stops the events of a subscription once it is unsubscribed',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      await subscribed(socket, { id: 'a', channel: 'records:orders' });
      socket.send({ type: 'unsubscribe', id: 'a' });
      assert.equal((await socket.next('unsubscribed')).id, 'a');
      await subscribed(socket, { id: 'b', channel: 'records:orders' });
      await t.rest('PATCH', `${ordersPath}/o1`, { key: KEYS.acmeSecret, body: { total: 5 } });
      const batch = await socket.next('batch');
      assert.deepEqual(
        batch.events.map((e) => e.sub),
        ['b'],
      );
    },
  },
  {
    name: "keeps clients apart: another client's key sees only its own records",
    async run(t) {
      const { socket, welcome } = await open(t, KEYS.globexSecret);
      const answer = await subscribed(socket, { id: 'g', channel: 'records:orders', snapshot: true });
      assert.deepEqual([welcome.client, ids(answer.snapshot)], ['globex', ['g1']]);
    },
  },
  {
    name: 'answers ws-auth with a one-time token for the key’s environment, and 401 to an unknown key',
    async run(t) {
      const ok = await t.rest('GET', '/api/users/ws-auth/', { key: KEYS.acmeStaging });
      const body = ok.body as WsAuthResponse;
      assert.deepEqual(
        [ok.status, body.environment, body.url],
        [200, 'staging', '/ws/events/object-records/'],
      );
      const refused = await t.rest('GET', '/api/users/ws-auth/', { key: 'sk_nobody_knows' });
      assert.deepEqual(
        [refused.status, (refused.body as { error: { code: string } }).error.code],
        [401, 'unauthorized'],
      );
    },
  },
  {
    name: 'lists records over REST with where, sort, limit and fields, saying when the limit cut some off',
    async run(t) {
      const query = new URLSearchParams({
        where: JSON.stringify(PENDING),
        sort: '-total',
        limit: '1',
        fields: 'total',
      });
      const answer = await t.rest('GET', `${ordersPath}?${query}`, { key: KEYS.acmePublic });
      assert.deepEqual(answer, {
        status: 200,
        body: { records: [{ id: 'o3', total: 99 }], truncated: true },
      });
    },
  },
  {
    name: 'creates (201), patches (200), reads and deletes (204) a record over REST, then answers 404',
    async run(t) {
      const key = KEYS.acmeSecret;
      const created = await t.rest('POST', ordersPath, { key, body: { id: 'c1', status: 'new', total: 3 } });
      assert.deepEqual([created.status, (created.body as { id: string }).id], [201, 'c1']);
      const patched = await t.rest('PATCH', `${ordersPath}/c1`, { key, body: { total: null, note: 'x' } });
      const record = patched.body as Record<string, unknown>;
      assert.deepEqual(
        [patched.status, record.status, 'total' in record, record.note],
        [200, 'new', false, 'x'],
      );
      assert.deepEqual((await t.rest('GET', `${ordersPath}/c1`, { key })).body, record);
      assert.equal((await t.rest('DELETE', `${ordersPath}/c1`, { key })).status, 204);
      const gone = await t.rest('GET', `${ordersPath}/c1`, { key });
      assert.deepEqual(
        [gone.status, (gone.body as { error: { code: string } }).error.code],
        [404, 'not_found'],
      );
    },
  },
  {
    name: 'answers 401 without a key, 403 to a write with a publishable key and 409 to a duplicate id',
    async run(t) {
      assert.equal((await t.rest('GET', ordersPath)).status, 401);
      assert.equal(
        (await t.rest('POST', ordersPath, { key: KEYS.acmePublic, body: { status: 'x' } })).status,
        403,
      );
      assert.equal(
        (await t.rest('POST', ordersPath, { key: KEYS.acmeSecret, body: { id: 'o1' } })).status,
        409,
      );
    },
  },
  {
    name: 'answers 400 with details to a where that is not valid',
    async run(t) {
      const query = new URLSearchParams({ where: JSON.stringify({ total: { $near: 1 } }) });
      const answer = await t.rest('GET', `${ordersPath}?${query}`, { key: KEYS.acmePublic });
      assert.deepEqual(
        [answer.status, (answer.body as { error: { code: string } }).error.code],
        [400, 'bad_request'],
      );
    },
  },
  {
    name: 'publishes a custom event over REST (202 with its seq) to the subscribers of its topic',
    async run(t) {
      const { socket } = await open(t, KEYS.acmePublic);
      await subscribed(socket, { id: 'all', channel: 'events:*' });
      const answer = await t.rest('POST', '/api/events/deploys', { key: KEYS.acmeSecret, body: { v: 2 } });
      assert.deepEqual(answer, { status: 202, body: { seq: 1 } });
      const [event] = (await events(socket, 1)).events;
      assert.deepEqual(event && 'topic' in event && [event.topic, event.data], ['deploys', { v: 2 }]);
    },
  },
  {
    name: 'reports its open connections on /healthz',
    async run(t) {
      await open(t, KEYS.acmePublic);
      const answer = await t.rest('GET', '/healthz');
      const body = answer.body as { ok: boolean; connections: number };
      assert.deepEqual([answer.status, body.ok, body.connections], [200, true, 1]);
    },
  },
];
