import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFieldFilter, compileProjection } from '../../protocol/projection.js';
import { FieldPathSchema, FieldsSchema } from '../../protocol/query-schemas.js';

const order = {
  id: 'o_1',
  status: 'pending',
  total: 120,
  note: null,
  tags: ['gift'],
  customer: { name: 'Ada', email: 'ada@example.com', address: { city: 'Paris', zip: '75001' } },
  items: [{ sku: 'A1', qty: 2 }],
};

describe('compileProjection', () => {
  const cases: [description: string, fields: string[], expected: Record<string, unknown>][] = [
    ['keeps the listed fields and id', ['status', 'total'], { id: 'o_1', status: 'pending', total: 120 }],
    ['keeps id when fields is empty', [], { id: 'o_1' }],
    ['keeps id when it is listed too', ['id', 'status'], { id: 'o_1', status: 'pending' }],
    ['keeps a null field', ['note'], { id: 'o_1', note: null }],
    ['keeps a whole array', ['tags'], { id: 'o_1', tags: ['gift'] }],
    ['keeps a whole object', ['customer'], { id: 'o_1', customer: order.customer }],
    [
      'rebuilds nested objects for a dotted path',
      ['customer.name'],
      { id: 'o_1', customer: { name: 'Ada' } },
    ],
    [
      'merges dotted paths under one parent',
      ['customer.name', 'customer.address.city'],
      { id: 'o_1', customer: { name: 'Ada', address: { city: 'Paris' } } },
    ],
    [
      'lets a parent path win over its children',
      ['customer.name', 'customer'],
      { id: 'o_1', customer: order.customer },
    ],
    [
      'lets a parent path win when it comes first',
      ['customer', 'customer.name'],
      { id: 'o_1', customer: order.customer },
    ],
    ['omits a missing field', ['status', 'missing'], { id: 'o_1', status: 'pending' }],
    ['omits a missing nested field and its empty parent', ['customer.phone'], { id: 'o_1' }],
    ['omits a path through a value that is not an object', ['status.length', 'total.x'], { id: 'o_1' }],
    ['does not descend into arrays', ['items.0.sku', 'items.sku'], { id: 'o_1' }],
    ['does not read inherited properties', ['toString', 'customer.hasOwnProperty'], { id: 'o_1' }],
  ];
  for (const [description, fields, expected] of cases) {
    it(description, () => assert.deepEqual(compileProjection(fields)(order), expected));
  }

  it('returns the same record, uncopied, when there is no projection', () => {
    assert.equal(compileProjection(undefined)(order), order);
  });

  it('returns a new object and leaves the record alone', () => {
    const before = structuredClone(order);
    const projected = compileProjection(['customer.name'])(order);
    assert.notEqual(projected, order);
    assert.deepEqual(order, before);
  });

  it('returns an empty object for a record without id or fields', () => {
    assert.deepEqual(compileProjection(['a'])({}), {});
  });

  it('throws on a path that FieldPathSchema rejects', () => {
    assert.throws(() => compileProjection(['__proto__']), /forbidden segment "__proto__"/);
    assert.throws(() => compileProjection(['a..b']), /empty segment/);
  });
});

describe('compileFieldFilter', () => {
  it('is undefined when there is no projection', () => {
    assert.equal(compileFieldFilter(undefined), undefined);
  });

  const cases: [description: string, fields: string[], changed: string[], expected: string[]][] = [
    ['keeps a changed field that is projected', ['status'], ['status', 'total'], ['status']],
    ['keeps the parent of a projected nested path', ['customer.name'], ['customer', 'total'], ['customer']],
    ['does not keep a field that only shares a prefix', ['customer.name'], ['cust', 'customerId'], []],
    ['keeps id as the projection does', [], ['id', 'x'], ['id']],
    ['keeps the order it was given', ['b', 'a'], ['a', 'b', 'c'], ['a', 'b']],
    ['returns nothing when no projected field changed', ['status'], ['total'], []],
  ];
  for (const [description, fields, changed, expected] of cases) {
    it(description, () => assert.deepEqual(compileFieldFilter(fields)?.(changed), expected));
  }
});

describe('FieldPathSchema and FieldsSchema', () => {
  for (const path of ['name', 'customer.address.city', 'items.0', 'x'.repeat(256)]) {
    it(`accepts ${JSON.stringify(path.length > 20 ? `${path.slice(0, 8)}…` : path)}`, () => {
      assert.equal(FieldPathSchema.safeParse(path).success, true);
    });
  }

  const invalid: [description: string, path: unknown, message: RegExp][] = [
    ['an empty path', '', /must not be empty/],
    ['a path over 256 characters', 'x'.repeat(257), /at most 256 characters/],
    ['an empty segment', 'a.', /empty segment/],
    ['a __proto__ segment', 'a.__proto__', /forbidden segment "__proto__"/],
    ['a prototype segment', 'prototype', /forbidden segment "prototype"/],
    ['a number', 5, /.+/],
  ];
  for (const [description, path, message] of invalid) {
    it(`rejects ${description} with one issue`, () => {
      const result = FieldPathSchema.safeParse(path);
      assert.equal(result.error?.issues.length, 1);
      assert.match(result.error?.issues[0]?.message ?? '', message);
    });
  }

  it('accepts up to 100 fields and rejects more', () => {
    const fields = Array.from({ length: 101 }, (_, i) => `f${i}`);
    assert.equal(FieldsSchema.safeParse(fields.slice(0, 100)).success, true);
    assert.match(FieldsSchema.safeParse(fields).error?.issues[0]?.message ?? '', /at most 100 fields/);
  });

  it('reports the index of a bad field', () => {
    assert.deepEqual(FieldsSchema.safeParse(['a', 'constructor']).error?.issues[0]?.path, [1]);
  });
});
