/**
 * Writes protocol/generated/json-schemas.ts: the JSON Schemas the browser validates messages with
 * (protocol/json-schema-check.ts runs them), generated from the zod schemas with
 * `z.toJSONSchema`, so that the zod schemas stay the one source of truth and the browser ships
 * no zod. Run it after changing a schema:
 *
 *     node --import tsx scripts/generate-json-schemas.ts
 *
 * test/protocol/generated-json-schemas.test.ts fails while the committed file differs from a
 * fresh generation. The generator fails loudly rather than emit a schema the checker would
 * misread: on a keyword the checker does not support, and on a zod refinement that JSON Schema
 * cannot express unless it is listed, with why that is safe, in the target's `unexpressed`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import * as z from 'zod/mini';
import { ErrorBodySchema, WsAuthResponseSchema } from '../protocol/http.js';
import type { JsonSchema } from '../protocol/json-schema-check.js';
import { ClientMessageSchema, ServerMessageSchema } from '../protocol/messages.js';

/** The command that regenerates the file. */
export const GENERATE_COMMAND = 'node --import tsx scripts/generate-json-schemas.ts';

/** The generated module. */
export const OUTPUT_FILE = fileURLToPath(new URL('../protocol/generated/json-schemas.ts', import.meta.url));

/** One generated export: a zod schema and the refinements its JSON Schema leaves to zod. */
export type Target = {
  /** The export's name. */
  name: string;
  /** What it describes, for its doc comment. */
  summary: string;
  schema: z.core.$ZodType;
  /**
   * Refinements JSON Schema cannot express (zod `refine`/`superRefine` checks, pipes), by the
   * JSON Pointer of the subschema that loses them, with why checking without them is safe.
   */
  unexpressed: Readonly<Record<string, string>>;
};

/** Every generated export. */
export const TARGETS: readonly Target[] = [
  {
    name: 'SERVER_MESSAGE_JSON_SCHEMA',
    summary: '`ServerMessageSchema` (messages.ts): every message a server may send.',
    schema: ServerMessageSchema,
    unexpressed: {},
  },
  {
    name: 'CLIENT_MESSAGE_JSON_SCHEMA',
    summary: '`ClientMessageSchema` (messages.ts): every message a client may send.',
    schema: ClientMessageSchema,
    unexpressed: {
      '/oneOf/1/properties/filter/properties/operations/items':
        'operation names, aliases and case (`normalizeOperation`); here any string',
      '/oneOf/1/properties/filter/properties/where':
        'operators, field paths and WHERE_LIMITS (`whereError`); here only the two forms',
      '/oneOf/1/properties/fields': 'the count and each field path (`fieldsError`); here any strings',
      '/oneOf/1/properties/snapshot/anyOf/1/properties/sort':
        'the count and each sort key (`sortError`); here any strings',
    },
  },
  {
    name: 'WS_AUTH_RESPONSE_JSON_SCHEMA',
    summary: '`WsAuthResponseSchema` (http.ts): the `GET /api/users/ws-auth/` 200 body.',
    schema: WsAuthResponseSchema,
    unexpressed: {},
  },
  {
    name: 'ERROR_BODY_JSON_SCHEMA',
    summary: '`ErrorBodySchema` (http.ts): the body of every HTTP error.',
    schema: ErrorBodySchema,
    unexpressed: {},
  },
];

/** The keywords json-schema-check.ts supports; typed so that it cannot disagree with `JsonSchema`. */
const KEYWORDS: Readonly<Record<keyof JsonSchema, true>> = {
  type: true,
  const: true,
  enum: true,
  anyOf: true,
  oneOf: true,
  minLength: true,
  maxLength: true,
  minimum: true,
  maximum: true,
  items: true,
  prefixItems: true,
  minItems: true,
  maxItems: true,
  properties: true,
  required: true,
  additionalProperties: true,
};
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'array', 'object']);
/** zod checks that `z.toJSONSchema` turns into keywords; any other check is a refinement it drops. */
const EXPRESSED_CHECKS = new Set([
  'min_length',
  'max_length',
  'length_equals',
  'greater_than',
  'less_than',
  'number_format',
  'multiple_of',
  'string_format',
]);

type Node = Record<string, unknown>;

const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isScalar = (value: unknown) =>
  value === null || ['string', 'boolean'].includes(typeof value) || Number.isFinite(value);

function pointer(path: readonly (string | number)[]): string {
  return path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/**
 * Drops what the checker does not need: `$schema`, the safe-integer bounds of `z.int()` (the
 * checker's `integer` is a safe integer), `additionalProperties: {}` and `items: {}` (anything
 * goes), `propertyNames: {type: "string"}` (every JSON key is a string), and the `type` beside a
 * `const` or `enum` whose values all have that type.
 */
function simplify(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(simplify);
  if (!isNode(value)) return value;
  const node: Node = {};
  for (const [key, child] of Object.entries(value)) node[key] = simplify(child);
  delete node.$schema;
  if (node.type === 'integer') {
    if (node.minimum === -Number.MAX_SAFE_INTEGER) delete node.minimum;
    if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
  }
  for (const key of ['additionalProperties', 'items']) {
    if (isNode(node[key]) && Object.keys(node[key]).length === 0) delete node[key];
  }
  if (isNode(node.propertyNames) && Object.keys(node.propertyNames).join() === 'type') {
    if (node.propertyNames.type === 'string') delete node.propertyNames;
  }
  const values = 'const' in node ? [node.const] : Array.isArray(node.enum) ? node.enum : undefined;
  if (values && typeof node.type === 'string' && values.every((v) => jsonType(v) === node.type))
    delete node.type;
  return node;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Number.isSafeInteger(value)) return 'integer';
  return typeof value;
}

/** Throws unless `node` (at `path`) is a schema json-schema-check.ts reads exactly as written. */
function assertCheckable(node: unknown, path: (string | number)[]): asserts node is JsonSchema {
  const fail = (problem: string): never => {
    throw new Error(
      `${pointer(path) || '/'}: ${problem}; json-schema-check.ts does not support it. ` +
        'Add the keyword to the checker (and to KEYWORDS here), or express the schema differently.',
    );
  };
  if (!isNode(node)) return fail(`expected a schema object, got ${JSON.stringify(node)}`);
  for (const [key, value] of Object.entries(node)) {
    const at = [...path, key];
    if (!Object.hasOwn(KEYWORDS, key)) fail(`unsupported keyword "${key}"`);
    switch (key) {
      case 'type':
        if (typeof value !== 'string' || !TYPES.has(value)) fail(`unsupported type ${JSON.stringify(value)}`);
        break;
      case 'const':
        if (!isScalar(value)) fail('a const that is not a string, finite number, boolean or null');
        break;
      case 'enum':
        if (!Array.isArray(value) || value.length === 0 || !value.every(isScalar))
          fail('an enum of non-scalars');
        break;
      case 'minLength':
      case 'maxLength':
      case 'minimum':
      case 'maximum':
      case 'minItems':
      case 'maxItems':
        if (!Number.isFinite(value)) fail(`${key} ${JSON.stringify(value)}`);
        break;
      case 'required':
        if (
          !Array.isArray(value) ||
          !value.every((k) => isNode(node.properties) && Object.hasOwn(node.properties, k))
        ) {
          fail('a required key missing from properties');
        }
        break;
      case 'properties':
        if (!isNode(value)) fail('properties that are not an object');
        for (const [name, schema] of Object.entries(value as Node)) assertCheckable(schema, [...at, name]);
        break;
      case 'items':
      case 'additionalProperties':
        if (value !== false) assertCheckable(value, at);
        break;
      case 'anyOf':
      case 'prefixItems':
        if (!Array.isArray(value) || value.length === 0) fail(`an empty ${key}`);
        (value as unknown[]).forEach((schema, i) => assertCheckable(schema, [...at, i]));
        break;
      case 'oneOf': {
        if (!Array.isArray(value)) return fail('oneOf that is not an array');
        const types = value.map((branch: unknown, i) => {
          assertCheckable(branch, [...at, i]);
          const type = branch.properties?.type?.const;
          if (typeof type !== 'string' || !branch.required?.includes('type')) {
            fail(`oneOf branch ${i} has no required "type" constant (only discriminated unions on "type")`);
          }
          return type;
        });
        if (new Set(types).size !== types.length) fail('oneOf branches with the same "type"');
        break;
      }
    }
  }
}

/**
 * The checkable JSON Schema of a zod schema. Throws when it needs a keyword the checker lacks, or
 * when the refinements it cannot express differ from `unexpressed` (both ways: a stale entry is
 * an error too).
 */
export function toCheckableJsonSchema(
  schema: z.core.$ZodType,
  unexpressed: Readonly<Record<string, string>>,
): JsonSchema {
  const lossy = new Set<string>();
  const raw = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'throw',
    cycles: 'throw',
    override: ({ zodSchema, path }) => {
      const def = zodSchema._zod.def;
      const checks = def.checks ?? [];
      if (def.type === 'pipe' || checks.some((c) => !EXPRESSED_CHECKS.has(c._zod.def.check))) {
        lossy.add(pointer(path));
      }
    },
  });
  const found = [...lossy].sort();
  const listed = Object.keys(unexpressed).sort();
  if (found.join('\n') !== listed.join('\n')) {
    throw new Error(
      'the zod refinements that JSON Schema cannot express are not the ones listed in `unexpressed`:\n' +
        `  found:  ${found.join(', ') || '(none)'}\n  listed: ${listed.join(', ') || '(none)'}\n` +
        'List each (with why checking without it is safe) in scripts/generate-json-schemas.ts and protocol/README.md.',
    );
  }
  const simplified = simplify(raw);
  assertCheckable(simplified, []);
  return simplified;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `value` as a TypeScript literal with unquoted keys (prettier formats it). */
function literal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (!isNode(value)) return JSON.stringify(value);
  const entries = Object.entries(value).map(([key, child]) => {
    // A literal `__proto__` key (quoted or not) would set the prototype: compute it.
    const name = key === '__proto__' ? `['__proto__']` : IDENTIFIER.test(key) ? key : JSON.stringify(key);
    return `${name}: ${literal(child)}`;
  });
  return `{${entries.join(', ')}}`;
}

function docComment(target: Target): string {
  const gaps = Object.entries(target.unexpressed).map(([at, why]) => ` *   - \`${at}\`:\n *     ${why}`);
  const lines = [
    `/**`,
    ` * ${target.summary}`,
    ...(gaps.length
      ? [' * Left to zod (refinements JSON Schema cannot express), by JSON Pointer:', ...gaps]
      : [' * Every zod check is expressed: it accepts what zod accepts.']),
    ` */`,
  ];
  return lines.join('\n');
}

/** The whole generated module, formatted with the project's prettier settings. */
export async function renderJsonSchemasModule(): Promise<string> {
  const parts = [
    `// Generated by scripts/generate-json-schemas.ts from the zod schemas of protocol/. Do not edit:\n` +
      `// after changing a schema, run \`${GENERATE_COMMAND}\`.`,
    `import type { JsonSchema } from '../json-schema-check.js';`,
    ...TARGETS.map(
      (target) =>
        `${docComment(target)}\nexport const ${target.name}: JsonSchema = ${literal(
          toCheckableJsonSchema(target.schema, target.unexpressed),
        )};`,
    ),
  ];
  const options = await prettier.resolveConfig(OUTPUT_FILE);
  return prettier.format(parts.join('\n\n'), { ...options, filepath: OUTPUT_FILE });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OUTPUT_FILE, await renderJsonSchemasModule());
  console.log(`wrote ${OUTPUT_FILE}`);
}
