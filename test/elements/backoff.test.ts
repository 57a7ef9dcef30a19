/**
 * `backoff()`, the connection manager's pure reconnect delay (DESIGN.md "Connection manager"):
 * exponential ceilings from `minMs` to `maxMs`, a random value between `minMs / 2` and the
 * ceiling, and the same value for the same `random`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, backoff, retryDelay } from '../../elements/connection/index.js';

const SMALL = { minMs: 20, maxMs: 200, factor: 2 };
const highest = () => 1 - Number.EPSILON;
const lowest = () => 0;

describe('backoff()', () => {
  const ceilings = [
    { attempt: 1, ceiling: 20 },
    { attempt: 2, ceiling: 40 },
    { attempt: 3, ceiling: 80 },
    { attempt: 4, ceiling: 160 },
    { attempt: 5, ceiling: 200 },
    { attempt: 6, ceiling: 200 },
    { attempt: 50, ceiling: 200 },
    { attempt: 5000, ceiling: 200 },
  ];
  for (const { attempt, ceiling } of ceilings) {
    it(`has a ceiling of ${ceiling} ms at attempt ${attempt}`, () => {
      assert.equal(backoff(attempt, SMALL, highest), ceiling);
    });
  }

  it('never goes below minMs / 2, whatever the attempt', () => {
    for (const { attempt } of ceilings) assert.equal(backoff(attempt, SMALL, lowest), 10);
  });

  it('stays within [minMs / 2, ceiling] for random values', () => {
    for (const { attempt, ceiling } of ceilings) {
      for (let i = 0; i < 200; i++) {
        const delay = backoff(attempt, SMALL);
        assert.ok(Number.isInteger(delay), `${delay} is a whole number of milliseconds`);
        assert.ok(delay >= 10 && delay <= ceiling, `attempt ${attempt}: ${delay} outside [10, ${ceiling}]`);
      }
    }
  });

  it('spreads delays over the whole range (jitter), not one value', () => {
    const delays = new Set(Array.from({ length: 200 }, () => backoff(5, SMALL)));
    assert.ok(delays.size > 20, `only ${delays.size} distinct delays`);
  });

  it('gives the same delay for the same random value', () => {
    const half = () => 0.5;
    assert.equal(backoff(3, SMALL, half), 45); // 10 + 0.5 · (80 − 10)
    assert.equal(backoff(3, SMALL, half), backoff(3, SMALL, half));
    assert.equal(
      backoff(5, SMALL, () => 0.25),
      58,
    ); // 10 + 0.25 · (200 − 10), rounded
  });

  it('treats attempt 0 like the first retry', () => {
    assert.equal(backoff(0, SMALL, highest), 20);
  });

  it('defaults to 1 s → 30 s, factor 2', () => {
    assert.deepEqual(DEFAULTS.backoff, { minMs: 1000, maxMs: 30_000, factor: 2 });
    const ceilingsOfDefault = [1, 2, 3, 4, 5, 6, 7].map((attempt) =>
      backoff(attempt, DEFAULTS.backoff, highest),
    );
    assert.deepEqual(ceilingsOfDefault, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});

describe('retryDelay', () => {
  const options = { minMs: 20, maxMs: 200, factor: 2 };

  it('retries at once after 4001, whatever the attempt', () => {
    assert.equal(
      retryDelay(4001, 5, options, () => 0.9),
      0,
    );
  });

  it('waits the maximum after 4008', () => {
    assert.equal(
      retryDelay(4008, 1, options, () => 0),
      200,
    );
  });

  it('backs off with jitter after any other close, and when no close was seen', () => {
    for (const code of [4002, 4009, 4011, 1001, 1006, undefined]) {
      assert.equal(
        retryDelay(code, 3, options, () => 0.5),
        backoff(3, options, () => 0.5),
      );
    }
  });
});
