/**
 * One-time tokens across the cluster (issue 15, item 1; PROTOCOL.md sections 3 and 11): several
 * `ClusterTokens` on one private redis-server stand for several server processes. A token fetched
 * from one opens a connection on another, once in the whole cluster, even when processes race
 * for it; a late token is `token_expired` for `tokenTtlMs` past its expiry and `token_invalid`
 * after, as in the single-process TokenStore; while Redis is down or hangs, calls fail fast with
 * `ClusterUnavailableError`.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ClusterTokens, type ClusterTokensOptions } from '../../../dev-server/cluster/cluster-tokens.js';
import { ClusterUnavailableError } from '../../../dev-server/cluster/cluster-unavailable-error.js';
import { ManualClock } from '../../support/manual-clock.js';
import { RedisServer } from '../../support/redis-server.js';

const TTL = 60_000;

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

/** `count` token stores ("processes") on one fresh key prefix, sharing one manual clock. */
async function processes(count: number, options: Partial<ClusterTokensOptions> = {}) {
  const keyPrefix = `t${process.pid}-${++prefixCount}:`;
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const stores: ClusterTokens[] = [];
  for (let i = 0; i < count; i++) {
    const store = await ClusterTokens.connect({
      url: redis.url,
      keyPrefix,
      tokenTtlMs: TTL,
      clock,
      onError: (error) => errors.push(error),
      ...options,
    });
    cleanups.push(() => store.close());
    stores.push(store);
  }
  return { stores, clock, errors, keyPrefix };
}

describe('a token in the cluster', () => {
  it('is issued on one process and opens a connection on another, once', async () => {
    const { stores, clock } = await processes(2);
    const [a, b] = stores as [ClusterTokens, ClusterTokens];
    const issued = await a.issue('key-1');
    assert.match(issued.token, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(issued.expiresAt, clock.now() + TTL);

    assert.deepEqual(await b.consume(issued.token), { keyId: 'key-1' });
    assert.deepEqual(await b.consume(issued.token), { refused: 'token_invalid' });
    assert.deepEqual(await a.consume(issued.token), { refused: 'token_invalid' });
  });

  it('is given to exactly one of three processes that use it at the same time', async () => {
    const { stores } = await processes(3);
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => stores[i % 3]!.issue(`key-${i}`)));
    const uses = await Promise.all(
      tokens.map(({ token }) => Promise.all(stores.map((store) => store.consume(token)))),
    );
    uses.forEach((answers, i) => {
      const granted = answers.filter((answer) => 'keyId' in answer && !('refused' in answer));
      assert.deepEqual(granted, [{ keyId: `key-${i}` }], `token ${i}: ${JSON.stringify(answers)}`);
      assert.equal(
        answers.filter((answer) => 'refused' in answer && answer.refused === 'token_invalid').length,
        2,
      );
    });
  });

  it('is token_invalid when it was never issued, whatever its form', async () => {
    const { stores } = await processes(1);
    for (const token of [globalThis.crypto.randomUUID(), 'not-a-token', '', 'x'.repeat(10_000)]) {
      assert.deepEqual(await stores[0]!.consume(token), { refused: 'token_invalid' }, token.slice(0, 40));
    }
  });
});

describe('a late token', () => {
  it('opens at its expiry, is token_expired (with its key) after it, and is spent by that use', async () => {
    const { stores, clock } = await processes(2);
    const [a, b] = stores as [ClusterTokens, ClusterTokens];
    const onTime = await a.issue('key-1');
    const late = await a.issue('key-2');

    clock.advance(TTL);
    assert.deepEqual(await b.consume(onTime.token), { keyId: 'key-1' });
    clock.advance(1);
    assert.deepEqual(await b.consume(late.token), { refused: 'token_expired', keyId: 'key-2' });
    assert.deepEqual(await a.consume(late.token), { refused: 'token_invalid' });
  });

  it('is token_expired until tokenTtlMs past its expiry and token_invalid after', async () => {
    const { stores, clock } = await processes(2);
    const [a, b] = stores as [ClusterTokens, ClusterTokens];
    const remembered = await a.issue('key-1');
    const forgotten = await a.issue('key-2');

    clock.advance(2 * TTL);
    assert.deepEqual(await b.consume(remembered.token), { refused: 'token_expired', keyId: 'key-1' });
    clock.advance(1);
    assert.deepEqual(await b.consume(forgotten.token), { refused: 'token_invalid' });
  });

  it('leaves Redis on its own 2 × tokenTtlMs after it was issued', async () => {
    const ttl = 200;
    const { stores, keyPrefix } = await processes(1, { tokenTtlMs: ttl, clock: { now: () => Date.now() } });
    const issuedAt = performance.now();
    await stores[0]!.issue('key-1');
    await stores[0]!.issue('key-2');
    const keys = (await redis.command('KEYS', `${keyPrefix}*`)) as string[];
    assert.equal(keys.length, 2);
    const left = Number(await redis.command('PTTL', keys[0]!));
    assert.ok(left > 2 * ttl - (performance.now() - issuedAt) - 5 && left <= 2 * ttl, `PTTL ${left}`);
    const deadline = issuedAt + 2 * ttl + 500;
    while (((await redis.command('KEYS', `${keyPrefix}*`)) as string[]).length > 0) {
      assert.ok(performance.now() < deadline, 'still in Redis');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(performance.now() - issuedAt >= 2 * ttl - 5, 'gone before 2 × tokenTtlMs');
  });
});

describe('Redis unreachable', () => {
  it('rejects at once while Redis is down, and after a restart old tokens are invalid and new ones work', async () => {
    const { stores, errors } = await processes(2);
    const [a, b] = stores as [ClusterTokens, ClusterTokens];
    const before = await a.issue('key-1');

    await redis.kill();
    for (const call of [() => a.issue('key-2'), () => b.consume(before.token)]) {
      const started = performance.now();
      await assert.rejects(call(), ClusterUnavailableError);
      assert.ok(performance.now() - started < 100, `rejected after ${performance.now() - started} ms`);
    }
    assert.equal(a.available, false);
    await new Promise((resolve) => setTimeout(resolve, 300)); // several reconnect attempts
    assert.ok(
      errors.every((error) => error instanceof ClusterUnavailableError),
      `errors reported: ${errors.map(String).join('; ')}`,
    );
    assert.equal(errors.length, 2, 'one report per connection and outage');

    await redis.restart();
    await until('both connections back', () => a.available && b.available);
    assert.deepEqual(await b.consume(before.token), { refused: 'token_invalid' });
    const next = await a.issue('key-3');
    assert.deepEqual(await b.consume(next.token), { keyId: 'key-3' });
  });

  it('rejects after commandTimeoutMs while Redis hangs', async () => {
    const { stores } = await processes(1, { commandTimeoutMs: 200 });
    const issued = await stores[0]!.issue('key-1');
    await redis.pause(600);
    const started = performance.now();
    await assert.rejects(stores[0]!.consume(issued.token), ClusterUnavailableError);
    const waited = performance.now() - started;
    assert.ok(waited >= 150 && waited < 600, `rejected after ${waited} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The timed-out use ran once Redis went on: the token is spent.
    assert.deepEqual(await stores[0]!.consume(issued.token), { refused: 'token_invalid' });
  });

  it('refuses to connect to a Redis that is not there', async () => {
    const started = performance.now();
    await assert.rejects(
      ClusterTokens.connect({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 300, onError: () => {} }),
      ClusterUnavailableError,
    );
    assert.ok(performance.now() - started < 1000, `refused after ${performance.now() - started} ms`);
  });
});

async function until(what: string, condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
