import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SortKeySchema, SortSchema } from '../../protocol/query-schemas.js';
import { compileSort, parseSortList } from '../../protocol/sort.js';

type Row = Record<string, unknown> & { id: string };

/** The ids of `rows` once sorted by `sort`; the input order is reversed first so stability cannot help. */
function sortedIds(rows: Row[], sort: string[] | undefined): string[] {
  return [...rows]
    .reverse()
    .sort(compileSort(sort))
    .map((row) => row.id);
}

describe('compileSort', () => {
  const scores: Row[] = [
    { id: 'a', score: 2 },
    { id: 'b', score: null },
    { id: 'c', score: 10 },
    { id: 'd' },
    { id: 'e', score: 1 },
  ];

  const cases: [description: string, rows: Row[], sort: string[] | undefined, expected: string[]][] = [
    ['orders by id when there are no keys', scores, undefined, ['a', 'b', 'c', 'd', 'e']],
    ['orders by id for an empty key list', scores, [], ['a', 'b', 'c', 'd', 'e']],
    [
      'sorts numbers ascending, numerically, with null and missing last',
      scores,
      ['score'],
      ['e', 'a', 'c', 'b', 'd'],
    ],
    ['sorts descending with null and missing still last', scores, ['-score'], ['c', 'a', 'e', 'b', 'd']],
    [
      'sorts strings by code units, uppercase before lowercase',
      [
        { id: '1', name: 'bob' },
        { id: '2', name: 'Bob' },
        { id: '3', name: 'alice' },
        { id: '4', name: 'Zed' },
      ],
      ['name'],
      ['2', '4', '3', '1'],
    ],
    [
      'orders ISO timestamps in time, newest first when descending',
      [
        { id: 'old', createdAt: '2023-12-31T23:59:59.000Z' },
        { id: 'new', createdAt: '2024-05-01T10:00:00.000Z' },
        { id: 'mid', createdAt: '2024-01-15T00:00:00.000Z' },
      ],
      ['-createdAt'],
      ['new', 'mid', 'old'],
    ],
    [
      'orders mixed types number < string < boolean < other, then null and missing',
      [
        { id: 'obj', v: { a: 1 } },
        { id: 'bool', v: false },
        { id: 'str', v: '1' },
        { id: 'null', v: null },
        { id: 'num', v: 99 },
        { id: 'arr', v: [1] },
        { id: 'none' },
      ],
      ['v'],
      ['num', 'str', 'bool', 'arr', 'obj', 'none', 'null'],
    ],
    [
      'reverses the type order when descending, keeping null and missing last',
      [{ id: 'bool', v: true }, { id: 'str', v: 'x' }, { id: 'none' }, { id: 'num', v: 1 }],
      ['-v'],
      ['bool', 'str', 'num', 'none'],
    ],
    [
      'orders false before true',
      [
        { id: 't', v: true },
        { id: 'f', v: false },
      ],
      ['v'],
      ['f', 't'],
    ],
    [
      'orders objects and arrays by their JSON text',
      [
        { id: 'x', v: { b: 1 } },
        { id: 'y', v: { a: 2 } },
        { id: 'z', v: [3] },
      ],
      ['v'],
      ['z', 'y', 'x'],
    ],
    [
      'uses the second key when the first ties',
      [
        { id: '1', status: 'open', total: 5 },
        { id: '2', status: 'done', total: 7 },
        { id: '3', status: 'open', total: 9 },
        { id: '4', status: 'done', total: 1 },
      ],
      ['status', '-total'],
      ['2', '4', '3', '1'],
    ],
    [
      'breaks a tie on every key by id ascending, in both directions',
      [
        { id: 'b', v: 1 },
        { id: 'c', v: 1 },
        { id: 'a', v: 1 },
      ],
      ['-v'],
      ['a', 'b', 'c'],
    ],
    [
      'breaks a tie among null and missing values by id',
      [{ id: 'c', v: null }, { id: 'a' }, { id: 'b', v: null }],
      ['-v'],
      ['a', 'b', 'c'],
    ],
    [
      'compares ids by code units',
      [{ id: 'b' }, { id: 'B' }, { id: 'a10' }, { id: 'a9' }],
      undefined,
      ['B', 'a10', 'a9', 'b'],
    ],
    [
      'sorts by a nested field',
      [
        { id: '1', customer: { name: 'Zoe' } },
        { id: '2', customer: { name: 'Ada' } },
        { id: '3', customer: 'not an object' },
      ],
      ['customer.name'],
      ['2', '1', '3'],
    ],
  ];

  for (const [description, rows, sort, expected] of cases) {
    it(description, () => assert.deepEqual(sortedIds(rows, sort), expected));
  }

  it('does not read inherited properties', () => {
    assert.deepEqual(sortedIds([{ id: 'a' }, { id: 'b', toString: { z: 1 } }], ['toString']), ['b', 'a']);
  });

  it('throws on a key that SortSchema rejects', () => {
    assert.throws(() => compileSort(['__proto__.x']), /forbidden segment "__proto__"/);
    assert.throws(() => compileSort(['-']), /field path is empty/);
  });
});

describe('parseSortList', () => {
  const cases: [description: string, text: string, expected: string[]][] = [
    ['splits the comma form', '-createdAt,name', ['-createdAt', 'name']],
    ['trims blanks around keys', ' -createdAt , name ', ['-createdAt', 'name']],
    ['drops empty entries', ',a,,b,', ['a', 'b']],
    ['returns no keys for an empty string', '', []],
    ['returns no keys for blanks only', ' , ', []],
  ];
  for (const [description, text, expected] of cases) {
    it(description, () => assert.deepEqual(parseSortList(text), expected));
  }
});

describe('SortKeySchema and SortSchema', () => {
  const valid = [
    'name',
    '-createdAt',
    'customer.address.city',
    '-items.0.qty',
    'x'.repeat(256),
    `-${'x'.repeat(256)}`,
  ];
  for (const key of valid) {
    it(`accepts ${JSON.stringify(key.length > 20 ? `${key.slice(0, 8)}…` : key)}`, () => {
      assert.equal(SortKeySchema.safeParse(key).success, true);
    });
  }

  const invalid: [description: string, key: unknown, message: RegExp][] = [
    ['an empty key', '', /must not be empty/],
    ['a bare minus', '-', /sort key "-": field path is empty/],
    ['an empty segment', 'a..b', /empty segment/],
    ['a __proto__ segment', '-__proto__', /forbidden segment "__proto__"/],
    ['a constructor segment', 'a.constructor', /forbidden segment "constructor"/],
    ['a key that is too long', 'x'.repeat(258), /at most 257 characters/],
    ['a path that is too long after the minus', 'x'.repeat(257), /longer than 256/],
    ['a number', 1, /.+/],
  ];
  for (const [description, key, message] of invalid) {
    it(`rejects ${description}`, () => {
      const result = SortKeySchema.safeParse(key);
      assert.equal(result.success, false);
      assert.match(result.error?.issues[0]?.message ?? '', message);
    });
  }

  it('accepts up to 8 keys', () => {
    assert.equal(SortSchema.safeParse(Array.from({ length: 8 }, (_, i) => `f${i}`)).success, true);
  });

  it('rejects more than 8 keys', () => {
    const result = SortSchema.safeParse(Array.from({ length: 9 }, (_, i) => `f${i}`));
    assert.match(result.error?.issues[0]?.message ?? '', /at most 8 sort keys/);
  });

  it('reports the index of a bad key', () => {
    assert.deepEqual(SortSchema.safeParse(['a', '-']).error?.issues[0]?.path, [1]);
  });
});
