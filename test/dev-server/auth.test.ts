/**
 * Authentication and audit as a client and an operator see them (PROTOCOL.md sections 2, 3, 7
 * and 8): `GET /api/users/ws-auth/`, one-time tokens and their close codes, session expiry, and
 * the audit records handed to hooks and written by `--audit`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  AUDIT_TYPES,
  AuditRecordSchema,
  CODE,
  ErrorBodySchema,
  WsAuthResponseSchema,
  type AuditRecord,
  type AuditType,
} from '../../protocol/index.js';
import { ClientPool, connectionsBecome } from '../support/client-pool.js';
import { RawClient, getToken, rest, sleep } from '../support/raw-client.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Milliseconds since `start`. */
const since = (start: number) => Date.now() - start;

describe('GET /api/users/ws-auth/', () => {
  const tokenTtlMs = 45_000;
  let server: TestServer;
  before(async () => (server = await startTestServer({ limits: { tokenTtlMs } })));
  after(() => server.close());

  const refused: { what: string; headers: Record<string, string> }[] = [
    { what: 'no Authorization header', headers: {} },
    { what: 'an unknown key', headers: { authorization: 'Bearer sk_not_a_key_at_all' } },
    { what: 'a key that is not a bearer token', headers: { authorization: `Basic ${KEYS.acmeSecret}` } },
    { what: 'an empty bearer', headers: { authorization: 'Bearer ' } },
  ];
  for (const { what, headers } of refused) {
    it(`answers ${what} with 401 unauthorized`, async () => {
      const res = await rest(server, 'GET', '/api/users/ws-auth/', { headers });
      assert.equal(res.status, 401);
      const body = ErrorBodySchema.parse(res.body);
      assert.equal(body.error.code, 'unauthorized');
      assert.ok(body.error.message.length > 0);
    });
  }

  const granted: { key: string; environment: string }[] = [
    { key: KEYS.acmeSecret, environment: 'production' },
    { key: KEYS.acmePublic, environment: 'production' },
    { key: KEYS.acmeStaging, environment: 'staging' },
    { key: KEYS.globexSecret, environment: 'production' },
  ];
  for (const { key, environment } of granted) {
    it(`answers ${key} with 200: a UUID v4 token, its expiry, the environment and the WebSocket path`, async () => {
      const before = Date.now();
      const res = await rest(server, 'GET', '/api/users/ws-auth/', { key });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = WsAuthResponseSchema.parse(res.body);
      assert.match(body.token, UUID_V4);
      assert.equal(body.environment, environment);
      assert.equal(body.url, '/ws/events/object-records/');
      const expires = Date.parse(body.expiresAt);
      assert.equal(new Date(expires).toISOString(), body.expiresAt, 'an ISO 8601 UTC time');
      assert.ok(expires >= before + tokenTtlMs && expires <= Date.now() + tokenTtlMs);
    });
  }

  it('hands out a different token every time', async () => {
    const tokens = await Promise.all([1, 2, 3].map(() => getToken(server, KEYS.acmeSecret)));
    assert.equal(new Set(tokens).size, 3);
  });

  it('also answers without the trailing slash', async () => {
    const res = await rest(server, 'GET', '/api/users/ws-auth', { key: KEYS.acmeSecret });
    assert.equal(res.status, 200);
  });
});

describe('tokens', () => {
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer()));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it('admits a connection with ?token=', async () => {
    const client = await pool.open(server, await getToken(server, KEYS.acmeSecret));
    assert.equal((await client.next('welcome')).client, 'acme');
  });

  it('admits a connection that sends auth as its first frame', async () => {
    const client = await pool.open(server);
    client.send({ type: 'auth', token: await getToken(server, KEYS.globexSecret) });
    assert.equal((await client.next('welcome')).client, 'globex');
  });

  const invalid: { what: string; token?: string; first?: string }[] = [
    { what: 'an unknown token in the URL', token: '3f1c1d8e-0b7a-4c55-9a43-1f0e2b7c9d11' },
    { what: 'a token in the URL that is not a UUID', token: 'not-a-token' },
    {
      what: 'an unknown token in an auth frame',
      first: '{"type":"auth","token":"3f1c1d8e-0b7a-4c55-9a43-1f0e2b7c9d11"}',
    },
    { what: 'a first frame that is not auth', first: '{"type":"ping","t":1}' },
    {
      what: 'a first frame that subscribes',
      first: '{"type":"subscribe","id":"s1","channel":"records:orders","snapshot":true}',
    },
    { what: 'a first frame that is not JSON', first: 'hello' },
    { what: 'an auth frame without a token', first: '{"type":"auth"}' },
  ];
  for (const { what, token, first } of invalid) {
    it(`closes with 4002 on ${what}`, async () => {
      const client = await pool.open(server, token);
      if (first) client.send(first);
      const close = await client.waitForClose();
      assert.equal(close.code, CODE.token_invalid);
      assert.deepEqual(client.messages, [], 'nothing is answered before the close');
    });
  }

  it('closes with 4002 on a token that was already used, leaving its first connection open', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    const first = await pool.open(server, token);
    await first.next('welcome');
    const second = await pool.open(server, token);
    assert.equal((await second.waitForClose()).code, CODE.token_invalid);
    first.send({ type: 'ping', t: 1 });
    await first.next('pong');
  });

  it('closes with 4002 on a token used in the URL and again in an auth frame', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    await (await pool.open(server, token)).next('welcome');
    const again = await pool.open(server);
    again.send({ type: 'auth', token });
    assert.equal((await again.waitForClose()).code, CODE.token_invalid);
  });

  it('closes with 4002 when no auth frame arrives within 5 s', async () => {
    const client = await pool.open(server);
    const start = Date.now();
    const close = await client.waitForClose(7000);
    assert.equal(close.code, CODE.token_invalid);
    assert.ok(since(start) >= 4800 && since(start) < 6500, `closed after ${since(start)} ms`);
  });
});

describe('a token spent by a failed first use', () => {
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer({ limits: { maxConnectionsPerClient: 1 } })));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it('is refused with 4002 on its second use', async () => {
    const holder = await pool.connect(server, KEYS.globexSecret);
    const token = await getToken(server, KEYS.globexSecret);
    const refused = await pool.open(server, token);
    assert.equal((await refused.waitForClose()).code, CODE.quota_exceeded);

    holder.close();
    await connectionsBecome(server, 0);
    const fresh = await pool.connect(server, KEYS.globexSecret);
    assert.equal(fresh.messages[0]?.type, 'welcome', 'the quota has room again');
    fresh.close();
    await fresh.waitForClose();

    const reused = await pool.open(server, token);
    assert.equal((await reused.waitForClose()).code, CODE.token_invalid);
  });
});

describe('token and session expiry (4001)', () => {
  const tokenTtlMs = 100;
  const sessionTtlMs = 150;
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer({ limits: { tokenTtlMs, sessionTtlMs } })));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it('closes with 4001 on a token older than tokenTtlMs', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    await sleep(tokenTtlMs + 30);
    const client = await pool.open(server, token);
    assert.equal((await client.waitForClose()).code, CODE.token_expired);
    assert.deepEqual(client.messages, []);
  });

  it('closes with 4001 on an expired token sent in an auth frame', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    await sleep(tokenTtlMs + 30);
    const client = await pool.open(server);
    client.send({ type: 'auth', token });
    assert.equal((await client.waitForClose()).code, CODE.token_expired);
  });

  it('still says 4001, not 4002, for a token used up to tokenTtlMs past its expiry', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    await sleep(tokenTtlMs + tokenTtlMs / 2);
    await getToken(server, KEYS.acmeSecret); // lets the server sweep its tokens
    const client = await pool.open(server, token);
    assert.equal((await client.waitForClose()).code, CODE.token_expired);
  });

  it('admits a token used within tokenTtlMs', async () => {
    const token = await getToken(server, KEYS.acmeSecret);
    await sleep(tokenTtlMs / 4);
    const client = await pool.open(server, token);
    await client.next('welcome');
  });

  it('closes a connection with 4001 when it reaches sessionTtlMs, at the sessionExpiresAt it was told', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const welcome = client.messages[0];
    assert.ok(welcome?.type === 'welcome');
    const start = Date.now();
    client.send({ type: 'ping' });
    await client.next('pong');
    const close = await client.waitForClose(1000);
    assert.equal(close.code, CODE.token_expired);
    assert.ok(since(start) >= sessionTtlMs - 30, `closed after ${since(start)} ms`);
    assert.ok(Math.abs(Date.now() - Date.parse(welcome.sessionExpiresAt)) < 100);
  });
});

describe('audit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'catalyst-audit-'));
  const auditFile = join(dir, 'audit.jsonl');
  let server: TestServer;
  const pool = new ClientPool();
  const all: AuditRecord[] = [];
  const connects: AuditRecord[] = [];
  const denials: AuditRecord[] = [];
  const removed: AuditRecord[] = [];
  before(async () => {
    server = await startTestServer({ audit: auditFile });
    server.on('*', (r) => all.push(r));
    server.on('connect', (r) => connects.push(r));
    server.on('auth.denied', (r) => denials.push(r));
    const off = server.on('connect', (r) => removed.push(r));
    off();
  });
  afterEach(() => pool.closeAll());
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Waits until a hook has seen a record matching `match`. */
  async function recorded(match: (r: AuditRecord) => boolean, records = all): Promise<AuditRecord> {
    for (let i = 0; i < 200; i++) {
      const found = records.find(match);
      if (found) return found;
      await sleep(5);
    }
    assert.fail('no such audit record');
  }

  const ofConnection = (connectionId: string, type: AuditType) =>
    all.filter((r) => r.connectionId === connectionId && r.type === type);

  it('records auth.granted and connect, with time, client, environment and connectionId', async () => {
    const before = Date.now();
    const client = await pool.connect(server, KEYS.acmeStaging);
    const welcome = client.messages[0];
    assert.ok(welcome?.type === 'welcome');
    const [granted] = ofConnection(welcome.connectionId, 'auth.granted');
    const [connect] = ofConnection(welcome.connectionId, 'connect');
    for (const record of [granted, connect]) {
      assert.ok(record);
      AuditRecordSchema.parse(record);
      assert.equal(record.client, 'acme');
      assert.equal(record.environment, 'staging');
      const time = Date.parse(record.time);
      assert.equal(new Date(time).toISOString(), record.time);
      assert.ok(time >= before - 5 && time <= Date.now() + 5);
    }
    assert.ok(connects.some((r) => r.connectionId === welcome.connectionId));
    assert.ok(
      connects.every((r) => r.type === 'connect'),
      "on('connect') sees connect records only",
    );
    assert.deepEqual(removed, [], 'a removed hook is not called');
  });

  const denied: { what: string; reason: string; open: () => Promise<RawClient> }[] = [
    {
      what: 'an unknown token',
      reason: 'token_invalid',
      open: () => pool.open(server, '3f1c1d8e-0b7a-4c55-9a43-1f0e2b7c9d11'),
    },
    {
      what: 'a first frame that is not auth',
      reason: 'token_invalid',
      open: async () => {
        const client = await pool.open(server);
        client.send({ type: 'ping' });
        return client;
      },
    },
  ];
  for (const { what, reason, open } of denied) {
    it(`records auth.denied with the reason for ${what}`, async () => {
      const count = denials.length;
      const client = await open();
      await client.waitForClose();
      const record = await recorded((r) => denials.indexOf(r) >= count, denials);
      AuditRecordSchema.parse(record);
      assert.equal(record.details.reason, reason);
      assert.equal(denials.length, count + 1, 'one record per denied connection');
      assert.ok(all.includes(record), "the '*' hook sees it too");
      assert.ok(denials.every((r) => r.type === 'auth.denied'));
      assert.deepEqual(
        ofConnection(record.connectionId, 'connect'),
        [],
        'a denied connection never connects',
      );
    });
  }

  it('records message, subscribe, unsubscribe and session.resumed for what a client does', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const welcome = client.messages[0];
    assert.ok(welcome?.type === 'welcome');
    const id = welcome.connectionId;
    await client.subscribe({ id: 'live', channel: 'records:orders' });
    client.send({ type: 'unsubscribe', id: 'live' });
    await client.next('unsubscribed');
    const resumed = await client.subscribe({ id: 'again', channel: 'records:orders', since: welcome.seq });
    assert.equal(resumed.resumed, true);
    assert.deepEqual(ofConnection(id, 'message'), [], 'message records are coalesced: none per frame');
    client.close();
    await recorded((r) => r.connectionId === id && r.type === 'disconnect');

    // One record for the frames of the interval, at the disconnect at the latest.
    const messages = ofConnection(id, 'message');
    assert.deepEqual(
      messages.map((r) => [r.details.counts, r.details.dropped]),
      [[{ subscribe: 2, unsubscribe: 1 }, 0]],
    );
    const from = Date.parse(String(messages[0]?.details.from));
    assert.ok(from <= Date.parse(messages[0]?.time ?? ''), 'from is when the first frame came');
    assert.deepEqual(
      ofConnection(id, 'subscribe').map((r) => [r.details.id, r.details.channel]),
      [
        ['live', 'records:orders'],
        ['again', 'records:orders'],
      ],
    );
    assert.deepEqual(
      ofConnection(id, 'unsubscribe').map((r) => r.details.id),
      ['live'],
    );
    const [resume] = ofConnection(id, 'session.resumed');
    assert.equal(resume?.details.since, welcome.seq);
    for (const r of all.filter((r) => r.connectionId === id)) {
      AuditRecordSchema.parse(r);
      assert.deepEqual([r.client, r.environment], ['acme', 'production']);
    }
  });

  it('records session.suspended and disconnect when the server closes a connection (bad frames)', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const welcome = client.messages[0];
    assert.ok(welcome?.type === 'welcome');
    for (let i = 0; i < 11; i++) client.send('not json');
    assert.equal((await client.waitForClose()).code, CODE.policy_violation);
    const disconnect = await recorded(
      (r) => r.connectionId === welcome.connectionId && r.type === 'disconnect',
    );
    const [suspended] = ofConnection(welcome.connectionId, 'session.suspended');
    assert.ok(suspended);
    assert.equal(suspended.details.code, CODE.policy_violation);
    assert.ok(all.indexOf(suspended) < all.indexOf(disconnect), 'suspended, then disconnected');
  });

  it('records disconnect when the client goes away, without session.suspended', async () => {
    const client = await pool.connect(server, KEYS.globexSecret);
    const welcome = client.messages[0];
    assert.ok(welcome?.type === 'welcome');
    client.close();
    const disconnect = await recorded(
      (r) => r.connectionId === welcome.connectionId && r.type === 'disconnect',
    );
    assert.equal(disconnect.client, 'globex');
    assert.deepEqual(ofConnection(welcome.connectionId, 'session.suspended'), []);
  });

  // Last in this suite: it closes the server, and the file holds the records of every test above.
  it('writes every record as one JSON line of the --audit file, the same as the hooks saw', async () => {
    const client = await pool.connect(server, KEYS.acmeSecret);
    const welcome = client.messages[0];
    assert.ok(welcome?.type === 'welcome');
    await server.close(); // ends the audit file; the open client is closed with 1001
    assert.equal((await client.waitForClose()).code, CODE.going_away);

    const lines = readFileSync(auditFile, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'the file ends with a newline');
    const records = lines.map((line) => AuditRecordSchema.parse(JSON.parse(line)));
    assert.deepEqual(records, JSON.parse(JSON.stringify(all)));
    assert.deepEqual(
      new Set(records.map((r) => r.type)),
      new Set(AUDIT_TYPES.filter((type) => type !== 'postgres.status')), // the PostgreSQL source's (postgres tests)
      'every type of connection record',
    );
    assert.ok(
      records.some(
        (r) =>
          r.connectionId === welcome.connectionId &&
          r.type === 'disconnect' &&
          r.details.code === CODE.going_away,
      ),
      'the connections the server closed on its way out are in the file',
    );
  });
});

describe('audit of server-side closes', () => {
  const cases: {
    what: string;
    limits: Record<string, number>;
    code: number;
    act?: (c: RawClient) => void;
  }[] = [
    { what: 'a heartbeat timeout', limits: { heartbeatMs: 30 }, code: CODE.heartbeat_timeout },
    { what: 'the session expiry', limits: { sessionTtlMs: 60 }, code: CODE.token_expired },
    {
      what: 'a frame over maxMessageBytes',
      limits: { maxMessageBytes: 100 },
      code: CODE.message_too_big,
      act: (c) => c.send('x'.repeat(101)),
    },
  ];
  const pool = new ClientPool();
  afterEach(() => pool.closeAll());

  for (const { what, limits, code, act } of cases) {
    it(`records session.suspended with code ${code}, then disconnect by the server, for ${what}`, async () => {
      const server = await startTestServer({ limits });
      try {
        const records: AuditRecord[] = [];
        server.on('session.suspended', (r) => records.push(r));
        server.on('disconnect', (r) => records.push(r));
        const client = await pool.connect(server, KEYS.acmeSecret);
        act?.(client);
        assert.equal((await client.waitForClose(1000)).code, code);
        for (let i = 0; i < 100 && records.length < 2; i++) await sleep(5);
        for (const record of records) AuditRecordSchema.parse(record);
        assert.deepEqual(
          records.map((r) => [r.type, r.client, r.details.code]),
          [
            ['session.suspended', 'acme', code],
            ['disconnect', 'acme', code],
          ],
        );
        assert.equal(records[1]?.details.by, 'server');
      } finally {
        await server.close();
      }
    });
  }
});
