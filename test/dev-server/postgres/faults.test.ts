/**
 * Database faults (issue 14, item 5; PROTOCOL.md section 10): the dev server on a private
 * PostgreSQL 15 whose replication connection is cut, and which is stopped and started again.
 * Clients stay connected and receive every change once the stream is back; what needs the
 * database meanwhile is refused with a clear `unavailable`, and changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HealthResponseSchema, type RowEvent } from '../../../protocol/index.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { RawClient, rest } from '../../support/raw-client.js';
import { tempDir } from '../../support/cli-process.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const SECRET = 'sk_faults_acme';

let cluster: PostgresCluster;
let server: TestServer;
const clients: RawClient[] = [];

before(async () => {
  cluster = await PostgresCluster.start();
  await cluster.query(`
    CREATE TABLE tasks (id int PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false);
    INSERT INTO tasks VALUES (1, 'write', false);
  `);
  server = await startTestServer({
    config: {
      keys: [{ key: SECRET, client: 'acme', environment: 'production', role: 'secret' }],
      objects: ['tasks'],
      postgres: {
        url: cluster.url(),
        tables: [{ client: 'acme', environment: 'production', table: 'tasks', object: 'tasks' }],
      },
    },
  });
});

after(async () => {
  for (const client of clients) client.close();
  await server?.close();
  await cluster?.stop();
});

async function connect(): Promise<RawClient> {
  const client = await RawClient.connect(server, SECRET);
  clients.push(client);
  return client;
}

const health = async () => HealthResponseSchema.parse((await rest(server, 'GET', '/healthz')).body).postgres;

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function rows(client: RawClient, sub: string): RowEvent[] {
  return client.events(sub).filter((e): e is RowEvent => 'table' in e);
}

describe('database faults', () => {
  it('carries on when the replication connection is cut: the changes made meanwhile arrive once', async () => {
    const client = await connect();
    await client.subscribe({ id: 't', channel: 'postgres:tasks' });
    await cluster.query(
      `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active_pid IS NOT NULL`,
    );
    await cluster.psql(`INSERT INTO tasks VALUES (2, 'test', false)`);
    await cluster.psql(`UPDATE tasks SET done = true WHERE id = 2`);
    await until('both changes delivered', () => rows(client, 't').length >= 2);
    await until('streaming again', async () => (await health()) === 'streaming');
    await cluster.psql(`DELETE FROM tasks WHERE id = 2`);
    await until('the delete delivered', () => rows(client, 't').length >= 3);
    assert.deepEqual(
      rows(client, 't').map((e) => [e.operation, e.id]),
      [
        ['INSERT', '2'],
        ['UPDATE', '2'],
        ['DELETE', '2'],
      ],
    );
    assert.equal(client.closed, undefined);
  });

  it('answers unavailable while PostgreSQL is down, keeps clients connected, and recovers', async () => {
    const client = await connect();
    await client.subscribe({ id: 'live', channel: 'records:tasks' });
    await cluster.stopServer();
    try {
      await until('healthz says reconnecting', async () => (await health()) === 'reconnecting');
      const write = await rest(server, 'POST', '/api/objects/tasks/records', {
        key: SECRET,
        body: { id: '3', title: 'ship' },
      });
      assert.equal(write.status, 503);
      assert.match(JSON.stringify(write.body), /"code":"unavailable"/);
      assert.doesNotMatch(JSON.stringify(write.body), /password/);
      assert.equal((await rest(server, 'GET', '/api/objects/tasks/records', { key: SECRET })).status, 503);
      client.send({ type: 'subscribe', id: 'snap', channel: 'postgres:tasks', snapshot: true });
      const refused = await client.next('error', (m) => m.id === 'snap', 20_000);
      assert.equal(refused.code, 1011);
      assert.match(refused.message, /unavailable|not streaming|catch up/);
      assert.equal(client.closed, undefined, 'the connection stays open');
    } finally {
      await cluster.startServer();
    }
    await until('streaming again', async () => (await health()) === 'streaming');
    const created = await rest(server, 'POST', '/api/objects/tasks/records', {
      key: SECRET,
      body: { id: '3', title: 'ship' },
    });
    assert.equal(created.status, 201);
    await until('the record event', () => client.events('live').length >= 1);
    const answer = await client.subscribe({
      id: 'snap',
      channel: 'postgres:tasks',
      snapshot: { sort: ['id'] },
    });
    assert.deepEqual(
      answer.snapshot?.map((row) => row.id),
      [1, 3],
    );
    assert.equal(client.closed, undefined);
  });

  it('starts a new history when its slot was dropped while it was down (--data): clients resync', async () => {
    const dir = tempDir('catalyst-pg-slot-');
    const config = {
      keys: [{ key: SECRET, client: 'acme', environment: 'production', role: 'secret' }],
      objects: ['notes'],
      postgres: {
        url: cluster.url(),
        slot: 'second',
        publication: 'second',
        tables: [{ client: 'acme', environment: 'production', table: 'tasks' }],
      },
    };
    let second = await startTestServer({ config, data: dir.file('data.json') });
    try {
      let client = await RawClient.connect(second, SECRET);
      const welcome = client.messages[0] as { epoch: string };
      await client.subscribe({ id: 'x', channel: 'postgres:tasks' });
      await cluster.psql(`INSERT INTO tasks VALUES (10, 'before', false)`);
      await client.waitForEvents(1, 'x', 5000);
      const [seen] = rows(client, 'x');
      client.close();
      await second.close();
      await cluster.query(`SELECT pg_drop_replication_slot('second')`);
      await cluster.psql(`INSERT INTO tasks VALUES (11, 'while there was no slot', false)`);
      second = await startTestServer({ config, data: dir.file('data.json') });
      client = await RawClient.connect(second, SECRET);
      const after = client.messages[0] as { epoch: string };
      assert.notEqual(after.epoch, welcome.epoch, 'a new epoch');
      const answer = await client.subscribe({
        id: 'x',
        channel: 'postgres:tasks',
        since: seen?.seq ?? 0,
        epoch: welcome.epoch,
        snapshot: true,
      });
      assert.equal(answer.resumed, false);
      assert.ok(
        answer.snapshot?.some((row) => row.id === 11),
        'the fresh snapshot has the row the gap hid',
      );
      await cluster.psql(`INSERT INTO tasks VALUES (12, 'after', false)`);
      await until('the next change', () => rows(client, 'x').length >= 1);
      assert.deepEqual(
        rows(client, 'x').map((e) => e.id),
        ['12'],
      );
      client.close();
    } finally {
      await second.close();
      dir.remove();
    }
  });
});
