/**
 * PROTOCOL.md section 5: resume with `since` and `epoch`, the fallback to a fresh snapshot, and
 * `--data`, which keeps a client's position (epoch and seq) across a restart — even a crash.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import type { Limits, LiveEvent, ServerMessage, SubscriptionSpec } from '../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../support/cli-process.js';
import { snapshotLines } from '../support/data-files.js';
import { KEYS, startTestServer, testConfig, type TestServer } from '../support/test-server.js';
import { RawClient, getToken, rest, sleep } from '../support/raw-client.js';

type Batch = Extract<ServerMessage, { type: 'batch' }>;
type Welcome = Extract<ServerMessage, { type: 'welcome' }>;

let servers: TestServer[] = [];
let clients: RawClient[] = [];
let cleanups: (() => void | Promise<unknown>)[] = [];

afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  for (const server of servers) await server.close();
  servers = [];
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

async function start(limits: Partial<Limits> = {}, data?: string): Promise<TestServer> {
  const server = await startTestServer({ limits, ...(data ? { data } : {}) });
  servers.push(server);
  return server;
}

async function connect(server: TestServer, key: string = KEYS.acmeSecret): Promise<RawClient> {
  const client = await RawClient.connect(server, key);
  clients.push(client);
  return client;
}

function welcomeOf(client: RawClient): Welcome {
  const welcome = client.messages[0];
  assert.equal(welcome?.type, 'welcome');
  return welcome as Welcome;
}

function batches(client: RawClient): Batch[] {
  return client.messages.filter((m): m is Batch => m.type === 'batch');
}

/** seq, change and record id of record events: what a live list applies. */
function summary(events: readonly LiveEvent[]): string[] {
  return events.map((e) => `${e.seq} ${'change' in e ? e.change : '-'} ${'id' in e ? e.id : '-'}`);
}

const PENDING: SubscriptionSpec = {
  id: 's',
  channel: 'records:orders',
  filter: { where: { status: 'pending' } },
};

/**
 * Writes to acme production (orders o1 and o3 are pending, o2 is paid at the start), one per seq:
 * what a `status: pending` subscription hears of each is in the comment.
 */
function writeMix(server: TestServer): void {
  const env = server.store.environment('acme', 'production');
  env.patch('orders', 'o1', { status: 'paid' }); // 1 removed o1
  env.patch('orders', 'o2', { status: 'pending' }); // 2 added o2
  env.patch('orders', 'o3', { total: 100 }); // 3 modified o3
  env.create('orders', { id: 'o4', status: 'paid' }); // 4 not delivered
  env.create('orders', { id: 'o5', status: 'pending' }); // 5 added o5
  env.remove('orders', 'o3'); // 6 removed o3
  env.publish('promo', { x: 1 }); // 7 another channel
  env.patch('orders', 'o4', { total: 1 }); // 8 not delivered: matched neither before nor after
}

describe('resume with since in history', () => {
  const cases = [
    { since: 0, expected: ['1 removed o1', '2 added o2', '3 modified o3', '5 added o5', '6 removed o3'] },
    { since: 2, expected: ['3 modified o3', '5 added o5', '6 removed o3'] },
    { since: 5, expected: ['6 removed o3'] },
    { since: 8, expected: [] },
  ];
  for (const { since, expected } of cases) {
    it(`replays after since ${since}, at once, each event with the change it would have had`, async () => {
      const server = await start({ flushIntervalMs: 10_000, maxBatchEvents: 1000 });
      writeMix(server);
      const client = await connect(server);
      const t0 = Date.now();
      const subscribed = await client.subscribe({
        ...PENDING,
        since,
        epoch: welcomeOf(client).epoch,
        snapshot: true,
      });
      assert.equal(subscribed.resumed, true);
      assert.equal(subscribed.seq, since);
      assert.equal(subscribed.snapshot, undefined, 'a resumed subscription gets no snapshot');
      if (expected.length > 0) {
        await client.waitForEvents(expected.length, 's', 2000);
        assert.ok(Date.now() - t0 < 2000, 'the replay did not wait for flushIntervalMs');
      } else await sleep(100);
      assert.deepEqual(summary(client.events('s')), expected);
      assert.deepEqual(client.invalid, []);
    });
  }

  it('continues with live events after the replay, none twice', async () => {
    const server = await start({ flushIntervalMs: 10_000, maxBatchEvents: 3 });
    writeMix(server);
    const client = await connect(server);
    await client.subscribe({ ...PENDING, since: 2 });
    await client.waitForEvents(3, 's', 2000);
    const env = server.store.environment('acme', 'production');
    for (let i = 0; i < 3; i++) env.create('orders', { id: `live${i}`, status: 'pending' });
    await client.waitForEvents(6, 's', 2000); // three waiting events make a full batch
    assert.deepEqual(summary(client.events('s')), [
      '3 modified o3',
      '5 added o5',
      '6 removed o3',
      '9 added live0',
      '10 added live1',
      '11 added live2',
    ]);
  });

  it('replays exactly what a live subscriber with the same subscription received', async () => {
    const server = await start({ flushIntervalMs: 10 });
    const spec: SubscriptionSpec = {
      id: 's',
      channel: 'records:orders',
      filter: { where: [['total', '>=', 50]], operations: ['update', 'DELETE', 'create'] },
      fields: ['status', 'total'],
    };
    const live = await connect(server);
    const from = (await live.subscribe(spec)).seq;
    const env = server.store.environment('acme', 'production');
    for (let i = 0; i < 40; i++) {
      const id = `o${(i % 5) + 1}`;
      if (i % 7 === 3) env.publish('noise', i);
      if (!env.table('orders').has(id)) env.create('orders', { id, status: 'new', total: (i * 37) % 120 });
      else if (i % 11 === 10) env.remove('orders', id);
      else if (i % 4 === 0)
        env.patch('orders', id, { note: `n${i}` }); // not a projected field
      else env.patch('orders', id, { total: (i * 53) % 120, status: i % 2 ? 'paid' : 'pending' });
    }
    env.create('orders', { id: 'last', total: 1000 });
    await live.next('batch', (b) => b.events.some((e) => e.seq === env.seq));
    const received = live.events('s');
    assert.ok(received.length > 20, `only ${received.length} events: the writes do not exercise the filter`);
    const changes = new Set(received.map((e) => ('change' in e ? e.change : '')));
    assert.deepEqual([...changes].sort(), ['added', 'modified', 'removed']);

    const middle = received[Math.floor(received.length / 2)] as LiveEvent;
    for (const since of [from, middle.seq]) {
      const resumer = await connect(server);
      const epoch = welcomeOf(resumer).epoch;
      assert.equal((await resumer.subscribe({ ...spec, since, epoch })).resumed, true);
      const expected = received.filter((e) => e.seq > since);
      const replayed = await resumer.waitForEvents(expected.length, 's');
      await sleep(50);
      assert.deepEqual(resumer.events('s'), expected, `replay after ${since}`);
      assert.deepEqual(replayed, expected);
    }
  });

  it('takes a since without epoch to be in the current epoch', async () => {
    const server = await start({ flushIntervalMs: 10 });
    writeMix(server);
    const client = await connect(server);
    const subscribed = await client.subscribe({ ...PENDING, since: 5 });
    assert.equal(subscribed.resumed, true);
    await client.waitForEvents(1, 's');
    assert.deepEqual(summary(client.events('s')), ['6 removed o3']);
  });

  it('sends a replay longer than maxBatchEvents in several batches, all at once', async () => {
    const server = await start({ flushIntervalMs: 10_000, maxBatchEvents: 4 });
    const env = server.store.environment('acme', 'production');
    for (let i = 0; i < 10; i++) env.create('orders', { id: `r${i}`, status: 'pending' });
    const client = await connect(server);
    const t0 = Date.now();
    await client.subscribe({ ...PENDING, since: 0 });
    await client.waitForEvents(10, 's', 2000);
    assert.ok(Date.now() - t0 < 2000);
    await sleep(50);
    assert.deepEqual(
      batches(client).map((b) => b.events.length),
      [4, 4, 2],
    );
    assert.deepEqual(
      client.events('s').map((e) => e.seq),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  });

  it('puts events committed while a resume is answered after the replay, none twice', async () => {
    const server = await start({ flushIntervalMs: 10 });
    writeMix(server);
    const env = server.store.environment('acme', 'production');
    // The hook runs inside the subscribe, between the subscription going live and its replay.
    const off = server.on('subscribe', () => {
      off();
      env.create('orders', { id: 'racing', status: 'pending' });
    });
    const client = await connect(server);
    await client.subscribe({ ...PENDING, since: 2 });
    await client.waitForEvents(4, 's');
    await sleep(50);
    assert.deepEqual(summary(client.events('s')), [
      '3 modified o3',
      '5 added o5',
      '6 removed o3',
      '9 added racing',
    ]);
  });
});

describe('resume falls back to a fresh start', () => {
  // historySize 5 and 10 writes: seqs 6 … 10 are held.
  const cases: { name: string; since: (current: number) => number; epoch?: string; resumed: boolean }[] = [
    {
      name: 'since whose following events are all held (current − historySize)',
      since: () => 5,
      resumed: true,
    },
    { name: 'since older than history', since: () => 4, resumed: false },
    { name: 'since far older than history', since: () => 0, resumed: false },
    { name: 'since larger than the current seq', since: (current) => current + 1, resumed: false },
    { name: 'since of another epoch', since: (current) => current, epoch: 'e_other', resumed: false },
  ];
  for (const c of cases) {
    it(`answers ${c.name} with resumed ${c.resumed}${c.resumed ? '' : ' and a fresh snapshot'}`, async () => {
      const server = await start({ flushIntervalMs: 10, historySize: 5 });
      const env = server.store.environment('acme', 'production');
      for (let i = 0; i < 10; i++) env.create('orders', { id: `h${i}`, status: i < 2 ? 'pending' : 'paid' });
      const client = await connect(server);
      const welcome = welcomeOf(client);
      assert.equal(welcome.seq, 10);
      const since = c.since(welcome.seq);
      const subscribed = await client.subscribe({
        ...PENDING,
        since,
        epoch: c.epoch ?? welcome.epoch,
        snapshot: true,
      });
      assert.equal(subscribed.resumed, c.resumed);
      if (c.resumed) {
        assert.equal(subscribed.snapshot, undefined);
        assert.equal(subscribed.seq, since);
      } else {
        assert.equal(subscribed.seq, 10, 'the snapshot reflects the current seq');
        assert.deepEqual(subscribed.snapshot?.map((r) => r.id).sort(), ['h0', 'h1', 'o1', 'o3']);
        await sleep(80);
        assert.deepEqual(client.events('s'), [], 'a fresh start replays nothing');
      }
    });
  }

  it('sends no snapshot with resumed false when none was asked for', async () => {
    const server = await start({ flushIntervalMs: 10 });
    const client = await connect(server);
    const subscribed = await client.subscribe({ ...PENDING, since: 99 });
    assert.equal(subscribed.resumed, false);
    assert.equal(subscribed.snapshot, undefined);
    assert.equal(subscribed.seq, 0);
  });

  it('delivers live events after a fresh start', async () => {
    const server = await start({ flushIntervalMs: 10 });
    const client = await connect(server);
    await client.subscribe({ ...PENDING, since: 99, epoch: 'e_gone', snapshot: true });
    server.store.environment('acme', 'production').create('orders', { id: 'n1', status: 'pending' });
    await client.waitForEvents(1, 's');
    assert.deepEqual(summary(client.events('s')), ['1 added n1']);
  });
});

describe('persistence with --data', () => {
  function dataFile(): string {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    return dir.file('data.json');
  }

  it('keeps epoch, seq and records across a restart, and a client resumes with what it missed', async () => {
    const data = dataFile();
    const first = await start({ flushIntervalMs: 10 }, data);
    const key = KEYS.acmeSecret;
    const client = await connect(first);
    const { epoch } = welcomeOf(client);
    await client.subscribe({ id: 's', channel: 'records:orders' });
    await rest(first, 'POST', '/api/objects/orders/records', { key, body: { id: 'a1', status: 'new' } });
    const [seen] = await client.waitForEvents(1, 's');
    client.close();
    await rest(first, 'POST', '/api/objects/orders/records', { key, body: { id: 'a2', status: 'new' } });
    await rest(first, 'PATCH', '/api/objects/orders/records/a1', { key, body: { status: 'paid' } });
    await rest(first, 'DELETE', '/api/objects/orders/records/o1', { key });
    await first.close(); // right after the writes

    assert.deepEqual(snapshotLines(data)[0], {
      kind: 'header',
      format: 'catalyst-dev-server-data',
      version: 2,
    });
    const second = await start({ flushIntervalMs: 10 }, data);
    const again = await connect(second);
    assert.equal(welcomeOf(again).epoch, epoch);
    assert.equal(welcomeOf(again).seq, 4);
    const a1 = await rest(second, 'GET', '/api/objects/orders/records/a1', { key });
    assert.equal((a1.body as { status?: unknown }).status, 'paid');
    assert.equal((await rest(second, 'GET', '/api/objects/orders/records/a2', { key })).status, 200);
    assert.equal((await rest(second, 'GET', '/api/objects/orders/records/o1', { key })).status, 404);
    assert.equal((await rest(second, 'GET', '/api/objects/orders/records/o2', { key })).status, 200);

    const resumed = await again.subscribe({
      id: 's',
      channel: 'records:orders',
      since: seen?.seq ?? -1,
      epoch,
    });
    assert.equal(resumed.resumed, true);
    await again.waitForEvents(3, 's');
    const published = await rest(second, 'POST', '/api/events/promo', { key, body: 1 });
    assert.equal((published.body as { seq: number }).seq, 5, 'seq continues');
    await sleep(50);
    assert.deepEqual(summary(again.events('s')), ['2 added a2', '3 modified a1', '4 removed o1']);
  });

  it('lets a client connected across a restart lose no event and get none twice', async () => {
    const data = dataFile();
    const first = await start({ flushIntervalMs: 10_000 }, data);
    const client = await connect(first);
    const { epoch } = welcomeOf(client);
    await client.subscribe({ id: 's', channel: 'records:orders' });
    const env = first.store.environment('acme', 'production');
    for (let i = 0; i < 5; i++) env.create('orders', { id: `x${i}` });
    await first.close();
    assert.equal((await client.waitForClose()).code, 1001);
    const before = client.events('s').map((e) => e.seq);
    const last = Math.max(0, ...before);

    const second = await start({ flushIntervalMs: 10 }, data);
    const env2 = second.store.environment('acme', 'production');
    env2.create('orders', { id: 'y0' });
    env2.patch('orders', 'x0', { status: 'paid' });
    const again = await connect(second);
    assert.equal(
      (await again.subscribe({ id: 's', channel: 'records:orders', since: last, epoch })).resumed,
      true,
    );
    await again.waitForEvents(7 - before.length, 's');
    await sleep(50);
    const all = [...before, ...again.events('s').map((e) => e.seq)];
    assert.deepEqual(all, [1, 2, 3, 4, 5, 6, 7]);
  });

  it('without --data, starts a new epoch on restart and answers the old since with a snapshot', async () => {
    const first = await start({ flushIntervalMs: 10 });
    const old = welcomeOf(await connect(first));
    first.store.environment('acme', 'production').create('orders', { id: 'gone', status: 'pending' });
    await first.close();

    const second = await start({ flushIntervalMs: 10 });
    const client = await connect(second);
    const welcome = welcomeOf(client);
    assert.notEqual(welcome.epoch, old.epoch);
    assert.equal(welcome.seq, 0);
    second.store.environment('acme', 'production').create('orders', { id: 'new1', status: 'paid' });
    // since 1 exists in the new history too, but belongs to the old epoch.
    const subscribed = await client.subscribe({ ...PENDING, since: 1, epoch: old.epoch, snapshot: true });
    assert.equal(subscribed.resumed, false);
    assert.deepEqual(subscribed.snapshot?.map((r) => r.id).sort(), ['o1', 'o3']);
  });

  it('survives SIGKILL: the data file parses and every acknowledged write is back', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const config = writeJson(dir.file('config.json'), testConfig());
    const data = dir.file('data.json');
    const cli = await CliProcess.start([
      '--config',
      config,
      '--port',
      '0',
      '--data',
      data,
      '--flush-ms',
      '20',
    ]);
    cleanups.push(() => cli.stop('SIGKILL'));
    const endpoint = { url: cli.url };
    const client = await RawClient.open(
      `${cli.url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${await getToken(endpoint, KEYS.acmeSecret)}`,
    );
    clients.push(client);
    const { epoch } = await client.next('welcome');

    // Writes for longer than the snapshot period, so the kill lands between snapshot and journal.
    const ids: string[] = [];
    const until = Date.now() + 1300;
    while (Date.now() < until) {
      const id = `k${ids.length}`;
      const answer = await rest(endpoint, 'POST', '/api/objects/orders/records', {
        key: KEYS.acmeSecret,
        body: { id, n: ids.length },
      });
      assert.equal(answer.status, 201);
      ids.push(id);
    }
    cli.child.kill('SIGKILL');
    assert.equal((await cli.exit()).signal, 'SIGKILL');

    assert.ok(existsSync(data));
    assert.doesNotThrow(() => snapshotLines(data), 'every line of the data file is whole JSON');
    const restarted = await start({ flushIntervalMs: 10 }, data);
    const again = await connect(restarted);
    assert.equal(welcomeOf(again).epoch, epoch);
    assert.equal(welcomeOf(again).seq, ids.length);
    const list = await rest(restarted, 'GET', '/api/objects/orders/records', { key: KEYS.acmeSecret });
    const held = new Set((list.body as { records: { id: string }[] }).records.map((r) => r.id));
    assert.deepEqual(
      ids.filter((id) => !held.has(id)),
      [],
      'writes lost',
    );
    const next = await rest(restarted, 'POST', '/api/events/promo', { key: KEYS.acmeSecret, body: 1 });
    assert.equal((next.body as { seq: number }).seq, ids.length + 1);
  });
});
