/**
 * Issue 8, item 5, isolation under concurrency: two clients with two environments each, the
 * same record ids, topics and rooms in all four, and thousands of writes interleaved across them
 * while WebSocket and SSE streams watch, snapshots are taken, presence members come and go and
 * reads run. Nothing crosses: every event, snapshot record, read and member a key sees is of its
 * own client and environment, and each of its own writes reaches its streams exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PublishResponseSchema, type LiveEvent, type LiveRecord } from '../../protocol/index.js';
import { RawClient, rest, sleep } from '../support/raw-client.js';
import { isRecordEvent } from '../support/record-events.js';
import { connectSse, type SseStream } from '../support/sse-client.js';
import { startTestServer, testConfig, type TestServer } from '../support/test-server.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { SCALE, scaled } from './support/scale.js';
import { RUN_SEED, randomFor, type Random } from './support/seeded-random.js';

const SEED = `seed ${RUN_SEED} (RELIABILITY_SEED=${RUN_SEED} repeats the run)`;
const OBJECTS = ['orders', 'products'] as const;
const LANES_PER_ENVIRONMENT = 2;
const IDS_PER_LANE = 12;

/** Two clients, two environments each: one secret key per environment. */
const ENVIRONMENTS = [
  { name: 'acme/production', client: 'acme', environment: 'production', key: 'sk_iso_acme_production' },
  { name: 'acme/staging', client: 'acme', environment: 'staging', key: 'sk_iso_acme_staging' },
  { name: 'globex/production', client: 'globex', environment: 'production', key: 'sk_iso_globex_production' },
  { name: 'globex/staging', client: 'globex', environment: 'staging', key: 'sk_iso_globex_staging' },
] as const;
type Env = (typeof ENVIRONMENTS)[number];

/** The environment a payload says it belongs to (every write and member carries `env`). */
function envOf(event: LiveEvent): unknown {
  if (isRecordEvent(event)) return event.record.env;
  if ('data' in event) return (event.data as { env?: unknown } | null)?.env;
  return 'member' in event ? (event.member.meta as { env?: unknown }).env : undefined;
}

/** One environment's watchers and what its writers were told. */
type Watch = {
  env: Env;
  ws: RawClient;
  sse: SseStream;
  acknowledged: Map<string, string>; // correlation id -> object
  published: Map<number, unknown>;
  foreign: string[];
};

describe('isolation under concurrency', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      config: testConfig({
        keys: ENVIRONMENTS.map((e) => ({
          key: e.key,
          client: e.client,
          environment: e.environment,
          role: 'secret',
        })),
        records: {},
        allowedOrigins: ['*'],
      }),
      limits: { maxConnectionsPerClient: 1000 },
    });
  });
  after(() => server.close());

  async function watch(env: Env): Promise<Watch> {
    const ws = await RawClient.connect(server, env.key);
    await ws.subscribe({ id: 'r', channel: 'records:*' });
    await ws.subscribe({ id: 'e', channel: 'events:*' });
    await ws.subscribe({ id: 'p', channel: 'presence:lobby', meta: { env: env.name } });
    const sse = await connectSse(server, env.key, {
      subscriptions: [
        { id: 'r', channel: 'records:orders' },
        { id: 'e', channel: 'events:news' },
      ],
    });
    return { env, ws, sse, acknowledged: new Map(), published: new Map(), foreign: [] };
  }

  /** One writer lane: sequential writes to ids every environment also uses. */
  async function writeLane(w: Watch, lane: number, writes: number, r: Random): Promise<void> {
    const exists = new Map<string, boolean>();
    for (let i = 0; i < writes; i++) {
      const object = r.pick(OBJECTS);
      const id = `s${lane}-${r.int(0, IDS_PER_LANE - 1)}`;
      const correlation = `${w.env.name}#${lane}#${i}`;
      const headers = { 'x-correlation-id': correlation };
      const key = w.env.key;
      const tag = `${object}/${id}`;
      if (r.chance(0.2)) {
        const res = await rest(server, 'POST', '/api/events/news', {
          key,
          body: { env: w.env.name, i },
          headers,
        });
        assert.equal(res.status, 202);
        w.published.set(PublishResponseSchema.parse(res.body).seq, { env: w.env.name, i });
        continue;
      }
      const path = `/api/objects/${object}/records`;
      let res;
      if (!exists.get(tag))
        res = await rest(server, 'POST', path, { key, body: { id, env: w.env.name, i }, headers });
      else if (r.chance(0.25)) res = await rest(server, 'DELETE', `${path}/${id}`, { key, headers });
      else res = await rest(server, 'PATCH', `${path}/${id}`, { key, body: { i }, headers });
      assert.ok(
        [200, 201, 204].includes(res.status),
        `${w.env.name} ${tag}: ${res.status} ${JSON.stringify(res.body)}`,
      );
      exists.set(tag, res.status !== 204);
      w.acknowledged.set(correlation, object);
    }
  }

  /** Reads, snapshots and presence visits of one environment while the writes flow. */
  async function probeLane(w: Watch, rounds: number, r: Random): Promise<number> {
    let probes = 0;
    for (let i = 0; i < rounds; i++) {
      const object = r.pick(OBJECTS);
      const key = w.env.key;
      const seen: LiveRecord[] = [];
      const choice = r.int(0, 3);
      if (choice === 0) {
        const res = await rest(
          server,
          'GET',
          `/api/objects/${object}/records/s${r.int(0, 1)}-${r.int(0, IDS_PER_LANE - 1)}`,
          { key },
        );
        if (res.status === 200) seen.push(res.body as LiveRecord);
      } else if (choice === 1) {
        const res = await rest(
          server,
          'GET',
          `/api/objects/${object}/records?where=${encodeURIComponent('{"i":{"$gte":0}}')}`,
          { key },
        );
        seen.push(...(res.body as { records: LiveRecord[] }).records);
      } else {
        const client = await RawClient.connect(server, key);
        if (choice === 2) {
          const answer = await client.subscribe({ id: 'snap', channel: `records:${object}`, snapshot: true });
          seen.push(...((answer.snapshot ?? []) as LiveRecord[]));
        } else {
          const answer = await client.subscribe({
            id: 'visit',
            channel: 'presence:lobby',
            meta: { env: w.env.name },
          });
          for (const m of answer.members ?? [])
            if (m.meta.env !== w.env.name) w.foreign.push(`member ${JSON.stringify(m)}`);
          await sleep(r.int(0, 20));
        }
        client.close();
      }
      for (const record of seen)
        if (record.env !== w.env.name) w.foreign.push(`${object} record ${JSON.stringify(record)}`);
      probes++;
    }
    return probes;
  }

  it('delivers nothing across clients or environments while thousands of writes interleave', async () => {
    const started = Date.now();
    const writes = scaled({ short: 2000, full: 20_000 });
    const perLane = Math.ceil(writes / ENVIRONMENTS.length / LANES_PER_ENVIRONMENT);
    const watches = await Promise.all(ENVIRONMENTS.map(watch));
    const probes = await Promise.all(
      watches.flatMap((w, e) => [
        ...Array.from({ length: LANES_PER_ENVIRONMENT }, (_, lane) =>
          writeLane(w, lane, perLane, randomFor(`isolation ${e} ${lane}`)).then(() => 0),
        ),
        probeLane(w, Math.ceil(perLane / 10), randomFor(`isolation probes ${e}`)),
      ]),
    );

    // A sentinel per environment: its streams are caught up once it arrived.
    let lost = 0;
    let duplicated = 0;
    let leaked = 0;
    const problems: string[] = [];
    for (const w of watches) {
      const sentinel = await rest(server, 'POST', '/api/events/news', {
        key: w.env.key,
        body: { env: w.env.name, sentinel: true },
      });
      const seq = PublishResponseSchema.parse(sentinel.body).seq;
      for (
        let i = 0;
        i < 1000 &&
        !(w.ws.events('e').some((e) => e.seq === seq) && w.sse.events('e').some((e) => e.seq === seq));
        i++
      ) {
        await sleep(10);
      }
      const streams = [
        { name: 'WebSocket', events: w.ws.events(), objects: OBJECTS as readonly string[] },
        { name: 'SSE', events: w.sse.events(), objects: ['orders'] },
      ];
      for (const stream of streams) {
        const foreign = stream.events.filter((e) => envOf(e) !== w.env.name);
        leaked += foreign.length;
        if (foreign.length)
          problems.push(
            `${w.env.name} ${stream.name} got ${foreign.length} foreign events: ${JSON.stringify(foreign[0])}`,
          );
        const counts = new Map<string, number>();
        for (const e of stream.events)
          if (isRecordEvent(e) && e.correlationId)
            counts.set(e.correlationId, (counts.get(e.correlationId) ?? 0) + 1);
        for (const [correlation, object] of w.acknowledged) {
          if (!stream.objects.includes(object)) continue;
          const n = counts.get(correlation) ?? 0;
          if (n === 0) lost++;
          if (n > 1) duplicated += n - 1;
        }
        for (const correlation of counts.keys()) {
          if (!w.acknowledged.has(correlation)) {
            leaked++;
            problems.push(`${w.env.name} ${stream.name} got a write it did not make: ${correlation}`);
          }
        }
        const eventSeqs = stream.events.filter((e) => e.sub === 'e').map((e) => e.seq);
        for (const seq of w.published.keys()) {
          const n = eventSeqs.filter((s) => s === seq).length;
          if (n === 0) lost++;
          if (n > 1) duplicated += n - 1;
        }
      }
      leaked += w.foreign.length;
      problems.push(...w.foreign.slice(0, 3).map((f) => `${w.env.name} saw ${f}`));
      if (w.ws.closed || w.sse.ended) problems.push(`${w.env.name}: a watcher was closed`);
      problems.push(...[...w.ws.invalid, ...w.sse.invalid].map((i) => `${w.env.name} invalid frame ${i}`));
      w.ws.close();
      w.sse.close();
    }
    const acknowledged = watches.reduce((n, w) => n + w.acknowledged.size + w.published.size, 0);
    const reads = probes.reduce((a, b) => a + b, 0);
    recordFigures({
      area: 'isolation and auth',
      test: 'interleaved writes across 2 clients × 2 environments',
      scale: SCALE,
      load: `${acknowledged} writes (same ids, topic and room in all 4 environments), ${reads} reads, snapshots and presence visits; 8 streams`,
      faults: 0,
      badInputs: 0,
      lost,
      duplicated,
      leaked,
      crashes: 0,
      seconds: secondsSince(started),
      seed: RUN_SEED,
    });
    assert.deepEqual(problems.slice(0, 10), [], SEED);
    assert.deepEqual({ lost, duplicated, leaked }, { lost: 0, duplicated: 0, leaked: 0 }, SEED);
  });
});
