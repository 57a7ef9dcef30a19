/**
 * The `--data` files (`dev-server/node/data-file*.ts`): what a restart brings back (records, seq,
 * epoch and the whole history), how big the files are, what a crash in the middle of a snapshot
 * leaves, version-1 files, and how a file that cannot be loaded is refused.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { DataFileError } from '../../dev-server/index.js';
import { readLines, LineTooLongError } from '../../dev-server/node/line-reader.js';
import { tempDir } from '../support/cli-process.js';
import { snapshotLines } from '../support/data-files.js';
import { RawClient, sleep } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

function dataPath(): string {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  return dir.file('data.json');
}

async function start(data: string, limits: Record<string, number> = {}): Promise<TestServer> {
  const server = await startTestServer({ data, limits });
  cleanups.push(() => server.close());
  return server;
}

const acme = (server: TestServer) => server.store.environment('acme', 'production');

/** Everything a restart must bring back, as JSON. */
function held(server: TestServer): unknown {
  const { epoch, seq, records, history } = acme(server).exportState();
  return JSON.parse(JSON.stringify({ epoch, seq, records, history })) as unknown;
}

/** Creates, patches (nested, nulls, removals), deletes and re-creates, and publishes. */
function writeSome(server: TestServer, tag: string): void {
  const env = acme(server);
  env.create('orders', { id: `${tag}a`, status: 'new', customer: { name: 'Ada', tags: ['x'] } }, `${tag}-1`);
  env.patch('orders', `${tag}a`, { status: 'paid', customer: { tags: null, city: 'Leeds' }, note: null });
  env.patch('orders', `${tag}a`, { note: 'ok', extra: null, nothing: [null, { deep: null }] });
  env.remove('orders', 'o1');
  env.create('orders', { id: 'o1', status: 'back' });
  env.publish('promo', { tag, list: [1, null, 'ü'] });
  env.remove('orders', `${tag}a`);
}

describe('the --data file', () => {
  it('brings back records, seq, epoch and every commit of history after a close', async () => {
    const data = dataPath();
    const first = await start(data);
    writeSome(first, 'p');
    const before = held(first);
    await first.close();
    const second = await start(data);
    assert.deepStrictEqual(held(second), before);
  });

  it('brings them back from the journal alone after a crash (the snapshot of the start, then commits)', async () => {
    const data = dataPath();
    const first = await start(data);
    writeSome(first, 'j');
    const before = held(first);
    // A crash image now: the snapshot written at start, and the journal of every commit since.
    const crash = dataPath();
    copyFileSync(data, crash);
    copyFileSync(`${data}.journal`, `${crash}.journal`);
    assert.equal(existsSync(`${data}.journal.1`), false);
    const second = await start(crash);
    assert.deepStrictEqual(held(second), before);
  });

  it('drops a last journal line cut before its newline, even one that parses, and appends cleanly after', async () => {
    const data = dataPath();
    const first = await start(data);
    writeSome(first, 'c');
    const before = held(first);
    acme(first).create('orders', { id: 'cut', status: 'never acknowledged' });
    const crash = dataPath();
    copyFileSync(data, crash);
    const journal = readFileSync(`${data}.journal`, 'utf8');
    // The crash image: the last append cut exactly before its newline (its JSON is whole).
    writeFileSync(`${crash}.journal`, journal.slice(0, -1));
    const second = await start(crash);
    assert.deepStrictEqual(held(second), before, 'the cut commit is not there; everything before is');
    acme(second).create('orders', { id: 'after', status: 'new' });
    const after = held(second);
    // Another crash image, of the journal the second server appended to.
    const again = dataPath();
    copyFileSync(crash, again);
    copyFileSync(`${crash}.journal`, `${again}.journal`);
    const third = await start(again);
    assert.deepStrictEqual(held(third), after, 'the next append was not glued onto the cut line');
  });

  it('grows with the data, not with history × record size', async () => {
    const data = dataPath();
    const server = await start(data);
    const env = acme(server);
    const big = 'b'.repeat(200_000);
    env.create('orders', { id: 'big', big });
    for (let i = 0; i < 300; i++) env.patch('orders', 'big', { n: i });
    const journal = statSync(`${data}.journal`).size;
    await server.close();
    const snapshot = statSync(data).size;
    assert.ok(journal < 2 * big.length, `journal ${journal} bytes for a 200 KB record patched 300 times`);
    assert.ok(snapshot < 2 * big.length, `snapshot ${snapshot} bytes for a 200 KB record patched 300 times`);
    const again = await start(data);
    assert.equal(acme(again).history.toArray().length, 300 + 1);
    assert.equal((acme(again).table('orders').get('big') as { n?: number }).n, 299);
  });

  it('loses no commit made while a snapshot is written, whenever the process dies', async () => {
    const data = dataPath();
    const server = await start(data);
    const env = acme(server);
    // Enough data that a snapshot takes many turns of the event loop.
    for (let i = 0; i < 200; i++) env.create('products', { id: `bulk${i}`, text: `${i}`.repeat(50_000) });
    const writes: string[] = [];
    let image: string | undefined;
    for (let i = 0; i < 2000 && !image; i++) {
      env.create('orders', { id: `w${i}` });
      writes.push(`w${i}`);
      if (existsSync(`${data}.tmp`)) {
        // Crash image in the middle of the write: what SIGKILL would leave (copied in one turn).
        image = dataPath();
        for (const suffix of ['', '.tmp', '.journal.1', '.journal']) {
          if (existsSync(`${data}${suffix}`)) copyFileSync(`${data}${suffix}`, `${image}${suffix}`);
        }
      }
      await sleep(2);
    }
    assert.ok(image, 'a snapshot was under way while writes went on');
    assert.ok(existsSync(`${image}.journal.1`), 'the journal was rotated for the snapshot');
    const before = held(server);
    const restarted = await start(image);
    const ids = [...acme(restarted).table('orders').keys()];
    assert.deepEqual(
      writes.filter((id) => !ids.includes(id)),
      [],
      'every write is back',
    );
    assert.deepStrictEqual(held(restarted), before);
  });

  it('writes a version-2 snapshot: a header, then JSON lines, then an end line', async () => {
    const data = dataPath();
    const server = await start(data);
    writeSome(server, 'v');
    await server.close();
    const lines = snapshotLines(data);
    assert.deepEqual(lines[0], { kind: 'header', format: 'catalyst-dev-server-data', version: 2 });
    assert.deepEqual(lines.at(-1), { kind: 'end', environments: 3 });
    assert.ok(
      lines.every((l) => ['header', 'environment', 'record', 'commit', 'end'].includes(l.kind as string)),
    );
    assert.equal(readFileSync(`${data}.journal`, 'utf8'), '', 'the journal is empty after a close');
    assert.equal(existsSync(`${data}.journal.1`), false);
  });

  it('loads a version-1 file and its journal, and rewrites it as version 2', async () => {
    const data = dataPath();
    const record = (id: string, extra: object) => ({ id, createdAt: 't0', updatedAt: 't0', ...extra });
    const v1 = {
      format: 'catalyst-dev-server-data',
      version: 1,
      environments: [
        {
          client: 'acme',
          environment: 'production',
          epoch: 'e-old',
          seq: 2,
          records: { orders: [record('a', { status: 'paid' })] },
          history: [
            {
              kind: 'record',
              seq: 1,
              timestamp: 't1',
              object: 'orders',
              operation: 'create',
              record: record('a', { status: 'new' }),
            },
            {
              kind: 'record',
              seq: 2,
              timestamp: 't2',
              object: 'orders',
              operation: 'update',
              record: record('a', { status: 'paid' }),
              oldRecord: record('a', { status: 'new' }),
              changedFields: ['status'],
            },
          ],
        },
      ],
    };
    writeFileSync(data, JSON.stringify(v1));
    const journalLine = {
      client: 'acme',
      environment: 'production',
      commit: {
        kind: 'record',
        seq: 3,
        timestamp: 't3',
        object: 'orders',
        operation: 'update',
        record: record('a', { status: 'sent' }),
        oldRecord: record('a', { status: 'paid' }),
        changedFields: ['status'],
      },
    };
    writeFileSync(`${data}.journal`, `${JSON.stringify(journalLine)}\n`);
    const server = await start(data);
    const state = acme(server).exportState();
    assert.equal(state.epoch, 'e-old');
    assert.equal(state.seq, 3);
    assert.deepEqual(state.records.orders, [record('a', { status: 'sent' })]);
    assert.deepEqual(
      state.history.map((c) => [c.seq, c.kind === 'record' ? c.record.status : undefined]),
      [
        [1, 'new'],
        [2, 'paid'],
        [3, 'sent'],
      ],
    );
    assert.equal(snapshotLines(data)[0]?.version, 2, 'the file is rewritten as version 2 at start');
  });

  it('keeps a resume point across a restart within historyBytes, and answers resumed: false beyond', async () => {
    const data = dataPath();
    const first = await start(data, { historyBytes: 20_000 });
    const env = acme(first);
    for (let i = 0; i < 40; i++) env.create('orders', { id: `h${i}`, text: 'h'.repeat(1000) });
    await first.close();
    const second = await start(data, { historyBytes: 20_000 });
    const history = acme(second).history;
    const kept = history.toArray();
    assert.ok(kept.length >= 15 && kept.length < 20, `${kept.length} commits of 1 KB kept in 20 000 bytes`);
    assert.ok(history.bytes <= 20_000);
    const oldest = kept[0]?.seq as number;
    const client = await RawClient.connect(second, 'sk_test_acme_prod');
    cleanups.push(() => client.close());
    const epoch = acme(second).epoch;
    const inside = await client.subscribe({ id: 'in', channel: 'records:orders', since: oldest - 1, epoch });
    assert.equal(inside.resumed, true);
    const events = await client.waitForEvents(kept.length, 'in');
    assert.deepEqual(
      events.map((e) => e.seq),
      kept.map((c) => c.seq),
    );
    const outside = await client.subscribe({
      id: 'out',
      channel: 'records:orders',
      since: oldest - 2,
      epoch,
    });
    assert.equal(outside.resumed, false);
  });
});

describe('a --data file that cannot be loaded', () => {
  /** A closed server's data file, for a case to damage. */
  async function realFile(): Promise<string> {
    const data = dataPath();
    const server = await start(data);
    writeSome(server, 'd');
    await server.close();
    return data;
  }

  async function refusal(data: string): Promise<string> {
    const error = await startTestServer({ data }).then(
      async (server) => {
        await server.close();
        assert.fail('the server started');
      },
      (e: unknown) => e,
    );
    assert.ok(error instanceof DataFileError, `a DataFileError, not ${String(error)}`);
    assert.match(error.message, /move .*data\.json and its .*data\.json\.journal\* files aside/);
    return error.message;
  }

  const lines = (data: string) => readFileSync(data, 'utf8').split('\n');

  const cases: { name: string; damage: (data: string) => void; message: RegExp }[] = [
    {
      name: 'a line that is not JSON',
      damage: (data) =>
        writeFileSync(
          data,
          lines(data)
            .map((l, i) => (i === 3 ? l.slice(0, 20) : l))
            .join('\n'),
        ),
      message: /data file .*data\.json line 4 is not JSON/,
    },
    {
      name: 'a file cut short (no end line)',
      damage: (data) => writeFileSync(data, `${lines(data).slice(0, 5).join('\n')}\n`),
      message: /data file .*data\.json line \d+ comes before acme\/\w+ has its last|ends early/,
    },
    {
      name: 'a line of the wrong shape',
      damage: (data) =>
        writeFileSync(
          data,
          lines(data)
            .map((l, i) => (i === 1 ? '{"kind":"environment"}' : l))
            .join('\n'),
        ),
      message: /data file .*data\.json line 2 has the wrong shape: client/,
    },
    {
      name: 'a file of something else',
      damage: (data) => writeFileSync(data, '{"hello":"world"}\n'),
      message: /data file .*data\.json line 1 is not the header of a catalyst dev server data file/,
    },
    {
      name: 'a newer format version',
      damage: (data) =>
        writeFileSync(data, '{"kind":"header","format":"catalyst-dev-server-data","version":3}\n'),
      message: /line 1 has format version 3; this server reads versions 1 and 2/,
    },
    {
      name: 'an empty file',
      damage: (data) => writeFileSync(data, ''),
      message: /data file .*data\.json is empty/,
    },
    {
      name: 'a damaged journal line before the last',
      damage: (data) =>
        writeFileSync(
          `${data}.journal`,
          '{"client":"acme","environment":"production","commit":{"kind":"event"}}\n{}\n',
        ),
      message: /journal .*data\.json\.journal line 1 is not a journal line/,
    },
    {
      name: 'a journal update of a record that does not exist',
      damage: (data) =>
        writeFileSync(
          `${data}.journal`,
          `${JSON.stringify({
            client: 'acme',
            environment: 'production',
            commit: {
              kind: 'record',
              seq: 8,
              timestamp: 't',
              object: 'orders',
              id: 'nobody',
              operation: 'update',
              changedFields: ['n'],
              after: { n: 1 },
              before: {},
            },
          })}\n`,
        ),
      message:
        /journal .*line 1 does not fit the records: seq 8 updates orders record "nobody" which does not exist/,
    },
    {
      name: 'a directory in place of the file',
      damage: (data) => {
        rmSync(data);
        mkdirSync(data);
      },
      message: /cannot read .*data\.json: EISDIR/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, naming the file and what to do`, async () => {
      const data = await realFile();
      c.damage(data);
      assert.match(await refusal(data), c.message);
    });
  }

  it('refuses a line too long for a string before reading it whole', async () => {
    const data = dataPath();
    writeFileSync(data, `${'x'.repeat(5000)}\nnext\n`);
    const read = async () => {
      for await (const line of readLines(data, 1000)) void line;
    };
    await assert.rejects(read, (e: unknown) => e instanceof LineTooLongError && e.number === 1);
    const lines: string[] = [];
    for await (const line of readLines(data)) lines.push(line.text);
    assert.deepEqual(lines, ['x'.repeat(5000), 'next']);
  });
});
