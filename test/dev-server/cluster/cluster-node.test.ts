/**
 * Two dev server processes' engines as one cluster (issue 15 item 1, in progress; PROTOCOL.md
 * section 11) on a private Redis and a private PostgreSQL 15: `seq` and history per environment
 * come from Redis, so an event published on one process reaches the other's subscribers with the
 * same seq, a row change read by whichever process holds the slot reaches both, a client resumes
 * with `since` on the other process, and Redis losing its data starts a new epoch that clients
 * resync to. (Each server is its own engine in this test process; tokens are still fetched from
 * the process a client connects to.)
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { HealthResponseSchema, type LiveEvent } from '../../../protocol/index.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { getToken, RawClient, rest } from '../../support/raw-client.js';
import { RedisServer } from '../../support/redis-server.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const SECRET = 'sk_cluster_acme';

let postgres: PostgresCluster;
let redis: RedisServer;
let a: TestServer;
let b: TestServer;
const clients: RawClient[] = [];

before(async () => {
  [postgres, redis] = await Promise.all([PostgresCluster.start(), RedisServer.start()]);
  await postgres.query(`CREATE TABLE notes (id text PRIMARY KEY, body text NOT NULL)`);
  const config = {
    keys: [{ key: SECRET, client: 'acme', environment: 'production', role: 'secret' }],
    objects: ['notes'],
    postgres: {
      url: postgres.url(),
      tables: [{ client: 'acme', environment: 'production', table: 'notes', object: 'notes' }],
    },
  };
  // A small quota, counted across both processes; every test closes its clients.
  const options = {
    config,
    cluster: redis.url,
    clusterKeyPrefix: 'test:',
    limits: { maxConnectionsPerClient: 3 },
  };
  a = await startTestServer(options);
  b = await startTestServer(options);
});

after(async () => {
  for (const client of clients) client.close();
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([postgres?.stop(), redis?.stop()]);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  // The slots go back when the sockets are gone (a server a test closed counts none).
  const open = (server: TestServer) =>
    rest(server, 'GET', '/healthz').then(
      (answer) => HealthResponseSchema.parse(answer.body).connections,
      () => 0,
    );
  for (const deadline = Date.now() + 3000; Date.now() < deadline;) {
    if ((await Promise.all([open(a), open(b)])).every((n) => n === 0)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
});

async function connect(server: TestServer): Promise<RawClient> {
  const client = await RawClient.connect(server, SECRET);
  clients.push(client);
  return client;
}

const seqs = (events: LiveEvent[]) => events.map((e) => e.seq);

describe('a cluster of two processes', () => {
  it('spends a token once in the whole cluster, and counts connections across processes', async () => {
    const token = await getToken(a, SECRET);
    const onB = await RawClient.open(`${b.wsUrl}?token=${token}`);
    clients.push(onB);
    await onB.next('welcome');
    const again = await RawClient.open(`${a.wsUrl}?token=${token}`);
    clients.push(again);
    assert.equal((await again.waitForClose()).code, 4002, 'spent on the other process');
    clients.push(await connect(a), await connect(b)); // 3 of 3
    const fourth = await RawClient.open(`${a.wsUrl}?token=${await getToken(b, SECRET)}`);
    clients.push(fourth);
    const closed = await fourth.waitForClose();
    assert.equal(closed.code, 4008);
    assert.match(closed.reason, /in the cluster/);
  });

  it('numbers the changes of both processes in one sequence, and delivers each on both', async () => {
    const onA = await connect(a);
    const onB = await connect(b);
    const startA = await onA.subscribe({ id: 'e', channel: 'events:*' });
    const startB = await onB.subscribe({ id: 'e', channel: 'events:*' });
    assert.equal(startA.seq, startB.seq);
    for (const [server, n] of [
      [a, 1],
      [b, 2],
      [a, 3],
    ] as const) {
      const answer = await rest(server, 'POST', `/api/events/promo`, { key: SECRET, body: { n } });
      assert.equal(answer.status, 202);
    }
    const expected = [startA.seq + 1, startA.seq + 2, startA.seq + 3];
    assert.deepEqual(seqs(await onA.waitForEvents(3, 'e', 5000)), expected);
    assert.deepEqual(seqs(await onB.waitForEvents(3, 'e', 5000)), expected);
    // A WebSocket publish is answered with the seq every process gave it.
    onB.send({ type: 'publish', id: 'p1', channel: 'events:promo', data: { n: 4 } });
    const published = await onB.next('published', (m) => m.id === 'p1', 5000);
    assert.equal(published.seq, startA.seq + 4);
    assert.deepEqual(seqs(await onA.waitForEvents(4, 'e', 5000)).at(-1), startA.seq + 4);
  });

  it('delivers a row change to both, read once by whichever process reads the slot', async () => {
    const onA = await connect(a);
    const onB = await connect(b);
    await onA.subscribe({ id: 'n', channel: 'records:notes' });
    await onB.subscribe({ id: 'n', channel: 'records:notes' });
    const created = await rest(b, 'POST', '/api/objects/notes/records', {
      key: SECRET,
      body: { id: 'n1', body: 'hi' },
    });
    assert.equal(created.status, 201);
    await postgres.psql(`UPDATE notes SET body = 'hello' WHERE id = 'n1'`);
    const [eventsA, eventsB] = [await onA.waitForEvents(2, 'n', 8000), await onB.waitForEvents(2, 'n', 8000)];
    assert.deepEqual(seqs(eventsA), seqs(eventsB));
    assert.deepEqual(
      eventsB.map((e) => ('operation' in e ? e.operation : '')),
      ['create', 'update'],
    );
    // `nodes` is counted every 2 s: wait until both have counted the other.
    const healthOf = async () =>
      Promise.all(
        [a, b].map(async (s) => HealthResponseSchema.parse((await rest(s, 'GET', '/healthz')).body)),
      );
    let health = await healthOf();
    for (const deadline = Date.now() + 6000; health.some((h) => h.cluster?.nodes !== 2);) {
      assert.ok(Date.now() < deadline, `nodes: ${health.map((h) => h.cluster?.nodes).join(', ')}`);
      await new Promise((r) => setTimeout(r, 200));
      health = await healthOf();
    }
    assert.deepEqual(
      health.map((h) => h.cluster?.replication).sort(),
      ['follower', 'leader'],
      'one process reads the slot',
    );
  });

  it('resumes with since on the other process, missing nothing', async () => {
    const onA = await connect(a);
    const welcome = onA.messages[0] as { epoch: string };
    const start = await onA.subscribe({ id: 'r', channel: 'events:resume' });
    await rest(a, 'POST', '/api/events/resume', { key: SECRET, body: 1 });
    const [first] = await onA.waitForEvents(1, 'r', 5000);
    onA.close();
    await rest(b, 'POST', '/api/events/resume', { key: SECRET, body: 2 });
    await rest(a, 'POST', '/api/events/resume', { key: SECRET, body: 3 });
    const onB = await connect(b);
    const resumed = await onB.subscribe({
      id: 'r',
      channel: 'events:resume',
      since: first?.seq ?? start.seq,
      epoch: welcome.epoch,
    });
    assert.equal(resumed.resumed, true);
    const replay = await onB.waitForEvents(2, 'r', 5000);
    assert.deepEqual(
      replay.map((e) => ('data' in e ? e.data : null)),
      [2, 3],
    );
  });

  it('starts a new epoch when Redis loses its data: clients are closed to resync', async () => {
    const onA = await connect(a);
    const onB = await connect(b);
    const before = (onA.messages[0] as { epoch: string }).epoch;
    await onA.subscribe({ id: 'x', channel: 'events:*' });
    await onB.subscribe({ id: 'x', channel: 'events:*' });
    await redis.flushAll();
    await rest(a, 'POST', '/api/events/after', { key: SECRET, body: 'new' });
    const [closedA, closedB] = await Promise.all([onA.waitForClose(10_000), onB.waitForClose(10_000)]);
    assert.deepEqual([closedA.code, closedB.code], [1001, 1001]);
    const again = await connect(b);
    const epoch = (again.messages[0] as { epoch: string }).epoch;
    assert.notEqual(epoch, before);
    const answer = await again.subscribe({ id: 'x', channel: 'events:*', since: 5, epoch: before });
    assert.equal(answer.resumed, false);
  });

  it('hands the slot over when the process reading it goes: every change once', async () => {
    const healthOf = async (server: TestServer) =>
      HealthResponseSchema.parse((await rest(server, 'GET', '/healthz')).body);
    const roles = await Promise.all([a, b].map(async (s) => (await healthOf(s)).cluster?.replication));
    const [leader, other] = roles[0] === 'leader' ? [a, b] : [b, a];
    assert.equal((await healthOf(other)).postgres, 'standby');
    const client = await connect(other);
    await client.subscribe({ id: 'h', channel: 'postgres:notes' });
    await postgres.psql(`INSERT INTO notes VALUES ('h1', 'before')`);
    await client.waitForEvents(1, 'h', 8000);
    await leader.close(); // its lease goes with it
    await postgres.psql(`INSERT INTO notes VALUES ('h2', 'while handing over')`);
    const deadline = Date.now() + 10_000;
    while ((await healthOf(other)).postgres !== 'streaming') {
      assert.ok(Date.now() < deadline, 'the other process reads the slot within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await postgres.psql(`INSERT INTO notes VALUES ('h3', 'after')`);
    const events = await client.waitForEvents(3, 'h', 8000);
    assert.deepEqual(
      events.map((e) => ('id' in e ? e.id : '')),
      ['h1', 'h2', 'h3'],
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(client.events('h').length, 3, 'nothing twice');
  });
});
