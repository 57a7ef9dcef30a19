/**
 * The persisted form of commits (`commit-delta.ts`): random create / merge-patch / delete / publish
 * sequences run through a real environment; their history, written as deltas and read back as
 * JSON, is rebuilt backward from the final records (a snapshot) and forward from the first state
 * (a journal), and must equal the original commit for commit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveRecord } from '../../protocol/index.js';
import type { Clock } from '../../dev-server/engine/clock.js';
import {
  replayForward,
  toDelta,
  unwindBackward,
  weigh,
  type CommitDelta,
  type RecordTables,
} from '../../dev-server/engine/commit-delta.js';
import type { Commit } from '../../dev-server/engine/commit.js';
import { Environment } from '../../dev-server/engine/environment.js';
import { Random } from '../reliability/support/seeded-random.js';

const OBJECTS = ['orders', 'products'];
const FIELDS = ['status', 'total', 'customer', 'tags', 'note', '__proto__', 'n'];

/** A clock that moves a millisecond a reading, so timestamps differ from commit to commit. */
function steppingClock(): Clock {
  let now = Date.UTC(2026, 0, 1);
  return { now: () => now++, setTimeout: () => 0, clearTimeout: () => undefined };
}

function environment(): Environment {
  return new Environment(
    'c',
    'e',
    OBJECTS,
    1_000_000,
    Number.POSITIVE_INFINITY,
    'epoch',
    steppingClock(),
    () => {},
  );
}

/** A JSON value up to `depth` levels deep, with nulls, nesting, and keys a prototype would take. */
function value(r: Random, depth: number): unknown {
  const kind = r.int(0, depth > 0 ? 6 : 4);
  if (kind === 0) return null;
  if (kind === 1) return r.chance(0.5);
  if (kind === 2) return r.int(-1000, 1000) / (r.chance(0.3) ? 7 : 1);
  if (kind === 3) return r.pick(['', 'paid', 'pending', 'ünïcödé ✓', 'line\nbreak', '"quoted"']);
  if (kind === 4) return 'x'.repeat(r.int(0, 40));
  if (kind === 5) return Array.from({ length: r.int(0, 3) }, () => value(r, depth - 1));
  return object(r, depth - 1);
}

function object(r: Random, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = r.int(0, 3); i > 0; i--) {
    Object.defineProperty(out, r.pick(FIELDS), {
      value: value(r, depth),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** A merge patch: sets, nested merges, and nulls that remove fields. */
function patch(r: Random): Record<string, unknown> {
  const out = object(r, 2);
  if (r.chance(0.4)) Object.defineProperty(out, r.pick(FIELDS), { value: null, enumerable: true });
  return out;
}

/** Runs `steps` random writes: creates, merge patches, deletes (ids come back), publishes. */
function run(env: Environment, r: Random, steps: number): void {
  const ids = Array.from({ length: 6 }, (_, i) => `r${i}`);
  for (let i = 0; i < steps; i++) {
    const object = r.pick(OBJECTS);
    const id = r.pick(ids);
    const exists = env.table(object).has(id);
    const correlationId = r.chance(0.5) ? `c${i}` : undefined;
    const op = r.int(0, 9);
    if (op === 0) env.publish('topic', value(r, 2));
    else if (!exists) env.create(object, { ...object_(r), id }, correlationId);
    else if (op <= 2) env.remove(object, id, correlationId);
    else env.patch(object, id, patch(r), correlationId);
  }
}
const object_ = (r: Random) => object(r, 2);

/** Through JSON and back, as a file holds it. */
const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function tablesOf(records: Record<string, LiveRecord[]>): RecordTables {
  return new Map(Object.entries(records).map(([o, list]) => [o, new Map(list.map((rec) => [rec.id, rec]))]));
}

function plain(tables: RecordTables): Record<string, Record<string, LiveRecord>> {
  const out: Record<string, Record<string, LiveRecord>> = {};
  for (const [object, table] of tables) {
    if (table.size) out[object] = Object.fromEntries([...table].sort(([a], [b]) => a.localeCompare(b)));
  }
  return out;
}

describe('commit deltas', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`rebuild the history of random writes, backward and forward (seed ${seed})`, () => {
      const r = new Random(seed, 'commit-delta');
      const env = environment();
      run(env, r, 20); // a state to start from
      const initial = json(env.exportState());
      run(env, r, 150);
      const state = env.exportState();
      const history = state.history.filter((c) => c.seq > initial.seq);
      const original = json(history);

      // Backward, as a snapshot: from the final records, newest commit first.
      const backward = new Map(tablesOf(json(state.records)));
      const unwound = [...history]
        .reverse()
        .map((c) => unwindBackward(backward, json(toDelta(c, 'backward')) as CommitDelta))
        .reverse();
      assert.deepStrictEqual(json(unwound), original, 'backward rebuild');
      assert.deepStrictEqual(
        plain(backward),
        plain(tablesOf(initial.records)),
        'backward ends at the first state',
      );

      // Forward, as a journal: from the first state, oldest commit first.
      const forward = tablesOf(json(initial.records));
      const replayed = history.map((c) => replayForward(forward, json(toDelta(c, 'forward')) as CommitDelta));
      assert.deepStrictEqual(json(replayed), original, 'forward rebuild');
      assert.deepStrictEqual(
        plain(forward),
        plain(tablesOf(json(state.records))),
        'forward ends at the last state',
      );
    });
  }

  it('carries a whole record only where the direction cannot find it, and an update as its changed fields', () => {
    const env = environment();
    const big = 'x'.repeat(100_000);
    env.create('orders', { id: 'a', big, status: 'new' });
    env.patch('orders', 'a', { status: 'paid', note: null, extra: { deep: [1, null] } });
    env.remove('orders', 'a');
    const [create, update, remove] = env.exportState().history as [Commit, Commit, Commit];
    const sizes = (direction: 'forward' | 'backward') =>
      [create, update, remove].map((c) => JSON.stringify(toDelta(c, direction)).length);
    const [cf, uf, df] = sizes('forward');
    const [cb, ub, db] = sizes('backward');
    assert.ok(
      (cf as number) > 100_000 && (df as number) < 200,
      'the journal carries the created record only',
    );
    assert.ok(
      (cb as number) < 200 && (db as number) > 100_000,
      'the snapshot carries the deleted record only',
    );
    assert.ok(
      (uf as number) < 400 && (ub as number) < 400,
      `an update carries its changed fields only (${uf}, ${ub})`,
    );
    assert.deepEqual(toDelta(update, 'forward'), {
      kind: 'record',
      seq: 2,
      timestamp: update.timestamp,
      object: 'orders',
      id: 'a',
      operation: 'update',
      changedFields: ['extra', 'status', 'updatedAt'],
      after: {
        extra: { deep: [1, null] },
        status: 'paid',
        updatedAt: (update as { record: LiveRecord }).record.updatedAt,
      },
      before: { status: 'new', updatedAt: (create as { record: LiveRecord }).record.updatedAt },
    });
  });

  it('tells a field set to null apart from one removed', () => {
    const env = environment();
    env.create('orders', { id: 'a', gone: 1, kept: { inner: 1 } });
    env.patch('orders', 'a', { gone: null, kept: { inner: null }, added: [null] });
    const history = env.exportState().history;
    const tables: RecordTables = new Map([
      ['orders', new Map([['a', env.table('orders').get('a') as LiveRecord]])],
    ]);
    const update = unwindBackward(tables, json(toDelta(history[1] as Commit, 'backward')) as CommitDelta);
    assert.deepStrictEqual(json(update), json(history[1]));
    assert.equal('gone' in (update as { record: LiveRecord }).record, false);
    assert.deepEqual((update as { record: LiveRecord }).record.kept, {});
    assert.deepEqual((update as { record: LiveRecord }).record.added, [null]);
  });

  it('rebuilds commits that share their records, as live ones do', () => {
    const env = environment();
    env.create('orders', { id: 'a', big: 'y'.repeat(1000) });
    for (let i = 0; i < 5; i++) env.patch('orders', 'a', { n: i });
    const state = env.exportState();
    const tables = tablesOf(state.records);
    const rebuilt = [...state.history]
      .reverse()
      .map((c) => unwindBackward(tables, json(toDelta(c, 'backward')) as CommitDelta))
      .reverse() as Extract<Commit, { kind: 'record' }>[];
    for (let i = 1; i < rebuilt.length; i++) {
      assert.equal(
        rebuilt[i]?.oldRecord,
        rebuilt[i - 1]?.record,
        `commit ${i + 1}'s old record is the record before`,
      );
    }
    assert.equal(rebuilt.at(-1)?.record, state.records.orders?.[0], 'the newest is the stored record itself');
  });

  it('refuses a delta that does not fit the records, saying which record', () => {
    const env = environment();
    env.create('orders', { id: 'a' });
    env.patch('orders', 'a', { n: 1 });
    const [, update] = env.exportState().history as [Commit, Commit];
    assert.throws(
      () => replayForward(new Map(), toDelta(update, 'forward')),
      /seq 2 updates orders record "a" which does not exist/,
    );
    assert.throws(
      () => unwindBackward(new Map(), { ...toDelta(update, 'backward'), operation: 'delete' } as CommitDelta),
      /seq 2 deletes orders record "a" but carries no record/,
    );
  });

  it('weighs an update by its changed fields, a create or delete by its record', () => {
    const env = environment();
    env.create('orders', { id: 'a', big: 'z'.repeat(1_000_000) });
    env.patch('orders', 'a', { n: 1 });
    env.remove('orders', 'a');
    const [create, update, remove] = env.exportState().history as [Commit, Commit, Commit];
    assert.ok(weigh(create) > 1_000_000 && weigh(create) < 1_000_300);
    assert.ok(weigh(update) < 300, `an update weighs ${weigh(update)}`);
    assert.ok(weigh(remove) > 1_000_000 && weigh(remove) < 1_000_300);
  });
});
