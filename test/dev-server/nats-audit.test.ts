/**
 * `--audit nats://…` (PROTOCOL.md section 11, issue 15): each audit record on the NATS subject
 * `console.realtime.<type>` (dots → dashes) as the JSON the file sink writes, into a JetStream
 * stream when one covers the subject, kept in order while NATS is away. A real private
 * nats-server (test/support/nats-server.ts), the real dev server, and the CLI.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsAuditSink } from '../../dev-server/node/nats-audit.js';
import { NatsAuditUrlError, parseNatsAuditUrl } from '../../dev-server/node/nats-audit-url.js';
import { createDevServer } from '../../dev-server/node/server.js';
import type { AuditRecord } from '../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../support/cli-process.js';
import { ClientPool } from '../support/client-pool.js';
import { NatsServer, type NatsUser } from '../support/nats-server.js';
import { RawClient, sleep } from '../support/raw-client.js';
import { KEYS, startTestServer, testConfig, type TestServer } from '../support/test-server.js';

/** A NATS message as a test compares it. */
type Seen = { subject: string; text: string; id: string | undefined };

const STREAM = 'AUDIT';
const pool = new ClientPool();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  pool.closeAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The subject the spec names for a record type, written independently of the sink's code. */
const subjectOf = (record: AuditRecord) => `console.realtime.${record.type.split('.').join('-')}`;

/** What the file sink would write for these records, one JSON text each, with their subjects. */
const expected = (records: readonly AuditRecord[]) =>
  records.map((r) => ({ subject: subjectOf(r), text: JSON.stringify(r) }));

const withoutId = (seen: readonly Seen[]) => seen.map(({ subject, text }) => ({ subject, text }));

async function startNats(
  options: { users?: readonly NatsUser[]; jetstream?: boolean } = {},
): Promise<NatsServer> {
  const nats = await NatsServer.start(options);
  cleanups.push(() => nats.remove());
  return nats;
}

async function natsClient(nats: NatsServer, user?: NatsUser): Promise<NatsConnection> {
  const nc = await connect({
    servers: `127.0.0.1:${nats.port}`,
    ...(user ? { user: user.user, pass: user.password } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 20,
    reconnectJitter: 0,
  });
  cleanups.push(() => nc.close());
  return nc;
}

/** Subscribes to every audit subject; the returned array fills as messages come. */
async function watch(nats: NatsServer, user?: NatsUser): Promise<{ seen: Seen[]; nc: NatsConnection }> {
  const nc = await natsClient(nats, user);
  const seen: Seen[] = [];
  nc.subscribe('console.realtime.>', {
    callback: (_error, msg) => {
      seen.push({ subject: msg.subject, text: msg.string(), id: msg.headers?.get('Nats-Msg-Id') });
    },
  });
  await nc.flush();
  return { seen, nc };
}

/** Creates the stream `AUDIT` on `console.realtime.>`. */
async function createStream(nats: NatsServer): Promise<void> {
  const nc = await connect({ servers: `127.0.0.1:${nats.port}` });
  await (await jetstreamManager(nc)).streams.add({ name: STREAM, subjects: ['console.realtime.>'] });
  await nc.close();
}

/** Every message of the stream `AUDIT`, in stream order. */
async function stored(nats: NatsServer): Promise<Seen[]> {
  const nc = await connect({ servers: `127.0.0.1:${nats.port}` });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(STREAM);
    const out: Seen[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const msg = await jsm.streams.getMessage(STREAM, { seq });
      if (msg) out.push({ subject: msg.subject, text: msg.string(), id: msg.header.get('Nats-Msg-Id') });
    }
    return out;
  } finally {
    await nc.close();
  }
}

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A dev server auditing to `url`, and the records its hooks see (in the order the sink gets them). */
async function auditedServer(url: string): Promise<{ server: TestServer; records: AuditRecord[] }> {
  const server = await startTestServer({ audit: url });
  cleanups.push(() => server.close());
  const records: AuditRecord[] = [];
  server.on('*', (r) => records.push(r));
  return { server, records };
}

/** A client connects, subscribes, unsubscribes and goes; resolves once its disconnect is audited. */
async function session(server: TestServer, records: readonly AuditRecord[], key: string = KEYS.acmeSecret) {
  const client = await pool.connect(server, key);
  const welcome = client.messages[0];
  assert.ok(welcome?.type === 'welcome');
  await client.subscribe({ id: 's', channel: 'records:orders' });
  client.send({ type: 'unsubscribe', id: 's' });
  await client.next('unsubscribed');
  client.close();
  await until('the disconnect is audited', () =>
    records.some((r) => r.connectionId === welcome.connectionId && r.type === 'disconnect'),
  );
  return welcome.connectionId;
}

const record = (n: number): AuditRecord => ({
  type: 'connect',
  time: new Date().toISOString(),
  connectionId: `c${n}`,
  details: { n },
});

describe('--audit nats:// without a stream (core NATS)', () => {
  it('publishes the records of a connection on console.realtime.<type>, as the JSON the file sink writes', async () => {
    const nats = await startNats();
    const { seen } = await watch(nats);
    const { server, records } = await auditedServer(nats.url());
    const connectionId = await session(server, records);
    await until('every record reaches NATS', () => seen.length === records.length);

    assert.deepEqual(withoutId(seen), expected(records));
    assert.deepEqual(
      seen.map((m) => m.subject),
      [
        'console.realtime.auth-granted',
        'console.realtime.connect',
        'console.realtime.subscribe',
        'console.realtime.unsubscribe',
        'console.realtime.message',
        'console.realtime.disconnect',
      ],
    );
    assert.ok(records.every((r) => r.connectionId === connectionId));
    assert.equal(new Set(seen.map((m) => m.id)).size, seen.length, 'each record has its own Nats-Msg-Id');
  });

  it('keeps the records while NATS is away and publishes them in order once it is back', async () => {
    const auditor = { user: 'audit', password: 'p@ss:word' }; // the URL escapes it
    const reader = { user: 'reader', password: 'secret' };
    // Without JetStream: nats-server 2.9 stops answering JetStream requests after a reload of
    // its users (test/support/nats-server.ts), and the sink would then wait for an answer.
    const nats = await startNats({ users: [auditor, reader], jetstream: false });
    const { seen, nc } = await watch(nats, reader);
    const { server, records } = await auditedServer(nats.url(auditor));
    await session(server, records);
    await until('the first session reaches NATS', () => seen.length === records.length);

    await nats.stop('SIGKILL');
    const before = records.length;
    await session(server, records, KEYS.acmeStaging);
    await session(server, records, KEYS.globexSecret);
    assert.ok(records.length > before);
    await sleep(300);
    assert.equal(seen.length, before, 'nothing reaches NATS while it is down');

    // The server comes back refusing the audit user, so the reader resubscribes before any
    // record can arrive; then the audit user may connect again.
    await nats.setUsers([reader]);
    const reconnected = (async () => {
      for await (const status of nc.status()) if (status.type === 'reconnect') return;
    })();
    await nats.restart();
    await reconnected;
    await nc.flush();
    await sleep(200);
    assert.equal(seen.length, before);
    await nats.setUsers([auditor, reader]);
    await until('the kept records reach NATS', () => seen.length === records.length, 8000);

    assert.deepEqual(withoutId(seen), expected(records), 'all of them, in order');
  });
});

describe('--audit nats:// with a JetStream stream on console.realtime.>', () => {
  it('stores every record while no one listens, in order, none twice', async () => {
    const nats = await startNats();
    await createStream(nats);
    const { server, records } = await auditedServer(nats.url());
    await Promise.all([
      session(server, records),
      session(server, records, KEYS.acmeStaging),
      session(server, records, KEYS.globexSecret),
    ]);
    const denied = await pool.open(server, '3f1c1d8e-0b7a-4c55-9a43-1f0e2b7c9d11');
    await denied.waitForClose();
    await until('the denial is audited', () => records.some((r) => r.type === 'auth.denied'));
    await until('the stream holds every record', async () => (await stored(nats)).length >= records.length);

    const messages = await stored(nats);
    assert.deepEqual(withoutId(messages), expected(records));
    assert.ok(messages.some((m) => m.subject === 'console.realtime.auth-denied'));
    assert.equal(new Set(messages.map((m) => m.id)).size, messages.length);
  });

  it('stores the records made while NATS was down once it is back, all of them, in order, none twice', async () => {
    const nats = await startNats();
    await createStream(nats);
    const { server, records } = await auditedServer(nats.url());
    await session(server, records);

    await nats.stop('SIGKILL');
    await Promise.all([
      session(server, records, KEYS.acmeStaging),
      session(server, records, KEYS.globexSecret),
    ]);
    await nats.restart();
    await session(server, records);
    await until(
      'the stream holds every record',
      async () => (await stored(nats)).length >= records.length,
      8000,
    );
    await sleep(100); // a record stored twice would show now

    assert.deepEqual(withoutId(await stored(nats)), expected(records));
  });

  it('starts while NATS is down, says so on stderr, serves clients, and stores their records once NATS is up', async () => {
    const nats = await startNats();
    await createStream(nats);
    await nats.stop();
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const cli = await CliProcess.start([
      '--config',
      writeJson(dir.file('config.json'), testConfig()),
      '--port',
      '0',
      '--audit',
      nats.url(),
    ]);
    cleanups.push(async () => void (await cli.stop()));
    await until('stderr says NATS is unreachable', () => /cannot go to NATS .*unreachable/.test(cli.stderr));
    assert.match(cli.stdout, new RegExp(`audit records to nats://127.0.0.1:${nats.port}`));

    const server = { url: cli.url, wsUrl: `${cli.url.replace(/^http/, 'ws')}/ws/events/object-records/` };
    const client = await RawClient.connect(server as TestServer, KEYS.acmeSecret);
    await client.subscribe({ id: 's', channel: 'records:orders' });
    client.close();
    await client.waitForClose();

    await nats.restart();
    await until(
      'the stream holds the session',
      async () => (await stored(nats)).some((m) => m.subject === 'console.realtime.disconnect'),
      8000,
    );
    const types = (await stored(nats)).map((m) => (JSON.parse(m.text) as AuditRecord).type);
    assert.deepEqual(types, ['auth.granted', 'connect', 'subscribe', 'message', 'disconnect']);
    await until('stderr says NATS takes them again', () => /go to NATS .* again after/.test(cli.stderr));
    assert.equal((await cli.stop()).code, 0);
  });
});

describe('NatsAuditSink', () => {
  it('drops the oldest past its bound while NATS is away, and says how many once', async () => {
    const nats = await startNats();
    await createStream(nats);
    await nats.stop();
    const lines: string[] = [];
    const sink = NatsAuditSink.open(parseNatsAuditUrl(nats.url()), {
      maxPendingRecords: 5,
      reconnectTimeWaitMs: 100,
      log: (line) => lines.push(line),
    });
    cleanups.push(() => sink.close());
    const written = Array.from({ length: 8 }, (_, i) => record(i));
    for (const r of written) sink.write(r);
    assert.equal(sink.pending, 5);
    assert.equal(sink.dropped, 3);

    await nats.restart();
    await until('the stream holds the kept records', async () => (await stored(nats)).length === 5);
    assert.deepEqual(withoutId(await stored(nats)), expected(written.slice(3)), 'the newest five, in order');
    await until('the sink reports', () => lines.some((l) => /again after/.test(l)));
    assert.equal(lines.filter((l) => /queue full/.test(l)).length, 1, lines.join('\n'));
    assert.match(lines.find((l) => /again after/.test(l)) ?? '', /3 audit records were dropped/);
  });

  it('uses a stream added after the first look-up, once the look-up is due again', async () => {
    const nats = await startNats();
    const { seen } = await watch(nats);
    const sink = NatsAuditSink.open(parseNatsAuditUrl(nats.url()), { streamRecheckMs: 200 });
    cleanups.push(() => sink.close());
    sink.write(record(1));
    await until('the core record arrives', () => seen.length === 1);
    await createStream(nats);
    await sleep(250);
    const second = record(2);
    sink.write(second);
    await until('the second record is stored', async () => (await stored(nats)).length === 1);
    assert.deepEqual(withoutId(await stored(nats)), expected([second]));
  });

  it('closes within its timeout while NATS is down, saying how many records were not sent', async () => {
    const nats = await startNats();
    await nats.stop();
    const lines: string[] = [];
    const sink = NatsAuditSink.open(parseNatsAuditUrl(nats.url()), {
      closeTimeoutMs: 200,
      log: (line) => lines.push(line),
    });
    sink.write(record(1));
    sink.write(record(2));
    const start = Date.now();
    await sink.close();
    assert.ok(Date.now() - start < 1000, `closed in ${Date.now() - start} ms`);
    assert.ok(
      lines.some((l) => /2 audit records were not sent/.test(l)),
      lines.join('\n'),
    );
  });
});

describe('a bad --audit nats:// URL', () => {
  it('is a usage error of the CLI (exit 2) naming --audit and the reason, never the password', async () => {
    const cli = CliProcess.spawn(['--port', '0', '--audit', 'nats://audit:hunter2@127.0.0.1:4222/audit']);
    const { code } = await cli.exit();
    assert.equal(code, 2, cli.stderr);
    assert.equal(cli.stdout, '', 'it never listens');
    assert.match(
      cli.stderr,
      /^catalyst-dev-server: --audit nats:\/\/audit:\*\*\*@127\.0\.0\.1:4222\/audit is not a NATS server address: it has a path/,
    );
    assert.match(cli.stderr, /usage: catalyst-dev-server/);
    assert.doesNotMatch(cli.stderr, /hunter2/);
  });

  const cases = [
    { url: 'nats://', reason: /names no host/ },
    { url: 'nats://127.0.0.1:99999', reason: /does not parse as a URL/ },
    { url: 'nats://127.0.0.1:0', reason: /port 0/ },
    { url: 'nats://127.0.0.1:4222?stream=AUDIT', reason: /path, query or fragment/ },
    { url: 'nats://:hunter2@127.0.0.1', reason: /password but no user/ },
  ];
  for (const { url, reason } of cases) {
    it(`makes createDevServer throw NatsAuditUrlError before it listens: ${url}`, async () => {
      await assert.rejects(createDevServer({ audit: url, port: 0 }), (error: unknown) => {
        assert.ok(error instanceof NatsAuditUrlError);
        assert.match(error.message, reason);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
    });
  }
});

after(() => pool.closeAll());
