/**
 * Issue 8, item 5, tokens and sessions under concurrency: a one-time token fired at the server
 * many times at once (WebSocket URL, auth frame, SSE) admits exactly one connection, and
 * sessions are closed when they expire while events flow.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CODE, ErrorBodySchema } from '../../protocol/index.js';
import { ClientPool } from '../support/client-pool.js';
import { RawClient, getToken, rest, sleep } from '../support/raw-client.js';
import { connectSse, openSse } from '../support/sse-client.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { SCALE, scaled } from './support/scale.js';
import { RUN_SEED, randomFor } from './support/seeded-random.js';

const AREA = 'isolation and auth';
const SEED = `seed ${RUN_SEED} (RELIABILITY_SEED=${RUN_SEED} repeats the run)`;

describe('one-time tokens raced', () => {
  let server: TestServer;
  const pool = new ClientPool();
  before(async () => (server = await startTestServer({ limits: { maxConnectionsPerClient: 1000 } })));
  afterEach(() => pool.closeAll());
  after(() => server.close());

  it('admits exactly one connection per token, however many use it at once', async () => {
    const started = Date.now();
    const rounds = scaled({ short: 20, full: 200 });
    const r = randomFor('token race');
    const extra: string[] = [];
    let attempts = 0;
    for (let round = 0; round < rounds; round++) {
      const token = await getToken(server, KEYS.acmeSecret);
      const viaUrl = r.int(2, 12);
      const viaFrame = r.int(0, 8);
      const viaSse = r.int(0, 8);
      attempts += viaUrl + viaFrame + viaSse;
      const outcomes = await Promise.all([
        ...Array.from({ length: viaUrl }, async () => {
          const client = await pool.open(server, token);
          return outcome(client);
        }),
        ...Array.from({ length: viaFrame }, async () => {
          const client = await pool.open(server);
          client.send({ type: 'auth', token });
          return outcome(client);
        }),
        ...Array.from({ length: viaSse }, async () => {
          const answer = await openSse(server, { token, subscriptions: [{ id: 's', channel: 'events:x' }] });
          if (!answer.stream) {
            const code = ErrorBodySchema.safeParse(answer.body);
            return answer.status === 401 && code.success && code.data.error.code === 'token_invalid'
              ? 'refused'
              : `SSE ${answer.status}`;
          }
          const welcome = await answer.stream.next('welcome').then(
            () => 'admitted',
            () => 'SSE without welcome',
          );
          answer.stream.close();
          return welcome;
        }),
      ]);
      const admitted = outcomes.filter((o) => o === 'admitted').length;
      const odd = outcomes.filter((o) => o !== 'admitted' && o !== 'refused');
      if (admitted !== 1 || odd.length)
        extra.push(`round ${round}: ${admitted} admitted, ${JSON.stringify(odd)}`);
      pool.closeAll();
    }
    recordFigures({
      area: AREA,
      test: 'one-time token raced over WebSocket URL, auth frame and SSE',
      scale: SCALE,
      load: `${rounds} tokens, ${attempts} simultaneous uses`,
      faults: rounds,
      badInputs: attempts - rounds,
      lost: 0,
      duplicated: 0,
      leaked: extra.length,
      crashes: 0,
      seconds: secondsSince(started),
      seed: RUN_SEED,
    });
    assert.deepEqual(extra, [], SEED);

    /** 'admitted' on a welcome, 'refused' on a 4002 close with nothing sent before it. */
    async function outcome(client: RawClient): Promise<string> {
      const first = await client
        .next(['welcome'], () => true, 3000)
        .then(
          () => 'admitted',
          () => undefined,
        );
      if (first) return first;
      const close = client.closed ?? (await client.waitForClose().catch(() => undefined));
      return close?.code === CODE.token_invalid && client.messages.length === 0
        ? 'refused'
        : `closed ${close?.code}`;
    }
  });
});

/** Closed at `expires` (ISO time the welcome told): never before it, and not long after on a busy machine. */
function onTime(what: string, expires: number): string[] {
  const late = Date.now() - expires;
  return late < -50 || late > 1000 ? [`${what}: closed ${late} ms after its sessionExpiresAt`] : [];
}

describe('session expiry under load', () => {
  const sessionTtlMs = 600;
  let server: TestServer;
  before(
    async () => (server = await startTestServer({ limits: { sessionTtlMs, maxConnectionsPerClient: 1000 } })),
  );
  after(() => server.close());

  it('closes every session at its sessionExpiresAt, WebSocket with 4001 and SSE with event: close 4001, while events flow', async () => {
    const started = Date.now();
    const sessions = scaled({ short: 24, full: 240 });
    const r = randomFor('sessions');
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        await rest(server, 'POST', '/api/events/tick', { key: KEYS.acmeSecret, body: { n } });
        await sleep(5);
      }
    })();
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: sessions }, async (_, i) => {
        await sleep(r.int(0, 2 * sessionTtlMs)); // sessions start and end at different moments
        if (i % 3 === 2) {
          const stream = await connectSse(server, KEYS.acmePublic, {
            subscriptions: [{ id: 't', channel: 'events:tick' }],
          });
          const welcome = stream.frames.find((f) => f.message?.type === 'welcome')?.message;
          await stream.waitForEnd(sessionTtlMs + 2000).catch(() => undefined);
          const close = stream.closeData;
          const expires = welcome?.type === 'welcome' ? Date.parse(welcome.sessionExpiresAt) : NaN;
          if (close?.code !== CODE.token_expired)
            failures.push(`SSE ${i}: ended with ${JSON.stringify(close)}`);
          else failures.push(...onTime(`SSE ${i}`, expires));
          stream.close();
          return;
        }
        const client = await RawClient.connect(server, KEYS.acmeSecret);
        await client.subscribe({ id: 't', channel: 'events:tick' });
        const welcome = client.messages[0];
        const expires = welcome?.type === 'welcome' ? Date.parse(welcome.sessionExpiresAt) : NaN;
        const close = await client.waitForClose(sessionTtlMs + 2000).catch(() => undefined);
        if (close?.code !== CODE.token_expired)
          failures.push(`WebSocket ${i}: closed with ${JSON.stringify(close)}`);
        else failures.push(...onTime(`WebSocket ${i}`, expires));
        // A fresh token opens a fresh session.
        const again = await RawClient.connect(server, KEYS.acmeSecret);
        again.close();
      }),
    );
    writing = false;
    await writer;
    recordFigures({
      area: AREA,
      test: 'sessions expiring while events flow',
      scale: SCALE,
      load: `${sessions} sessions of ${sessionTtlMs} ms (WebSocket and SSE) during a stream of events`,
      faults: sessions,
      badInputs: 0,
      lost: 0,
      duplicated: 0,
      leaked: failures.length,
      crashes: 0,
      seconds: secondsSince(started),
      seed: RUN_SEED,
    });
    assert.deepEqual(failures.slice(0, 10), [], SEED);
  });
});
