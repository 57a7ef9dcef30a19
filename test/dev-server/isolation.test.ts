/**
 * PROTOCOL.md section 1: acme's production, acme's staging and globex's production share
 * nothing — records, snapshots, events, `seq`, history and presence rooms are all their own.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  PublishResponseSchema,
  RecordListResponseSchema,
  RecordSchema,
  type LiveEvent,
  type WelcomeMessage,
} from '../../protocol/index.js';
import { RawClient, rest, sleep } from '../support/raw-client.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';

/** The three environments of the test config, and what each one holds at start. */
const ENVIRONMENTS = [
  {
    name: 'acme-production',
    key: KEYS.acmeSecret,
    client: 'acme',
    environment: 'production',
    orders: ['o1', 'o2', 'o3'],
  },
  { name: 'acme-staging', key: KEYS.acmeStaging, client: 'acme', environment: 'staging', orders: [] },
  {
    name: 'globex-production',
    key: KEYS.globexSecret,
    client: 'globex',
    environment: 'production',
    orders: ['g1'],
  },
] as const;

type Env = (typeof ENVIRONMENTS)[number];

function welcomeOf(client: RawClient): WelcomeMessage {
  const welcome = client.messages.find((m) => m.type === 'welcome');
  assert.ok(welcome && welcome.type === 'welcome');
  return welcome;
}

/** The environment name an event says it came from (records and data carry `env`). */
function envOf(event: LiveEvent): unknown {
  if ('object' in event) return event.record.env;
  if ('topic' in event) return (event.data as { env?: unknown } | null)?.env;
  return 'member' in event ? (event.member.meta as { env?: unknown }).env : undefined;
}

describe('isolation between clients and environments', () => {
  let server: TestServer;
  let clients: RawClient[];
  beforeEach(async () => {
    server = await startTestServer();
    clients = [];
  });
  afterEach(async () => {
    for (const c of clients) {
      assert.deepEqual(c.invalid, []);
      c.close();
    }
    await server.close();
  });
  const connect = async (key: string) => {
    const client = await RawClient.connect(server, key);
    clients.push(client);
    return client;
  };

  it('welcomes each key into its own client and environment', async () => {
    for (const env of ENVIRONMENTS) {
      const welcome = welcomeOf(await connect(env.key));
      assert.equal(welcome.client, env.client);
      assert.equal(welcome.environment, env.environment);
      assert.equal(welcome.seq, 0);
    }
    const visitor = welcomeOf(await connect(KEYS.acmePublic));
    assert.deepEqual([visitor.client, visitor.environment], ['acme', 'production']);
  });

  it('gives each environment a snapshot and a REST list of its own records only', async () => {
    for (const env of ENVIRONMENTS) {
      const client = await connect(env.key);
      const subscribed = await client.subscribe({ id: 's', channel: 'records:orders', snapshot: true });
      assert.deepEqual(
        subscribed.snapshot?.map((r) => r.id),
        [...env.orders],
        env.name,
      );
      const list = await rest(server, 'GET', '/api/objects/orders/records', { key: env.key });
      assert.deepEqual(
        RecordListResponseSchema.parse(list.body).records.map((r) => r.id),
        [...env.orders],
        env.name,
      );
    }
  });

  it('delivers interleaved writes only to their own environment, each with its own gapless seq', async () => {
    const watchers = new Map<Env, RawClient>();
    for (const env of ENVIRONMENTS) {
      const client = await connect(env.key);
      await client.subscribe({ id: 'r', channel: 'records:*' });
      await client.subscribe({ id: 'e', channel: 'events:*' });
      watchers.set(env, client);
    }

    // The same ids and topics in every environment, one environment after the other, round by round.
    const seqs = new Map<Env, number[]>(ENVIRONMENTS.map((env) => [env, []]));
    for (let round = 0; round < 3; round++) {
      for (const env of ENVIRONMENTS) {
        const created = await rest(server, 'POST', '/api/objects/orders/records', {
          key: env.key,
          body: { id: `shared-${round}`, env: env.name },
        });
        assert.equal(created.status, 201, `${env.name}: ${JSON.stringify(created.body)}`);
      }
      for (const env of ENVIRONMENTS) {
        const published = await rest(server, 'POST', '/api/events/news', {
          key: env.key,
          body: { env: env.name, round },
        });
        seqs.get(env)?.push(PublishResponseSchema.parse(published.body).seq);
      }
      for (const env of ENVIRONMENTS) {
        const patched = await rest(server, 'PATCH', `/api/objects/orders/records/shared-${round}`, {
          key: env.key,
          body: { round },
        });
        assert.equal(patched.status, 200);
      }
    }
    for (const env of ENVIRONMENTS) {
      assert.equal(
        (await rest(server, 'DELETE', '/api/objects/orders/records/shared-0', { key: env.key })).status,
        204,
      );
      await rest(server, 'POST', '/api/events/done', { key: env.key, body: { env: env.name } });
    }

    for (const env of ENVIRONMENTS) {
      const client = watchers.get(env) as RawClient;
      // 3 rounds of create, publish and patch, then a delete and the `done` event.
      const events = await client.waitForEvents(11);
      await sleep(40);
      const all = client.events();
      assert.equal(all.length, 11, env.name);
      assert.deepEqual(
        all.map((e) => envOf(e)),
        all.map(() => env.name),
        `${env.name} received another environment's events`,
      );
      // Every commit of this environment, and only those: seq 1, 2, 3, … without gaps.
      assert.deepEqual(
        all.map((e) => e.seq),
        all.map((_, i) => i + 1),
        env.name,
      );
      assert.deepEqual(seqs.get(env), [2, 5, 8], env.name);
      assert.equal(events.at(-1)?.channel, 'events:done');
    }
  });

  it('never reads or writes across environments over REST', async () => {
    const [acme, staging, globex] = ENVIRONMENTS;
    const path = (id: string) => `/api/objects/orders/records/${id}`;
    assert.equal((await rest(server, 'GET', path('g1'), { key: acme.key })).status, 404);
    assert.equal((await rest(server, 'GET', path('o1'), { key: globex.key })).status, 404);
    assert.equal((await rest(server, 'GET', path('o1'), { key: staging.key })).status, 404);
    assert.equal((await rest(server, 'PATCH', path('g1'), { key: acme.key, body: { x: 1 } })).status, 404);
    assert.equal((await rest(server, 'DELETE', path('g1'), { key: staging.key })).status, 404);

    const own = await rest(server, 'POST', '/api/objects/orders/records', {
      key: globex.key,
      body: { id: 'o1', owner: 'globex' },
    });
    assert.equal(own.status, 201);
    const acmeO1 = RecordSchema.parse((await rest(server, 'GET', path('o1'), { key: acme.key })).body);
    assert.equal(acmeO1.owner, undefined);
    assert.equal(acmeO1.total, 10);
    const g1 = await rest(server, 'GET', path('g1'), { key: globex.key });
    assert.equal(g1.status, 200);
    assert.equal((await rest(server, 'GET', path('o1'), { key: staging.key })).status, 404);
  });

  it('replays on resume only the history of its own environment', async () => {
    const [acme, staging, globex] = ENVIRONMENTS;
    for (const env of [acme, staging, globex, staging, acme]) {
      await rest(server, 'POST', '/api/events/news', { key: env.key, body: { env: env.name } });
    }
    const client = await connect(staging.key);
    const welcome = welcomeOf(client);
    assert.equal(welcome.seq, 2);
    const subscribed = await client.subscribe({
      id: 'e',
      channel: 'events:*',
      since: 0,
      epoch: welcome.epoch,
    });
    assert.equal(subscribed.resumed, true);
    const events = await client.waitForEvents(2, 'e');
    await sleep(40);
    assert.deepEqual(
      client.events().map((e) => [e.seq, envOf(e)]),
      [
        [1, staging.name],
        [2, staging.name],
      ],
    );
    assert.equal(events.length, 2);
  });

  it('keeps presence rooms of the same name apart', async () => {
    const members = new Map<Env, RawClient>();
    for (const env of ENVIRONMENTS) {
      const client = await connect(env.key);
      const subscribed = await client.subscribe({
        id: 'p',
        channel: 'presence:lobby',
        meta: { env: env.name },
      });
      assert.deepEqual(
        subscribed.members,
        [{ connectionId: welcomeOf(client).connectionId, meta: { env: env.name } }],
        env.name,
      );
      members.set(env, client);
    }
    await sleep(60); // each room commits its join at its flush (flushIntervalMs 20)
    // A second member in each room, one environment after the other.
    const seconds: RawClient[] = [];
    for (const env of ENVIRONMENTS) {
      const second = await connect(env.key);
      const subscribed = await second.subscribe({
        id: 'p',
        channel: 'presence:lobby',
        meta: { env: env.name },
      });
      assert.deepEqual(
        subscribed.members?.map((m) => m.meta.env),
        [env.name, env.name],
      );
      seconds.push(second);
    }
    // Each first member hears its room's join before the second leaves (or the two would cancel).
    for (const env of ENVIRONMENTS) await (members.get(env) as RawClient).waitForEvents(1, 'p');
    for (const second of seconds) second.close();
    for (const env of ENVIRONMENTS) {
      const first = members.get(env) as RawClient;
      await first.waitForEvents(2, 'p');
      await sleep(40);
      const events = first.events();
      assert.deepEqual(
        events.map((e) => ('change' in e ? [e.change, envOf(e)] : e)),
        [
          ['join', env.name],
          ['leave', env.name],
        ],
        env.name,
      );
    }
  });
});
