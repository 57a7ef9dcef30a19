/**
 * Issue 8, item 3 over HTTP: generated REST bodies, paths, methods, keys, headers, query strings
 * and SSE queries against the real dev server (in this process). Each gets the status and error
 * body PROTOCOL.md section 2 documents; a refused write commits nothing and an accepted one
 * exactly one event; the server keeps its prototypes clean and its memory to what it accepted; a
 * bystander's streams are untouched. `RELIABILITY_SEED=<seed>` repeats a run's requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rest, sleep, RawClient, getToken } from '../support/raw-client.js';
import { isRecordEvent } from '../support/record-events.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';
import { RequestGenerator } from './support/bad-requests.js';
import type { RequestCase } from './support/request-case.js';
import { Bystander } from './support/bystander.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { liveBytes, mib } from './support/memory-probe.js';
import { prototypeChanges, snapshotPrototypes } from './support/prototype-guard.js';
import { requestMismatch, sendRequest } from './support/request-probe.js';
import { SCALE, scaled } from './support/scale.js';
import { RUN_SEED, randomFor } from './support/seeded-random.js';

const SEED = `seed ${RUN_SEED} (RELIABILITY_SEED=${RUN_SEED} repeats the run)`;
/** A second use of an SSE request's token (appended): invalid after it, so never a stream. */
const SPENT: RequestCase = {
  category: 'SSE queries',
  method: 'GET',
  path: '/sse/events/object-records/?since=-1&token=',
  headers: { accept: 'text/event-stream' },
  status: 401,
  code: 'token_invalid',
};
const LANES = 2;

describe('bad HTTP requests', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('answers every generated request as documented: refused writes commit nothing, accepted ones one event each', async () => {
    const started = Date.now();
    const total = scaled({ short: 600, full: 8000 });
    const prototypes = snapshotPrototypes();
    const watcher = await RawClient.connect(server, KEYS.acmeSecret);
    await watcher.subscribe({ id: 'r', channel: 'records:*' });
    await watcher.subscribe({ id: 'e', channel: 'events:*' });
    const bystander = await Bystander.start(server);
    const memoryBefore = liveBytes();

    const failures: string[] = [];
    const commits = new Map<string, number>();
    let crashes = 0;
    let acceptedBytes = 0;
    const generators = Array.from(
      { length: LANES },
      (_, lane) => new RequestGenerator(randomFor(`bad requests ${lane}`), lane),
    );
    await Promise.all(
      generators.map(async (generator) => {
        for (let i = 0; i < total / LANES; i++) {
          const req = generator.next();
          const token = req.token ? await getToken(server, KEYS.acmeSecret) : undefined;
          const path = token === undefined ? req.path : req.path.replace('{token}', token);
          const answer = await sendRequest(server.port, req, path);
          const problem = requestMismatch(req, answer);
          if (problem)
            failures.push(
              `${req.category}: ${req.method} ${path.slice(0, 160)} ${String(req.body ?? '').slice(0, 120)}: ${problem}`,
            );
          if (token !== undefined) {
            // Spent by its first use, refused or not: a second use is a 401 (a 400 if it were not).
            const again = await sendRequest(server.port, SPENT, `${SPENT.path}${token}`);
            const reuse = requestMismatch(SPENT, again);
            if (reuse)
              failures.push(`${req.category}: the token of ${path.slice(0, 160)} was not spent: ${reuse}`);
          }
          if (answer.status === 500) crashes++;
          if (req.commits) commits.set(req.commits.key, req.commits.count);
          if (answer.status !== undefined && answer.status < 300)
            acceptedBytes += Buffer.byteLength(req.body ?? '');
        }
      }),
    );

    // Events of one connection leave in commit order: once a later event is in, every write's is.
    const sentinel = await rest(server, 'POST', '/api/events/sentinel', { key: KEYS.acmeSecret, body: 1 });
    const sentinelSeq = (sentinel.body as { seq: number }).seq;
    for (let i = 0; i < 1000 && !watcher.events('e').some((e) => e.seq === sentinelSeq); i++) await sleep(10);
    const received = new Map<string, number>();
    for (const event of watcher.events()) {
      const key = isRecordEvent(event) ? event.correlationId : event.channel;
      if (key !== undefined) received.set(key, (received.get(key) ?? 0) + 1);
    }
    let lost = 0;
    let duplicated = 0;
    let leaked = 0;
    for (const [key, count] of commits) {
      const got = received.get(key) ?? 0;
      if (count === 1 && got === 0) lost++;
      if (count === 0 && got > 0) leaked += got;
      if (count === 1 && got > 1) duplicated += got - 1;
    }
    watcher.close();
    const report = await bystander.finish();
    const memoryAfter = liveBytes();
    const polluted = prototypeChanges(prototypes);
    const health = await fetch(`${server.url}/healthz`);
    const made = generators
      .flatMap((g) => [...g.made])
      .reduce<Record<string, number>>((all, [c, n]) => ({ ...all, [c]: (all[c] ?? 0) + n }), {});
    recordFigures({
      area: 'bad input',
      test: 'REST and SSE requests',
      scale: SCALE,
      load: `${total} requests, ${LANES} at a time (${commits.size} writes); bystander: ${report.published} events on WebSocket + SSE`,
      faults: 0,
      badInputs: total,
      lost: lost + report.lost,
      duplicated: duplicated + report.duplicated,
      leaked: leaked + report.unexpected,
      crashes: crashes + (health.status === 200 ? 0 : 1),
      seconds: secondsSince(started),
      seed: RUN_SEED,
      notes: `${failures.length} answers not as documented; live memory ${mib(memoryBefore)} → ${mib(memoryAfter)} MiB with ${mib(acceptedBytes)} MiB accepted; by category ${JSON.stringify(made)}`,
    });

    assert.equal(health.status, 200);
    assert.deepEqual(
      failures.slice(0, 15),
      [],
      `${failures.length} requests not answered as documented; ${SEED}`,
    );
    assert.deepEqual(
      { lost, duplicated, leaked },
      { lost: 0, duplicated: 0, leaked: 0 },
      'writes commit once when accepted, never when refused',
    );
    assert.deepEqual(report.problems, [], "the bystander's streams were disturbed");
    assert.deepEqual(polluted, [], 'no prototype is polluted');
    // What the server may keep is what it accepted: the store, its history and the watcher's copy.
    const bound = 32 * 2 ** 20 + 4 * acceptedBytes;
    assert.ok(
      memoryAfter - memoryBefore < bound,
      `live memory grew ${mib(memoryAfter - memoryBefore)} MiB (bound ${mib(bound)} MiB)`,
    );
  });

  // JSON.parse turns a literal past the double range into Infinity, which JSON cannot hold: the
  // record must be refused, or kept as it is served (null), so that filters see what clients see.
  it('filters a record written with 1e309 by the value it serves, or refuses it', async () => {
    const created = await rest(server, 'POST', '/api/objects/orders/records', {
      key: KEYS.acmeSecret,
      rawBody: '{"id":"beyond-double","n":1e309}',
      headers: { 'content-type': 'application/json' },
    });
    if (created.status === 400) return;
    assert.equal(created.status, 201);
    assert.equal((created.body as { n: unknown }).n, null, 'served as null');
    const where = (w: object) => `/api/objects/orders/records?where=${encodeURIComponent(JSON.stringify(w))}`;
    const ids = async (w: object) =>
      (
        (await rest(server, 'GET', where(w), { key: KEYS.acmeSecret })).body as { records: { id: string }[] }
      ).records.map((r) => r.id);
    assert.ok(
      !(await ids({ n: { $gt: 0 } })).includes('beyond-double'),
      'n > 0 matched a record served with n: null',
    );
    assert.ok(
      (await ids({ n: null })).includes('beyond-double'),
      'n = null did not match a record served with n: null',
    );
  });
});
