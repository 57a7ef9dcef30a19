/**
 * Visibility of a streamed transaction in a table read's snapshot
 * (dev-server/sources/postgres/xid-snapshot.ts; research/postgres-cdc.md §3b): pgoutput gives a
 * 32-bit xid, `pg_current_snapshot()` 64-bit ones with the epoch, so the xid is widened next to
 * `xmin` before PostgreSQL's rule is applied.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XidSnapshot } from '../../../dev-server/sources/postgres/xid-snapshot.js';

const EPOCH = 2n ** 32n;

describe('XidSnapshot', () => {
  it('reads pg_current_snapshot() text, with and without transactions in progress', () => {
    const busy = XidSnapshot.parse('742:750:742,745');
    assert.equal(busy.xmin, 742n);
    assert.equal(busy.xmax, 750n);
    assert.deepEqual([...busy.xip], [742n, 745n]);
    assert.equal(busy.toString(), '742:750:742,745');
    const idle = XidSnapshot.parse('751:751:');
    assert.deepEqual([...idle.xip], []);
    assert.equal(idle.toString(), '751:751:');
    const wide = XidSnapshot.parse(`${3n * EPOCH + 5n}:${3n * EPOCH + 9n}:${3n * EPOCH + 7n}`);
    assert.equal(wide.xmin, 3n * EPOCH + 5n, 'xid8 past 2^32 (and 2^53) stays exact');
  });

  it('refuses text that is not a snapshot', () => {
    for (const text of ['', '1:2', '1:2:3:4', 'a:b:', '5:3:', '1:2:3,', '-1:2:']) {
      assert.throws(() => XidSnapshot.parse(text), /not a pg_snapshot/, text);
    }
  });

  it('sees transactions that finished before the snapshot, not those in progress or after it', () => {
    const snapshot = XidSnapshot.parse('742:750:742,745');
    assert.equal(snapshot.isVisible(700), true, 'older than xmin');
    assert.equal(snapshot.isVisible(741), true, 'just before xmin');
    assert.equal(snapshot.isVisible(742), false, 'xmin itself, in progress');
    assert.equal(snapshot.isVisible(743), true, 'between, finished');
    assert.equal(snapshot.isVisible(745), false, 'in progress');
    assert.equal(snapshot.isVisible(749), true, 'just before xmax, finished');
    assert.equal(snapshot.isVisible(750), false, 'xmax itself');
    assert.equal(snapshot.isVisible(751), false, 'after xmax');
  });

  it('widens 32-bit xids across the epoch boundary (xmin just below 2^32)', () => {
    // xmin is 2^32 − 3 in epoch 1 (the oldest in progress); xmax has wrapped into epoch 2.
    const xmin = 2n * EPOCH - 3n;
    const snapshot = XidSnapshot.parse(
      `${xmin}:${2n * EPOCH + 4n}:${xmin},${2n * EPOCH - 1n},${2n * EPOCH + 1n}`,
    );
    assert.equal(snapshot.widen(2 ** 32 - 3), xmin);
    assert.equal(snapshot.isVisible(2 ** 32 - 3), false, 'xmin, in progress');
    assert.equal(snapshot.widen(2), 2n * EPOCH + 2n, 'a small xid after the wrap is in the next epoch');
    assert.equal(snapshot.widen(2 ** 32 - 10), 2n * EPOCH - 10n, 'a large xid before xmin stays in this one');
    assert.equal(snapshot.isVisible(2 ** 32 - 10), true, 'older than xmin');
    assert.equal(snapshot.isVisible(2 ** 32 - 2), true, 'finished, before the wrap');
    assert.equal(snapshot.isVisible(2 ** 32 - 1), false, 'in progress, before the wrap');
    assert.equal(snapshot.isVisible(0), true, 'finished, at the wrap');
    assert.equal(snapshot.isVisible(1), false, 'in progress, after the wrap');
    assert.equal(snapshot.isVisible(3), true, 'finished, after the wrap');
    assert.equal(snapshot.isVisible(4), false, 'xmax, after the wrap');
    assert.equal(snapshot.isVisible(5), false, 'after xmax');
  });

  it('widens across the boundary the other way (xmin just past 2^32)', () => {
    const xmin = EPOCH + 2n;
    const snapshot = XidSnapshot.parse(`${xmin}:${EPOCH + 6n}:${xmin},${EPOCH + 4n}`);
    assert.equal(snapshot.widen(2 ** 32 - 1), EPOCH - 1n, 'a large xid is the epoch before');
    assert.equal(snapshot.isVisible(2 ** 32 - 1), true, 'so older than xmin');
    assert.deepEqual(
      [2, 3, 4, 5, 6].map((xid) => snapshot.isVisible(xid)),
      [false, true, false, true, false],
      'xmin and 4 in progress, 3 and 5 finished, 6 is xmax',
    );
  });

  it('takes an xid up to 2^31 after xmin as newer and one further away as older', () => {
    const snapshot = XidSnapshot.parse(`${EPOCH + 100n}:${EPOCH + 100n}:`);
    assert.equal(snapshot.widen(100 + 2 ** 31 - 1), EPOCH + 100n + 2n ** 31n - 1n);
    assert.equal(snapshot.widen(100 + 2 ** 31), EPOCH + 100n - 2n ** 31n);
    assert.equal(snapshot.isVisible(100 + 2 ** 31 - 1), false);
    assert.equal(snapshot.isVisible(100 + 2 ** 31), true);
  });

  it('refuses an xid that is not unsigned 32-bit (pgoutput reads it signed: use xid >>> 0)', () => {
    const snapshot = XidSnapshot.parse('742:750:');
    for (const xid of [-1, 2 ** 32, 1.5, Number.NaN])
      assert.throws(() => snapshot.isVisible(xid), RangeError);
  });
});
