/**
 * Issue 8, item 3 over WebSocket: generated bad frames against the real dev server (in this
 * process, so its memory and prototypes can be inspected). Each frame gets the answer
 * PROTOCOL.md documents; the server stays up, keeps its memory bounded and its prototypes clean,
 * and a bystander on the same environment keeps receiving its events, in order and untouched.
 * `RELIABILITY_SEED=<seed>` repeats a run's frames.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CODE, SERVER_BOUNDS } from '../../protocol/index.js';
import { RawClient, getToken, sleep } from '../support/raw-client.js';
import { openSse } from '../support/sse-client.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';
import { FrameGenerator } from './support/bad-frames.js';
import { FUZZ_TOPIC, type FrameCase } from './support/frame-case.js';
import { Bystander } from './support/bystander.js';
import { delivery } from './support/delivery.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { mismatch, preview, probeFrame } from './support/frame-probe.js';
import { liveBytes, mib } from './support/memory-probe.js';
import { prototypeChanges, snapshotPrototypes } from './support/prototype-guard.js';
import { SCALE, scaled } from './support/scale.js';
import { RUN_SEED, randomFor } from './support/seeded-random.js';

const AREA = 'bad input';
/** Frames sent on one connection before the next one takes over: under the 10 bad frames a minute that close it with 1008. */
const FRAMES_PER_CONNECTION = 8;
const LANES = 3;
/**
 * Live memory the server may keep after the barrage beyond what it accepted: accepted publishes
 * stay in its history (and in the test's echo listener and tally), nothing else should.
 */
const MEMORY_SLACK = 24 * 2 ** 20;
const SEED = `seed ${RUN_SEED} (RELIABILITY_SEED=${RUN_SEED} repeats the run)`;

describe('bad WebSocket frames', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  /** Sends `frames` frames of one generator, rotating connections, and adds what it saw to `tally`. */
  async function runLane(
    generator: FrameGenerator,
    frames: number,
    tally: {
      published: Map<number, unknown>;
      acceptedBytes: number;
      failures: string[];
      crashes: number;
      connections: number;
    },
  ): Promise<void> {
    let client: RawClient | undefined;
    let used = 0;
    let spent = 0;
    for (let i = 0; i < frames; i++) {
      const frame: FrameCase = generator.next();
      // What the probe costs of the frame rate limit (a frame per started KiB; the marker ping and
      // an unsubscribe besides): a new connection before the burst is spent, since 4029 is not
      // what this test is about (rate-limits.test.ts is).
      const cost = 3 + Math.floor(payloadBytes(frame) / SERVER_BOUNDS.messageBytesPerToken);
      if (
        !client ||
        client.closed ||
        used >= FRAMES_PER_CONNECTION ||
        spent + cost > server.store.limits.maxMessageBurst
      ) {
        client?.close();
        client = await RawClient.connect(server, KEYS.acmeSecret);
        tally.connections++;
        used = 0;
        spent = 0;
      }
      used++;
      spent += cost;
      const invalidBefore = client.invalid.length;
      const observed = await probeFrame(client, frame);
      const welcome = client.messages[0];
      const connectionId = welcome?.type === 'welcome' ? welcome.connectionId : '';
      const problem = mismatch(frame, observed, connectionId);
      if (problem) tally.failures.push(`${frame.category}: ${preview(frame)}: ${problem}`);
      if (observed.close?.code === CODE.internal_error) tally.crashes++;
      const invalid = client.invalid.slice(invalidBefore);
      if (invalid.length)
        tally.failures.push(`${preview(frame)} drew invalid server frames: ${invalid.join(' | ')}`);
      for (const answer of observed.answers) {
        if (answer.type === 'published') {
          tally.published.set(answer.seq, frame.echo);
          tally.acceptedBytes += typeof frame.payload === 'string' ? Buffer.byteLength(frame.payload) : 0;
        }
        if (answer.type === 'subscribed' && !client.closed) {
          // Keeps the connection under maxSubscriptions; waited for, so it is no answer to the next frame.
          client.send({ type: 'unsubscribe', id: answer.id });
          await client.next('unsubscribed', (m) => m.id === answer.id);
        }
      }
    }
    client?.close();
  }

  it('answers every generated frame as documented, and the server, its memory, its prototypes and a bystander hold', async () => {
    const started = Date.now();
    const frames = scaled({ short: 450, full: 6000 });
    const generators = Array.from(
      { length: LANES },
      (_, lane) => new FrameGenerator(randomFor(`bad frames ${lane}`), server.store.limits.maxMessageBytes),
    );
    const prototypes = snapshotPrototypes();
    const bystander = await Bystander.start(server);
    const echo = await RawClient.connect(server, KEYS.acmeSecret);
    await echo.subscribe({ id: 'echo', channel: `events:${FUZZ_TOPIC}` });
    const tally = {
      published: new Map<number, unknown>(),
      acceptedBytes: 0,
      failures: [] as string[],
      crashes: 0,
      connections: 0,
    };

    // A warm-up tenth first, so that code the frames make V8 compile once is not counted as kept.
    const warmUp = Math.ceil(frames / 10 / LANES);
    await Promise.all(generators.map((g) => runLane(g, warmUp, tally)));
    const memoryBefore = liveBytes();
    await Promise.all(generators.map((g) => runLane(g, Math.ceil(frames / LANES) - warmUp, tally)));
    const memoryAfter = liveBytes();

    const report = await bystander.finish();
    const last = Math.max(0, ...tally.published.keys());
    for (let i = 0; i < 500 && !echo.events('echo').some((e) => e.seq >= last); i++) await sleep(10);
    const echoed = echo.events('echo');
    const echoDelivery = delivery(
      tally.published.keys(),
      echoed.map((e) => e.seq),
    );
    const altered = echoed.filter(
      (e) =>
        tally.published.has(e.seq) &&
        !isDeepStrictEqual('data' in e ? e.data : undefined, tally.published.get(e.seq)),
    );
    echo.close();
    const polluted = prototypeChanges(prototypes);
    const health = await fetch(`${server.url}/healthz`);
    const sent = generators.length * Math.ceil(frames / LANES);
    const controls = generators.reduce((n, g) => n + (g.made.get('valid control') ?? 0), 0);
    recordFigures({
      area: AREA,
      test: 'WebSocket frames',
      scale: SCALE,
      load: `${sent} frames (${controls} valid controls) on ${tally.connections} connections, ${LANES} at a time; bystander: ${report.published} events on WebSocket + SSE`,
      faults: 0,
      badInputs: sent - controls,
      lost: report.lost + echoDelivery.lost,
      duplicated: report.duplicated + echoDelivery.duplicated,
      leaked: report.unexpected + echoDelivery.unexpected,
      crashes: tally.crashes + (health.status === 200 ? 0 : 1),
      seconds: secondsSince(started),
      seed: RUN_SEED,
      notes: `${tally.failures.length} answers not as documented; live memory ${mib(memoryBefore)} → ${mib(memoryAfter)} MiB with ${mib(tally.acceptedBytes)} MiB of publishes accepted; ${polluted.length} prototype changes`,
    });

    assert.equal(health.status, 200, 'the server answers /healthz');
    assert.deepEqual(
      tally.failures.slice(0, 15),
      [],
      `${tally.failures.length} frames not answered as documented; ${SEED}`,
    );
    assert.deepEqual(report.problems, [], `the bystander's streams were disturbed; ${SEED}`);
    assert.deepEqual(
      echoDelivery,
      { lost: 0, duplicated: 0, unexpected: 0, outOfOrder: 0 },
      'accepted publishes reach their subscriber',
    );
    assert.deepEqual(
      altered.map((e) => e.seq),
      [],
      'accepted publishes arrive as sent',
    );
    assert.deepEqual(polluted, [], 'no prototype is polluted');
    const bound = MEMORY_SLACK + 4 * tally.acceptedBytes;
    assert.ok(
      memoryAfter - memoryBefore < bound,
      `live memory grew ${mib(memoryAfter - memoryBefore)} MiB over ${sent} frames (bound ${mib(bound)} MiB)`,
    );
  });

  it('closes a connection whose first frame is not a valid auth with 4002, whatever the frame', async () => {
    const started = Date.now();
    const generator = new FrameGenerator(randomFor('first frames'), server.store.limits.maxMessageBytes);
    const attempts = scaled({ short: 30, full: 300 });
    const bystander = await Bystander.start(server);
    const failures: string[] = [];
    for (let i = 0; i < attempts; i++) {
      const frame = generator.next();
      const client = await RawClient.open(server.wsUrl);
      const observed = await probeFrame(client, frame);
      // Over maxMessageBytes is refused before it is read (1009); invalid UTF-8 fails the socket (1007).
      const expected = frame.expect.kind === 'close' ? frame.expect.code : CODE.token_invalid;
      if (observed.close?.code !== expected || observed.answers.length) {
        failures.push(
          `${preview(frame)}: expected close ${expected}, got ${JSON.stringify(observed).slice(0, 300)}`,
        );
      }
      client.close();
    }
    const report = await bystander.finish();
    recordFigures({
      area: AREA,
      test: 'first frames before auth',
      scale: SCALE,
      load: `${attempts} unauthenticated connections; bystander: ${report.published} events`,
      faults: 0,
      badInputs: attempts,
      lost: report.lost,
      duplicated: report.duplicated,
      leaked: report.unexpected,
      crashes: 0,
      seconds: secondsSince(started),
      seed: RUN_SEED,
    });
    assert.deepEqual(
      failures.slice(0, 10),
      [],
      `${failures.length} first frames not refused as documented; ${SEED}`,
    );
    assert.deepEqual(report.problems, []);
  });

  // Stored and relayed values may carry no `__proto__` key (protocol/README.md): a nested one in a
  // presence meta is refused with 4000; a top-level one must be too, not dropped without a word.
  const metas = [
    { where: 'one level down', meta: '{"a":{"__proto__":{"polluted":true}}}' },
    { where: 'at the top', meta: '{"__proto__":{"polluted":true}}' },
  ];
  for (const { where, meta } of metas) {
    it(`refuses a presence meta with a __proto__ key ${where} with error 4000 over WebSocket`, async () => {
      const client = await RawClient.connect(server, KEYS.acmeSecret);
      try {
        client.send(`{"type":"subscribe","id":"m","channel":"presence:pinned","meta":${meta}}`);
        const answer = await client.next(['subscribed', 'error'], (m) => m.id === 'm');
        assert.equal(answer.type, 'error', `accepted as ${JSON.stringify(answer)}`);
        assert.equal(answer.code, CODE.bad_request);
        assert.match(answer.message, /__proto__/);
      } finally {
        client.close();
      }
    });

    it(`refuses a presence meta with a __proto__ key ${where} over SSE (400, or event: error 4000)`, async () => {
      const token = await getToken(server, KEYS.acmePublic);
      const subscriptions = `[{"id":"m","channel":"presence:pinned","meta":${meta}}]`;
      const answer = await openSse(server, { token, subscriptions });
      if (!answer.stream) {
        // Refused by the subscriptions' schema, like any malformed one: the stream is refused
        // naming the subscription, as section 6 says (the manager then refuses that one alone).
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.match(JSON.stringify(answer.body), /subscriptions.*0.*meta[\s\S]*__proto__/);
        return;
      }
      try {
        const stream = answer.stream;
        const answered = () => stream.frames.find((f) => f.event === 'subscribed' || f.event === 'error');
        for (let i = 0; i < 300 && !answered(); i++) await sleep(10);
        const frame = answered();
        assert.equal(frame?.event, 'error', `answered ${frame?.event}: ${frame?.data}`);
        assert.ok(frame.message?.type === 'error');
        assert.equal(frame.message.code, CODE.bad_request);
        assert.equal(frame.message.id, 'm');
      } finally {
        answer.stream.close();
      }
    });
  }
});

/** The size of a frame's payload, as the server counts it. */
function payloadBytes(frame: FrameCase): number {
  const { payload } = frame;
  if (typeof payload === 'string') return payload.length;
  return 'binary' in payload ? payload.binary.length : payload.invalidUtf8.length;
}
