/**
 * Issue 8, item 4: slow consumers. The dev server CLI runs in a child process with its audit on
 * standard output; a flood of large custom events goes to a few consumers while bystanders time
 * small ticks published beside it. In the calm phase the flood's consumers read; in the slow
 * phase they stop reading (their TCP sockets are paused), and each one the server closes is
 * replaced by another that stops reading too, so the server always has that many slow ones.
 *
 * Each slow consumer must be closed with 4009 (the server's audit says so, and the client, once
 * it reads again, gets the close frame) once about `maxBufferedBytes` is waiting for it — not
 * before, and not megabytes later; no reading consumer is ever closed; the server's resident
 * memory (sampled, and its high-water mark) stays within a bound of the buffers it may hold; and
 * the bystanders' p99 latency in the slow phase stays close to the calm phase's, with every tick
 * received once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AuditRecordSchema, type AuditRecord } from '../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../support/cli-process.js';
import { sleep } from '../support/raw-client.js';
import { delivery } from './support/delivery.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { FloodConsumer } from './support/flood-consumer.js';
import { mib } from './support/memory-probe.js';
import { percentile } from './support/percentile.js';
import type { MemorySample } from './support/process-memory.js';
import { startSampledCli } from './support/sampled-cli.js';
import { SCALE, scaled } from './support/scale.js';
import { TickListener, tick, type TickSample } from './support/tick-probe.js';
import { TopicPublisher } from './support/topic-publisher.js';

const WRITER_KEY = 'sk_slow_writer';
const READER_KEY = 'pk_slow_reader';
const MiB = 2 ** 20;

const SIZE = scaled({
  short: {
    maxBufferedBytes: 1 * MiB,
    slow: 1,
    bystanders: 5,
    rounds: 1,
    calmMs: 2500,
    slowMs: 4000,
    floodBytes: 32 * 1024,
  },
  full: {
    maxBufferedBytes: 8 * MiB, // the default
    slow: 4,
    bystanders: 20,
    rounds: 2,
    calmMs: 6000,
    slowMs: 10_000,
    floodBytes: 64 * 1024,
  },
});
/** What the kernel's socket buffers on both ends may hold beyond the server's own buffer. */
const KERNEL_SLACK = 16 * MiB;

/** The audit records the CLI has written to standard output so far. */
function audit(cli: CliProcess): AuditRecord[] {
  return cli.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => AuditRecordSchema.parse(JSON.parse(line)));
}

/** The connections the server closed with `code`: connection id → when (`Date.now()` time). */
function closedWith(cli: CliProcess, code: number): Map<string, number> {
  return new Map(
    audit(cli)
      .filter((r) => r.type === 'session.suspended' && r.details.code === code)
      .map((r) => [r.connectionId, Date.parse(r.time)]),
  );
}

/** Samples taken within any of the windows. */
function within<T extends { at: number }>(samples: readonly T[], windows: readonly [number, number][]): T[] {
  return samples.filter((s) => windows.some(([from, to]) => s.at >= from && s.at <= to));
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** `min–max` of some figures. */
const range = (values: number[]) =>
  values.length ? `${Math.min(...values)}–${Math.max(...values)}` : 'none';

describe('slow consumers', () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it(
    'closes each with 4009 at maxBufferedBytes; memory stays bounded and bystanders keep their latency',
    { timeout: scaled({ short: 90_000, full: 300_000 }) },
    async () => {
      const started = Date.now();
      const dir = tempDir('catalyst-reliability-slow-');
      cleanups.push(() => dir.remove());
      const key = (k: string, role: string) => ({ key: k, client: 'acme', environment: 'production', role });
      const config = writeJson(dir.file('config.json'), {
        allowedOrigins: ['*'],
        // A short history: the default keeps the last 10 000 events, which for a flood of 64 KiB
        // events is hundreds of MiB that would grow with the flood whoever reads it.
        limits: { maxBufferedBytes: SIZE.maxBufferedBytes, maxConnectionsPerClient: 1000, historySize: 100 },
        keys: [key(WRITER_KEY, 'secret'), key(READER_KEY, 'publishable')],
        objects: ['orders'],
      });
      const { cli, url, memory } = await startSampledCli(config, '-', cleanups);

      const bystanders = await Promise.all(
        Array.from({ length: SIZE.bystanders }, () => TickListener.open(url, READER_KEY, 'ticks')),
      );
      const ticker = new TopicPublisher(url, WRITER_KEY, 'ticks', 10, tick);
      const pad = { pad: 'x'.repeat(SIZE.floodBytes) };
      const flood = new TopicPublisher(url, WRITER_KEY, 'flood', 2, () => pad);
      const open = () => FloodConsumer.open(url, READER_KEY, 'events:flood');

      const calm: [number, number][] = [];
      const slowWindows: [number, number][] = [];
      const readers: FloodConsumer[] = [];
      /** Each slow consumer closed: bytes published while it was paused, and what its client saw. */
      const closes: { sentBytes: number; afterMs: number; clientCode: number | undefined }[] = [];
      const problems: string[] = [];
      for (let round = 0; round < SIZE.rounds; round++) {
        const calmStart = Date.now();
        const fast = await Promise.all(Array.from({ length: SIZE.slow }, open));
        readers.push(...fast);
        await sleep(SIZE.calmMs);
        calm.push([calmStart, Date.now()]);
        for (const reader of fast) reader.terminate();

        const slowStart = Date.now();
        const openSlow = async () => {
          const consumer = await open();
          consumer.pause();
          return { consumer, pausedAt: Date.now() };
        };
        let slow = await Promise.all(Array.from({ length: SIZE.slow }, openSlow));
        const reading: Promise<void>[] = [];
        // The phase lasts slowMs, and longer on a busy machine until each slow one was closed once.
        let closedNow = 0;
        const phaseOn = () => {
          const elapsed = Date.now() - slowStart;
          return elapsed < SIZE.slowMs || (closedNow < SIZE.slow && elapsed < 6 * SIZE.slowMs);
        };
        while (phaseOn()) {
          await sleep(20);
          const closed = closedWith(cli, 4009);
          const done = slow.filter((s) => closed.has(s.consumer.connectionId));
          if (done.length === 0) continue;
          slow = slow.filter((s) => !done.includes(s));
          closedNow += done.length;
          for (const { consumer, pausedAt } of done) {
            const closedAt = closed.get(consumer.connectionId) as number;
            consumer.resume(); // within the server's grace: the close frame follows the backlog
            reading.push(
              consumer.waitForClose(5000).then((close) => {
                closes.push({
                  sentBytes: flood.bytesBetween(pausedAt, closedAt),
                  afterMs: closedAt - pausedAt,
                  clientCode: close?.code,
                });
              }),
            );
          }
          slow.push(...(await Promise.all(done.map(openSlow))));
        }
        await Promise.all(reading);
        slowWindows.push([slowStart, Date.now()]);
        for (const { consumer } of slow) consumer.terminate();
      }
      await flood.stop();
      await ticker.stop();
      const lastTick = Math.max(...ticker.published.map((p) => p.seq));
      await Promise.all(
        bystanders.map(async (b) => {
          for (let i = 0; i < 500 && !b.seqs().includes(lastTick) && !b.client.closed; i++) await sleep(10);
        }),
      );
      const samples: MemorySample[] = memory.stop();

      const readerCloses = readers.filter((r) => closedWith(cli, 4009).has(r.connectionId)).length;
      const ticks = ticker.published.map((p) => p.seq);
      const bystanderDelivery = bystanders.map((b) => delivery(ticks, b.seqs()));
      const lost = bystanderDelivery.reduce((n, d) => n + d.lost, 0);
      const duplicated = bystanderDelivery.reduce((n, d) => n + d.duplicated, 0);
      for (const [i, b] of bystanders.entries()) {
        if (b.client.closed) problems.push(`bystander ${i} was closed: ${JSON.stringify(b.client.closed)}`);
        if (b.client.invalid.length) problems.push(`bystander ${i} got invalid frames`);
      }
      const latency = (windows: [number, number][]) =>
        within(
          bystanders.flatMap((b): TickSample[] => b.samples),
          windows,
        ).map((s) => s.ms);
      const calmLatency = latency(calm);
      const slowLatency = latency(slowWindows);
      const p = (values: number[], q: number) => round1(percentile(values, q));
      const rss = (windows: [number, number][]) => Math.max(...within(samples, windows).map((s) => s.rss));
      const calmRss = rss(calm);
      const slowRss = rss(slowWindows);
      const highWater = Math.max(...samples.map((s) => s.peak));
      const memoryBound = calmRss + SIZE.slow * SIZE.maxBufferedBytes * 2 + 64 * MiB;
      const clientSaw4009 = closes.filter((c) => c.clientCode === 4009).length;
      const exited = cli.child.exitCode !== null || cli.child.signalCode !== null;
      const floodSeconds = (Date.now() - started) / 1000;
      const floodMiB = mib(flood.published.reduce((n, f) => n + f.bytes, 0));

      recordFigures({
        area: 'slow consumers',
        test: `${SIZE.slow} slow consumer${SIZE.slow > 1 ? 's' : ''} at once, maxBufferedBytes ${mib(SIZE.maxBufferedBytes)} MiB`,
        scale: SCALE,
        load: `${floodMiB} MiB of ${SIZE.floodBytes / 1024} KiB events to ${SIZE.slow} consumer${SIZE.slow > 1 ? 's' : ''} at a time; ${ticks.length} ticks to ${SIZE.bystanders} bystanders; ${SIZE.rounds} × (${SIZE.calmMs / 1000} s reading + ${SIZE.slowMs / 1000} s not reading)`,
        faults: closes.length,
        badInputs: 0,
        lost,
        duplicated,
        leaked: 0,
        crashes: exited ? 1 : 0,
        seconds: secondsSince(started),
        notes:
          `${closes.length} closed with 4009 (${clientSaw4009} clients read the 4009 close frame), ${readerCloses} reading consumers closed; ` +
          `sent while paused until the close: ${range(closes.map((c) => mib(c.sentBytes)))} MiB, in ${range(closes.map((c) => c.afterMs))} ms; ` +
          `bystander latency p50/p99 reading ${p(calmLatency, 50)}/${p(calmLatency, 99)} ms vs not reading ${p(slowLatency, 50)}/${p(slowLatency, 99)} ms; ` +
          `server RSS peak ${mib(calmRss)} MiB reading vs ${mib(slowRss)} MiB not reading (high-water ${mib(highWater)} MiB, bound ${mib(memoryBound)} MiB); flood ${round1(floodMiB / floodSeconds)} MiB/s`,
      });

      assert.equal(exited, false, 'the server is still up');
      assert.deepEqual(problems, []);
      assert.ok(closes.length >= SIZE.slow, `every slow consumer was closed with 4009 (${closes.length})`);
      assert.equal(readerCloses, 0, 'no consumer that reads is closed');
      for (const close of closes) {
        assert.ok(
          close.sentBytes >= SIZE.maxBufferedBytes,
          `closed after ${close.sentBytes} bytes, before the limit`,
        );
        assert.ok(
          close.sentBytes <= SIZE.maxBufferedBytes + KERNEL_SLACK,
          `closed only after ${mib(close.sentBytes)} MiB, far past the limit`,
        );
      }
      assert.equal(clientSaw4009, closes.length, 'each slow client, reading again, got the 4009 close frame');
      assert.deepEqual(
        { lost, duplicated },
        { lost: 0, duplicated: 0 },
        'every tick reached every bystander once',
      );
      assert.ok(highWater <= memoryBound, `the server's memory stayed bounded (${mib(highWater)} MiB)`);
      const calmP99 = percentile(calmLatency, 99);
      const slowP99 = percentile(slowLatency, 99);
      assert.ok(
        slowP99 <= Math.max(3 * calmP99, calmP99 + 100),
        `bystanders' p99 ${round1(slowP99)} ms with slow consumers vs ${round1(calmP99)} ms without`,
      );
    },
  );
});
