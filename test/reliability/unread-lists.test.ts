/**
 * Issue 13, item 5 (REST): memory held for readers who never read. Before, 20 large REST lists
 * requested and never read took the server's RSS from 92 to 367 MiB, with no quota at all: each
 * answer was one string, whole in memory until the socket took it. Now a list is streamed, each
 * record serialized as the client reads, and a client has at most `maxConcurrentRequestsPerClient`
 * lists being answered at once (429 past it).
 *
 * The CLI runs in a child process on 20 MB of records; `UNREAD` lists of all of them are requested
 * and left unread (their sockets paused), and the server's RSS is compared with its RSS before;
 * more requests than the quota get 429 while a bystander's `/healthz` keeps answering; then every
 * list is read to its end and must be whole.
 */
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { CliProcess, tempDir, writeJson } from '../support/cli-process.js';
import { rest, sleep } from '../support/raw-client.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { HealthzProbe, latencySummary } from './support/healthz-probe.js';
import { mib } from './support/memory-probe.js';
import { residentMemory } from './support/process-memory.js';
import { SCALE, scaled } from './support/scale.js';

const KEY = 'pk_unread_lists';
const RECORDS = 10_000;
const QUOTA = 8;
const SIZE = scaled({ short: { unread: 10, textBytes: 1000 }, full: { unread: 20, textBytes: 2000 } });
/** What the server may hold per unread list: the references it streams from, one piece, socket buffers. */
const PER_LIST_BOUND = 2 * 2 ** 20;

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** Requests a list and pauses its body as soon as its head arrives: a reader that never reads. */
function unreadList(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/objects/orders/records?limit=${RECORDS}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    req.on('response', (res) => {
      res.pause();
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads the rest of a paused list and parses it. */
async function readAll(res: IncomingMessage): Promise<{ records: { id: string }[]; truncated?: boolean }> {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve, reject) => {
    res.on('end', resolve);
    res.on('error', reject);
  });
  res.resume();
  await ended;
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    records: { id: string }[];
    truncated?: boolean;
  };
}

describe('REST lists nobody reads', () => {
  it('hold bounded memory, count toward a per-client quota (429 past it), and arrive whole once read', async () => {
    const started = Date.now();
    const dir = tempDir('catalyst-unread-lists-');
    cleanups.push(() => dir.remove());
    const orders = Array.from({ length: RECORDS }, (_, i) => ({
      id: `r${i}`,
      text: 'x'.repeat(SIZE.textBytes),
    }));
    const config = writeJson(dir.file('config.json'), {
      keys: [{ key: KEY, client: 'acme', environment: 'production', role: 'publishable' }],
      objects: ['orders'],
      records: { acme: { production: { orders } } },
      limits: { maxConcurrentRequestsPerClient: QUOTA },
    });
    const cli = await CliProcess.start(['--config', config, '--port', '0']);
    cleanups.push(() => cli.stop('SIGKILL'));
    const pid = cli.child.pid as number;
    const dataBytes = RECORDS * (SIZE.textBytes + 30);

    // One list read whole first: the server's code is warm and its answer's size is known.
    const warm = await rest({ url: cli.url }, 'GET', `/api/objects/orders/records?limit=${RECORDS}`, {
      key: KEY,
    });
    assert.equal(warm.status, 200);
    await sleep(200);
    const rssBefore = residentMemory(pid)?.rss ?? NaN;
    const probe = new HealthzProbe(cli.url);
    cleanups.push(() => probe.stop());

    const unread: IncomingMessage[] = [];
    const refused: number[] = [];
    for (let i = 0; i < SIZE.unread; i++) {
      if (i < QUOTA) unread.push(await unreadList(cli.url));
      else {
        const res = await rest({ url: cli.url }, 'GET', '/api/objects/orders/records?limit=1', { key: KEY });
        refused.push(res.status);
      }
    }
    await sleep(2000); // the server writes what the sockets take, then waits; the bystander polls on
    const rssHeld = residentMemory(pid)?.rss ?? NaN;
    // Stopped before the lists are read: parsing them here would hold this process, not the server.
    await probe.stop();
    const healthz = latencySummary(probe.latencies);
    const lists = await Promise.all(unread.map(readAll));
    const afterRead = await rest({ url: cli.url }, 'GET', '/api/objects/orders/records?limit=1', {
      key: KEY,
    });
    const whole = lists.filter((l) => l.records.length === RECORDS && l.records[RECORDS - 1]?.id === 'r9999');

    recordFigures({
      area: 'hardening',
      test: 'large REST lists never read',
      scale: SCALE,
      load: `${SIZE.unread} lists of ${RECORDS} records (${mib(dataBytes)} MiB each) requested and not read; maxConcurrentRequestsPerClient ${QUOTA}`,
      faults: 0,
      badInputs: SIZE.unread,
      lost: RECORDS * unread.length - lists.reduce((n, l) => n + l.records.length, 0),
      duplicated: 0,
      leaked: 0,
      crashes: cli.child.exitCode === null ? 0 : 1,
      seconds: secondsSince(started),
      bystanderP99Ms: healthz.p99,
      rssMiB: { before: mib(rssBefore), after: mib(rssHeld) },
      notes: `${unread.length} lists held unread, ${refused.length} more answered ${[...new Set(refused)].join(', ') || 'nothing'}; RSS ${mib(rssBefore)} → ${mib(rssHeld)} MiB while unread (bound ${mib(PER_LIST_BOUND * unread.length)} MiB more); ${whole.length} of ${lists.length} whole once read; /healthz p50/p99 ${healthz.p50}/${healthz.p99} ms`,
    });

    assert.ok(
      rssHeld - rssBefore < PER_LIST_BOUND * unread.length,
      `RSS grew ${mib(rssHeld - rssBefore)} MiB for ${unread.length} unread lists of ${mib(dataBytes)} MiB`,
    );
    assert.ok(
      refused.every((status) => status === 429),
      `past the quota: ${refused.join(', ')}`,
    );
    assert.equal(whole.length, unread.length, 'every list arrives whole once read');
    assert.equal(afterRead.status, 200, 'the quota is free again once the lists are read');
    assert.deepEqual(probe.failures, []);
    assert.ok(healthz.p99 < 100, `/healthz p99 ${healthz.p99} ms`);
  });
});
