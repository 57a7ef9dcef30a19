import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Issue } from '../../protocol/issues.js';
import { checkJsonSchema, type JsonSchema } from '../../protocol/json-schema-check.js';

/** [what, schema, value, the issues expected (none: the value conforms)] */
type Case = [description: string, schema: JsonSchema, value: unknown, issues: Issue[]];

const string: JsonSchema = { type: 'string' };

const at = (path: Issue['path'], message: string): Issue => ({ path, message });

function table(cases: Case[]): void {
  for (const [description, schema, value, issues] of cases) {
    it(description, () => assert.deepEqual(checkJsonSchema(schema, value), issues));
  }
}

describe('checkJsonSchema: type', () => {
  table([
    ['accepts a string', { type: 'string' }, 'x', []],
    ['refuses a number as a string', { type: 'string' }, 1, [at([], 'expected string')]],
    ['accepts a finite number', { type: 'number' }, -1.5, []],
    ['refuses NaN as a number (as zod does)', { type: 'number' }, NaN, [at([], 'expected number')]],
    ['refuses Infinity as a number (as zod does)', { type: 'number' }, Infinity, [at([], 'expected number')]],
    ['refuses a numeric string as a number', { type: 'number' }, '1', [at([], 'expected number')]],
    ['accepts a safe integer', { type: 'integer' }, Number.MAX_SAFE_INTEGER, []],
    ['accepts -0 as an integer', { type: 'integer' }, -0, []],
    ['refuses a fraction as an integer', { type: 'integer' }, 1.5, [at([], 'expected integer')]],
    [
      'refuses an unsafe integer (as z.int() does)',
      { type: 'integer' },
      2 ** 53,
      [at([], 'expected integer')],
    ],
    ['accepts a boolean', { type: 'boolean' }, false, []],
    ['refuses 0 as a boolean', { type: 'boolean' }, 0, [at([], 'expected boolean')]],
    ['accepts null', { type: 'null' }, null, []],
    ['refuses undefined as null', { type: 'null' }, undefined, [at([], 'expected null')]],
    ['accepts an array', { type: 'array' }, [], []],
    ['refuses an object as an array', { type: 'array' }, {}, [at([], 'expected array')]],
    ['accepts an object', { type: 'object' }, {}, []],
    ['refuses an array as an object', { type: 'object' }, [], [at([], 'expected object')]],
    ['refuses null as an object', { type: 'object' }, null, [at([], 'expected object')]],
    ['accepts anything without a type', {}, [1, { a: null }], []],
  ]);
});

describe('checkJsonSchema: const and enum', () => {
  table([
    ['accepts the constant', { const: 'welcome' }, 'welcome', []],
    [
      'refuses another value, naming the constant',
      { const: 'welcome' },
      'hello',
      [at([], 'expected "welcome"')],
    ],
    ['compares constants strictly', { const: 1 }, '1', [at([], 'expected 1')]],
    ['accepts a null constant', { const: null }, null, []],
    ['accepts a member', { enum: ['a', 'b'] }, 'b', []],
    [
      'refuses a non-member, listing the members',
      { enum: ['a', 'b'] },
      'c',
      [at([], 'expected one of "a", "b"')],
    ],
    ['compares members strictly', { enum: [1, 2] }, '1', [at([], 'expected one of 1, 2')]],
  ]);
});

describe('checkJsonSchema: strings and numbers', () => {
  const id: JsonSchema = { type: 'string', minLength: 1, maxLength: 4 };
  const limit: JsonSchema = { type: 'integer', minimum: 1, maximum: 1000 };
  table([
    ['accepts a string of the minimum length', id, 'a', []],
    ['accepts a string of the maximum length', id, 'abcd', []],
    ['refuses a string below minLength', id, '', [at([], 'expected at least 1 characters')]],
    ['refuses a string over maxLength', id, 'abcde', [at([], 'expected at most 4 characters')]],
    ['counts UTF-16 code units, as zod does', id, '😀😀😀', [at([], 'expected at most 4 characters')]],
    ['accepts the minimum', limit, 1, []],
    ['accepts the maximum', limit, 1000, []],
    ['refuses a number below minimum', limit, 0, [at([], 'expected at least 1')]],
    ['refuses a number over maximum', limit, 1001, [at([], 'expected at most 1000')]],
    [
      'applies string bounds to strings only',
      { minLength: 2, minimum: 5 },
      1,
      [at([], 'expected at least 5')],
    ],
  ]);
});

describe('checkJsonSchema: arrays', () => {
  const tuple: JsonSchema = {
    type: 'array',
    prefixItems: [{ type: 'string' }, { enum: ['=', '!='] }, {}],
    items: false,
    minItems: 3,
    maxItems: 3,
  };
  table([
    [
      'checks every item against items',
      { items: { type: 'string' } },
      ['a', 2, 'c', 4],
      [at([1], 'expected string'), at([3], 'expected string')],
    ],
    ['accepts an empty array', { items: { type: 'string' } }, [], []],
    ['accepts the minimum count', { minItems: 1, maxItems: 2 }, [1], []],
    ['refuses fewer than minItems', { minItems: 1 }, [], [at([], 'expected at least 1 items')]],
    ['refuses more than maxItems', { maxItems: 2 }, [1, 2, 3], [at([], 'expected at most 2 items')]],
    ['accepts a tuple', tuple, ['status', '=', { any: 'thing' }], []],
    [
      'checks each tuple position against its own schema',
      tuple,
      [1, '>', null],
      [at([0], 'expected string'), at([1], 'expected one of "=", "!="')],
    ],
    [
      'refuses an item past prefixItems when items is false',
      { prefixItems: [{}], items: false },
      [1, 2],
      [at([1], 'unexpected item')],
    ],
    [
      'leaves items past prefixItems alone without items',
      { prefixItems: [{ type: 'string' }] },
      ['a', 2],
      [],
    ],
    [
      'checks items past prefixItems against items',
      { prefixItems: [{}], items: { type: 'string' } },
      [1, 2],
      [at([1], 'expected string')],
    ],
  ]);
});

describe('checkJsonSchema: objects', () => {
  const strict: JsonSchema = {
    type: 'object',
    properties: { id: { type: 'string' }, seq: { type: 'integer' }, note: { type: 'string' } },
    required: ['id', 'seq'],
    additionalProperties: false,
  };
  table([
    ['accepts an object with its required keys', strict, { id: 'a', seq: 1 }, []],
    [
      'checks each property at its path',
      strict,
      { id: 1, seq: 'x', note: 'n' },
      [at(['id'], 'expected string'), at(['seq'], 'expected integer')],
    ],
    [
      'reports each missing required key at its path',
      strict,
      {},
      [at(['id'], 'required'), at(['seq'], 'required')],
    ],
    [
      'treats a key holding undefined as absent (as zod does)',
      strict,
      { id: 'a', seq: 1, note: undefined },
      [],
    ],
    [
      'treats a required key holding undefined as missing',
      strict,
      { id: undefined, seq: 1 },
      [at(['id'], 'required')],
    ],
    ['reports an unknown key at its object', strict, { id: 'a', seq: 1, x: 1 }, [at([], 'unknown key "x"')]],
    [
      'reports a __proto__ key as unknown',
      strict,
      JSON.parse('{"id":"a","seq":1,"__proto__":{}}'),
      [at([], 'unknown key "__proto__"')],
    ],
    [
      'does not take inherited names for properties',
      strict,
      { id: 'a', seq: 1, constructor: 1, toString: 2 },
      [at([], 'unknown key "constructor"'), at([], 'unknown key "toString"')],
    ],
    [
      'does not read inherited values',
      { properties: { toString: string }, required: ['toString'] },
      {},
      [at(['toString'], 'required')],
    ],
    [
      'allows any other key without additionalProperties',
      { properties: { id: { type: 'string' } } },
      { x: 1 },
      [],
    ],
    [
      'checks other keys against an additionalProperties schema',
      { additionalProperties: { type: 'number' } },
      {
        a: 1,
        b: 'two',
      },
      [at(['b'], 'expected number')],
    ],
    [
      'gives nested paths',
      { properties: { limits: strict } },
      { limits: { id: 'a', seq: 1.5 } },
      [at(['limits', 'seq'], 'expected integer')],
    ],
    ['applies object keywords to objects only', strict, 'x', [at([], 'expected object')]],
  ]);

  it('keeps the paths of issues apart from the path it walks', () => {
    const issues = checkJsonSchema({ items: strict }, [{ id: 'a' }, { seq: 2 }]);
    assert.deepEqual(issues, [at([0, 'seq'], 'required'), at([1, 'id'], 'required')]);
  });
});

describe('checkJsonSchema: anyOf', () => {
  const t: JsonSchema = { anyOf: [{ type: 'number' }, { type: 'string', maxLength: 3 }] };
  const event: JsonSchema = {
    items: {
      anyOf: [
        {
          type: 'object',
          properties: { seq: { type: 'integer' }, object: { type: 'string' }, id: { type: 'string' } },
          required: ['seq', 'object', 'id'],
          additionalProperties: false,
        },
        {
          type: 'object',
          properties: { seq: { type: 'integer' }, topic: { type: 'string' } },
          required: ['seq', 'topic'],
          additionalProperties: false,
        },
      ],
    },
  };
  table([
    ['accepts a value that one branch accepts', t, 'abc', []],
    ['accepts a value that another branch accepts', t, 5, []],
    [
      'names the types when no branch has the type of the value',
      t,
      true,
      [at([], 'expected number or string')],
    ],
    [
      'names a type once',
      { anyOf: [{ type: 'object' }, { type: 'object', required: [] }] },
      1,
      [at([], 'expected object')],
    ],
    ['explains the branch of the type of the value', t, 'abcd', [at([], 'expected at most 3 characters')]],
    [
      'explains the branch with the fewest issues',
      event,
      [{ seq: 1, topic: 7 }],
      [at([0, 'topic'], 'expected string')],
    ],
    [
      'checks the other keywords too',
      { anyOf: [{ type: 'number' }], minimum: 2 },
      1,
      [at([], 'expected at least 2')],
    ],
  ]);
});

describe('checkJsonSchema: oneOf (a discriminated union on type)', () => {
  const message: JsonSchema = {
    oneOf: [
      {
        type: 'object',
        properties: { type: { const: 'ping' }, t: { type: 'number' } },
        required: ['type'],
        additionalProperties: false,
      },
      {
        type: 'object',
        properties: { type: { const: 'unsubscribed' }, id: { type: 'string' } },
        required: ['type', 'id'],
        additionalProperties: false,
      },
    ],
  };
  table([
    ['accepts a message of one branch', message, { type: 'ping', t: 1 }, []],
    ['accepts a message of another branch', message, { type: 'unsubscribed', id: 's1' }, []],
    [
      'reports the issues of the branch its type picks',
      message,
      { type: 'unsubscribed' },
      [at(['id'], 'required')],
    ],
    [
      'names an unknown type and the known ones',
      message,
      { type: 'pang' },
      [at(['type'], 'unknown type "pang"; expected one of "ping", "unsubscribed"')],
    ],
    [
      'lists the known types when type is missing',
      message,
      { t: 1 },
      [at(['type'], 'expected one of "ping", "unsubscribed"')],
    ],
    [
      'lists the known types when type is not a string',
      message,
      { type: 1 },
      [at(['type'], 'expected one of "ping", "unsubscribed"')],
    ],
    ['refuses a value that is not an object', message, ['ping'], [at([], 'expected object')]],
  ]);
});

describe('checkJsonSchema: results', () => {
  it('returns a fresh, empty list for a conforming value', () => {
    const first = checkJsonSchema({ type: 'string' }, 'a');
    assert.equal(first.length, 0);
    first.push(at([], 'x'));
    assert.deepEqual(checkJsonSchema({ type: 'string' }, 'a'), []);
  });
});
