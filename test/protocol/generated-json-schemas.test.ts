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
  it('keeps what the checker needs and drops the rest', () => {
    const schema = z.strictObject({
      type: z.literal('x'),
      n: z.int(),
      seq: z.int().check(z.minimum(0)),
      kind: z.enum(['a', 'b']),
      meta: z.record(z.string(), z.unknown()),
      record: z.looseObject({ id: z.string() }),
    });
    assert.deepEqual(toCheckableJsonSchema(schema, {}), {
      type: 'object',
      properties: {
        type: { const: 'x' },
        n: { type: 'integer' },
        seq: { type: 'integer', minimum: 0 },
        kind: { enum: ['a', 'b'] },
        meta: { type: 'object' },
        record: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      },
      required: ['type', 'n', 'seq', 'kind', 'meta', 'record'],
      additionalProperties: false,
    });
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
  ];
  for (const [description, schema, message] of unsupported) {
    it(`refuses ${description}, naming the checker`, () => {
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
    assert.deepEqual(toCheckableJsonSchema(schema, { '/properties/even': 'evenness: checked elsewhere' }), {
      type: 'object',
      properties: { even: { type: 'integer' } },
      required: ['even'],
      additionalProperties: false,
    });
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
