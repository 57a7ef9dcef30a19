import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  changedFields,
  compilePath,
  deepEqual,
  FORBIDDEN_KEYS,
  fieldPathError,
  getPath,
  isPlainObject,
  isSafeKey,
} from '../../protocol/json.js';

describe('isPlainObject', () => {
  const cases: [description: string, value: unknown, expected: boolean][] = [
    ['an object literal is one', { a: 1 }, true],
    ['an empty object is one', {}, true],
    ['an object without a prototype is one', Object.create(null), true],
    ['an array is not', [], false],
    ['null is not', null, false],
    ['a string is not', 'a', false],
    ['a number is not', 1, false],
    ['undefined is not', undefined, false],
  ];
  for (const [description, value, expected] of cases) {
    it(description, () => assert.equal(isPlainObject(value), expected));
  }
});

describe('deepEqual', () => {
  const cases: [description: string, a: unknown, b: unknown, expected: boolean][] = [
    ['equal strings are equal', 'a', 'a', true],
    ['a number and its string differ', 1, '1', false],
    ['null equals null', null, null, true],
    ['null and a missing value differ', null, undefined, false],
    ['null and an empty object differ', null, {}, false],
    [
      'objects are equal whatever the key order',
      { a: 1, b: { c: [1, 2] } },
      { b: { c: [1, 2] }, a: 1 },
      true,
    ],
    ['an object with an extra key differs', { a: 1 }, { a: 1, b: 2 }, false],
    ['an object with a missing key differs', { a: 1, b: 2 }, { a: 1 }, false],
    ['objects with different values differ', { a: 1 }, { a: 2 }, false],
    ['a key holding undefined counts as absent', { a: 1, b: undefined }, { a: 1 }, true],
    ['arrays are equal element by element', [1, { a: 'x' }, [null]], [1, { a: 'x' }, [null]], true],
    ['arrays in another order differ', [1, 2], [2, 1], false],
    ['arrays of different lengths differ', [1], [1, 1], false],
    ['an array and an object with index keys differ', [1], { 0: 1 }, false],
    ['an empty array and an empty object differ', [], {}, false],
    ['nested differences are found', { a: { b: { c: 1 } } }, { a: { b: { c: 2 } } }, false],
  ];
  for (const [description, a, b, expected] of cases) {
    it(description, () => {
      assert.equal(deepEqual(a, b), expected);
      assert.equal(deepEqual(b, a), expected, 'symmetric');
    });
  }
});

describe('getPath and compilePath', () => {
  const record = {
    id: 'r',
    name: 'Ada',
    none: null,
    customer: { address: { city: 'Paris' } },
    items: [{ sku: 'A1' }, { sku: 'B2' }],
    'a.b': 'flat',
    0: 'zero',
  };
  const cases: [description: string, path: string, expected: unknown][] = [
    ['reads a top-level field', 'name', 'Ada'],
    ['reads a null field as null', 'none', null],
    ['reads a nested field', 'customer.address.city', 'Paris'],
    ['reads a nested object', 'customer.address', { city: 'Paris' }],
    ['indexes an array with a numeric segment', 'items.1.sku', 'B2'],
    ['reads an object key that looks like an index', '0', 'zero'],
    ['returns undefined for a missing field', 'missing', undefined],
    ['returns undefined for a missing nested field', 'customer.zip.code', undefined],
    ['returns undefined when a step is not an object', 'name.length', undefined],
    ['returns undefined when a step is null', 'none.x', undefined],
    ['returns undefined past the end of an array', 'items.2.sku', undefined],
    ['does not read the length of an array', 'items.length', undefined],
    ['does not accept a non-canonical index', 'items.01.sku', undefined],
    ['splits on every dot, so a key with a dot is unreachable', 'a.b', undefined],
    ['does not reach Object.prototype through __proto__', '__proto__', undefined],
    ['does not reach a constructor', 'constructor', undefined],
    ['does not reach an inherited method', 'toString', undefined],
    ['does not reach a prototype of a nested object', 'customer.__proto__.toString', undefined],
  ];
  for (const [description, path, expected] of cases) {
    it(`${description} (${path})`, () => {
      assert.deepEqual(getPath(record, path), expected);
      assert.deepEqual(compilePath(path)(record), expected);
    });
  }

  it('reads an own __proto__ key as data, not as the prototype', () => {
    const parsed: unknown = JSON.parse('{"__proto__":{"x":1}}');
    assert.deepEqual(getPath(parsed, '__proto__'), { x: 1 });
    assert.equal(getPath(parsed, 'x'), undefined);
  });

  it('returns undefined for a value that is not an object', () => {
    for (const value of [null, undefined, 'text', 42]) {
      assert.equal(getPath(value, 'a'), undefined);
      assert.equal(compilePath('a.b')(value), undefined);
    }
  });
});

describe('FORBIDDEN_KEYS and isSafeKey', () => {
  it('forbids __proto__, constructor and prototype', () => {
    assert.deepEqual([...FORBIDDEN_KEYS], ['__proto__', 'constructor', 'prototype']);
    for (const key of FORBIDDEN_KEYS) assert.equal(isSafeKey(key), false);
  });

  it('allows ordinary keys, inherited method names included', () => {
    for (const key of ['id', 'name', 'toString', 'proto', '$eq', '']) assert.equal(isSafeKey(key), true);
  });
});

describe('fieldPathError', () => {
  const cases: [description: string, path: string, expected: string | undefined][] = [
    ['accepts a simple path', 'name', undefined],
    ['accepts a dotted path', 'customer.address.city', undefined],
    ['accepts a path of 256 characters', 'x'.repeat(256), undefined],
    ['rejects an empty path', '', 'field path is empty'],
    ['rejects a path over 256 characters', 'x'.repeat(257), 'field path is longer than 256 characters'],
    ['rejects a leading dot', '.a', 'field path ".a" has an empty segment'],
    ['rejects a double dot', 'a..b', 'field path "a..b" has an empty segment'],
    ['rejects __proto__', 'a.__proto__', 'field path "a.__proto__" uses the forbidden segment "__proto__"'],
    [
      'rejects constructor',
      'constructor',
      'field path "constructor" uses the forbidden segment "constructor"',
    ],
    [
      'rejects prototype',
      'x.prototype.y',
      'field path "x.prototype.y" uses the forbidden segment "prototype"',
    ],
  ];
  for (const [description, path, expected] of cases) {
    it(description, () => assert.equal(fieldPathError(path), expected));
  }
});

describe('changedFields', () => {
  const cases: [
    description: string,
    before: Record<string, unknown>,
    after: Record<string, unknown>,
    expected: string[],
  ][] = [
    ['lists nothing when nothing changed', { id: 'r', a: 1 }, { id: 'r', a: 1 }, []],
    ['lists a changed value', { id: 'r', a: 1 }, { id: 'r', a: 2 }, ['a']],
    ['lists an added key', { id: 'r' }, { id: 'r', b: 1 }, ['b']],
    ['lists a removed key', { id: 'r', b: 1 }, { id: 'r' }, ['b']],
    ['lists a key that became null', { id: 'r', b: 1 }, { id: 'r', b: null }, ['b']],
    [
      'ignores a nested object rebuilt with the same content',
      { c: { x: [1], y: 2 } },
      { c: { y: 2, x: [1] } },
      [],
    ],
    ['lists the top-level key of a nested change', { c: { x: { y: 1 } } }, { c: { x: { y: 2 } } }, ['c']],
    ['sorts the keys', { z: 1, a: 1, m: 1 }, { z: 2, a: 2, m: 2 }, ['a', 'm', 'z']],
    ['sorts by code units, uppercase first', { b: 1 }, { B: 1 }, ['B', 'b']],
    ['treats a key holding undefined as absent', { a: undefined }, {}, []],
  ];
  for (const [description, before, after, expected] of cases) {
    it(description, () => assert.deepEqual(changedFields(before, after), expected));
  }
});
