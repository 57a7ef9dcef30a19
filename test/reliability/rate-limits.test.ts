/**
 * Issue 13, item 4: rate limits. (a) A publishable key re-subscribes to a presence room as fast
 * as it can — the issue saw 5 200 re-subscribes in 0.9 s move `seq` by 10 400 and push every
 * other client's resume point out of history: now the frames past the burst get 4029 and the
 * connection is closed, `seq` moves by a bounded amount, and a reader that resumes from before
 * the storm still gets `resumed: true`. (b) A frame flood through the CLI with `--audit file` —
 * the issue saw 164 MB of audit in 15 s: flooding connections are closed with 4029, `message`
 * records are coalesced, and the audit stays within a small bound per connection; a client just
 * under the rate is never closed; bystanders keep their latency.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import {
  AuditRecordSchema,
  CODE,
  LIMIT_DEFAULTS,
  SERVER_BOUNDS,
  type AuditRecord,
} from '../../protocol/index.js';
import { CliProcess, REPO_ROOT, tempDir, writeJson } from '../support/cli-process.js';
import { RawClient, getToken, sleep } from '../support/raw-client.js';
import { recordFigures, secondsSince } from './support/figures.js';
import type { FloodCounts } from './support/flood-child.js';
import { mib } from './support/memory-probe.js';
import { percentile } from './support/percentile.js';
import { startSampledCli } from './support/sampled-cli.js';
import { SCALE, scaled } from './support/scale.js';
import { TickListener, tick } from './support/tick-probe.js';
import { TopicPublisher } from './support/topic-publisher.js';

const { maxMessagesPerSecond: RATE, maxMessageBurst: BURST } = LIMIT_DEFAULTS;
const round1 = (x: number) => Math.round(x * 10) / 10;
const key = (k: string, role: string) => ({ key: k, client: 'acme', environment: 'production', role });
const wsUrl = (url: string) => `${url.replace(/^http/, 'ws')}/ws/events/object-records/`;

const STORM = scaled({
  // A short history, so that the unlimited storm would push the resume point out of it.
  short: { frames: 1000, historySize: 1000 },
  full: { frames: 5200, historySize: LIMIT_DEFAULTS.historySize }, // the numbers
});

const FLOOD = scaled({
  short: { flooders: 3, calmMs: 1000, floodMs: 3000, bystanders: 2 },
  full: { flooders: 8, calmMs: 2000, floodMs: 15_000, bystanders: 5 },
});
/** Audit bytes a connection may cost: its records of connecting, closing, and one `message` per interval. */
const AUDIT_BYTES_PER_CONNECTION = 2048;
const AUDIT_BYTES_PER_INTERVAL = 512;

describe('rate limits', () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('(a) cuts a presence re-subscribe storm at the burst: seq moves a bounded amount and a reader still resumes', async () => {
    const started = Date.now();
    const dir = tempDir('catalyst-reliability-storm-');
    cleanups.push(() => dir.remove());
    const config = writeJson(dir.file('config.json'), {
      allowedOrigins: ['*'],
      limits: { historySize: STORM.historySize },
      keys: [key('sk_storm_writer', 'secret'), key('pk_storm_page', 'publishable')],
      objects: ['orders'],
    });
    const cli = await CliProcess.start(['--config', config, '--port', '0', '--flush-ms', '0']);
    cleanups.push(() => cli.stop('SIGKILL'));
    const url = cli.url;
    const connect = async () => {
      const client = await RawClient.open(`${wsUrl(url)}?token=${await getToken({ url }, 'pk_storm_page')}`);
      const welcome = await client.next('welcome');
      return { client, welcome };
    };

    // A reader that will come back with since from before the storm.
    const reader = await connect();
    await reader.client.subscribe({ id: 'orders', channel: 'records:orders' });
    reader.client.close();
    const listener = await TickListener.open(url, 'pk_storm_page', 'ticks');
    const ticker = new TopicPublisher(url, 'sk_storm_writer', 'ticks', 10, tick);
    await sleep(300);

    const attacker = await connect();
    const seqBefore = attacker.welcome.seq;
    const frame = (n: number) =>
      JSON.stringify({ type: 'subscribe', id: 'me', channel: 'presence:lobby', meta: { n } });
    const stormStart = performance.now();
    // As fast as the socket takes them: rounds of 100, yielding so that the writes go out.
    let sent = 0;
    while (sent < STORM.frames && !attacker.client.closed) {
      attacker.client.send(frame(sent++));
      if (sent % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // Recorded either way: without a limit the storm is never closed.
    const close = await attacker.client.waitForClose(10_000).catch(() => undefined);
    const stormMs = performance.now() - stormStart;
    await sleep(300);
    await ticker.stop();
    const back = await connect();
    const seqAfter = back.welcome.seq;
    const ticks = ticker.published.filter((p) => p.seq > seqBefore && p.seq <= seqAfter).length;
    const stormSeq = seqAfter - seqBefore - ticks;
    const messages = attacker.client.messages;
    const subscribed = messages.filter((m) => m.type === 'subscribed').length;
    const limited = messages.filter((m) => m.type === 'error' && m.code === CODE.rate_limited).length;
    const resumed = await back.client.subscribe({
      id: 'orders',
      channel: 'records:orders',
      since: reader.welcome.seq,
      epoch: reader.welcome.epoch,
    });
    back.client.close();
    const latencies = listener.samples.map((s) => s.ms);
    listener.client.close();
    // What the bucket could let through while the storm lasted: a burst, and the rate after it.
    const allowed = BURST + Math.ceil((RATE * stormMs) / 1000);

    recordFigures({
      area: 'hardening',
      test: 'presence re-subscribe storm on one connection',
      scale: SCALE,
      load: `up to ${STORM.frames} re-subscribes to one presence room, as fast as the socket takes them, until closed (historySize ${STORM.historySize}); ticks to a bystander`,
      faults: 0,
      badInputs: sent,
      lost: 0,
      duplicated: 0,
      leaked: 0,
      crashes: 0,
      seconds: secondsSince(started),
      bystanderP99Ms: round1(percentile(latencies, 99)),
      notes:
        `closed with ${close?.code ?? 'nothing'} after ${Math.round(stormMs)} ms and ${sent} frames sent; ${subscribed} re-subscribes read, ${limited} answered 4029, the rest unread; ` +
        `seq moved by ${stormSeq} (the issue: 10 400 for 5 200); a reader from before the storm resumed: ${resumed.resumed}`,
    });

    assert.equal(close?.code, CODE.rate_limited);
    assert.ok(limited <= BURST, `${limited} 4029 answers: at most a burst`);
    assert.ok(subscribed <= allowed, `${subscribed} re-subscribes read (at most ${allowed})`);
    assert.ok(stormSeq <= 2 * allowed + 2, `seq moved by ${stormSeq}`);
    assert.equal(resumed.resumed, true, 'a reader from before the storm resumes');
  });

  it(
    '(b) keeps the audit of a frame flood small per connection (--audit file), closes the flooders with 4029, never a client under the rate',
    { timeout: scaled({ short: 60_000, full: 180_000 }) },
    async () => {
      const started = Date.now();
      const dir = tempDir('catalyst-reliability-flood-');
      cleanups.push(() => dir.remove());
      const auditFile = dir.file('audit.jsonl');
      const config = writeJson(dir.file('config.json'), {
        allowedOrigins: ['*'],
        keys: [key('sk_flood_writer', 'secret'), key('pk_flood_page', 'publishable')],
        objects: ['orders'],
      });
      const { cli, url, memory } = await startSampledCli(config, auditFile, cleanups);

      const bystanders = await Promise.all(
        Array.from({ length: FLOOD.bystanders }, () => TickListener.open(url, 'pk_flood_page', 'ticks')),
      );
      const ticker = new TopicPublisher(url, 'sk_flood_writer', 'ticks', 10, tick);
      await sleep(FLOOD.calmMs);
      const floodStart = Date.now();
      const rssBefore = memory.samples.at(-1)?.rss ?? NaN;

      // A page just under the rate, all along: never closed, every ping answered.
      const steadyClient = await RawClient.open(
        `${wsUrl(url)}?token=${await getToken({ url }, 'pk_flood_page')}`,
      );
      await steadyClient.next('welcome');
      const welcome = steadyClient.messages[0];
      assert.ok(welcome?.type === 'welcome');
      let steadySent = 0;
      const steadyLoop = (async () => {
        while (Date.now() < floodStart + FLOOD.floodMs && !steadyClient.closed) {
          steadyClient.send({ type: 'ping', t: steadySent++ });
          await sleep(1000 / (RATE * 0.8));
        }
      })();
      const flood = await floodFromChild({
        url,
        key: 'pk_flood_page',
        frame: '{"type":"ping"}',
        flooders: FLOOD.flooders,
        ms: FLOOD.floodMs,
      });
      await steadyLoop;
      const floodEnd = Date.now();
      for (
        let i = 0;
        i < 200 && steadyClient.messages.filter((m) => m.type === 'pong').length < steadySent;
        i++
      )
        await sleep(10);
      const steadyPongs = steadyClient.messages.filter((m) => m.type === 'pong').length;
      const steadyClosed = steadyClient.closed;
      steadyClient.close();
      await ticker.stop();
      const lastTick = Math.max(...ticker.published.map((p) => p.seq));
      for (const b of bystanders)
        for (let i = 0; i < 300 && !b.seqs().includes(lastTick); i++) await sleep(10);
      const samples = memory.stop();
      const rssPeak = Math.max(...samples.filter((s) => s.at >= floodStart).map((s) => s.rss));
      const during = (b: TickListener) => b.samples.filter((s) => s.at >= floodStart && s.at <= floodEnd);
      const calmLatency = bystanders.flatMap((b) =>
        b.samples.filter((s) => s.at < floodStart).map((s) => s.ms),
      );
      const floodLatency = bystanders.flatMap((b) => during(b).map((s) => s.ms));
      const lost = bystanders.reduce(
        (n, b) => n + ticker.published.filter((p) => !b.seqs().includes(p.seq)).length,
        0,
      );
      for (const b of bystanders) b.client.close();
      const exit = await cli.stop('SIGTERM'); // ends the audit file

      const lines = readFileSync(auditFile, 'utf8').split('\n').filter(Boolean);
      const auditBytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
      const records: AuditRecord[] = lines.map((l) => AuditRecordSchema.parse(JSON.parse(l)));
      const byConnection = new Map<string, number>();
      for (const [i, r] of records.entries()) {
        byConnection.set(
          r.connectionId,
          (byConnection.get(r.connectionId) ?? 0) + Buffer.byteLength(lines[i] ?? ''),
        );
      }
      const connections = records.filter((r) => r.type === 'connect').length;
      const intervals = Math.ceil(FLOOD.floodMs / SERVER_BOUNDS.messageAuditIntervalMs) + 1;
      const perConnectionBound = AUDIT_BYTES_PER_CONNECTION + intervals * AUDIT_BYTES_PER_INTERVAL;
      const heaviest = Math.max(...byConnection.values());
      const steadyMessages = records.filter(
        (r) => r.connectionId === welcome.connectionId && r.type === 'message',
      ).length;
      const { frames, connections: floodConnections, bytes: bytesSent } = flood;
      const closed4029 = flood.closes[CODE.rate_limited] ?? 0;
      // A connection closed with 4029 counts toward the quota until its socket is cut (1 s): a
      // flooder reconnecting at once soon finds its client's quota full, and is refused (4008).
      const refused4008 = flood.closes[CODE.quota_exceeded] ?? 0;
      const seconds = (floodEnd - floodStart) / 1000;

      recordFigures({
        area: 'hardening',
        test: 'frame flood with --audit file',
        scale: SCALE,
        load: `${FLOOD.flooders} clients sending pings as fast as they can for ${FLOOD.floodMs / 1000} s (${frames} frames on ${floodConnections} connections), one at ${RATE * 0.8}/s; ticks to ${FLOOD.bystanders} bystanders`,
        faults: closed4029,
        badInputs: frames,
        lost,
        duplicated: 0,
        leaked: 0,
        crashes: exit.code === 0 ? 0 : 1,
        seconds: secondsSince(started),
        bystanderP99Ms: round1(percentile(floodLatency, 99)),
        rssMiB: { before: mib(rssBefore), after: mib(rssPeak) },
        bytesSent,
        notes:
          `audit ${round1(auditBytes / 1024)} KiB in ${round1(seconds)} s (the issue: 164 MB in 15 s) for ${byConnection.size} connections (${connections} admitted): ` +
          `${Math.round(auditBytes / Math.max(1, byConnection.size))} bytes each on average, ${heaviest} at most (bound ${perConnectionBound}); ` +
          `${closed4029} flooding connections closed with 4029, ${refused4008} refused with 4008 (the client's quota full of closing ones); the ${RATE * 0.8}/s client: ${steadyPongs} of ${steadySent} pings answered, ${steadyMessages} message records, closed: ${steadyClosed ? steadyClosed.code : 'no'}; ` +
          `bystander p50/p99 calm ${round1(percentile(calmLatency, 50))}/${round1(percentile(calmLatency, 99))} ms vs flood ${round1(percentile(floodLatency, 50))}/${round1(percentile(floodLatency, 99))} ms`,
      });

      assert.equal(exit.code, 0, 'the server closed cleanly');
      assert.ok(
        closed4029 > 0 && closed4029 + refused4008 >= floodConnections - FLOOD.flooders,
        'flooding connections are closed with 4029 (or refused with 4008 while the quota is full)',
      );
      assert.equal(steadyClosed, undefined, 'a client under the rate is never closed');
      assert.equal(steadyPongs, steadySent, 'and every frame of it is read');
      assert.ok(steadyMessages <= intervals, `${steadyMessages} message records for the steady client`);
      assert.ok(heaviest <= perConnectionBound, `a connection cost ${heaviest} bytes of audit`);
      assert.equal(lost, 0, 'every tick reached every bystander');
      const calmP99 = percentile(calmLatency, 99);
      const floodP99 = percentile(floodLatency, 99);
      // Generous: the flooders' own process shares this machine's CPUs with the server.
      assert.ok(
        floodP99 <= calmP99 + 250,
        `bystanders' p99 ${round1(floodP99)} ms in the flood vs ${round1(calmP99)} ms before`,
      );
    },
  );
});

/** Runs flooders in a child process (support/flood-child.ts) for `ms`; resolves with their counts. */
async function floodFromChild(options: {
  url: string;
  key: string;
  frame: string;
  flooders: number;
  ms: number;
}): Promise<FloodCounts> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/reliability/support/flood-child.ts', JSON.stringify(options)],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`the flood child exited with ${code}: ${out}`);
  return JSON.parse(out) as FloodCounts;
}
