import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as z from 'zod/mini';
import {
  GENERATE_COMMAND,
  OUTPUT_FILE,
  renderJsonSchemasModule,
  toCheckableJsonSchema,
} from '../../scripts/generate-json-schemas.js';

describe('protocol/generated/json-schemas.ts', () => {
  it('is what the generator makes of the zod schemas now', async () => {
    const committed = readFileSync(OUTPUT_FILE, 'utf8');
    const fresh = await renderJsonSchemasModule();
    assert.ok(
      committed === fresh,
      `protocol/generated/json-schemas.ts is out of date with the zod schemas: run \`${GENERATE_COMMAND}\``,
    );
  });
});

describe('toCheckableJsonSchema', () => {
  it('keeps what the checks need and drops the rest', () => {
    const schema = z.strictObject({
      type: z.literal('x'),
      n: z.int(),
      seq: z.int().check(z.minimum(0)),
      kind: z.enum(['a', 'b']),
      meta: z.record(z.string(), z.unknown()),
      record: z.looseObject({ id: z.string() }),
      note: z.optional(z.string().check(z.maxLength(9))),
    });
    assert.equal(
      toCheckableJsonSchema(schema, {}),
      'object({type: values("x"), n: integer(), seq: integer(0), kind: values("a", "b"), meta: anyObject, ' +
        'record: object({id: string()}, [], true), note: string(undefined, 9)}, ["note"])',
    );
  });

  it('turns a discriminated union on type into checks by type', () => {
    const schema = z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('a'), n: z.optional(z.number()) }),
      z.strictObject({ type: z.literal('b'), list: z.array(z.boolean()).check(z.maxLength(2)) }),
    ]);
    assert.equal(
      toCheckableJsonSchema(schema, {}),
      'oneOf({a: object({type: anything, n: number()}, ["n"]), b: object({type: anything, list: array(boolean, undefined, 2)})})',
    );
  });

  it('turns a union into anyOf, a tuple into its positions and an array into its items', () => {
    const schema = z.union([
      z.tuple([z.string(), z.unknown()]),
      z.string().check(z.minLength(1)),
      z.array(z.unknown()).check(z.minLength(1)),
    ]);
    assert.equal(
      toCheckableJsonSchema(schema, {}),
      'anyOf(tuple([string(), anything]), string(1), array(anything, 1))',
    );
  });

  const unsupported: [description: string, schema: z.core.$ZodType, message: RegExp][] = [
    ['a pattern', z.string().check(z.regex(/^a/)), /^\/: unsupported keyword "pattern"/],
    ['a format', z.email(), /unsupported keyword "format"/],
    ['an exclusive bound', z.number().check(z.gt(0)), /unsupported keyword "exclusiveMinimum"/],
    ['multipleOf', z.number().check(z.multipleOf(2)), /unsupported keyword "multipleOf"/],
    [
      'a nested unsupported keyword, at its JSON Pointer',
      z.strictObject({ name: z.string().check(z.regex(/^a/)) }),
      /^\/properties\/name: unsupported keyword "pattern"/,
    ],
    [
      'a oneOf that is not a union on "type"',
      z.discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('a') }),
        z.strictObject({ kind: z.literal('b') }),
      ]),
      /oneOf branch 0 has no required "type" constant/,
    ],
    ['null', z.null(), /^\/: unsupported type "null"/],
    ['a nullable value', z.nullable(z.string()), /unsupported type \["string","null"\]/],
    ['a record of typed values', z.record(z.string(), z.number()), /additionalProperties other than false/],
    ['a tuple with a rest', z.tuple([z.string()], z.number()), /prefixItems other than a tuple/],
  ];
  for (const [description, schema, message] of unsupported) {
    it(`refuses ${description}, naming the checks`, () => {
      assert.throws(
        () => toCheckableJsonSchema(schema, {}),
        (error: Error) => {
          assert.match(error.message, message);
          assert.match(error.message, /json-schema-check\.ts does not support it/);
          return true;
        },
      );
    });
  }

  it('refuses a refinement JSON Schema cannot express unless it is listed', () => {
    const schema = z.strictObject({ even: z.int().check(z.refine((n) => n % 2 === 0)) });
    assert.throws(
      () => toCheckableJsonSchema(schema, {}),
      /found: {2}\/properties\/even\n {2}listed: \(none\)/,
    );
    assert.equal(
      toCheckableJsonSchema(schema, { '/properties/even': 'evenness: checked elsewhere' }),
      'object({even: integer()})',
    );
  });

  it('refuses a listed refinement that is no longer there', () => {
    assert.throws(
      () => toCheckableJsonSchema(z.string(), { '/gone': 'stale' }),
      /found: {2}\(none\)\n {2}listed: \/gone/,
    );
  });

  it('counts a pipe as a refinement, since only its output side is expressed', () => {
    const schema = z.strictObject({ a: z.pipe(z.string().check(z.minLength(2)), z.string()) });
    assert.throws(() => toCheckableJsonSchema(schema, {}), /found: {2}\/properties\/a\n/);
  });
});
