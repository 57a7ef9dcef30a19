/**
 * The `catalyst-dev-server` command line (DESIGN.md "Dev server"): its first line, config and
 * flag errors, flags over config limits, `--simulate`, `--audit`, `--data`, and SIGTERM.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { AuditRecordSchema, type AuditRecord, type ServerMessage } from '../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../support/cli-process.js';
import { KEYS, startTestServer, testConfig, type TestServer } from '../support/test-server.js';
import { RawClient, getToken, rest, sleep } from '../support/raw-client.js';

type Welcome = Extract<ServerMessage, { type: 'welcome' }>;
type Batch = Extract<ServerMessage, { type: 'batch' }>;

let cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

function dir(): ReturnType<typeof tempDir> {
  const d = tempDir();
  cleanups.push(() => d.remove());
  return d;
}

/** Starts the CLI and stops it (SIGKILL if still running) after the test. */
async function cli(args: readonly string[]): Promise<CliProcess & { url: string }> {
  const started = await CliProcess.start(args);
  cleanups.push(() => started.stop('SIGKILL'));
  return started;
}

/** Runs the CLI to its exit (for arguments that must be refused). */
async function refused(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = CliProcess.spawn(args);
  cleanups.push(() => run.stop('SIGKILL'));
  const { code } = await run.exit(20_000);
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** A raw client of a CLI server. */
async function connect(url: string, key: string = KEYS.acmeSecret): Promise<RawClient> {
  const token = await getToken({ url }, key);
  const client = await RawClient.open(
    `${url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
  );
  cleanups.push(() => client.close());
  await client.next('welcome');
  return client;
}

function welcomeOf(client: RawClient): Welcome {
  return client.messages[0] as Welcome;
}

function configFile(extra: Record<string, unknown> = {}): string {
  return writeJson(dir().file('config.json'), testConfig(extra));
}

describe('starting', () => {
  it('prints "catalyst-dev-server listening on http://HOST:PORT" first and serves that address', async () => {
    const server = await cli(['--config', configFile(), '--port', '0', '--host', '127.0.0.1']);
    const first = server.stdout.split('\n')[0];
    assert.match(first ?? '', /^catalyst-dev-server listening on http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(server.url).port, '0', 'the port it got, not 0');
    const health = await rest(server, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal((health.body as { ok: unknown }).ok, true);
    assert.equal(welcomeOf(await connect(server.url)).client, 'acme');
  });

  it('serves the built-in demo without --config', async () => {
    const server = await cli(['--port', '0']);
    assert.equal((await rest(server, 'GET', '/healthz')).status, 200);
    const list = await rest(server, 'GET', '/api/objects/orders/records', { key: 'sk_dev_demo' });
    assert.equal(list.status, 200);
  });
});

describe('refusing bad input', () => {
  const badConfigs: { name: string; config: unknown; path: string; reason: RegExp }[] = [
    {
      name: 'a key with an unknown role',
      config: testConfig({
        keys: [{ key: 'sk_test_bad_role', client: 'acme', environment: 'production', role: 'admin' }],
      }),
      path: 'keys.0.role',
      reason: /secret.*publishable/,
    },
    {
      name: 'a limit out of range',
      config: testConfig({ limits: { maxBatchEvents: 0 } }),
      path: 'limits.maxBatchEvents',
      reason: />=\s*1|at least|too small/i,
    },
    {
      name: 'a publishable key reading an unconfigured object',
      config: testConfig({
        keys: [
          {
            key: 'pk_test_unknown',
            client: 'acme',
            environment: 'production',
            role: 'publishable',
            objects: ['x'],
          },
        ],
      }),
      path: 'keys.0.objects.0',
      reason: /not in objects/,
    },
    {
      name: 'a config without keys',
      config: { objects: ['orders'] },
      path: 'keys',
      reason: /expected array|required/i,
    },
  ];
  for (const c of badConfigs) {
    it(`refuses ${c.name}, naming ${c.path} and the reason`, async () => {
      const file = writeJson(dir().file('config.json'), c.config);
      const run = await refused(['--config', file, '--port', '0']);
      assert.notEqual(run.code, 0);
      assert.doesNotMatch(run.stdout, /listening/);
      const line = run.stderr.split('\n').find((l) => l.includes(c.path));
      assert.ok(line, `stderr names ${c.path}: ${run.stderr}`);
      assert.match(line.slice(line.indexOf(c.path) + c.path.length), c.reason);
    });
  }

  it('refuses a config file that is not JSON, or missing', async () => {
    const d = dir();
    const broken = d.file('broken.json');
    writeFileSync(broken, '{"keys": [');
    const [notJson, missing] = await Promise.all([
      refused(['--config', broken, '--port', '0']),
      refused(['--config', d.file('absent.json'), '--port', '0']),
    ]);
    assert.notEqual(notJson.code, 0);
    assert.match(notJson.stderr, /broken\.json.*not valid JSON/);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /absent\.json/);
  });

  const badFlags: { args: string[]; names: RegExp }[] = [
    { args: ['--port', 'abc'], names: /--port.*abc/ },
    { args: ['--port', '70000'], names: /--port/ },
    { args: ['--bogus'], names: /bogus/ },
    { args: ['--max-batch', '0'], names: /--max-batch/ },
    { args: ['--flush-ms', 'soon'], names: /--flush-ms.*soon/ },
    { args: ['--heartbeat-ms', '1.5'], names: /--heartbeat-ms/ },
    { args: ['--simulate', 'fast'], names: /--simulate/ },
    { args: ['--port'], names: /--port/ },
  ];
  it('refuses bad flags with a message that names the flag', async () => {
    const runs = await Promise.all(badFlags.map((f) => refused([...f.args])));
    runs.forEach((run, i) => {
      const { args, names } = badFlags[i] as (typeof badFlags)[number];
      assert.notEqual(run.code, 0, `${args.join(' ')} exited ${run.code}`);
      assert.doesNotMatch(run.stdout, /listening/);
      assert.match(run.stderr, names, `${args.join(' ')}: ${run.stderr}`);
    });
  });
});

describe('limits', () => {
  const config = () =>
    configFile({
      limits: { maxBatchEvents: 500, flushIntervalMs: 1000, heartbeatMs: 10_000, maxSubscriptions: 7 },
    });

  it("takes the config's limits", async () => {
    const server = await cli(['--config', config(), '--port', '0']);
    const welcome = welcomeOf(await connect(server.url));
    assert.deepEqual(
      { ...welcome.limits, heartbeatMs: welcome.heartbeatMs },
      {
        maxBatchEvents: 500,
        flushIntervalMs: 1000,
        maxSubscriptions: 7,
        maxMessageBytes: 65_536,
        heartbeatMs: 10_000,
      },
    );
  });

  it('lets --max-batch, --flush-ms and --heartbeat-ms win over the config', async () => {
    const server = await cli([
      '--config',
      config(),
      '--port',
      '0',
      '--max-batch',
      '3',
      '--flush-ms',
      '15',
      '--heartbeat-ms',
      '20000',
    ]);
    const client = await connect(server.url);
    const welcome = welcomeOf(client);
    assert.deepEqual(
      { ...welcome.limits, heartbeatMs: welcome.heartbeatMs },
      {
        maxBatchEvents: 3,
        flushIntervalMs: 15,
        maxSubscriptions: 7,
        maxMessageBytes: 65_536,
        heartbeatMs: 20_000,
      },
    );
    await client.subscribe({ id: 's', channel: 'records:orders' });
    for (let i = 0; i < 7; i++) {
      await rest(server, 'POST', '/api/objects/orders/records', {
        key: KEYS.acmeSecret,
        body: { id: `m${i}` },
      });
    }
    await client.waitForEvents(7, 's');
    const sizes = client.messages.filter((m): m is Batch => m.type === 'batch').map((b) => b.events.length);
    assert.ok(Math.max(...sizes) <= 3, `batch sizes ${sizes.join(',')}`);
  });
});

describe('--simulate', () => {
  it('makes random writes that subscribers receive', async () => {
    const server = await cli([
      '--config',
      configFile(),
      '--port',
      '0',
      '--simulate',
      '50',
      '--flush-ms',
      '20',
    ]);
    await server.waitForStdout(/simulating 50 writes\/s/);
    const client = await connect(server.url);
    await client.subscribe({ id: 's', channel: 'records:*' });
    const events = await client.waitForEvents(3, 's', 5000);
    for (const e of events) assert.ok('operation' in e, 'a record event');
    assert.deepEqual(client.invalid, []);
  });
});

describe('--audit', () => {
  it('writes the audit records of a connection to a file as JSON lines', async () => {
    const audit = dir().file('audit.jsonl');
    const server = await cli(['--config', configFile(), '--port', '0', '--audit', audit]);
    const client = await connect(server.url);
    const { connectionId } = welcomeOf(client);
    await client.subscribe({ id: 's', channel: 'records:orders' });
    client.send({ type: 'unsubscribe', id: 's' });
    await client.next('unsubscribed');
    client.close();
    await client.waitForClose();
    const denied = await RawClient.open(
      `${server.url.replace(/^http/, 'ws')}/ws/events/object-records/?token=00000000-0000-4000-8000-000000000000`,
    );
    assert.equal((await denied.waitForClose()).code, 4002);
    await sleep(100);
    assert.equal((await server.stop('SIGTERM')).code, 0);

    const records: AuditRecord[] = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((line) => AuditRecordSchema.parse(JSON.parse(line)));
    const own = records.filter((r) => r.connectionId === connectionId);
    for (const type of ['auth.granted', 'connect', 'subscribe', 'message', 'unsubscribe', 'disconnect']) {
      assert.ok(
        own.some((r) => r.type === type),
        `a ${type} record: ${own.map((r) => r.type).join(', ')}`,
      );
    }
    for (const r of own) {
      assert.equal(r.client, 'acme');
      assert.equal(r.environment, 'production');
      assert.ok(!Number.isNaN(Date.parse(r.time)), `time ${r.time}`);
    }
    const subscribe = own.find((r) => r.type === 'subscribe');
    assert.equal(subscribe?.details.channel, 'records:orders');
    const refusal = records.find((r) => r.type === 'auth.denied');
    assert.ok(refusal, 'the refused token is audited');
    assert.equal(refusal.details.reason, 'token_invalid');
  });

  it('writes them to standard output with --audit -', async () => {
    const server = await cli(['--config', configFile(), '--port', '0', '--audit', '-']);
    const client = await connect(server.url);
    const { connectionId } = welcomeOf(client);
    await server.waitForStdout(
      new RegExp(`"type":"connect".*"${connectionId}"|"${connectionId}".*"type":"connect"`),
    );
    const lines = server.stdout.split('\n').filter((l) => l.startsWith('{'));
    const records = lines.map((l) => AuditRecordSchema.parse(JSON.parse(l)));
    assert.ok(records.some((r) => r.type === 'connect' && r.connectionId === connectionId));
  });
});

describe('SIGTERM', () => {
  let restarted: TestServer | undefined;
  afterEach(async () => {
    await restarted?.close();
    restarted = undefined;
  });

  it('closes every client with 1001, exits 0, and leaves the latest writes in the --data file', async () => {
    const d = dir();
    const data = d.file('data.json');
    const config = writeJson(d.file('config.json'), testConfig());
    const server = await cli(['--config', config, '--port', '0', '--data', data, '--flush-ms', '10000']);
    const a = await connect(server.url);
    const b = await connect(server.url, KEYS.acmePublic);
    const { epoch } = welcomeOf(a);
    await a.subscribe({ id: 's', channel: 'records:orders' });
    for (let i = 0; i < 5; i++) {
      const answer = await rest(server, 'POST', '/api/objects/orders/records', {
        key: KEYS.acmeSecret,
        body: { id: `last${i}` },
      });
      assert.equal(answer.status, 201);
    }
    server.child.kill('SIGTERM');
    const [closeA, closeB, exit] = await Promise.all([
      a.waitForClose(5000),
      b.waitForClose(5000),
      server.exit(),
    ]);
    assert.equal(closeA.code, 1001);
    assert.equal(closeB.code, 1001);
    assert.deepEqual(exit, { code: 0, signal: null });

    restarted = await startTestServer({ data });
    const again = await connect(restarted.url);
    assert.equal(welcomeOf(again).epoch, epoch);
    assert.equal(welcomeOf(again).seq, 5);
    const last = await rest(restarted, 'GET', '/api/objects/orders/records/last4', { key: KEYS.acmeSecret });
    assert.equal(last.status, 200);
  });
});
