/**
 * History (`dev-server/engine/history.ts`) bounded by count (`historySize`) and by bytes
 * (`historyBytes`): the oldest commits leave first, and `covers` says exactly which resumes can be
 * complete.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { weigh } from '../../dev-server/engine/commit-delta.js';
import type { Commit } from '../../dev-server/engine/commit.js';
import { History } from '../../dev-server/engine/history.js';

/** A custom event commit carrying `size` characters of text. */
function event(seq: number, size = 10): Commit {
  return { kind: 'event', seq, timestamp: 't', topic: 'x', data: 'd'.repeat(size) };
}

const seqs = (history: History) => history.toArray().map((c) => c.seq);

describe('history', () => {
  it('keeps the last historySize commits', () => {
    const history = new History(3);
    for (let seq = 1; seq <= 5; seq++) history.push(event(seq));
    assert.deepEqual(seqs(history), [3, 4, 5]);
    assert.equal(history.covers(2, 5), true);
    assert.equal(history.covers(1, 5), false);
  });

  it('lets the oldest commits go once their bytes pass historyBytes', () => {
    const weight = weigh(event(1, 1000));
    const history = new History(100, weight * 3 + weight / 2);
    for (let seq = 1; seq <= 10; seq++) history.push(event(seq, 1000));
    assert.deepEqual(seqs(history), [8, 9, 10]);
    assert.equal(
      history.bytes,
      [8, 9, 10].reduce((n, seq) => n + weigh(event(seq, 1000)), 0),
    );
    assert.equal(history.covers(7, 10), true, 'a resume from 7 needs 8, 9, 10: all held');
    assert.equal(history.covers(6, 10), false, 'a resume from 6 needs 7, gone');
    const visited: number[] = [];
    history.forEachAfter(7, (c) => visited.push(c.seq));
    assert.deepEqual(visited, [8, 9, 10]);
  });

  it('lets as many small commits go as one large one needs', () => {
    const small = weigh(event(20, 10)); // seqs of two digits weigh one more than those of one
    const history = new History(100, 20 * small);
    for (let seq = 1; seq <= 20; seq++) history.push(event(seq, 10));
    assert.equal(seqs(history).length, 20);
    history.push(event(21, 10 * small));
    assert.ok(history.bytes <= 20 * small);
    assert.equal(seqs(history)[0], 21 - seqs(history).length + 1);
    assert.ok(seqs(history).length < 12, `${seqs(history).length} held`);
  });

  it('keeps the newest commit even when it alone weighs more than historyBytes', () => {
    const history = new History(100, 50);
    history.push(event(1, 10));
    history.push(event(2, 500));
    assert.deepEqual(seqs(history), [2]);
    assert.equal(history.covers(1, 2), true);
    assert.equal(history.covers(0, 2), false);
  });
});
