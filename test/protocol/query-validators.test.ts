import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as z from 'zod/mini';
import { toIssues } from '../../protocol/codec.js';
import type { Issue } from '../../protocol/issues.js';
import { ClientMessageSchema } from '../../protocol/messages.js';
import { fieldsError } from '../../protocol/projection.js';
import {
  FieldPathSchema,
  FieldsSchema,
  SortKeySchema,
  SortSchema,
  WhereSchema,
} from '../../protocol/query-schemas.js';
import { sortError } from '../../protocol/sort.js';
import { whereError } from '../../protocol/where.js';

/** The issues a zod schema reports for `value` (none when it accepts it). */
function zodIssues(schema: z.ZodMiniType, value: unknown): Issue[] {
  const result = schema.safeParse(value);
  return result.success ? [] : toIssues(result.error);
}

/** [input, the one issue (undefined: valid)] */
type Row = [input: unknown, issue: Issue | undefined];

const keys = (count: number) => Array.from({ length: count }, (_, i) => `f${i}`);
const long = (length: number) => 'x'.repeat(length);

/**
 * For each row: the plain validator gives the expected issue, and the zod schema gives exactly
 * that issue and no other.
 */
function agree(
  name: string,
  validate: (value: never) => Issue | undefined,
  schema: z.ZodMiniType,
  rows: Row[],
) {
  for (const [input, issue] of rows) {
    const shown = JSON.stringify(input)?.slice(0, 60);
    it(`${name} ${issue ? 'refuses' : 'accepts'} ${shown}${issue ? `: ${issue.message.slice(0, 40)}` : ''}`, () => {
      assert.deepEqual(validate(input as never), issue);
      assert.deepEqual(zodIssues(schema, input), issue ? [issue] : []);
    });
  }
}

describe('whereError and WhereSchema', () => {
  agree('whereError', whereError, WhereSchema, [
    [{ status: 'pending', total: { $gte: 100, $lt: 200 } }, undefined],
    [{ $or: [{ a: 1 }, { b: { $in: [1, 2] } }], $not: { c: null } }, undefined],
    [
      [
        ['status', '=', 'pending'],
        ['total', '>=', 100],
      ],
      undefined,
    ],
    [{}, undefined],
    [[], undefined],
    [
      { price: { $regex: 'x' } },
      {
        path: ['price', '$regex'],
        message:
          'unknown operator "$regex" at price; expected one of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $contains, $startsWith, $not',
      },
    ],
    [
      { a: { $eq: 1, b: 2 } },
      {
        path: ['a'],
        message:
          'object at a mixes operators ($eq) with plain keys (b); to match an object literally, wrap it in {"$eq": …}',
      },
    ],
    [{ a: { $in: 5 } }, { path: ['a', '$in'], message: '$in at a expects an array, got number' }],
    [
      { $and: [] },
      { path: ['$and'], message: '$and expects a non-empty array of where objects, got an empty array' },
    ],
    [{ $or: [{}, 5] }, { path: ['$or', 1], message: 'each item of $or must be a where object, got number' }],
    [{ 'a..b': 1 }, { path: ['a..b'], message: 'field path "a..b" has an empty segment' }],
    [
      JSON.parse('{"__proto__":{"x":1}}'),
      { path: ['__proto__'], message: 'field path "__proto__" uses the forbidden segment "__proto__"' },
    ],
    [[['a', '=']], { path: [0], message: 'item 0 must be [path, operator, value], got an array of 2' }],
    [
      [['a', '~', 1]],
      {
        path: [0, 1],
        message:
          'unknown operator "~" at a; expected one of =, !=, >, >=, <, <=, in, nin, contains, startswith',
      },
    ],
    [[[1, '=', 1]], { path: [0, 0], message: 'the field path must be a string, got number' }],
    [
      { total: { $in: keys(1000) } },
      { path: ['total', '$in'], message: whereError({ total: { $in: keys(1000) } })?.message ?? '' },
    ],
    [
      5,
      {
        path: [],
        message:
          'where must be an object ({"field": value, …}) or a list of [path, operator, value] items, got number',
      },
    ],
    [null, { path: [], message: whereError(null)?.message ?? '' }],
  ]);

  it('names the terms limit', () => {
    assert.match(
      whereError({ total: { $in: keys(1000) } })?.message ?? '',
      /^where has more than 1000 terms/,
    );
  });

  it('refuses a missing where, as WhereSchema does', () => {
    assert.match(whereError(undefined)?.message ?? '', /^where must be an object/);
    assert.deepEqual(zodIssues(WhereSchema, undefined), [whereError(undefined)]);
  });
});

describe('sortError and SortSchema', () => {
  agree('sortError', sortError, SortSchema, [
    [[], undefined],
    [['name'], undefined],
    [['-createdAt', 'customer.address.city', '-items.0.qty'], undefined],
    [keys(8), undefined],
    [[long(256), `-${long(256)}`], undefined],
    [keys(9), { path: [], message: 'at most 8 sort keys' }],
    [[...keys(8), ''], { path: [], message: 'at most 8 sort keys' }],
    [[''], { path: [0], message: 'a sort key must not be empty' }],
    [['a', '-'], { path: [1], message: 'sort key "-": field path is empty' }],
    [['ok', 'a..b', ''], { path: [1], message: 'sort key "a..b": field path "a..b" has an empty segment' }],
    [
      ['-__proto__'],
      {
        path: [0],
        message: 'sort key "-__proto__": field path "__proto__" uses the forbidden segment "__proto__"',
      },
    ],
    [[long(258)], { path: [0], message: 'a sort key must be at most 257 characters' }],
    [
      [long(257)],
      { path: [0], message: `sort key "${long(257)}": field path is longer than 256 characters` },
    ],
  ]);
});

describe('sortError of one key and SortKeySchema', () => {
  const one = (key: string) => {
    const issue = sortError([key]);
    return issue && { path: [], message: issue.message };
  };
  agree('sortError([key])', one, SortKeySchema, [
    ['-createdAt', undefined],
    ['', { path: [], message: 'a sort key must not be empty' }],
    [
      'a.constructor',
      {
        path: [],
        message:
          'sort key "a.constructor": field path "a.constructor" uses the forbidden segment "constructor"',
      },
    ],
  ]);
});

describe('fieldsError and FieldsSchema', () => {
  agree('fieldsError', fieldsError, FieldsSchema, [
    [[], undefined],
    [['title', 'customer.name', 'items.0'], undefined],
    [keys(100), undefined],
    [[long(256)], undefined],
    [keys(101), { path: [], message: 'at most 100 fields' }],
    [[...keys(100), ''], { path: [], message: 'at most 100 fields' }],
    [['a', ''], { path: [1], message: 'a field path must not be empty' }],
    [[long(257)], { path: [0], message: 'a field path must be at most 256 characters' }],
    [['a.', 'b..c'], { path: [0], message: 'field path "a." has an empty segment' }],
    [
      ['a', 'constructor'],
      { path: [1], message: 'field path "constructor" uses the forbidden segment "constructor"' },
    ],
  ]);
});

describe('fieldsError of one path and FieldPathSchema', () => {
  const one = (path: string) => {
    const issue = fieldsError([path]);
    return issue && { path: [], message: issue.message };
  };
  agree('fieldsError([path])', one, FieldPathSchema, [
    ['customer.name', undefined],
    ['', { path: [], message: 'a field path must not be empty' }],
    ['prototype', { path: [], message: 'field path "prototype" uses the forbidden segment "prototype"' }],
  ]);
});

describe('the plain validators on values JavaScript callers may pass', () => {
  it('refuse a sort key or field that is not a string, at its index', () => {
    assert.deepEqual(sortError(['a', 5 as unknown as string]), { path: [1], message: 'expected string' });
    assert.deepEqual(fieldsError([null as unknown as string]), { path: [0], message: 'expected string' });
  });
});

describe('the query schemas inside a message', () => {
  const subscribe = { type: 'subscribe', id: 's1', channel: 'records:orders' };
  const cases: [description: string, message: object, issue: Issue][] = [
    [
      'report a bad sort key at its path, through the snapshot union',
      { ...subscribe, snapshot: { sort: ['-'] } },
      { path: ['snapshot', 'sort', 0], message: 'sort key "-": field path is empty' },
    ],
    [
      'report a bad field at its path',
      { ...subscribe, fields: ['a', ''] },
      { path: ['fields', 1], message: 'a field path must not be empty' },
    ],
    [
      'report a bad where at its path',
      { ...subscribe, filter: { where: { a: { $in: 1 } } } },
      { path: ['filter', 'where', 'a', '$in'], message: '$in at a expects an array, got number' },
    ],
  ];
  for (const [description, message, issue] of cases) {
    it(description, () => assert.deepEqual(zodIssues(ClientMessageSchema, message), [issue]));
  }
});
