/**
 * Issue 8, item 3, the cost of filters: `where` is bounded (protocol/where.ts `WHERE_LIMITS`: 32
 * levels, 1000 terms; past either, a 4000 naming the limit), so a connection holding
 * maxSubscriptions wheres at those limits costs each write a bounded time, of the order of the
 * same subscriptions with a one-term where. Measured, with a generous bound for a loaded machine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WHERE_LIMITS, type Where } from '../../protocol/index.js';
import { RawClient, rest } from '../support/raw-client.js';
import { subscribeError } from '../support/record-events.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { SCALE, scaled } from './support/scale.js';

/** The longest a write may take to reach a connection with every where at the limits. */
const BOUND_MS = 250;

/**
 * A where at both limits that every written record passes through to the end: `$not`s nested to
 * the depth limit around an `$in` or `$nin` (each of its elements is a term) of totals no record
 * has, so that the whole where holds. `extraNots` and `extraTerms` step past the limits.
 */
function maximalWhere(extraNots = 0, extraTerms = 0): Where {
  // The where's field, its operator object and the operand array take 3 of the levels.
  const nots = WHERE_LIMITS.maxDepth - 3 + extraNots;
  const elements = WHERE_LIMITS.maxTerms - nots - 1 + extraTerms;
  const none = Array.from({ length: elements }, (_, i) => -1 - i);
  // An odd number of $not turns "in none of these" into true; an even number keeps "not in" true.
  let where: Where = { total: nots % 2 === 1 ? { $in: none } : { $nin: none } };
  for (let i = 0; i < nots; i++) where = { $not: where };
  return where;
}

describe('filter cost', () => {
  let server: TestServer;
  // maxFilterWorkPerSecond and the frame rate limit out of the way: this measures the wheres' own
  // cost, not the limits that cap what a connection may ask for (where-work.test.ts does).
  before(
    async () =>
      (server = await startTestServer({
        limits: {
          flushIntervalMs: 0,
          maxFilterWorkPerSecond: 1e9,
          maxMessagesPerSecond: 1e6,
          maxMessageBurst: 1e6,
        },
      })),
  );
  after(() => server.close());

  /** Mean ms from a write's request to its event on a connection with `subs` subscriptions of `where`. */
  async function latency(where: Where, writes: number, tag: string): Promise<{ mean: number; max: number }> {
    const client = await RawClient.connect(server, KEYS.acmeSecret);
    const subs = server.store.limits.maxSubscriptions;
    for (let i = 0; i < subs; i++) {
      await client.subscribe({ id: `s${i}`, channel: 'records:orders', filter: { where } });
    }
    const times: number[] = [];
    for (let i = 0; i < writes; i++) {
      const id = `${tag}-${i}`;
      const sent = performance.now();
      await rest(server, 'POST', '/api/objects/orders/records', {
        key: KEYS.acmeSecret,
        body: { id, total: i },
      });
      await client.next('batch', (m) => m.events.some((e) => 'id' in e && e.id === id), 5000);
      times.push(performance.now() - sent);
    }
    client.close();
    return { mean: times.reduce((a, b) => a + b, 0) / times.length, max: Math.max(...times) };
  }

  it('spends a bounded time per write on maxSubscriptions wheres at the depth and term limits', async () => {
    const started = Date.now();
    const writes = scaled({ short: 50, full: 500 });
    const where = maximalWhere();
    // One step past either limit is refused, naming it: the where above is at both.
    const probe = await RawClient.connect(server, KEYS.acmeSecret);
    const deeper = await subscribeError(probe, {
      id: 'deeper',
      channel: 'records:orders',
      filter: { where: maximalWhere(1) },
    });
    const wider = await subscribeError(probe, {
      id: 'wider',
      channel: 'records:orders',
      filter: { where: maximalWhere(0, 1) },
    });
    probe.close();
    assert.match(deeper.message, new RegExp(`more than ${WHERE_LIMITS.maxDepth} levels`));
    assert.match(wider.message, new RegExp(`more than ${WHERE_LIMITS.maxTerms} terms`));

    await latency({ total: { $gte: 0 } }, Math.ceil(writes / 5), 'warm-up');
    const plain = await latency({ total: { $gte: 0 } }, writes, 'plain');
    const maximal = await latency(where, writes, 'maximal');
    const subs = server.store.limits.maxSubscriptions;
    recordFigures({
      area: 'bad input',
      test: 'where at the limits: cost per write',
      scale: SCALE,
      load: `${writes} writes to a connection with ${subs} wheres of ${WHERE_LIMITS.maxDepth} levels and ${WHERE_LIMITS.maxTerms} terms each`,
      faults: 0,
      badInputs: 2,
      lost: 0,
      duplicated: 0,
      leaked: 0,
      crashes: 0,
      seconds: secondsSince(started),
      notes: `write → event: mean ${maximal.mean.toFixed(1)} ms, max ${maximal.max.toFixed(1)} ms; with one-term wheres: mean ${plain.mean.toFixed(1)} ms, max ${plain.max.toFixed(1)} ms`,
    });
    assert.ok(maximal.mean < BOUND_MS, `a write took ${maximal.mean.toFixed(1)} ms on average to arrive`);
  });
});
