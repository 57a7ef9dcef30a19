import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Issue } from '../../protocol/issues.js';
import {
  anyObject,
  anyOf,
  anything,
  array,
  boolean,
  checkJsonSchema,
  integer,
  number,
  object,
  oneOf,
  string,
  tuple,
  values,
  type JsonSchemaCheck,
} from '../../protocol/json-schema-check.js';

/** [what, check, value, the issues expected (none: the value conforms)] */
type Case = [description: string, check: JsonSchemaCheck, value: unknown, issues: Issue[]];

const at = (path: Issue['path'], message: string): Issue => ({ path, message });

function table(cases: Case[]): void {
  for (const [description, check, value, issues] of cases) {
    it(description, () => assert.deepEqual(checkJsonSchema(check, value), issues));
  }
}

describe('checkJsonSchema: types', () => {
  table([
    ['accepts a string', string(), 'x', []],
    ['refuses a number as a string', string(), 1, [at([], 'expected string')]],
    ['accepts a finite number', number(), -1.5, []],
    ['refuses NaN as a number (as zod does)', number(), NaN, [at([], 'expected number')]],
    ['refuses Infinity as a number (as zod does)', number(), Infinity, [at([], 'expected number')]],
    ['refuses a numeric string as a number', number(), '1', [at([], 'expected number')]],
    ['accepts a safe integer', integer(), Number.MAX_SAFE_INTEGER, []],
    ['accepts -0 as an integer', integer(), -0, []],
    ['refuses a fraction as an integer', integer(), 1.5, [at([], 'expected integer')]],
    ['refuses an unsafe integer (as z.int() does)', integer(), 2 ** 53, [at([], 'expected integer')]],
    ['accepts a boolean', boolean, false, []],
    ['refuses 0 as a boolean', boolean, 0, [at([], 'expected boolean')]],
    ['accepts an array', array(anything), [], []],
    ['refuses an object as an array', array(anything), {}, [at([], 'expected array')]],
    ['accepts an object', anyObject, {}, []],
    ['refuses an array as an object', anyObject, [], [at([], 'expected object')]],
    ['refuses null as an object', anyObject, null, [at([], 'expected object')]],
    ['accepts anything as anything', anything, [1, { a: null }], []],
    ['accepts undefined as anything', anything, undefined, []],
  ]);
});

describe('checkJsonSchema: values (const and enum)', () => {
  table([
    ['accepts the constant', values('welcome'), 'welcome', []],
    [
      'refuses another value, naming the constant',
      values('welcome'),
      'hello',
      [at([], 'expected "welcome"')],
    ],
    ['compares constants strictly', values(1), '1', [at([], 'expected 1')]],
    ['accepts a null constant', values(null), null, []],
    ['refuses undefined as null', values(null), undefined, [at([], 'expected null')]],
    ['accepts a member', values('a', 'b'), 'b', []],
    [
      'refuses a non-member, listing the members',
      values('a', 'b'),
      'c',
      [at([], 'expected one of "a", "b"')],
    ],
    ['compares members strictly', values(1, 2), '1', [at([], 'expected one of 1, 2')]],
  ]);
});

describe('checkJsonSchema: strings and numbers', () => {
  const id = string(1, 4);
  const limit = integer(1, 1000);
  table([
    ['accepts a string of the minimum length', id, 'a', []],
    ['accepts a string of the maximum length', id, 'abcd', []],
    ['refuses a string below the minimum length', id, '', [at([], 'expected at least 1 characters')]],
    ['refuses a string over the maximum length', id, 'abcde', [at([], 'expected at most 4 characters')]],
    ['counts UTF-16 code units, as zod does', id, '😀😀😀', [at([], 'expected at most 4 characters')]],
    [
      'bounds a string by its maximum alone',
      string(undefined, 2),
      'abc',
      [at([], 'expected at most 2 characters')],
    ],
    ['accepts the minimum', limit, 1, []],
    ['accepts the maximum', limit, 1000, []],
    ['refuses a number below the minimum', limit, 0, [at([], 'expected at least 1')]],
    ['refuses a number over the maximum', limit, 1001, [at([], 'expected at most 1000')]],
    ['bounds a number by its value, not its digits', number(5), 10, []],
    ['bounds a number by its minimum alone', number(5), 1, [at([], 'expected at least 5')]],
    ['checks the type before the bounds', string(2), 1, [at([], 'expected string')]],
  ]);
});

describe('checkJsonSchema: arrays', () => {
  const triple = tuple([string(), values('=', '!='), anything]);
  table([
    [
      'checks every item against items',
      array(string()),
      ['a', 2, 'c', 4],
      [at([1], 'expected string'), at([3], 'expected string')],
    ],
    ['accepts an empty array', array(string()), [], []],
    ['accepts the minimum count', array(anything, 1, 2), [1], []],
    ['refuses fewer than the minimum count', array(anything, 1), [], [at([], 'expected at least 1 items')]],
    [
      'refuses more than the maximum count',
      array(anything, 0, 2),
      [1, 2, 3],
      [at([], 'expected at most 2 items')],
    ],
    [
      'checks the items of an array of the wrong count too',
      array(string(), 0, 1),
      [1, 'b'],
      [at([], 'expected at most 1 items'), at([0], 'expected string')],
    ],
    ['accepts a tuple', triple, ['status', '=', { any: 'thing' }], []],
    [
      'checks each tuple position against its own check',
      triple,
      [1, '>', null],
      [at([0], 'expected string'), at([1], 'expected one of "=", "!="')],
    ],
    ['refuses a tuple too short', triple, ['status', '='], [at([], 'expected at least 3 items')]],
    [
      'refuses an item past the positions of a tuple',
      tuple([anything]),
      [1, 2],
      [at([], 'expected at most 1 items')],
    ],
    [
      'checks the positions of a tuple too long too',
      tuple([string()]),
      [1, 2],
      [at([], 'expected at most 1 items'), at([0], 'expected string')],
    ],
  ]);
});

describe('checkJsonSchema: objects', () => {
  const strict = object({ id: string(), seq: integer(), note: string() }, ['note']);
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
    ['does not read inherited values', object({ toString: string() }), {}, [at(['toString'], 'required')]],
    ['allows any other key when loose', object({ id: string() }, ['id'], true), { x: 1 }, []],
    [
      'checks the known keys of a loose object',
      object({ id: string() }, [], true),
      { x: 1 },
      [at(['id'], 'required')],
    ],
    [
      'gives nested paths',
      object({ limits: strict }),
      { limits: { id: 'a', seq: 1.5 } },
      [at(['limits', 'seq'], 'expected integer')],
    ],
    ['checks the type before the keys', strict, 'x', [at([], 'expected object')]],
  ]);

  it('keeps the paths of issues apart from the path it walks', () => {
    const issues = checkJsonSchema(array(strict), [{ id: 'a' }, { seq: 2 }]);
    assert.deepEqual(issues, [at([0, 'seq'], 'required'), at([1, 'id'], 'required')]);
  });
});

describe('checkJsonSchema: anyOf', () => {
  const t = anyOf(number(), string(undefined, 3));
  const event = array(
    anyOf(
      object({ seq: integer(), object: string(), id: string() }),
      object({ seq: integer(), topic: string() }),
    ),
  );
  table([
    ['accepts a value that one branch accepts', t, 'abc', []],
    ['accepts a value that another branch accepts', t, 5, []],
    [
      'names the types when no branch has the type of the value',
      t,
      true,
      [at([], 'expected number or string')],
    ],
    ['names a type once', anyOf(anyObject, object({})), 1, [at([], 'expected object')]],
    ['explains the branch of the type of the value', t, 'abcd', [at([], 'expected at most 3 characters')]],
    [
      'explains the branch with the fewest issues',
      event,
      [{ seq: 1, topic: 7 }],
      [at([0, 'topic'], 'expected string')],
    ],
    [
      'considers a branch without a type for any value',
      anyOf(values('a'), number()),
      'b',
      [at([], 'expected "a"')],
    ],
  ]);
});

describe('checkJsonSchema: oneOf (a discriminated union on type)', () => {
  const message = oneOf({
    ping: object({ type: anything, t: number() }, ['t']),
    unsubscribed: object({ type: anything, id: string() }),
  });
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
      'does not take an inherited name for a type',
      message,
      { type: 'toString' },
      [at(['type'], 'unknown type "toString"; expected one of "ping", "unsubscribed"')],
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
    const first = checkJsonSchema(string(), 'a');
    assert.equal(first.length, 0);
    first.push(at([], 'x'));
    assert.deepEqual(checkJsonSchema(string(), 'a'), []);
  });

  it('gives the type of the values a check accepts, for anyOf', () => {
    assert.deepEqual(
      [string(), integer(), number(), boolean, array(anything), anyObject, object({}), oneOf({})].map(
        (c) => c.type,
      ),
      ['string', 'integer', 'number', 'boolean', 'array', 'object', 'object', 'object'],
    );
    assert.deepEqual(
      [anything, values('a'), anyOf(string())].map((c) => c.type),
      [undefined, undefined, undefined],
    );
  });
});
