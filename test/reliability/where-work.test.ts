/**
 * Issue 13, item 2: a valid `where` must not stall the server. The CLI runs in a child process on
 * records of 2 KB repetitive text (the worst data for substring search), and publishable keys do
 * their worst within the limits while a bystander polls `/healthz`:
 *
 * 1. the issue's case: a `$or` of 990 `$contains` terms (a ~45 KB frame, inside the frame and term
 *    limits) with a snapshot, five connections at once, round after round as fast as the frame
 *    rate limit lets them (such a frame counts as one per KiB): each is refused with
 *    4000 naming `maxFilterWork` (before: ~1 s of blocked event loop per snapshot, 14–22 s on
 *    repetitive data);
 * 2. the worst that fits: wheres just under `maxFilterWork` per record, with snapshots of every
 *    record, several at once: each answered, matched in slices;
 * 3. 100 such live subscriptions on each of several connections while a secret key writes: their
 *    connections' `maxFilterWorkPerSecond` ends them, and a write keeps costing what it did.
 *
 * The bystander's `/healthz` p99 must stay under 100 ms throughout.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { LIMIT_DEFAULTS, SERVER_BOUNDS, compileMeteredWhere, type Where } from '../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../support/cli-process.js';
import { RawClient, getToken, rest, sleep } from '../support/raw-client.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { HealthzProbe, latencySummary } from './support/healthz-probe.js';
import { mib } from './support/memory-probe.js';
import { percentile } from './support/percentile.js';
import { residentMemory } from './support/process-memory.js';
import { SCALE, scaled } from './support/scale.js';

const WRITER = 'sk_where_writer';
const READER = 'pk_where_reader';
const SIZE = scaled({
  short: { records: 1000, rounds: 2, fitting: 2, live: 2, writes: 40 },
  full: { records: 3000, rounds: 10, fitting: 5, live: 5, writes: 200 },
});
/** The bystander's bound. */
const HEALTHZ_P99_MS = 100;

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** `terms` `$startsWith` prefixes of 32 characters that a 2 000-`a` text never starts with. */
const prefixes = (terms: number): Where => ({
  $or: Array.from({ length: terms }, (_, i) => ({ text: { $startsWith: `${'a'.repeat(30)}b${i}` } })),
});

/** `terms` `$contains` searches that scan all of a 2 000-`a` text and never match. */
const searches = (terms: number, from = 0): Where => ({
  $or: Array.from({ length: terms }, (_, i) => ({ text: { $contains: `${'a'.repeat(30)}b${from + i}` } })),
});

async function connect(url: string, key: string): Promise<RawClient> {
  const token = await getToken({ url }, key);
  const client = await RawClient.open(
    `${url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
  );
  await client.next('welcome');
  cleanups.push(() => client.close());
  return client;
}

/** Sends a subscribe and resolves with its answer (`subscribed` or `error`) and how long it took. */
async function answer(
  client: RawClient,
  id: string,
  where: Where,
  snapshot = true,
): Promise<{ ms: number; type: string; message: string }> {
  const started = performance.now();
  client.send({
    type: 'subscribe',
    id,
    channel: 'records:orders',
    filter: { where },
    ...(snapshot ? { snapshot } : {}),
  });
  const m = await client.next(['subscribed', 'error'], (x) => x.id === id, 60_000);
  return { ms: performance.now() - started, type: m.type, message: m.type === 'error' ? m.message : '' };
}

describe('a valid where at the work limits', () => {
  it('refuses the issue’s where, answers the worst that fits in slices, and keeps /healthz under 100 ms', async () => {
    const started = Date.now();
    const dir = tempDir('catalyst-where-work-');
    cleanups.push(() => dir.remove());
    const orders = Array.from({ length: SIZE.records }, (_, i) => ({ id: `r${i}`, text: 'a'.repeat(2000) }));
    const config = writeJson(dir.file('config.json'), {
      keys: [
        { key: WRITER, client: 'acme', environment: 'production', role: 'secret' },
        { key: READER, client: 'acme', environment: 'production', role: 'publishable' },
      ],
      objects: ['orders'],
      records: { acme: { production: { orders } } },
    });
    const cli = await CliProcess.start(['--config', config, '--port', '0', '--flush-ms', '0']);
    cleanups.push(() => cli.stop('SIGKILL'));
    const pid = cli.child.pid as number;

    // Warm up: the first large frames compile the server's code paths (~100 ms, once per process).
    const warm = await connect(cli.url, READER);
    await answer(warm, 'warm', searches(3));
    for (let i = 0; i < 3; i++) await answer(warm, `warm-big${i}`, searches(990));
    const rssBefore = residentMemory(pid)?.rss ?? NaN;
    const probe = new HealthzProbe(cli.url);
    cleanups.push(() => probe.stop());

    // 1. The where: refused on the first record, naming the limit.
    const big = searches(990);
    const frameBytes = JSON.stringify({
      type: 'subscribe',
      id: 'big0',
      channel: 'records:orders',
      filter: { where: big },
    }).length;
    const attackers = await Promise.all(Array.from({ length: 5 }, () => connect(cli.url, READER)));
    const refusals: { ms: number; type: string; message: string }[] = [];
    // As fast as the frame rate limit lets each connection send such frames (one per started KiB).
    const pauseMs = Math.ceil(
      (frameBytes / SERVER_BOUNDS.messageBytesPerToken + 1) * (1000 / LIMIT_DEFAULTS.maxMessagesPerSecond),
    );
    for (let round = 0; round < SIZE.rounds; round++) {
      // Every other round, 990 `$startsWith` terms instead: long operands are work too.
      const where = round % 2 === 0 ? big : prefixes(990);
      refusals.push(...(await Promise.all(attackers.map((c) => answer(c, `big${round}`, where)))));
      await sleep(pauseMs);
    }
    const refusedPhase = latencySummary(probe.mark());

    // 2. The worst that fits: 9 searches of 2 000 characters (with their operands, just under
    //    maxFilterWork a record), every record.
    const fittingWork = compileMeteredWhere(searches(9)).fixedWork + 9 * 2000;
    const fitting: { ms: number; type: string; message: string }[] = [];
    await Promise.all(
      attackers.map(async (c, n) => {
        for (let k = 0; k < SIZE.fitting; k++)
          fitting.push(await answer(c, `fit${k}`, searches(9, n * 100 + k * 10)));
      }),
    );
    const fittingPhase = latencySummary(probe.mark());

    // 3. 100 live subscriptions of such wheres on each of several connections, while a secret key
    //    writes records of the same text; a bystander subscription times each write to its event.
    const live = await Promise.all(Array.from({ length: SIZE.live }, () => connect(cli.url, READER)));
    for (const [n, c] of live.entries()) {
      for (let k = 0; k < 100; k++)
        c.send({
          type: 'subscribe',
          id: `live${k}`,
          channel: 'records:orders',
          filter: { where: searches(9, 1000 + n * 1000 + k * 10) },
        });
      await c.next('subscribed', (m) => m.id === 'live99', 60_000);
    }
    const watcher = await connect(cli.url, READER);
    await watcher.subscribe({ id: 'watch', channel: 'records:orders' });
    const writeMs: number[] = [];
    for (let i = 0; i < SIZE.writes; i++) {
      const sent = performance.now();
      const res = await rest({ url: cli.url }, 'POST', '/api/objects/orders/records', {
        key: WRITER,
        body: { id: `w${i}`, text: 'a'.repeat(2000) },
      });
      assert.equal(res.status, 201);
      await watcher.next('batch', (m) => m.events.some((e) => 'id' in e && e.id === `w${i}`), 10_000);
      writeMs.push(performance.now() - sent);
    }
    const livePhase = latencySummary(probe.mark());
    const ended = live.flatMap((c) =>
      c.messages.filter((m) => m.type === 'error' && m.id?.startsWith('live')),
    );
    await probe.stop();
    const rssAfter = residentMemory(pid)?.rss ?? NaN;

    const all = [refusedPhase, fittingPhase, livePhase];
    const worstP99 = Math.max(...all.map((p) => p.p99));
    const notMaxFilterWork = refusals.filter(
      (r) => r.type !== 'error' || !/maxFilterWork \(20000\)/.test(r.message),
    );
    const notAnswered = fitting.filter((r) => r.type !== 'subscribed');
    const endedOtherwise = ended.filter(
      (m) => m.type === 'error' && !/maxFilterWorkPerSecond/.test(m.message),
    );
    const ms = (values: number[]) =>
      `p50 ${percentile(values, 50).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
    recordFigures({
      area: 'hardening',
      test: 'a valid where at the work limits: the 990-term where, the worst that fits, live wheres',
      scale: SCALE,
      load: `${SIZE.records} records of 2 KB repetitive text; ${refusals.length} subscribes of a $or of 990 $contains or $startsWith (${(frameBytes / 1024).toFixed(0)} KB frames, 5 at once); ${fitting.length} snapshots of every record at ${fittingWork} units a record; ${live.length} × 100 live wheres during ${SIZE.writes} writes`,
      faults: 0,
      badInputs: refusals.length,
      lost: 0,
      duplicated: 0,
      leaked: 0,
      crashes: cli.child.exitCode === null ? 0 : 1,
      seconds: secondsSince(started),
      bystanderP99Ms: worstP99,
      rssMiB: { before: mib(rssBefore), after: mib(rssAfter) },
      notes:
        `/healthz p50/p99/max: refusals ${refusedPhase.p50}/${refusedPhase.p99}/${refusedPhase.max} ms, fitting snapshots ${fittingPhase.p50}/${fittingPhase.p99}/${fittingPhase.max} ms, live ${livePhase.p50}/${livePhase.p99}/${livePhase.max} ms; ` +
        `990-term refusal ${ms(refusals.map((r) => r.ms))}; fitting snapshot ${ms(fitting.map((r) => r.ms))}; ` +
        `write → event ${ms(writeMs)}; ${ended.length} of ${live.length * 100} live wheres ended by maxFilterWorkPerSecond`,
    });

    assert.deepEqual(notMaxFilterWork, [], 'every 990-term where is refused naming maxFilterWork');
    assert.deepEqual(notAnswered, [], 'every where that fits is answered');
    assert.deepEqual(endedOtherwise, [], 'live wheres end only at maxFilterWorkPerSecond');
    assert.deepEqual(probe.failures, []);
    assert.ok(worstP99 < HEALTHZ_P99_MS, `/healthz p99 ${worstP99} ms (bound ${HEALTHZ_P99_MS} ms)`);
    assert.ok(percentile(writeMs, 50) < 50, `a write reached its subscriber in ${ms(writeMs)}`);
  });
});
