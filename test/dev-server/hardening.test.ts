/**
 * Regressions of the dev server's hardening: input that used to crash the process, fan-out
 * order when a slow consumer leaves its rooms during a fan-out, resume answers of SSE and
 * presence, size bounds of snapshots and merged records, duration limits, writes during
 * shutdown, the audit of refused connections, and a `--data` journal with a gap or a torn line.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  AuditRecordSchema,
  CODE,
  ErrorBodySchema,
  HealthResponseSchema,
  type AuditRecord,
  type LiveEvent,
  type Limits,
  type ServerMessage,
} from '../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../support/cli-process.js';
import { ClientPool } from '../support/client-pool.js';
import { RawClient, getToken, rest, sleep } from '../support/raw-client.js';
import { eventsBefore, isRecordEvent } from '../support/record-events.js';
import { SseStream, connectSse, openSse } from '../support/sse-client.js';
import { KEYS, startTestServer, testConfig, type TestServer } from '../support/test-server.js';

type Welcome = Extract<ServerMessage, { type: 'welcome' }>;

/** Servers, clients, streams and directories a test opened; closed or removed after it. */
let cleanups: (() => unknown)[] = [];
const pool = new ClientPool();
afterEach(async () => {
  pool.closeAll();
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function start(limits: Partial<Limits> = {}, data?: string): Promise<TestServer> {
  const server = await startTestServer({ limits, ...(data ? { data } : {}) });
  cleanups.push(() => server.close());
  return server;
}

function dir(): ReturnType<typeof tempDir> {
  const d = tempDir();
  cleanups.push(() => d.remove());
  return d;
}

function track(stream: SseStream): SseStream {
  cleanups.push(() => {
    stream.close();
    assert.deepEqual(stream.invalid, [], 'every SSE frame follows the protocol');
  });
  return stream;
}

function welcomeOf(client: RawClient): Welcome {
  const welcome = client.messages[0];
  assert.equal(welcome?.type, 'welcome');
  return welcome as Welcome;
}

/** Connects a raw client to a server run by the CLI and waits for its `welcome`. */
async function openCliClient(cli: { url: string }, key: string): Promise<RawClient> {
  const token = await getToken(cli, key);
  const client = await RawClient.open(
    `${cli.url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
  );
  await client.next('welcome');
  return client;
}

/** Text of a JSON value nested `depth` levels deep: an object holding arrays in arrays. */
function nested(depth: number): string {
  return `{"m":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}

/** Publishes a custom event over REST and returns the seq it was given. */
async function publish(server: { url: string }, topic: string, data: unknown): Promise<number> {
  const res = await rest(server, 'POST', `/api/events/${topic}`, { key: KEYS.acmeSecret, body: data });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return (res.body as { seq: number }).seq;
}

/** Whether a connection still answers: a ping gets its pong. */
async function answersPing(client: RawClient, t: number): Promise<void> {
  client.send({ type: 'ping', t });
  assert.equal((await client.next('pong', (m) => m.t === t)).t, t);
}

function assertIncreasing(events: readonly LiveEvent[]): void {
  const seqs = events.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) {
    assert.ok((seqs[i] as number) > (seqs[i - 1] as number), `seqs out of order: ${seqs.join(', ')}`);
  }
}

describe('a presence meta nested thousands of levels deep (server in a child process)', () => {
  let files: ReturnType<typeof tempDir>;
  let cli: CliProcess & { url: string };
  let observer: RawClient;

  before(async () => {
    files = tempDir();
    const config = writeJson(files.file('config.json'), testConfig());
    cli = await CliProcess.start(['--config', config, '--port', '0', '--flush-ms', '5']);
    observer = await wsClient(KEYS.acmeSecret);
    await observer.subscribe({ id: 'e', channel: 'events:after' });
  });
  after(async () => {
    observer.close();
    await cli.stop('SIGKILL');
    files.remove();
  });

  /** A raw client of the child process's server; closed by the suite's `afterEach` unless it is the observer. */
  async function wsClient(key: string): Promise<RawClient> {
    const client = await openCliClient(cli, key);
    if (observer) cleanups.push(() => client.close());
    return client;
  }

  /** The server process is alive, answers /healthz, and another client still gets events. */
  async function stillServing(topicData: string): Promise<void> {
    assert.equal(cli.child.exitCode, null, `the server exited: ${cli.stderr}`);
    const health = await rest(cli, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(HealthResponseSchema.parse(health.body).ok, true);
    const seq = await publish(cli, 'after', topicData);
    const event = await observer.next('batch', (m) => m.events.some((e) => e.seq === seq));
    assert.deepEqual(
      event.events.map((e) => ('data' in e ? e.data : undefined)),
      [topicData],
      'the observer got the event published afterwards',
    );
    assert.deepEqual(observer.invalid, []);
  }

  it('refuses a WebSocket subscribe whose meta is 20 000 levels deep with error 4000, and carries on', async () => {
    const client = await wsClient(KEYS.acmeSecret);
    client.send(`{"type":"subscribe","id":"deep","channel":"presence:lobby","meta":${nested(20_000)}}`);
    const error = await client.next('error', (m) => m.id === 'deep');
    assert.equal(error.code, CODE.bad_request);
    assert.equal(error.name, 'bad_request');
    await answersPing(client, 1);
    // The room was not joined: a later member sees only itself.
    const other = await wsClient(KEYS.acmeSecret);
    const subscribed = await other.subscribe({ id: 'p', channel: 'presence:lobby' });
    assert.deepEqual(
      subscribed.members?.map((m) => m.connectionId),
      [welcomeOf(other).connectionId],
    );
    await stillServing('after the WebSocket');
  });

  it('answers an SSE subscription whose meta is 7 000 levels deep with event: error 4000, and carries on', async () => {
    // Brackets stay raw in the query (fetch encodes only the quotes), so the URL fits an HTTP head.
    const subscriptions = `[{"id":"deep","channel":"presence:lobby","meta":${nested(7000)}}]`;
    const token = await getToken(cli, KEYS.acmePublic);
    const abort = new AbortController();
    const res = await fetch(
      `${cli.url}/sse/events/object-records/?token=${token}&subscriptions=${subscriptions}`,
      {
        headers: { accept: 'text/event-stream' },
        signal: abort.signal,
      },
    );
    assert.equal(res.status, 200);
    assert.ok(res.body);
    const stream = track(new SseStream(res.body, abort));
    await stream.next('welcome');
    const error = await stream.next('error');
    assert.equal(error.code, CODE.bad_request);
    assert.equal(error.id, 'deep');
    await sleep(20);
    assert.equal(stream.ended, false, 'the stream stays open');
    await stillServing('after the stream');
  });
});

describe('fan-out when a slow consumer is closed in the middle of it', () => {
  it('delivers the leave of the closed member after the join being fanned out, in seq order', async () => {
    // A connection's 10th waiting event flushes all of them at once; otherwise they wait 1 s, and
    // a room commits its joins 1 s after the first one.
    const server = await start({ maxBatchEvents: 10, flushIntervalMs: 1000, maxBufferedBytes: 1024 });
    const slow = await pool.connect(server, KEYS.acmeSecret);
    const member = await pool.connect(server, KEYS.acmeSecret);
    const joiner = await pool.connect(server, KEYS.acmeSecret);
    await slow.subscribe({ id: 'room', channel: 'presence:lobby' }); // first in the room's fan-out
    await slow.subscribe({ id: 'flood', channel: 'events:flood' });
    await member.subscribe({ id: 'room', channel: 'presence:lobby' });
    await member.waitForEvents(1, 'room', 5000); // both joins committed, and sent: nothing waits

    // The joiner's join is committed 1 s from now, before slow's deadline for the flood below.
    const joined = await joiner.subscribe({ id: 'room', channel: 'presence:lobby' });
    const pad = 'x'.repeat(900_000);
    for (let i = 0; i < 9; i++) await publish(server, 'flood', pad); // slow: 9 waiting
    // The join is slow's 10th event: fanning it out writes ~8 MB to slow at once, which passes
    // maxBufferedBytes, so slow is closed (4009) and leaves the room while the join is fanned out.
    assert.equal((await slow.waitForClose(5000)).code, CODE.slow_consumer);
    await server.close(); // sends member the events still waiting for it, then 1001
    await member.waitForClose();

    const events = member.events('room');
    assert.deepEqual(
      events.map((e) => ('member' in e ? [e.change, e.member.connectionId] : [])),
      [
        ['join', welcomeOf(slow).connectionId],
        ['join', welcomeOf(joiner).connectionId],
        ['leave', welcomeOf(slow).connectionId],
      ],
    );
    assert.ok((events[1]?.seq ?? 0) > joined.seq);
    assertIncreasing(events);
    assertIncreasing(joiner.events('room'));
    assert.deepEqual([...member.invalid, ...joiner.invalid], []);
  });
});

describe('resume answers', () => {
  let server: TestServer;
  let epoch: string;
  /** The data of every event published on events:t1, in order. */
  const onT1: unknown[] = [];
  before(async () => {
    server = await startTestServer();
    const client = await RawClient.connect(server, KEYS.acmeSecret);
    epoch = welcomeOf(client).epoch;
    client.close();
    await publish(server, 't1', 'missed');
    onT1.push('missed');
  });
  after(() => server.close());

  const sseCases: { name: string; epoch: () => string | undefined; resumed: boolean }[] = [
    { name: 'an epoch that is not the current one', epoch: () => 'e_from_another_history', resumed: false },
    { name: 'the current epoch', epoch: () => epoch, resumed: true },
    { name: 'no epoch', epoch: () => undefined, resumed: true },
  ];
  for (const c of sseCases) {
    it(`SSE: pairs a subscription's own since with the URL's epoch: ${c.name} gives resumed ${c.resumed}`, async () => {
      const urlEpoch = c.epoch();
      const stream = track(
        await connectSse(server, KEYS.acmeSecret, {
          subscriptions: [{ id: 'a', channel: 'events:t1', since: 0 }],
          ...(urlEpoch === undefined ? {} : { epoch: urlEpoch }),
        }),
      );
      const subscribed = await stream.next('subscribed');
      assert.equal(subscribed.resumed, c.resumed);
      const before = [...onT1];
      const sentinel = await publish(server, 't1', 'sentinel');
      onT1.push('sentinel');
      const expected = c.resumed ? [...before, 'sentinel'] : ['sentinel'];
      const events = await stream.waitForEvents(expected.length, 'a');
      assert.equal(events.at(-1)?.seq, sentinel);
      // No replay from another history: then only what was published after subscribing.
      assert.deepEqual(
        events.map((e) => ('data' in e ? e.data : undefined)),
        expected,
      );
    });
  }

  const presenceCases: { name: string; since: (seq: number) => number; withEpoch: boolean }[] = [
    { name: 'since 0', since: () => 0, withEpoch: false },
    { name: 'since the current seq and the current epoch', since: (seq) => seq, withEpoch: true },
  ];
  for (const c of presenceCases) {
    it(`presence: answers a subscribe with ${c.name} with resumed false and the members`, async () => {
      const other = await pool.connect(server, KEYS.acmeSecret);
      await other.subscribe({ id: 'p', channel: 'presence:resume-room', meta: { name: 'other' } });
      await sleep(60); // the room commits the join at its flush (flushIntervalMs 20)
      const client = await pool.connect(server, KEYS.acmeSecret);
      const welcome = welcomeOf(client);
      const subscribed = await client.subscribe({
        id: 'p',
        channel: 'presence:resume-room',
        since: c.since(welcome.seq),
        ...(c.withEpoch ? { epoch: welcome.epoch } : {}),
      });
      assert.equal(subscribed.resumed, false);
      assert.deepEqual(
        subscribed.members?.map((m) => m.connectionId).sort(),
        [welcomeOf(other).connectionId, welcome.connectionId].sort(),
      );
      assert.equal(subscribed.snapshot, undefined);
      other.close();
      await client.waitForEvents(1, 'p');
      assert.deepEqual(
        client.events('p').map((e) => ('change' in e ? e.change : undefined)),
        ['leave'],
        'nothing of the room before the subscribe is replayed',
      );
    });
  }

  it('presence: says nothing of resumed without since', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const subscribed = await client.subscribe({ id: 'p', channel: 'presence:plain-room' });
    assert.equal('resumed' in subscribed, false);
    assert.equal(subscribed.members?.length, 1);
  });
});

describe('size bounds', () => {
  const maxBufferedBytes = 20_000;
  let server: TestServer;
  const ids: string[] = [];
  before(async () => {
    server = await startTestServer({ limits: { maxBufferedBytes } });
    for (let i = 0; i < 30; i++) {
      const id = `big${String(i).padStart(2, '0')}`;
      ids.push(id);
      const res = await rest(server, 'POST', '/api/objects/products/records', {
        key: KEYS.acmeSecret,
        body: { id, text: 'x'.repeat(1000) },
      });
      assert.equal(res.status, 201);
    }
    ids.push('p1'); // seeded by the test config; sorts last
  });
  after(() => server.close());

  it('sends a snapshot over half of maxBufferedBytes truncated, with fewer records, and keeps the connection', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const subscribed = await client.subscribe({
      id: 's',
      channel: 'records:products',
      snapshot: { sort: ['id'], limit: 1000 },
    });
    const snapshot = subscribed.snapshot ?? [];
    assert.equal(subscribed.truncated, true);
    assert.ok(snapshot.length >= 1 && snapshot.length < ids.length, `${snapshot.length} records`);
    assert.ok(JSON.stringify(snapshot).length <= maxBufferedBytes / 2, 'within half of maxBufferedBytes');
    assert.deepEqual(
      snapshot.map((r) => r.id),
      ids.slice(0, snapshot.length),
      'the first records in the asked order',
    );
    await answersPing(client, 2);
    assert.equal(client.closed, undefined, 'not closed as a slow consumer');
    await rest(server, 'PATCH', '/api/objects/products/records/big29', {
      key: KEYS.acmeSecret,
      body: { text: 'short' },
    });
    const [event] = await client.waitForEvents(1, 's');
    assert.ok(event && isRecordEvent(event) && event.id === 'big29');
    await rest(server, 'PATCH', '/api/objects/products/records/big29', {
      key: KEYS.acmeSecret,
      body: { text: 'x'.repeat(1000) },
    });
  });

  it('still lists every record over REST', async () => {
    const res = await rest(server, 'GET', '/api/objects/products/records?sort=id', { key: KEYS.acmeSecret });
    assert.equal(res.status, 200);
    const body = res.body as { records: { id: string }[]; truncated?: boolean };
    assert.deepEqual(
      body.records.map((r) => r.id),
      ids,
    );
    assert.equal(body.truncated, undefined);
  });

  it('answers a PATCH that would make a record over 1 MiB of JSON with 413, and changes nothing', async () => {
    const key = KEYS.acmeSecret;
    const created = await rest(server, 'POST', '/api/objects/orders/records', {
      key,
      body: { id: 'huge', a: 'a'.repeat(600_000) },
    });
    assert.equal(created.status, 201);
    const client = await pool.connect(server, key);
    await client.subscribe({ id: 'o', channel: 'records:orders', filter: { recordId: 'huge' } });
    const seqBefore = await publish(server, 'mark', 1);

    const res = await rest(server, 'PATCH', '/api/objects/orders/records/huge', {
      key,
      body: { b: 'b'.repeat(600_000) },
    });
    assert.equal(res.status, 413);
    assert.equal(ErrorBodySchema.parse(res.body).error.code, 'payload_too_large');

    const stored = await rest(server, 'GET', '/api/objects/orders/records/huge', { key });
    assert.deepEqual(stored.body, created.body, 'the record is as it was');
    assert.equal(await publish(server, 'mark', 2), seqBefore + 1, 'no seq was taken');
    const small = await rest(server, 'PATCH', '/api/objects/orders/records/huge', { key, body: { b: 'b' } });
    assert.equal(small.status, 200);
    const before413 = await eventsBefore(client, 'o', (e) => e.record.b === 'b');
    assert.deepEqual(before413, [], 'the refused patch was not delivered');
  });
});

describe('duration limits', () => {
  const tooLong: { limit: keyof Limits; value: number }[] = [
    { limit: 'sessionTtlMs', value: 2_147_483_648 },
    { limit: 'tokenTtlMs', value: 2_147_483_648 },
    { limit: 'flushIntervalMs', value: 2_147_483_648 },
    { limit: 'heartbeatMs', value: 1_073_741_824 },
  ];
  for (const { limit, value } of tooLong) {
    it(`refuses a config with ${limit} ${value}, naming limits.${limit}`, async () => {
      await assert.rejects(
        startTestServer({ config: testConfig({ limits: { [limit]: value } }) }),
        (error: Error) => {
          assert.equal(error.name, 'ConfigError');
          assert.match(error.message, new RegExp(`^limits\\.${limit}: `, 'm'));
          return true;
        },
      );
    });
  }

  it('accepts 2147483647 ms as sessionTtlMs and tokenTtlMs, and keeps the connection open', async () => {
    const server = await startTestServer({
      config: testConfig({ limits: { sessionTtlMs: 2_147_483_647, tokenTtlMs: 2_147_483_647 } }),
    });
    cleanups.push(() => server.close());
    const client = await pool.connect(server, KEYS.acmeSecret);
    const expires = Date.parse(welcomeOf(client).sessionExpiresAt);
    assert.ok(expires > Date.now() + 2_000_000_000);
    await sleep(30); // a timer over 2^31-1 ms would have fired at once
    await answersPing(client, 3);
    assert.equal(client.closed, undefined);
  });
});

describe('shutdown', () => {
  /**
   * Sends a request's head at once and its body on `sendBody()`; `answer` is the status and JSON
   * body, or undefined when the connection was dropped instead.
   */
  function splitRequest(
    server: TestServer,
    method: string,
    path: string,
    body: string,
  ): { sendBody: () => void; answer: Promise<{ status: number; body: unknown } | undefined> } {
    const req = httpRequest({
      host: '127.0.0.1',
      port: server.port,
      method,
      path,
      agent: false,
      headers: {
        authorization: `Bearer ${KEYS.acmeSecret}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    cleanups.push(() => req.destroy());
    const answer = new Promise<{ status: number; body: unknown } | undefined>((resolve) => {
      req.on('error', () => resolve(undefined));
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
        res.on('error', () => resolve(undefined));
      });
    });
    req.flushHeaders();
    return { sendBody: () => req.end(body), answer };
  }

  it('answers a REST write that completes after close() began with 503 unavailable, and commits nothing', async () => {
    const data = dir().file('data.json');
    const first = await start({}, data);
    const seq = await publish(first, 'late', 'before');
    const late = splitRequest(first, 'POST', '/api/events/late', '"after close"');
    await sleep(20); // the server has read the head: the request is under way
    const closing = first.close();
    late.sendBody();
    const answer = await late.answer;
    await closing;
    // The connection was accepted before close(): it is answered, not dropped.
    assert.ok(answer, 'an answer to the request under way');
    assert.equal(answer.status, 503, JSON.stringify(answer.body));
    assert.equal(ErrorBodySchema.parse(answer.body).error.code, 'unavailable');

    const second = await start({}, data);
    const client = await pool.connect(second, KEYS.acmeSecret);
    assert.equal(welcomeOf(client).seq, seq, 'nothing was committed after close() began');
  });

  it('with --data, never reuses a seq it told a client: every acknowledged publish is back after a restart', async () => {
    const data = dir().file('data.json');
    const first = await start({}, data);
    const { epoch } = welcomeOf(await pool.connect(first, KEYS.acmeSecret));
    let closing: Promise<void> | undefined;
    const answers = await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) =>
          rest(first, 'POST', '/api/events/burst', { key: KEYS.acmeSecret, body: i })
            .then((res) => {
              closing ??= first.close(); // close while the others are in flight
              return { i, ...res };
            })
            .catch(() => undefined), // a refused connection is fine
      ),
    );
    await closing;
    const told = new Map<number, number>(); // seq -> data
    for (const answer of answers) {
      if (!answer) continue;
      if (answer.status === 202) told.set((answer.body as { seq: number }).seq, answer.i);
      else {
        assert.equal(answer.status, 503, JSON.stringify(answer.body));
        assert.equal(ErrorBodySchema.parse(answer.body).error.code, 'unavailable');
      }
    }
    assert.ok(told.size >= 1);
    assert.equal(told.size, answers.filter((a) => a?.status === 202).length, 'no seq told twice');

    const second = await start({}, data);
    const client = await pool.connect(second, KEYS.acmeSecret);
    assert.equal(welcomeOf(client).epoch, epoch);
    const restartedSeq = welcomeOf(client).seq;
    assert.ok(
      Math.max(...told.keys()) <= restartedSeq,
      `told ${[...told.keys()]}, restarted at ${restartedSeq}`,
    );
    const resumed = await client.subscribe({ id: 'b', channel: 'events:burst', since: 0, epoch });
    assert.equal(resumed.resumed, true);
    const replayed = await client.waitForEvents(restartedSeq, 'b');
    const held = new Map(replayed.map((e) => [e.seq, 'data' in e ? e.data : undefined]));
    for (const [seq, i] of told) assert.equal(held.get(seq), i, `the event told seq ${seq} is in history`);
    assert.equal(await publish(second, 'burst', 'next'), restartedSeq + 1);
  });
});

describe('audit of refused connections', () => {
  /** Starts a server with `limits`, collecting every audit record. */
  async function audited(limits: Partial<Limits>): Promise<{ server: TestServer; records: AuditRecord[] }> {
    const server = await start(limits);
    const records: AuditRecord[] = [];
    server.on('*', (r) => records.push(AuditRecordSchema.parse(r)));
    return { server, records };
  }

  async function recorded(records: AuditRecord[], count: number): Promise<void> {
    for (let i = 0; i < 100 && records.length < count; i++) await sleep(5);
  }

  const who = (r: AuditRecord) => [r.type, r.details.reason, r.client, r.environment];

  it('names client and environment in the auth.denied of an expired WebSocket token', async () => {
    const { server, records } = await audited({ tokenTtlMs: 40 });
    const token = await getToken(server, KEYS.acmeStaging);
    await sleep(60);
    const client = await pool.open(server, token);
    assert.equal((await client.waitForClose()).code, CODE.token_expired);
    await recorded(records, 1);
    assert.deepEqual(records.map(who), [['auth.denied', 'token_expired', 'acme', 'staging']]);
  });

  it('names client and environment in the auth.denied and session.suspended of an over-quota WebSocket', async () => {
    const { server, records } = await audited({ maxConnectionsPerClient: 1 });
    await pool.connect(server, KEYS.acmeSecret);
    const from = records.length;
    const refused = await pool.open(server, await getToken(server, KEYS.acmeStaging));
    assert.equal((await refused.waitForClose()).code, CODE.quota_exceeded);
    await recorded(records, from + 2);
    const mine = records.slice(from);
    assert.deepEqual(mine.map(who), [
      ['auth.denied', 'quota_exceeded', 'acme', 'staging'],
      ['session.suspended', 'quota_exceeded', 'acme', 'staging'],
    ]);
    assert.equal(mine[1]?.details.code, CODE.quota_exceeded);
    assert.equal(mine[0]?.connectionId, mine[1]?.connectionId);
  });

  const sse: {
    what: string;
    limits: Partial<Limits>;
    status: number;
    reason: string;
    named: boolean;
    token: (server: TestServer) => Promise<string>;
  }[] = [
    {
      what: 'a token already used',
      limits: {},
      status: 401,
      reason: 'token_invalid',
      named: false,
      token: async (server) => {
        const token = await getToken(server, KEYS.acmeStaging);
        const first = await openSse(server, { token });
        assert.ok(first.stream);
        track(first.stream);
        await first.stream.next('welcome');
        return token;
      },
    },
    {
      what: 'an expired token',
      limits: { tokenTtlMs: 40 },
      status: 401,
      reason: 'token_expired',
      named: true,
      token: async (server) => {
        const token = await getToken(server, KEYS.acmeStaging);
        await sleep(60);
        return token;
      },
    },
    {
      what: 'a stream over maxConnectionsPerClient',
      limits: { maxConnectionsPerClient: 1 },
      status: 429,
      reason: 'quota_exceeded',
      named: true,
      token: async (server) => {
        await pool.connect(server, KEYS.acmeSecret);
        return getToken(server, KEYS.acmeStaging);
      },
    },
  ];
  for (const c of sse) {
    it(`records auth.denied for an SSE attempt with ${c.what} (HTTP ${c.status})`, async () => {
      const { server, records } = await audited(c.limits);
      const token = await c.token(server);
      const from = records.length;
      const answer = await openSse(server, { token });
      assert.equal(answer.status, c.status);
      assert.equal(ErrorBodySchema.parse(answer.body).error.code, c.reason);
      const expected = c.reason === 'quota_exceeded' ? 2 : 1;
      await recorded(records, from + expected);
      const mine = records.slice(from);
      const client = c.named ? 'acme' : undefined;
      const environment = c.named ? 'staging' : undefined;
      assert.deepEqual(mine.map(who), [
        ['auth.denied', c.reason, client, environment],
        ...(expected === 2 ? [['session.suspended', c.reason, client, environment]] : []),
      ]);
      assert.equal(mine[0]?.details.transport, 'sse');
    });
  }
});

describe('the --data journal', () => {
  /**
   * Writes three orders with a real server and returns its data file as it was then (the
   * snapshot of the start) and its journal lines, one per commit.
   */
  async function realFiles(): Promise<{ snapshot: string; journal: string[]; config: string; data: string }> {
    const d = dir();
    const data = d.file('data.json');
    const server = await start({}, data);
    for (const id of ['j1', 'j2', 'j3']) {
      const res = await rest(server, 'POST', '/api/objects/orders/records', {
        key: KEYS.acmeSecret,
        body: { id },
      });
      assert.equal(res.status, 201);
    }
    // Read before the periodic rewrite (a second after the first commit) empties the journal.
    const snapshot = readFileSync(data, 'utf8');
    const journal = readFileSync(`${data}.journal`, 'utf8').split('\n');
    assert.equal(journal.pop(), '', 'the journal ends with a newline');
    assert.deepEqual(
      journal.map((l) => (JSON.parse(l) as { commit: { seq: number } }).commit.seq),
      [1, 2, 3],
    );
    await server.close();
    return { snapshot, journal, config: writeJson(d.file('config.json'), testConfig()), data };
  }

  it('refuses to start when a journal line skips a seq, naming the gap', async () => {
    const { snapshot, journal, config, data } = await realFiles();
    writeFileSync(data, snapshot);
    writeFileSync(`${data}.journal`, `${journal[0]}\n${journal[2]}\n`);
    const run = CliProcess.spawn(['--config', config, '--port', '0', '--data', data]);
    cleanups.push(() => run.stop('SIGKILL'));
    // Fails at once, rather than after a timeout, if the server starts anyway.
    const outcome = await Promise.race([
      run.exited,
      run.listening().then(
        () => 'listening' as const,
        () => run.exited,
      ),
    ]);
    if (outcome === 'listening') assert.fail('the server started on a journal with a gap');
    assert.notEqual(outcome.code, 0);
    assert.match(run.stderr, /journal .*data\.json\.journal skips from seq 1 to 3 in acme\/production/);
  });

  it('ignores a torn last line and starts with every whole line', async () => {
    const { snapshot, journal, config, data } = await realFiles();
    writeFileSync(data, snapshot);
    const torn = (journal[2] as string).slice(0, 40);
    writeFileSync(`${data}.journal`, `${journal[0]}\n${journal[1]}\n${torn}`);
    const cli = await CliProcess.start(['--config', config, '--port', '0', '--data', data]);
    cleanups.push(() => cli.stop('SIGKILL'));
    const key = KEYS.acmeSecret;
    const client = await openCliClient(cli, key);
    cleanups.push(() => client.close());
    assert.equal(welcomeOf(client).seq, 2);
    const get = (id: string) => rest(cli, 'GET', `/api/objects/orders/records/${id}`, { key });
    assert.deepEqual(
      await Promise.all(['j1', 'j2', 'j3'].map(async (id) => (await get(id)).status)),
      [200, 200, 404],
    );
    assert.equal(await publish(cli, 'after', 1), 3, 'the torn commit left no hole in the seqs');
  });
});
