/**
 * Issue 8, item 2: the CLI with `--data` as a child process, writes flowing over REST, SIGKILL at
 * random moments, restart. The data file is never corrupt (the server starts), no acknowledged
 * write is lost or half-applied, `seq` continues above everything acknowledged in the same epoch,
 * and a client resuming with `since` gets exactly what it missed — or, when that is older than
 * the history, `resumed: false` and a fresh snapshot. `RELIABILITY_SEED=<seed>` repeats the
 * kill moments and the writes.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { RecordEvent } from '../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../support/cli-process.js';
import { dataFileDamage } from '../support/data-files.js';
import { RawClient, getToken, rest, sleep } from '../support/raw-client.js';
import { isRecordEvent } from '../support/record-events.js';
import { KEYS, testConfig } from '../support/test-server.js';
import { CrashWriter, WriteModel } from './support/crash-writer.js';
import { delivery } from './support/delivery.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { ResumingReader } from './support/resuming-reader.js';
import { SCALE, scaled } from './support/scale.js';
import { RUN_SEED, randomFor } from './support/seeded-random.js';

const AREA = 'persistence';
const SEED = `seed ${RUN_SEED} (RELIABILITY_SEED=${RUN_SEED} repeats the run)`;
const WRITERS = 4;
const IDS_PER_WRITER = 8;

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** Starts the CLI on `config` and `data`; it is SIGKILLed after the test if still running. */
async function start(config: string, data: string): Promise<CliProcess & { url: string }> {
  const cli = await CliProcess.start(['--config', config, '--port', '0', '--data', data, '--flush-ms', '20']);
  cleanups.push(() => cli.stop('SIGKILL'));
  return cli;
}

/** Every order the server holds, by id. */
async function orders(url: string): Promise<Map<string, Record<string, unknown>>> {
  const res = await rest({ url }, 'GET', '/api/objects/orders/records?limit=10000', { key: KEYS.acmeSecret });
  assert.equal(res.status, 200);
  return new Map(
    (res.body as { records: Record<string, unknown>[] }).records.map((r) => [r.id as string, r]),
  );
}

/** Publishes a sentinel and waits until the reader has it: everything committed before is in. */
async function catchUp(url: string, reader: ResumingReader): Promise<number> {
  const res = await rest({ url }, 'POST', '/api/events/sentinel', { key: KEYS.acmeSecret, body: 'sentinel' });
  const seq = (res.body as { seq: number }).seq;
  for (let i = 0; i < 1000 && reader.lastSeq < seq; i++) await sleep(10);
  return seq;
}

describe('persistence under SIGKILL', () => {
  it('never loses or half-applies an acknowledged write; seq continues; a resuming client gets each event once', async () => {
    const started = Date.now();
    const r = randomFor('persistence');
    const kills = scaled({ short: 3, full: 25 });
    const dir = tempDir('catalyst-reliability-data-');
    cleanups.push(() => dir.remove());
    const config = writeJson(dir.file('config.json'), testConfig());
    const data = dir.file('data.json');
    const model = new WriteModel();
    const reader = new ResumingReader();
    cleanups.push(() => reader.close());
    const problems: string[] = [];
    let cli = await start(config, data);
    let highestAcknowledged = 0;

    for (let round = 0; round < kills; round++) {
      await reader.connect(cli.url);
      const writers = Array.from(
        { length: WRITERS },
        (_, w) =>
          new CrashWriter(
            cli.url,
            `k${round}w${w}`,
            Array.from({ length: IDS_PER_WRITER }, (_, i) => `w${w}-${i}`),
            model,
            randomFor(`persistence writer ${w} round ${round}`),
          ),
      );
      const running = writers.map((w) => w.run());
      await sleep(r.int(50, 1500)); // a random moment: before, during or after a snapshot rewrite
      cli.child.kill('SIGKILL');
      assert.equal((await cli.exit()).signal, 'SIGKILL');
      for (const w of writers) w.stop();
      await Promise.all(running);

      const damaged = dataFileDamage(data);
      if (damaged) problems.push(`after kill ${round + 1}: ${damaged}`);
      cli = await start(config, data); // a corrupt or half-written file would stop it here
      const token = await getToken(cli, KEYS.acmeSecret);
      const probe = await RawClient.open(
        `${cli.url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
      );
      const welcome = await probe.next('welcome');
      probe.close();
      highestAcknowledged = Math.max(highestAcknowledged, ...model.published.keys());
      if (welcome.epoch !== reader.epoch)
        problems.push(`after kill ${round + 1}: epoch ${welcome.epoch}, was ${reader.epoch}`);
      if (welcome.seq < highestAcknowledged || welcome.seq < reader.lastSeq) {
        problems.push(
          `after kill ${round + 1}: seq ${welcome.seq}, below acknowledged ${highestAcknowledged} or seen ${reader.lastSeq}`,
        );
      }
      const held = await orders(cli.url);
      problems.push(...model.check(held).map((p) => `after kill ${round + 1}: ${p}`));
      model.settle(held);
    }

    await reader.connect(cli.url);
    const last = await catchUp(cli.url, reader);
    const events = reader.events();
    reader.close();
    const seqs = events.map((e) => e.seq);
    const all = delivery(
      Array.from({ length: last }, (_, i) => i + 1),
      [...seqs].sort((a, b) => a - b),
    );
    const bySeq = new Map(events.map((e) => [e.seq, e]));
    const correlations = events.filter(isRecordEvent).map((e: RecordEvent) => e.correlationId);
    const missingWrites = [...model.acknowledged].filter((c) => !correlations.includes(c));
    const doubledWrites = correlations.filter((c, i) => c !== undefined && correlations.indexOf(c) !== i);
    const alteredPublishes = [...model.published].filter(
      ([seq, sent]) =>
        JSON.stringify((bySeq.get(seq) as { data?: unknown } | undefined)?.data) !== JSON.stringify(sent),
    );
    const resyncs = reader.answers.filter((a) => a.resumed === false).length;
    recordFigures({
      area: AREA,
      test: 'SIGKILL during REST writes, restart with --data',
      scale: SCALE,
      load: `${model.counts.sent} writes by ${WRITERS} writers (${model.counts.acknowledged} acknowledged, ${model.counts.cut} cut by a kill); ${last} seqs`,
      faults: kills,
      badInputs: 0,
      lost: all.lost + missingWrites.length,
      duplicated: all.duplicated + doubledWrites.length,
      leaked: 0,
      crashes: 0,
      seconds: secondsSince(started),
      seed: RUN_SEED,
      notes: `${reader.answers.length} resubscribes, ${resyncs} answered resumed: false; ${problems.length} file or state problems`,
    });

    assert.deepEqual(problems, [], SEED);
    assert.deepEqual(
      all,
      { lost: 0, duplicated: 0, unexpected: 0, outOfOrder: 0 },
      `seq 1..${last} each once across ${kills} crashes; ${SEED}`,
    );
    assert.deepEqual(missingWrites, [], 'every acknowledged record write reached the resuming client');
    assert.deepEqual(doubledWrites, [], 'no record write reached it twice');
    assert.deepEqual(alteredPublishes, [], 'every acknowledged publish is in history as sent');
    assert.equal(resyncs, 0, 'every resume was within history');
    assert.deepEqual(reader.invalid, []);
  });

  it('answers a since older than the history with resumed: false and a snapshot equal to the store, after a crash', async () => {
    const started = Date.now();
    const historySize = 20;
    const dir = tempDir('catalyst-reliability-data-');
    cleanups.push(() => dir.remove());
    const config = writeJson(dir.file('config.json'), testConfig({ limits: { historySize } }));
    const data = dir.file('data.json');
    let cli = await start(config, data);
    const key = KEYS.acmeSecret;
    const write = async (url: string, i: number) => {
      const res = await rest({ url }, 'POST', '/api/objects/orders/records', {
        key,
        body: { id: `h${i}`, i },
      });
      assert.equal(res.status, 201);
    };
    const reader = new ResumingReader();
    cleanups.push(() => reader.close());
    await reader.connect(cli.url);
    for (let i = 0; i < 5; i++) await write(cli.url, i);
    await catchUp(cli.url, reader);
    reader.close(); // away while more than a history's worth is written
    for (let i = 5; i < 5 + historySize * 2; i++) await write(cli.url, i);
    cli.child.kill('SIGKILL');
    await cli.exit();
    cli = await start(config, data);

    const since = reader.lastSeq;
    const token = await getToken(cli, key);
    const client = await RawClient.open(
      `${cli.url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
    );
    cleanups.push(() => client.close());
    const welcome = await client.next('welcome');
    const answer = await client.subscribe({
      id: 'r',
      channel: 'records:orders',
      since,
      epoch: welcome.epoch,
      snapshot: true,
    });
    const held = await orders(cli.url);
    const snapshotIds = (answer.snapshot ?? []).map((record) => record.id).sort();
    await write(cli.url, 1000);
    const [after] = await client.waitForEvents(1, 'r');
    recordFigures({
      area: AREA,
      test: 'resume older than history after SIGKILL',
      scale: SCALE,
      load: `historySize ${historySize}, ${historySize * 2} writes missed`,
      faults: 1,
      badInputs: 0,
      lost: [...held.keys()].filter((id) => !snapshotIds.includes(id)).length,
      duplicated: 0,
      leaked: 0,
      crashes: 0,
      seconds: secondsSince(started),
      notes: `answered resumed: ${answer.resumed}`,
    });
    assert.equal(answer.resumed, false);
    assert.deepEqual(snapshotIds, [...held.keys()].sort(), 'the snapshot is the store');
    assert.equal(after?.seq, answer.seq + 1, 'the next event follows the snapshot');
    assert.ok(answer.seq >= since + historySize * 2, 'seq kept counting across the crash');
  });
});
