import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as z from 'zod/mini';
import { WhereSchema, type Where } from '../../protocol/query-schemas.js';
import {
  compileMeteredWhere,
  compileWhere,
  evaluateWhere,
  WHERE_LIMITS,
  WHERE_LIST_OPERATORS,
  WhereError,
  whereError,
} from '../../protocol/where.js';

const order = {
  id: 'o_1',
  status: 'pending',
  total: 120,
  title: 'Blue widget',
  flag: true,
  note: null,
  tags: ['gift', 'sale'],
  customer: { name: 'Ada', address: { city: 'Paris' } },
  items: [{ sku: 'A1', qty: 2 }],
  createdAt: '2024-05-01T10:00:00.000Z',
  empty: {},
};

/** Compiles a where given as an arbitrary value, as a server receiving it from the wire would. */
function compile(where: unknown): (record: unknown) => boolean {
  return compileWhere(where as Where);
}

/** The list-form spelling of each object-form operator. */
const LIST_SPELLING = new Map<string, string>(
  Object.entries(WHERE_LIST_OPERATORS).map(([list, op]) => [op, list]),
);

type OperatorCase = [description: string, field: string, op: string, operand: unknown, expected: boolean];

/** Every operator, checked in the object form and (when it has one) the list form, against `order`. */
const OPERATOR_CASES: OperatorCase[] = [
  ['$eq matches an equal string', 'status', '$eq', 'pending', true],
  ['$eq does not match a different string', 'status', '$eq', 'shipped', false],
  ['$eq matches an equal number', 'total', '$eq', 120, true],
  ['$eq does not match a number against its string', 'total', '$eq', '120', false],
  [
    '$eq compares objects deeply, whatever the key order',
    'customer',
    '$eq',
    { address: { city: 'Paris' }, name: 'Ada' },
    true,
  ],
  ['$eq does not match an object against part of it', 'customer', '$eq', { name: 'Ada' }, false],
  ['$eq matches an equal array', 'tags', '$eq', ['gift', 'sale'], true],
  ['$eq does not match an array in another order', 'tags', '$eq', ['sale', 'gift'], false],
  ['$eq does not match an array against one of its elements', 'tags', '$eq', 'gift', false],
  ['$eq reaches into nested objects with a dotted path', 'customer.address.city', '$eq', 'Paris', true],
  ['$eq indexes arrays with a numeric segment', 'items.0.sku', '$eq', 'A1', true],
  ['$eq null matches a missing field', 'missing', '$eq', null, true],
  ['$eq null matches a null field', 'note', '$eq', null, true],
  ['$eq null does not match a present value', 'status', '$eq', null, false],
  ['$eq does not match a missing field against a value', 'missing', '$eq', 1, false],
  ['$eq does not match a missing nested field', 'customer.address.zip', '$eq', 'x', false],
  ['$eq matches an empty object against an empty object', 'empty', '$eq', {}, true],
  ['$ne matches a different value', 'status', '$ne', 'shipped', true],
  ['$ne does not match an equal value', 'status', '$ne', 'pending', false],
  ['$ne matches a missing field', 'missing', '$ne', 1, true],
  ['$ne matches across types', 'total', '$ne', '120', true],
  ['$ne null does not match a missing field', 'missing', '$ne', null, false],
  ['$ne null does not match a null field', 'note', '$ne', null, false],
  ['$ne null matches a present value', 'status', '$ne', null, true],
  ['$ne compares objects deeply', 'customer', '$ne', { address: { city: 'Paris' }, name: 'Ada' }, false],
  ['$gt matches a larger number', 'total', '$gt', 100, true],
  ['$gt does not match an equal number', 'total', '$gt', 120, false],
  ['$gte matches an equal number', 'total', '$gte', 120, true],
  ['$gte does not match a smaller number', 'total', '$gte', 121, false],
  ['$lt matches a smaller number', 'total', '$lt', 200, true],
  ['$lt does not match an equal number', 'total', '$lt', 120, false],
  ['$lte matches an equal number', 'total', '$lte', 120, true],
  ['$lte does not match a larger number', 'total', '$lte', 119, false],
  ['$gt orders ISO timestamps as strings', 'createdAt', '$gt', '2024-01-01T00:00:00.000Z', true],
  ['$lt orders ISO timestamps as strings', 'createdAt', '$lt', '2024-01-01T00:00:00.000Z', false],
  ['$lt compares strings by code units, uppercase first', 'title', '$lt', 'a', true],
  ['$gt does not compare a number with a string', 'total', '$gt', '100', false],
  ['$lt does not compare a string with a number', 'status', '$lt', 5, false],
  ['$gt does not match a missing field', 'missing', '$gt', 0, false],
  ['$lte does not match a missing field', 'missing', '$lte', 0, false],
  ['$lt does not match a null field', 'note', '$lt', 1, false],
  ['$gte does not order booleans', 'flag', '$gte', false, false],
  ['$gt with a null operand never matches', 'total', '$gt', null, false],
  ['$in matches a listed value', 'status', '$in', ['pending', 'shipped'], true],
  ['$in does not match an unlisted value', 'status', '$in', ['shipped'], false],
  ['$in with an empty array matches nothing', 'status', '$in', [], false],
  ['$in does not match a number against its string', 'total', '$in', ['120'], false],
  ['$in reaches nested fields', 'customer.address.city', '$in', ['Paris', 'Rome'], true],
  ['$in compares arrays deeply', 'tags', '$in', [['gift', 'sale']], true],
  ['$in compares objects deeply', 'customer', '$in', [{ name: 'Ada', address: { city: 'Paris' } }], true],
  ['$in with null matches a missing field', 'missing', '$in', [null], true],
  ['$in with null matches a null field', 'note', '$in', [null, 1], true],
  ['$in without null does not match a missing field', 'missing', '$in', [1], false],
  ['$nin matches an unlisted value', 'status', '$nin', ['shipped'], true],
  ['$nin does not match a listed value', 'status', '$nin', ['pending'], false],
  ['$nin with an empty array matches everything', 'status', '$nin', [], true],
  ['$nin matches a missing field', 'missing', '$nin', [1], true],
  ['$nin with null does not match a missing field', 'missing', '$nin', [null], false],
  ['$exists true matches a present field', 'status', '$exists', true, true],
  ['$exists true matches a null field', 'note', '$exists', true, true],
  ['$exists true does not match a missing field', 'missing', '$exists', true, false],
  ['$exists false matches a missing field', 'missing', '$exists', false, true],
  ['$exists false does not match a present field', 'status', '$exists', false, false],
  ['$exists reaches nested fields', 'customer.address.zip', '$exists', false, true],
  ['$contains finds a substring', 'title', '$contains', 'widget', true],
  ['$contains is case-sensitive', 'title', '$contains', 'Widget', false],
  ['$contains finds an array element', 'tags', '$contains', 'gift', true],
  ['$contains does not find a substring of an array element', 'tags', '$contains', 'gi', false],
  ['$contains compares array elements deeply', 'items', '$contains', { qty: 2, sku: 'A1' }, true],
  ['$contains does not match part of an array element', 'items', '$contains', { sku: 'A1' }, false],
  ['$contains does not match a number field', 'total', '$contains', 1, false],
  ['$contains does not look for a number in a string', 'title', '$contains', 1, false],
  ['$contains does not match a missing field', 'missing', '$contains', 'x', false],
  ['$contains does not find null in an array without it', 'tags', '$contains', null, false],
  ['$startsWith matches a prefix', 'title', '$startsWith', 'Blue', true],
  ['$startsWith is case-sensitive', 'title', '$startsWith', 'blue', false],
  ['$startsWith does not match an array', 'tags', '$startsWith', 'gift', false],
  ['$startsWith does not match a number', 'total', '$startsWith', '1', false],
  ['$startsWith does not match a missing field', 'missing', '$startsWith', '', false],
];

describe('compileWhere: operators', () => {
  for (const [description, field, op, operand, expected] of OPERATOR_CASES) {
    it(`${description} (object form)`, () => {
      assert.equal(compile({ [field]: { [op]: operand } })(order), expected);
    });
    const listOp = LIST_SPELLING.get(op);
    if (listOp !== undefined) {
      it(`${description} (list form, "${listOp}")`, () => {
        assert.equal(compile([[field, listOp, operand]])(order), expected);
      });
    }
  }

  it('has a list-form spelling for every operator but $exists and $not', () => {
    assert.deepEqual([...LIST_SPELLING.keys()].sort(), [
      '$contains',
      '$eq',
      '$gt',
      '$gte',
      '$in',
      '$lt',
      '$lte',
      '$ne',
      '$nin',
      '$startsWith',
    ]);
  });
});

type MatchCase = [description: string, where: unknown, expected: boolean];

const FORM_CASES: MatchCase[] = [
  ['a plain value means $eq', { status: 'pending' }, true],
  ['a plain object means deep $eq', { customer: { name: 'Ada', address: { city: 'Paris' } } }, true],
  ['a plain object does not match part of the field', { customer: { name: 'Ada' } }, false],
  ['a plain array means deep $eq', { tags: ['gift', 'sale'] }, true],
  ['null as a plain value matches a missing field', { missing: null }, true],
  ['every field must hold', { status: 'pending', total: { $gte: 100 } }, true],
  ['one failing field fails the where', { status: 'pending', total: { $gte: 500 } }, false],
  ['several operators on one field must all hold', { total: { $gt: 100, $lt: 200 } }, true],
  ['one failing operator fails the field', { total: { $gt: 100, $lt: 110 } }, false],
  ['an empty object matches everything', {}, true],
  ['an empty list matches everything', [], true],
  [
    'every list item must hold',
    [
      ['status', '=', 'pending'],
      ['total', '>=', 100],
    ],
    true,
  ],
  [
    'one failing list item fails the where',
    [
      ['status', '=', 'pending'],
      ['total', '>=', 500],
    ],
    false,
  ],
  ['$eq takes an object with $ keys literally', { meta: { $eq: { $gt: 1 } } }, false],
  ['a list-form value is always a literal', [['meta', '=', { $gt: 1 }]], false],
  ['$and holds when all items hold', { $and: [{ status: 'pending' }, { total: { $gt: 100 } }] }, true],
  ['$and fails when one item fails', { $and: [{ status: 'pending' }, { total: { $gt: 500 } }] }, false],
  ['$or holds when one item holds', { $or: [{ status: 'shipped' }, { total: { $gt: 100 } }] }, true],
  ['$or fails when no item holds', { $or: [{ status: 'shipped' }, { total: { $gt: 500 } }] }, false],
  ['$not negates a where', { $not: { status: 'shipped' } }, true],
  ['$not of a matching where fails', { $not: { status: 'pending' } }, false],
  ['$not of an empty where matches nothing', { $not: {} }, false],
  [
    '$and, $or and $not nest',
    { $or: [{ $and: [{ status: 'shipped' }, { total: 1 }] }, { $not: { tags: [] } }] },
    true,
  ],
  [
    '$and combines with fields beside it',
    { status: 'pending', $or: [{ flag: false }, { note: null }] },
    true,
  ],
  ['field-level $not negates an operator object', { total: { $not: { $gt: 200 } } }, true],
  ['field-level $not fails when the operators hold', { total: { $not: { $gt: 100 } } }, false],
  ['field-level $not matches a missing field', { missing: { $not: { $gt: 5 } } }, true],
  ['field-level $not of a plain value means not $eq', { status: { $not: 'pending' } }, false],
  ['field-level $not of a plain object means not deep $eq', { customer: { $not: { name: 'Ada' } } }, true],
  ['field-level $not combines with other operators', { total: { $not: { $lt: 100 }, $lte: 120 } }, true],
  ['field-level $not nests', { total: { $not: { $not: { $eq: 120 } } } }, true],
];

describe('compileWhere: forms and combinations', () => {
  for (const [description, where, expected] of FORM_CASES) {
    it(description, () => assert.equal(compile(where)(order), expected));
  }

  it('matches a literal object with $ keys through $eq and the list form', () => {
    const record = { id: 'r', meta: { $gt: 1 } };
    assert.equal(compile({ meta: { $eq: { $gt: 1 } } })(record), true);
    assert.equal(compile([['meta', '=', { $gt: 1 }]])(record), true);
  });

  it('matches everything when there is no where', () => {
    assert.equal(compileWhere(undefined)(order), true);
    assert.equal(compileWhere(undefined)(null), true);
  });

  it('does not match a value that is not a record', () => {
    const where = compile({ status: 'pending' });
    for (const value of [null, undefined, 'pending', 42, ['pending']]) assert.equal(where(value), false);
  });

  it('compiles once: changing the where afterwards does not change the predicate', () => {
    const where = { status: 'pending', total: { $in: [120] } };
    const predicate = compile(where);
    where.status = 'shipped';
    where.total.$in.push(1);
    where.total.$in[0] = 7;
    assert.equal(predicate(order), true);
  });
});

describe('compileWhere: prototypes are out of reach', () => {
  it('does not see inherited properties such as toString', () => {
    assert.equal(compile({ toString: { $exists: true } })({ id: 'r' }), false);
    assert.equal(compile([['hasOwnProperty', '=', null]])({ id: 'r' }), true);
  });

  it('does not reach the prototype of a record that has an own __proto__ key', () => {
    const record: unknown = JSON.parse('{"id":"r","__proto__":{"admin":true}}');
    assert.equal(compile({ admin: true })(record), false);
  });

  it('does not read the length of an array', () => {
    assert.equal(compile({ 'tags.length': 2 })(order), false);
  });

  it('rejects __proto__, constructor and prototype and pollutes nothing', () => {
    const wheres: unknown[] = [
      JSON.parse('{"__proto__":{"polluted":true}}'),
      JSON.parse('{"$and":[{"__proto__.polluted":true}]}'),
      { 'customer.constructor.name': 'Object' },
      { prototype: 1 },
      [['__proto__', '=', 1]],
    ];
    for (const where of wheres) {
      assert.throws(() => compile(where), WhereError);
      assert.equal(WhereSchema.safeParse(where).success, false);
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});

type InvalidCase = [description: string, where: unknown, path: (string | number)[], message: string | RegExp];

const OBJECT_OPERATORS = '$eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $contains, $startsWith, $not';
const LIST_OPERATORS = '=, !=, >, >=, <, <=, in, nin, contains, startswith';

const INVALID_CASES: InvalidCase[] = [
  ['a string is neither form', 'status = pending', [], /^where must be an object .* got string$/],
  ['a number is neither form', 42, [], /got number$/],
  ['null is neither form', null, [], /got null$/],
  ['a list item that is not an array', ['status'], [0], 'item 0 must be [path, operator, value], got string'],
  [
    'a list item with two elements',
    [['status', '=']],
    [0],
    'item 0 must be [path, operator, value], got an array of 2',
  ],
  [
    'a list item with four elements',
    [['a', '=', 1, 2]],
    [0],
    'item 0 must be [path, operator, value], got an array of 4',
  ],
  [
    'a list item whose path is not a string',
    [[1, '=', 1]],
    [0, 0],
    'the field path must be a string, got number',
  ],
  ['a list item with an empty path', [['', '=', 1]], [0, 0], 'field path is empty'],
  ['a list item with an empty segment', [['a..b', '=', 1]], [0, 0], 'field path "a..b" has an empty segment'],
  [
    'a list item with a path over 256 characters',
    [['x'.repeat(257), '=', 1]],
    [0, 0],
    'field path is longer than 256 characters',
  ],
  [
    'an unknown list operator',
    [['price', 'regex', 1]],
    [0, 1],
    `unknown operator "regex" at price; expected one of ${LIST_OPERATORS}`,
  ],
  [
    'an object-form operator in the list form',
    [['price', '$eq', 1]],
    [0, 1],
    /^unknown operator "\$eq" at price/,
  ],
  [
    'a list operator in another case',
    [['name', 'startsWith', 'a']],
    [0, 1],
    /^unknown operator "startsWith"/,
  ],
  ['exists in the list form', [['a', 'exists', true]], [0, 1], /^unknown operator "exists"/],
  [
    'a list operator that is not a string',
    [['a', 5, 1]],
    [0, 1],
    'the operator must be a string, got number',
  ],
  ['in without an array', [['a', 'in', 5]], [0, 2], 'in at a expects an array, got number'],
  ['nin without an array', [['a', 'nin', 'x']], [0, 2], 'nin at a expects an array, got string'],
  [
    'startswith without a string',
    [['a', 'startswith', 5]],
    [0, 2],
    'startswith at a expects a string, got number',
  ],
  [
    'an undefined list value',
    [
      ['ok', '=', 1],
      ['a', '=', undefined],
    ],
    [1, 2],
    /^value at a is undefined/,
  ],
  ['an undefined element of in', [['a', 'in', [1, undefined]]], [0, 2, 1], /^value at a is undefined/],
  [
    'an unknown field operator',
    { price: { $regex: 'x' } },
    ['price', '$regex'],
    `unknown operator "$regex" at price; expected one of ${OBJECT_OPERATORS}`,
  ],
  [
    'an unknown top-level operator',
    { $nor: [] },
    ['$nor'],
    'unknown operator "$nor" at the top level; expected $and, $or, $not or a field path',
  ],
  ['a field operator at the top level', { $eq: 1 }, ['$eq'], /^unknown operator "\$eq" at the top level/],
  [
    'an object mixing operators and plain keys',
    { price: { $gt: 1, x: 2 } },
    ['price'],
    /^object at price mixes operators \(\$gt\) with plain keys \(x\)/,
  ],
  [
    '$and that is not an array',
    { $and: {} },
    ['$and'],
    '$and expects a non-empty array of where objects, got an object',
  ],
  [
    'an empty $and',
    { $and: [] },
    ['$and'],
    '$and expects a non-empty array of where objects, got an empty array',
  ],
  [
    'an empty $or',
    { $or: [] },
    ['$or'],
    '$or expects a non-empty array of where objects, got an empty array',
  ],
  [
    '$or that is not an array',
    { $or: 'a' },
    ['$or'],
    '$or expects a non-empty array of where objects, got string',
  ],
  [
    'a $and item that is not an object',
    { $and: [{ a: 1 }, 1] },
    ['$and', 1],
    'each item of $and must be a where object, got number',
  ],
  [
    'a list-form where inside $or',
    { $or: [[['a', '=', 1]]] },
    ['$or', 0],
    'each item of $or must be a where object, got an array',
  ],
  [
    'a top-level $not that is not an object',
    { $not: [] },
    ['$not'],
    '$not expects a where object, got an empty array',
  ],
  ['$in without an array', { a: { $in: 5 } }, ['a', '$in'], '$in at a expects an array, got number'],
  ['$nin without an array', { a: { $nin: {} } }, ['a', '$nin'], '$nin at a expects an array, got an object'],
  [
    '$exists without a boolean',
    { a: { $exists: 'yes' } },
    ['a', '$exists'],
    '$exists at a expects true or false, got string',
  ],
  [
    '$startsWith without a string',
    { a: { $startsWith: 1 } },
    ['a', '$startsWith'],
    '$startsWith at a expects a string, got number',
  ],
  [
    'an unknown operator under field-level $not',
    { a: { $not: { $regex: 1 } } },
    ['a', '$not', '$regex'],
    /^unknown operator "\$regex" at a/,
  ],
  [
    'a mixed object under field-level $not',
    { a: { $not: { $gt: 1, b: 1 } } },
    ['a', '$not'],
    /^object at a mixes operators/,
  ],
  [
    'an undefined field value',
    { a: undefined },
    ['a'],
    'value at a is undefined, which JSON cannot carry; use null, or {"$exists": false}',
  ],
  [
    'an undefined element of $in',
    { a: { $in: [1, undefined] } },
    ['a', '$in', 1],
    /^value at a is undefined/,
  ],
  ['a field path with a trailing dot', { 'a.': 1 }, ['a.'], 'field path "a." has an empty segment'],
  ['an empty field path', { '': 1 }, [''], 'field path is empty'],
  [
    'a constructor segment',
    { 'customer.constructor.name': 'x' },
    ['customer.constructor.name'],
    'field path "customer.constructor.name" uses the forbidden segment "constructor"',
  ],
  [
    'a prototype segment in the list form',
    [['a.prototype', '=', 1]],
    [0, 0],
    'field path "a.prototype" uses the forbidden segment "prototype"',
  ],
  [
    'an error inside $and',
    { $and: [{ b: { $regex: 1 } }] },
    ['$and', 0, 'b', '$regex'],
    /^unknown operator "\$regex" at b/,
  ],
  [
    'an error inside $or and $not',
    { $or: [{ ok: 1 }, { $not: { c: { $in: 1 } } }] },
    ['$or', 1, '$not', 'c', '$in'],
    '$in at c expects an array, got number',
  ],
];

describe('compileWhere: invalid input', () => {
  for (const [description, where, path, message] of INVALID_CASES) {
    it(`rejects ${description}, at ${JSON.stringify(path)}`, () => {
      const error = captureWhereError(where);
      assert.deepEqual(error.path, path);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);

      const result = WhereSchema.safeParse(where);
      assert.equal(result.success, false);
      assert.deepEqual(
        result.error?.issues.map((issue) => ({ path: issue.path, message: issue.message })),
        [{ path, message: error.message }],
      );
    });
  }

  it('rejects a __proto__ key at its path', () => {
    const error = captureWhereError(JSON.parse('{"ok":1,"__proto__":{"x":1}}'));
    assert.deepEqual(error.path, ['__proto__']);
    assert.equal(error.message, 'field path "__proto__" uses the forbidden segment "__proto__"');
  });

  it('rejects a number beyond a double (1e309, Infinity to JSON.parse) in any operand', () => {
    const message = 'a number beyond ±1.8e308 cannot be compared; JSON has no infinity';
    for (const [text, path] of [
      ['{"n":{"$lt":1e309}}', ['n', '$lt']],
      ['{"n":-1e309}', ['n']],
      ['{"n":{"$in":[1,-1e309]}}', ['n', '$in', 1]],
      ['[["n","<",1e309]]', [0, 2]],
    ] as const) {
      const error = captureWhereError(JSON.parse(text));
      assert.deepEqual([error.path, error.message], [path, message], text);
    }
    // Stored values hold such a number as null: a where on null and one on 1e309 must not be one filter.
    assert.equal(whereError(JSON.parse('{"n":null}')), undefined);
  });

  it('reports the path relative to the message when the schema is nested', () => {
    const Filter = z.object({ where: WhereSchema });
    const result = Filter.safeParse({ where: { price: { $regex: 1 } } });
    assert.deepEqual(result.error?.issues[0]?.path, ['where', 'price', '$regex']);
  });

  it('is an Error named WhereError', () => {
    const error = captureWhereError({ $bad: 1 });
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'WhereError');
  });
});

describe('WhereSchema', () => {
  it('accepts both forms and returns them unchanged', () => {
    const wheres: Where[] = [
      { category: 'electronics', price: { $gte: 100 } },
      [
        ['status', '=', 'pending'],
        ['total', '>=', 100],
      ],
      {},
      [],
    ];
    for (const where of wheres) assert.deepEqual(WhereSchema.parse(where), where);
  });

  it('rejects a missing where (wrap it in z.optional where it is optional)', () => {
    assert.equal(WhereSchema.safeParse(undefined).success, false);
  });
});

/** Nests `inner` in `levels` top-level $not operators. */
function nestNot(levels: number, inner: Record<string, unknown>): Record<string, unknown> {
  let where = inner;
  for (let i = 0; i < levels; i++) where = { $not: where };
  return where;
}

/** `levels` arrays nested in one another: 1 → [], 2 → [[]]. */
function nestArray(levels: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

describe('compileWhere: limits', () => {
  it('has the documented limits', () => {
    assert.deepEqual({ ...WHERE_LIMITS }, { maxDepth: 32, maxTerms: 1000 });
  });

  it('accepts a where nested exactly maxDepth levels deep', () => {
    assert.equal(compile(nestNot(31, { status: 'pending' }))(order), false);
  });

  it('rejects a where nested deeper than maxDepth, naming the limit', () => {
    const where = nestNot(32, { status: 'pending' });
    const path = Array.from({ length: 32 }, () => '$not');
    const message = 'where is nested more than 32 levels deep (WHERE_LIMITS.maxDepth)';
    const error = captureWhereError(where);
    assert.deepEqual([error.path, error.message], [path, message]);
    assert.deepEqual(WhereSchema.safeParse(where).error?.issues[0]?.path, path);
  });

  it('counts the nesting of an operand towards maxDepth', () => {
    assert.equal(compile({ a: nestArray(31) })({ id: 'r', a: nestArray(31) }), true);
    const error = captureWhereError({ a: nestArray(32) });
    assert.deepEqual(error.path, ['a', ...Array.from({ length: 31 }, () => 0)]);
    assert.match(error.message, /maxDepth/);
  });

  it('counts the nesting of the list form towards maxDepth', () => {
    assert.doesNotThrow(() => compile([['a', '=', nestArray(30)]]));
    assert.match(captureWhereError([['a', '=', nestArray(31)]]).message, /more than 32 levels/);
  });

  it('accepts exactly maxTerms terms, $in elements included', () => {
    // One term for $in and 999 for its elements.
    const values = [...Array.from({ length: 998 }, (_, i) => -i), 120];
    assert.equal(compile({ total: { $in: values } })(order), true);
  });

  it('rejects more than maxTerms $in elements, naming the limit', () => {
    const where = { total: { $in: Array.from({ length: 1000 }, (_, i) => i) } };
    const error = captureWhereError(where);
    assert.deepEqual(error.path, ['total', '$in']);
    assert.match(error.message, /^where has more than 1000 terms \(WHERE_LIMITS\.maxTerms\)/);
    assert.deepEqual(WhereSchema.safeParse(where).error?.issues[0]?.path, ['total', '$in']);
  });

  it('rejects more than maxTerms fields', () => {
    const where = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`f${i}`, i]));
    assert.deepEqual(captureWhereError(where).path, ['f1000']);
  });

  it('rejects more than maxTerms list items', () => {
    const ok = Array.from({ length: 1000 }, () => ['total', '>', 1]);
    assert.equal(compile(ok)(order), true);
    const error = captureWhereError([...ok, ['total', '>', 1]]);
    assert.deepEqual(error.path, [1000, 2]);
    assert.match(error.message, /maxTerms/);
  });

  it('counts $and, $or and $not as terms', () => {
    // One term for $or and one for each item's implicit $eq.
    assert.doesNotThrow(() => compile({ $or: Array.from({ length: 999 }, () => ({ a: 1 })) }));
    const wide = { $or: Array.from({ length: 1000 }, () => ({ a: 1 })) };
    assert.deepEqual(captureWhereError(wide).path, ['$or', 999, 'a']);
    const negated = { $not: { $or: Array.from({ length: 999 }, () => ({ a: 1 })) } };
    assert.match(captureWhereError(negated).message, /maxTerms/);
  });
});

describe('evaluateWhere: work', () => {
  const metered = (where: unknown) => compileMeteredWhere(where as Where);
  const run = (where: unknown, record: unknown, allowance = Infinity) => ({
    ...evaluateWhere(metered(where), record, allowance),
  });

  it('costs nothing without a where; a unit per term, and the length of what is compared, otherwise', () => {
    assert.equal(metered(undefined).fixedWork, 0);
    assert.deepEqual(run({ total: { $gt: 100 }, flag: true }, order), { work: 2, matched: true });
    // "pending" is compared character by character: 7 more.
    assert.deepEqual(run({ status: 'pending' }, order), { work: 1 + 7, matched: true });
    // $in scalars are found by hash: a unit each; an object operand walks its JSON length.
    assert.deepEqual(run({ status: { $in: ['paid', 'new'] } }, order), { work: 3, matched: false });
    assert.deepEqual(run({ customer: { $in: [{ name: 'Ada' }] } }, order), {
      work: 2 + JSON.stringify({ name: 'Ada' }).length,
      matched: false,
    });
    assert.deepEqual(run({ title: { $startsWith: 'Blue' } }, order), { work: 1 + 4, matched: true });
  });

  it('adds what a $contains scans: the characters of a string field, the elements of an array', () => {
    assert.deepEqual(run({ title: { $contains: 'widget' } }, order), { work: 1 + 6 + 11, matched: true });
    assert.deepEqual(run({ tags: { $contains: 'sale' } }, order), { work: 1 + 4 + 2, matched: true });
    // An object operand weighs its JSON length, once and for every element it is compared with.
    const item = JSON.stringify({ sku: 'A1', qty: 2 }).length;
    assert.deepEqual(run({ items: { $contains: { sku: 'A1', qty: 2 } } }, order), {
      work: 1 + item + item,
      matched: true,
    });
    // A field that is not searched costs only the term and its operand.
    assert.deepEqual(run({ total: { $contains: 'x' } }, order), { work: 2, matched: false });
  });

  it('stops at the search that would pass the allowance, and says so', () => {
    const where = {
      $or: [{ title: { $contains: 'x' } }, { title: { $contains: 'y' } }, { status: 'pending' }],
    };
    // Fixed: 4 terms, 1 + 1 + 7 characters of operands; then 11 scanned by each search.
    assert.deepEqual(run(where, order, 40), { work: 13 + 22, matched: true });
    assert.deepEqual(run(where, order, 30), { work: 30, matched: undefined });
    assert.deepEqual(
      run(where, order, 12),
      { work: 12, matched: undefined },
      'less than its fixed work: not run',
    );
  });

  it('leaves a plain compiled where unmetered, also after an evaluation over its allowance', () => {
    const long = { text: 'a'.repeat(10_000) };
    assert.equal(run({ text: { $contains: 'b' } }, long, 100).matched, undefined);
    assert.equal(compile({ text: { $contains: 'a' } })(long), true);
  });
});

function captureWhereError(where: unknown): WhereError {
  try {
    compile(where);
  } catch (error) {
    if (error instanceof WhereError) return error;
    throw error;
  }
  assert.fail(`expected a WhereError for ${JSON.stringify(where)}`);
}
