/**
 * The cluster's log in Redis (issue 15, item 1; PROTOCOL.md sections 5 and 11): several
 * `RedisEnvironmentLog`s on one private redis-server stand for several server processes. Seqs are
 * dense across them; every follower gets every commit once, in order, whatever pub/sub loses
 * (a killed subscriber connection, a message never sent); history is bounded by count and bytes
 * and a resume outside it is a reset; FLUSHALL and a restart without persistence are a new epoch;
 * while Redis is down or hangs, calls fail fast with `ClusterUnavailableError` and everything
 * works again once it is back.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ClusterUnavailableError } from '../../../dev-server/cluster/cluster-unavailable-error.js';
import type { CommitDraft } from '../../../dev-server/cluster/commit-payload.js';
import type { LogPosition, ResetReason } from '../../../dev-server/cluster/environment-follower.js';
import { environmentKeys, type EnvironmentRef } from '../../../dev-server/cluster/environment-keys.js';
import {
  RedisEnvironmentLog,
  type RedisEnvironmentLogOptions,
} from '../../../dev-server/cluster/environment-log.js';
import type { Commit } from '../../../dev-server/engine/commit.js';
import { RedisServer } from '../../support/redis-server.js';

const ENV: EnvironmentRef = { client: 'acme', name: 'production' };

let redis: RedisServer;
let prefixCount = 0;
let cleanups: (() => unknown)[] = [];

before(async () => {
  redis = await RedisServer.start();
});
after(() => redis?.stop());
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** `count` logs ("processes") on one fresh key prefix; errors they report are collected. */
async function processes(count: number, options: Partial<RedisEnvironmentLogOptions> = {}) {
  const keyPrefix = `t${process.pid}-${++prefixCount}:`;
  const errors: unknown[] = [];
  const logs: RedisEnvironmentLog[] = [];
  for (let i = 0; i < count; i++) {
    const log = await RedisEnvironmentLog.connect({
      url: redis.url,
      keyPrefix,
      onError: (error) => errors.push(error),
      ...options,
    });
    cleanups.push(() => log.close());
    logs.push(log);
  }
  return { logs, errors, keys: environmentKeys(keyPrefix, ENV) };
}

/** A custom event; `n` tells commits apart. */
function draft(n: number, padding = ''): CommitDraft {
  return { kind: 'event', timestamp: '2026-01-01T00:00:00.000Z', topic: 'ticks', data: { n, padding } };
}

/** A follower's listener that keeps what it is told. */
function recorder() {
  const deliveries: Commit[][] = [];
  const resets: { position: LogPosition; reason: ResetReason }[] = [];
  return {
    deliveries,
    resets,
    listener: {
      onCommits: (commits: readonly Commit[]) => void deliveries.push([...commits]),
      onReset: (position: LogPosition, reason: ResetReason) => void resets.push({ position, reason }),
    },
    /** The seqs delivered, in delivery order. */
    seqs: () => deliveries.flat().map((commit) => commit.seq),
  };
}

async function until(what: string, condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const dataOf = (commit: Commit | undefined) => (commit as { data: { n: number } } | undefined)?.data.n;

describe('sequencing across processes', () => {
  it('gives dense seqs 1..N to three concurrent appenders, and every follower sees each once, in order', async () => {
    const { logs } = await processes(3);
    const start = await logs[0]!.current(ENV);
    assert.equal(start.seq, 0);
    const followers = logs.map(() => recorder());
    await Promise.all(logs.map((log, i) => log.follow(ENV, start, followers[i]!.listener)));

    const N = 300;
    const appended = await Promise.all(range(1, N).map((n) => logs[n % 3]!.append(ENV, draft(n))));
    assert.deepEqual(
      appended.map((a) => a.seq).sort((a, b) => a! - b!),
      range(1, N),
    );
    assert.deepEqual(new Set(appended.map((a) => a.epoch)), new Set([start.epoch]));
    const nBySeq = new Map(appended.map((a, i) => [a.seq, i + 1]));

    for (const follower of followers) {
      await until('every commit', () => follower.seqs().length >= N);
      assert.deepEqual(follower.seqs(), range(1, N));
      for (const commit of follower.deliveries.flat()) assert.equal(dataOf(commit), nBySeq.get(commit.seq));
      assert.deepEqual(follower.resets, []);
    }
  });

  it('appends a batch as consecutive seqs, delivered together, while other processes append', async () => {
    const { logs } = await processes(2);
    const follower = recorder();
    await logs[1]!.follow(ENV, await logs[1]!.current(ENV), follower.listener);

    const [batch] = await Promise.all([
      logs[0]!.appendAll(
        ENV,
        range(1, 5).map((n) => draft(100 + n)),
      ),
      ...range(1, 10).map((n) => logs[1]!.append(ENV, draft(n))),
    ]);
    const first = batch.seqs[0]!;
    assert.deepEqual(batch.seqs, range(first, first + 4));

    await until('15 commits', () => follower.seqs().length >= 15);
    assert.deepEqual(follower.seqs(), range(1, 15));
    const together = follower.deliveries.find((commits) => commits.some((c) => c.seq === first));
    assert.deepEqual(
      together?.filter((c) => c.seq >= first && c.seq < first + 5).map(dataOf),
      [101, 102, 103, 104, 105],
    );
  });

  it('keeps separate sequences for separate environments and key prefixes', async () => {
    const one = await processes(1);
    const two = await processes(1);
    await one.logs[0]!.append(ENV, draft(1));
    await one.logs[0]!.append(ENV, draft(2));
    assert.equal((await one.logs[0]!.append({ client: 'globex', name: 'production' }, draft(1))).seq, 1);
    assert.equal((await two.logs[0]!.append(ENV, draft(1))).seq, 1);
  });

  it('skips a commit whose marker is not after the last one, taking no seq', async () => {
    const { logs } = await processes(1);
    const log = logs[0]!;
    const at = (lsn: number) => lsn.toString(16).toUpperCase().padStart(16, '0');
    assert.deepEqual(
      (await log.appendAll(ENV, [draft(1), draft(2)], { markers: [at(0x9f), at(0xa0)] })).seqs,
      [1, 2],
    );
    // A source re-sending after a takeover: the first two are known, the third is new.
    const again = await log.appendAll(ENV, [draft(1), draft(2), draft(3)], {
      markers: [at(0x9f), at(0xa0), at(0x100)],
    });
    assert.deepEqual(again.seqs, [null, null, 3]);
    assert.equal((await log.append(ENV, draft(4), { marker: at(0xff) })).seq, null);
    assert.equal((await log.append(ENV, draft(4))).seq, 4);
  });

  it('refuses a client or environment name that could not be a key, and writes nothing', async () => {
    const { logs } = await processes(1);
    await assert.rejects(logs[0]!.append({ client: 'acme}', name: 'production' }, draft(1)), TypeError);
    await assert.rejects(logs[0]!.append({ client: 'acme', name: 'prod/x' }, draft(1)), TypeError);
    await assert.rejects(logs[0]!.appendAll(ENV, []), RangeError);
    assert.equal((await logs[0]!.current(ENV)).seq, 0);
  });
});

describe('gaps in live delivery', () => {
  it('catches up from history when the subscriber connection is killed while appends go on', async () => {
    const { logs, keys } = await processes(2);
    const follower = recorder();
    await logs[1]!.follow(ENV, await logs[1]!.current(ENV), follower.listener);
    for (const n of range(1, 20)) await logs[0]!.append(ENV, draft(n));
    await until('the first 20', () => follower.seqs().length >= 20);

    // The subscriber cannot come back until `readmit()`: what is published meanwhile is lost to
    // pub/sub, and only history can bring it.
    const { killed, readmit } = await redis.cutSubscribers();
    try {
      assert.equal(killed, 1);
      await Promise.all(range(21, 40).map((n) => logs[n % 2]!.append(ENV, draft(n))));
      assert.equal(follower.seqs().length, 20, 'nothing arrives while the subscriber is away');
    } finally {
      await readmit();
    }
    await until('the 20 lost ones, without another commit', () => follower.seqs().length >= 40);
    const [, subscribers] = (await redis.command('PUBSUB', 'NUMSUB', keys.live)) as [string, number];
    assert.equal(subscribers, 1, 'node-redis subscribed again by itself');
    assert.ok(
      follower.deliveries.some((commits) => commits.length > 1 && commits[0]!.seq > 20),
      'each append went out as a message of its own: a delivery of several came from history',
    );
    for (const n of range(41, 60)) await logs[0]!.append(ENV, draft(n));
    await until('all 60', () => follower.seqs().length >= 60);
    assert.deepEqual(follower.seqs(), range(1, 60));
    assert.deepEqual(follower.deliveries.flat().map(dataOf).slice(0, 20), range(1, 20));
    assert.deepEqual(
      follower.deliveries
        .flat()
        .map(dataOf)
        .slice(20, 40)
        .sort((a, b) => a! - b!),
      range(21, 40),
    );
    assert.deepEqual(follower.deliveries.flat().map(dataOf).slice(40), range(41, 60));
  });

  it('fills a gap from history before it delivers the newer commit', async () => {
    const { logs, keys } = await processes(1, { positionCheckMs: 60_000 });
    const follower = recorder();
    await logs[0]!.follow(ENV, await logs[0]!.current(ENV), follower.listener);
    await logs[0]!.append(ENV, draft(1));
    // Two commits whose messages never went out (as if lost on the way), then a normal one.
    await lostAppend(keys, 2);
    await lostAppend(keys, 3);
    await logs[0]!.append(ENV, draft(4));
    await until('4 commits', () => follower.seqs().length >= 4);
    assert.deepEqual(follower.seqs(), [1, 2, 3, 4]);
    assert.deepEqual(follower.deliveries.flat().map(dataOf), [1, 2, 3, 4]);
  });

  it('notices a lost message at the next position check when nothing else arrives', async () => {
    const { logs, keys } = await processes(1, { positionCheckMs: 100 });
    const follower = recorder();
    await logs[0]!.follow(ENV, await logs[0]!.current(ENV), follower.listener);
    await logs[0]!.append(ENV, draft(1));
    await lostAppend(keys, 2);
    await until('the lost commit', () => follower.seqs().length >= 2, 2000);
    assert.deepEqual(follower.seqs(), [1, 2]);
  });

  it('catches up from a position given to follow, and goes on live', async () => {
    const { logs } = await processes(2);
    for (const n of range(1, 7)) await logs[0]!.append(ENV, draft(n));
    const follower = recorder();
    const position = await logs[1]!.follow(
      ENV,
      await logs[0]!.current(ENV).then((p) => ({ ...p, seq: 3 })),
      follower.listener,
    );
    assert.equal(position.seq, 7);
    assert.deepEqual(follower.seqs(), [4, 5, 6, 7]);
    await logs[0]!.append(ENV, draft(8));
    await until('seq 8', () => follower.seqs().length >= 5);
    assert.deepEqual(follower.seqs(), [4, 5, 6, 7, 8]);
  });

  it('resets at an entry it cannot read, and delivers what follows', async () => {
    const { logs, keys } = await processes(1, { positionCheckMs: 100 });
    const follower = recorder();
    await logs[0]!.follow(ENV, await logs[0]!.current(ENV), follower.listener);
    await logs[0]!.append(ENV, draft(1));
    await lostAppend(keys, 2, '{"kind":"telepathy"}');
    await logs[0]!.append(ENV, draft(3));
    await until('seq 3', () => follower.seqs().includes(3));
    assert.deepEqual(follower.seqs(), [1, 3]);
    assert.deepEqual(
      follower.resets.map((r) => [r.position.seq, r.reason]),
      [[2, 'unreadable']],
    );
    const resume = await logs[0]!.readSince(ENV, 1);
    assert.equal(resume.reset && resume.reason, 'unreadable');
  });
});

describe('history and resume', () => {
  it('keeps the last historySize commits; a resume from before them is a reset', async () => {
    const { logs, keys } = await processes(1, { historySize: 5 });
    const log = logs[0]!;
    for (const n of range(1, 12)) await log.append(ENV, draft(n));
    assert.equal(await redis.command('XLEN', keys.hist), 5);
    const { epoch } = await log.current(ENV);

    const resumed = await log.readSince(ENV, 7, epoch);
    assert.equal(resumed.reset, false);
    assert.deepEqual(!resumed.reset && resumed.commits.map((c) => [c.seq, dataOf(c)]), [
      [8, 8],
      [9, 9],
      [10, 10],
      [11, 11],
      [12, 12],
    ]);
    assert.deepEqual(await log.readSince(ENV, 6, epoch), {
      reset: true,
      epoch,
      seq: 12,
      reason: 'truncated',
    });
    assert.deepEqual(await log.readSince(ENV, 12, epoch), { reset: false, epoch, seq: 12, commits: [] });
    assert.deepEqual(await log.readSince(ENV, 13, epoch), { reset: true, epoch, seq: 12, reason: 'ahead' });
    assert.deepEqual(await log.readSince(ENV, 10, 'e_another'), {
      reset: true,
      epoch,
      seq: 12,
      reason: 'epoch',
    });
    assert.equal((await log.readSince(ENV, 10)).reset, false, 'a since without epoch is in the current one');
  });

  it('keeps at most historyBytes of commits, and always the newest one', async () => {
    const { logs, keys } = await processes(1, { historyBytes: 1000 });
    const log = logs[0]!;
    const size = JSON.stringify(draft(10, 'x'.repeat(200))).length;
    for (const n of range(10, 19)) await log.append(ENV, draft(n, 'x'.repeat(200)));
    // Seqs 1..10, of `size` bytes each: the last `kept` stay.
    const kept = Math.floor(1000 / size);
    assert.equal(await redis.command('XLEN', keys.hist), kept);
    assert.equal(Number(await redis.command('HGET', keys.meta, 'bytes')), kept * size);
    assert.equal((await log.readSince(ENV, 10 - kept)).reset, false);
    assert.equal((await log.readSince(ENV, 9 - kept)).reset, true);

    await log.append(ENV, draft(20, 'y'.repeat(5000)));
    assert.equal(await redis.command('XLEN', keys.hist), 1);
    const last = await log.readSince(ENV, 10);
    assert.deepEqual(!last.reset && last.commits.map(dataOf), [20]);
  });

  it('pages a long resume and a long catch-up', async () => {
    const { logs } = await processes(2, { pageSize: 7 });
    const start = await logs[0]!.current(ENV);
    await logs[0]!.appendAll(
      ENV,
      range(1, 50).map((n) => draft(n)),
    );
    const resumed = await logs[0]!.readSince(ENV, 0, start.epoch);
    assert.deepEqual(!resumed.reset && resumed.commits.map((c) => c.seq), range(1, 50));
    const follower = recorder();
    await logs[1]!.follow(ENV, start, follower.listener);
    assert.deepEqual(follower.seqs(), range(1, 50));
  });
});

describe('Redis losing its data', () => {
  it('FLUSHALL: the next append starts a new epoch at seq 1, and followers are told to reset', async () => {
    const { logs } = await processes(2);
    const follower = recorder();
    const before = await logs[1]!.follow(ENV, await logs[1]!.current(ENV), follower.listener);
    for (const n of range(1, 5)) await logs[0]!.append(ENV, draft(n));
    await until('5 commits', () => follower.seqs().length >= 5);

    await redis.flushAll();
    const next = await logs[0]!.append(ENV, draft(6));
    assert.equal(next.seq, 1);
    assert.notEqual(next.epoch, before.epoch);
    await until('the reset', () => follower.resets.length > 0);
    assert.deepEqual(follower.resets, [{ position: { epoch: next.epoch, seq: 1 }, reason: 'epoch' }]);
    assert.deepEqual((await logs[0]!.readSince(ENV, 5, before.epoch)).reset, true);

    await logs[0]!.append(ENV, draft(7));
    await until('the commit after the reset', () => follower.seqs().length >= 6);
    assert.deepEqual(follower.seqs(), [1, 2, 3, 4, 5, 2]);
    assert.equal(dataOf(follower.deliveries.at(-1)?.[0]), 7);
  });

  it('FLUSHALL with no append after it: the position check gives a new epoch and resets', async () => {
    const { logs } = await processes(1, { positionCheckMs: 100 });
    const follower = recorder();
    const before = await logs[0]!.follow(ENV, await logs[0]!.current(ENV), follower.listener);
    await logs[0]!.append(ENV, draft(1));
    await until('1 commit', () => follower.seqs().length >= 1);
    await redis.flushAll();
    await until('the reset', () => follower.resets.length > 0, 2000);
    const now = await logs[0]!.current(ENV);
    assert.notEqual(now.epoch, before.epoch);
    assert.deepEqual(follower.resets, [{ position: now, reason: 'epoch' }]);
  });

  it('Redis behind the last delivered commit in the same epoch: a new epoch for everyone', async () => {
    const { logs, keys } = await processes(2, { positionCheckMs: 100 });
    const follower = recorder();
    const before = await logs[1]!.follow(ENV, await logs[1]!.current(ENV), follower.listener);
    for (const n of range(1, 5)) await logs[0]!.append(ENV, draft(n));
    await until('5 commits', () => follower.seqs().length >= 5);
    // What a restart from an AOF that lacks the last two writes leaves.
    await redis.command('XTRIM', keys.hist, 'MAXLEN', '3');
    await redis.command('XDEL', keys.hist, '4-0', '5-0');
    await redis.command('HSET', keys.meta, 'seq', '3');

    await until('the reset', () => follower.resets.length > 0, 2000);
    const [reset] = follower.resets;
    assert.equal(reset?.reason, 'rewound');
    assert.notEqual(reset?.position.epoch, before.epoch);
    assert.equal((await logs[0]!.append(ENV, draft(6))).epoch, reset?.position.epoch);
    assert.equal((await logs[0]!.readSince(ENV, 5, before.epoch)).reset, true);
  });
});

describe('Redis unreachable', () => {
  it('rejects at once while Redis is down, without crashing, and works again after a restart', async () => {
    const { logs, errors } = await processes(2, { positionCheckMs: 200 });
    const follower = recorder();
    const before = await logs[1]!.follow(ENV, await logs[1]!.current(ENV), follower.listener);
    await logs[0]!.append(ENV, draft(1));
    await until('1 commit', () => follower.seqs().length >= 1);

    await redis.kill();
    for (const call of [
      () => logs[0]!.append(ENV, draft(2)),
      () => logs[0]!.append(ENV, draft(3)),
      () => logs[0]!.current(ENV),
      () => logs[0]!.readSince(ENV, 0),
      () => logs[0]!.follow({ client: 'acme', name: 'staging' }, undefined, recorder().listener),
    ]) {
      const started = performance.now();
      await assert.rejects(call(), ClusterUnavailableError);
      assert.ok(performance.now() - started < 100, `rejected after ${performance.now() - started} ms`);
    }
    assert.equal(logs[0]!.available, false);
    await new Promise((resolve) => setTimeout(resolve, 500)); // several reconnect attempts
    assert.ok(
      errors.every((error) => error instanceof ClusterUnavailableError),
      `errors reported: ${errors.map(String).join('; ')}`,
    );
    assert.ok(errors.length <= 4, `${errors.length} errors reported: one per connection and outage`);

    await redis.restart();
    await until('both logs back', () => logs.every((log) => log.available), 3000);
    const next = await logs[0]!.append(ENV, draft(4));
    assert.equal(next.seq, 1);
    assert.notEqual(next.epoch, before.epoch);
    await until('the reset', () => follower.resets.length > 0, 3000);
    assert.equal(follower.resets[0]?.position.epoch, next.epoch);
    await logs[0]!.append(ENV, draft(5));
    await until('the commit after the restart', () => dataOf(follower.deliveries.at(-1)?.at(-1)) === 5);
    const staging = recorder();
    await logs[0]!.follow({ client: 'acme', name: 'staging' }, undefined, staging.listener);
  });

  it('rejects after commandTimeoutMs while Redis hangs', async () => {
    const { logs } = await processes(1, { commandTimeoutMs: 300 });
    await logs[0]!.append(ENV, draft(1));
    await redis.pause(1000);
    const started = performance.now();
    await assert.rejects(logs[0]!.append(ENV, draft(2)), ClusterUnavailableError);
    const waited = performance.now() - started;
    assert.ok(waited >= 250 && waited < 800, `rejected after ${waited} ms`);
    await new Promise((resolve) => setTimeout(resolve, 800));
    // The timed-out append ran once Redis went on: a timeout does not say "not applied".
    assert.equal((await logs[0]!.append(ENV, draft(3))).seq, 3);
  });

  it('refuses to connect to a Redis that is not there', async () => {
    const started = performance.now();
    await assert.rejects(
      RedisEnvironmentLog.connect({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 300, onError: () => {} }),
      ClusterUnavailableError,
    );
    assert.ok(performance.now() - started < 1000, `refused after ${performance.now() - started} ms`);
  });
});

/** Appends a commit to history without publishing it, as if its message were lost on the way. */
async function lostAppend(
  keys: ReturnType<typeof environmentKeys>,
  seq: number,
  payload?: string,
): Promise<void> {
  const { kind: _kind, ...rest } = draft(seq);
  await redis.command(
    'XADD',
    keys.hist,
    `${seq}-0`,
    'd',
    payload ?? JSON.stringify({ kind: 'event', ...rest }),
  );
  await redis.command('HSET', keys.meta, 'seq', String(seq));
}
