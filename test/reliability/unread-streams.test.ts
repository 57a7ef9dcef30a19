/**
 * Issue 13, item 5 (SSE): memory held for readers who never read. The dev server CLI runs in a
 * child process (its audit on standard output); SSE streams are opened on raw sockets that never
 * read (test/support/unread-stream.ts) while large events flow to them, so their buffers fill.
 *
 * Each stream must be closed with 4009, and its socket ended within the close grace (1 s): the
 * server's `/healthz` counts it until then (the quota holds its place while its socket holds
 * memory) and not after; each client, reading again, finds its socket ended by the server. The
 * server's resident memory stays within the buffers it may hold, and a bystander's ticks keep
 * their latency. The issue saw 20 such streams hold their sockets for 70 s+ and RSS go 127 → 454 MiB.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AuditRecordSchema, type AuditRecord } from '../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../support/cli-process.js';
import { getToken, rest, sleep } from '../support/raw-client.js';
import { KEYS, connectionCount, startTestServer } from '../support/test-server.js';
import { UnreadStream } from '../support/unread-stream.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { liveBytes, mib } from './support/memory-probe.js';
import { percentile } from './support/percentile.js';
import { startSampledCli } from './support/sampled-cli.js';
import { SCALE, scaled } from './support/scale.js';
import { TickListener, tick } from './support/tick-probe.js';
import { TopicPublisher } from './support/topic-publisher.js';

const WRITER_KEY = 'sk_unread_writer';
const READER_KEY = 'pk_unread_reader';
const MiB = 2 ** 20;
/** The server's close grace (dev-server/node/sse-transport.ts), and what a loaded machine adds to it. */
const GRACE_MS = 1000;
const SLACK_MS = 1000;

const SIZE = scaled({
  short: { streams: 5, maxBufferedBytes: 1 * MiB, floodBytes: 32 * 1024, bystanders: 2, rounds: 2 },
  // 8 MiB: the default.
  full: { streams: 20, maxBufferedBytes: 8 * MiB, floodBytes: 64 * 1024, bystanders: 5, rounds: 3 },
});

/** The audit records the CLI has written to standard output so far. */
function audit(cli: CliProcess): AuditRecord[] {
  return cli.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => AuditRecordSchema.parse(JSON.parse(line)));
}

const round1 = (x: number) => Math.round(x * 10) / 10;

describe('SSE streams that are never read', () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it(
    'closes each with 4009 and ends its socket within the grace; the quota counts it until then; memory and bystanders hold',
    { timeout: scaled({ short: 60_000, full: 240_000 }) },
    async () => {
      const started = Date.now();
      const dir = tempDir('catalyst-reliability-unread-');
      cleanups.push(() => dir.remove());
      const key = (k: string, role: string) => ({ key: k, client: 'acme', environment: 'production', role });
      const config = writeJson(dir.file('config.json'), {
        allowedOrigins: ['*'],
        // A short history: the flood's events would otherwise stay in it whoever reads them.
        limits: { maxBufferedBytes: SIZE.maxBufferedBytes, historySize: 100 },
        keys: [key(WRITER_KEY, 'secret'), key(READER_KEY, 'publishable')],
        objects: ['orders'],
      });
      const { cli, url, memory } = await startSampledCli(config, '-', cleanups);

      const bystanders = await Promise.all(
        Array.from({ length: SIZE.bystanders }, () => TickListener.open(url, READER_KEY, 'ticks')),
      );
      const ticker = new TopicPublisher(url, WRITER_KEY, 'ticks', 10, tick);
      const subscriptions = encodeURIComponent(JSON.stringify([{ id: 'flood', channel: 'events:flood' }]));
      const streams = await Promise.all(
        Array.from({ length: SIZE.streams }, async () => {
          const token = await getToken({ url }, READER_KEY);
          const path = `/sse/events/object-records/?token=${token}&subscriptions=${subscriptions}`;
          return UnreadStream.open(url, path);
        }),
      );
      cleanups.push(() => streams.forEach((s) => s.destroy()));
      const everyone = SIZE.streams + SIZE.bystanders;
      for (let i = 0; i < 500 && (await connectionCount({ url })) < everyone; i++) await sleep(10);
      const rssBefore = memory.samples.at(-1)?.rss ?? NaN;

      // The flood, until every stream was closed with 4009 (or long past when it should have been).
      const pad = { pad: 'x'.repeat(SIZE.floodBytes) };
      const flood = new TopicPublisher(url, WRITER_KEY, 'flood', 1, () => pad);
      const sseIds = () =>
        new Set(
          audit(cli)
            .filter((r) => r.type === 'connect' && r.details.transport === 'sse')
            .map((r) => r.connectionId),
        );
      const closes = () =>
        audit(cli).filter(
          (r) => r.type === 'session.suspended' && r.details.code === 4009 && sseIds().has(r.connectionId),
        );
      /** `/healthz` right after each new 4009: a closed stream still counts while its socket lives. */
      const countedAfterClose: number[] = [];
      const deadline = Date.now() + scaled({ short: 30_000, full: 120_000 });
      let seen = 0;
      while (seen < SIZE.streams && Date.now() < deadline) {
        await sleep(20);
        const now = closes().length;
        if (now > seen) countedAfterClose.push(await connectionCount({ url }));
        seen = now;
      }
      const closeTimes = closes().map((r) => Date.parse(r.time));
      const lastClose = Math.max(...closeTimes);
      // The streams' places are given back once their sockets are cut: within the grace.
      let countedUntil = Date.now();
      while ((await connectionCount({ url })) > SIZE.bystanders && Date.now() < lastClose + 10_000) {
        await sleep(20);
        countedUntil = Date.now();
      }
      const released = (await connectionCount({ url })) === SIZE.bystanders;
      await flood.stop();
      await ticker.stop();
      const samples = memory.stop();
      const rssPeak = Math.max(...samples.map((s) => s.rss));
      const rssAfter = samples.at(-1)?.rss ?? NaN;

      // Reading again, each client finds its socket already ended by the server.
      for (const stream of streams) stream.resume();
      const endedBy = await Promise.all(streams.map((s) => s.waitForClose(5000)));
      const bytesSent = streams.reduce((n, s) => n + s.bytes, 0);
      const lastTick = Math.max(...ticker.published.map((p) => p.seq));
      for (const b of bystanders) {
        for (let i = 0; i < 300 && !b.seqs().includes(lastTick); i++) await sleep(10);
      }
      const latencies = bystanders.flatMap((b) => b.samples.map((s) => s.ms));
      const ticks = ticker.published.length;
      const lost = bystanders.reduce(
        (n, b) => n + ticker.published.filter((p) => !b.seqs().includes(p.seq)).length,
        0,
      );
      const problems = bystanders.flatMap((b, i) =>
        b.client.closed ? [`bystander ${i} was closed: ${JSON.stringify(b.client.closed)}`] : [],
      );
      const exited = cli.child.exitCode !== null || cli.child.signalCode !== null;
      const floodMiB = mib(flood.published.reduce((n, f) => n + f.bytes, 0));
      const memoryBound = rssBefore + SIZE.streams * SIZE.maxBufferedBytes * 2 + 96 * MiB;

      recordFigures({
        area: 'hardening',
        test: `${SIZE.streams} SSE streams never read, maxBufferedBytes ${mib(SIZE.maxBufferedBytes)} MiB`,
        scale: SCALE,
        load: `${floodMiB} MiB of ${SIZE.floodBytes / 1024} KiB events to ${SIZE.streams} unread SSE streams; ${ticks} ticks to ${SIZE.bystanders} bystanders`,
        faults: closeTimes.length,
        badInputs: SIZE.streams,
        lost,
        duplicated: 0,
        leaked: 0,
        crashes: exited ? 1 : 0,
        seconds: secondsSince(started),
        bystanderP99Ms: round1(percentile(latencies, 99)),
        rssMiB: { before: mib(rssBefore), after: mib(rssPeak) },
        bytesSent,
        notes:
          `${closeTimes.length} of ${SIZE.streams} closed with 4009; their places in the quota given back ${countedUntil - lastClose} ms after the last close (grace ${GRACE_MS} ms); ` +
          `/healthz right after each close: ${countedAfterClose.join(', ')} (${everyone} open); ` +
          `${endedBy.filter((t) => t !== undefined).length} sockets found ended on reading again (bytes sent: what they read then); server RSS at the end ${mib(rssAfter)} MiB (bound ${mib(memoryBound)} MiB)`,
      });

      assert.equal(exited, false, 'the server is still up');
      assert.deepEqual(problems, []);
      assert.equal(closeTimes.length, SIZE.streams, 'every unread stream was closed with 4009');
      assert.equal(
        countedAfterClose[0],
        everyone,
        `a closed stream counts until its socket is gone: /healthz said ${countedAfterClose.join(', ')}`,
      );
      assert.ok(released, 'the closed streams stopped counting');
      assert.ok(
        countedUntil - lastClose <= GRACE_MS + SLACK_MS,
        `sockets ended ${countedUntil - lastClose} ms after the last close (grace ${GRACE_MS} ms)`,
      );
      assert.ok(
        endedBy.every((t) => t !== undefined),
        'every socket was ended by the server',
      );
      assert.ok(rssPeak <= memoryBound, `the server's memory stayed bounded (${mib(rssPeak)} MiB)`);
      assert.equal(lost, 0, 'every tick reached every bystander');
      assert.ok(percentile(latencies, 99) < 500, `bystander p99 ${round1(percentile(latencies, 99))} ms`);
    },
  );
  it('gives back what unread streams held once their sockets are cut: live memory is flat round after round', async () => {
    const started = Date.now();
    const server = await startTestServer({
      limits: {
        maxBufferedBytes: 8 * MiB,
        historySize: 100,
        flushIntervalMs: 0,
        maxConnectionsPerClient: 1000,
      },
    });
    cleanups.push(() => server.close());
    let closed = 0;
    server.on('session.suspended', (r) => {
      if (r.details.code === 4009) closed++;
    });
    const subscriptions = encodeURIComponent(JSON.stringify([{ id: 'flood', channel: 'events:flood' }]));
    const pad = { pad: 'x'.repeat(64 * 1024) };
    const before = liveBytes();
    const live: number[] = [];
    for (let round = 0; round < SIZE.rounds; round++) {
      const streams = await Promise.all(
        Array.from({ length: SIZE.streams }, async () => {
          const token = await getToken(server, KEYS.acmePublic);
          return UnreadStream.open(
            server.url,
            `/sse/events/object-records/?token=${token}&subscriptions=${subscriptions}`,
          );
        }),
      );
      cleanups.push(() => streams.forEach((st) => st.destroy()));
      for (let i = 0; i < 500 && (await connectionCount(server)) < SIZE.streams; i++) await sleep(10);
      const target = closed + SIZE.streams;
      const deadline = Date.now() + 60_000;
      while (closed < target && Date.now() < deadline) {
        await rest(server, 'POST', '/api/events/flood', { key: KEYS.acmeSecret, body: pad });
      }
      for (let i = 0; i < 500 && (await connectionCount(server)) > 0; i++) await sleep(10);
      live.push(liveBytes());
      for (const stream of streams) stream.destroy();
    }
    const held = SIZE.streams * 8 * MiB;
    recordFigures({
      area: 'hardening',
      test: `${SIZE.rounds} rounds of ${SIZE.streams} unread SSE streams: memory kept`,
      scale: SCALE,
      load: `${SIZE.rounds} × ${SIZE.streams} SSE streams never read, each closed with 4009 at maxBufferedBytes 8 MiB`,
      faults: closed,
      badInputs: SIZE.rounds * SIZE.streams,
      lost: 0,
      duplicated: 0,
      leaked: 0,
      crashes: 0,
      seconds: secondsSince(started),
      notes: `live memory after full GCs: ${mib(before)} MiB before, ${live.map(mib).join(', ')} MiB after each round's sockets were cut (each round had ${mib(held)} MiB waiting for its readers)`,
    });
    assert.equal(closed, SIZE.rounds * SIZE.streams, 'every unread stream was closed with 4009');
    for (const [i, bytes] of live.entries()) {
      assert.ok(
        bytes - before < 32 * MiB,
        `after round ${i + 1} the server still holds ${mib(bytes - before)} MiB more than before`,
      );
    }
  });
});
