/**
 * Writes protocol/generated/json-schemas.ts: the schemas the browser validates messages with,
 * generated from the zod schemas so that those stay the one source of truth and the browser
 * ships no zod. Each zod schema becomes JSON Schema (`z.toJSONSchema`), and each JSON Schema
 * becomes calls of the checks of protocol/json-schema-check.ts (`string(1, 64)`, `object({…})`).
 * Run it after changing a schema:
 *
 *     node --import tsx scripts/generate-json-schemas.ts
 *
 * test/protocol/generated-json-schemas.test.ts fails while the committed file differs from a
 * fresh generation. The generator fails loudly rather than emit a check that says less than the
 * schema: on a keyword (or a combination of keywords) the checks cannot say, and on a zod
 * refinement that JSON Schema cannot express unless it is listed, with why that is safe, in the
 * target's `unexpressed`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import * as z from 'zod/mini';
import { ErrorBodySchema, WsAuthResponseSchema } from '../protocol/http.js';
import type { JsonType } from '../protocol/json-schema-check.js';
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
    unexpressed: {
      '/oneOf/1/properties/members/items/properties/meta':
        "no `__proto__` key in a member's meta, here and in presence events (one MemberSchema, named at its first use; the server refuses such a meta when the member joins); here any key",
    },
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
      '/oneOf/1/properties/meta': 'no `__proto__` key in presence meta (the server refuses it); here any key',
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

/** The JSON Schema keywords the checks can say (in the combinations `compile` accepts). */
const KEYWORDS = new Set([
  'type',
  'const',
  'enum',
  'anyOf',
  'oneOf',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'properties',
  'required',
  'additionalProperties',
]);
/** The JSON Schema types the checks tell apart, with the keywords of the bounds each may have. */
const BOUNDS: Readonly<Record<JsonType, readonly [min: string, max: string] | []>> = {
  string: ['minLength', 'maxLength'],
  number: ['minimum', 'maximum'],
  integer: ['minimum', 'maximum'],
  boolean: [],
  array: ['minItems', 'maxItems'],
  object: [],
};
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

/** The checks of json-schema-check.ts that generated code may use. */
const CHECKS = [
  'anything',
  'boolean',
  'anyObject',
  'string',
  'integer',
  'number',
  'values',
  'array',
  'tuple',
  'object',
  'anyOf',
  'oneOf',
] as const;

/** `value` as a TypeScript literal (prettier formats it). */
const literal = (value: unknown) => (value === undefined ? 'undefined' : JSON.stringify(value));

/** A call of `check` with the arguments' source code, the trailing `undefined`s dropped. */
function call(check: (typeof CHECKS)[number], ...args: (string | undefined)[]): string {
  while (args.length && args[args.length - 1] === undefined) args.pop();
  return `${check}(${args.map((a) => a ?? 'undefined').join(', ')})`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `{key: check, …}` with unquoted keys where they can be. */
function record(entries: [string, string][]): string {
  // A literal `__proto__` key (quoted or not) would set the prototype: compute it.
  const key = (k: string) =>
    k === '__proto__' ? `['__proto__']` : IDENTIFIER.test(k) ? k : JSON.stringify(k);
  return `{${entries.map(([k, check]) => `${key(k)}: ${check}`).join(', ')}}`;
}

/**
 * The check (json-schema-check.ts) of a simplified JSON Schema `node` at `path`, as source code.
 * Throws when the node uses a keyword, or a combination of keywords, that the checks cannot say
 * exactly.
 */
function compile(node: unknown, path: (string | number)[]): string {
  const fail = (problem: string): never => {
    throw new Error(
      `${pointer(path) || '/'}: ${problem}; json-schema-check.ts does not support it. ` +
        'Add a check there (and its use to compile() here), or express the schema differently.',
    );
  };
  if (!isNode(node)) return fail(`expected a schema object, got ${JSON.stringify(node)}`);
  const keys = Object.keys(node);
  for (const key of keys) if (!KEYWORDS.has(key)) fail(`unsupported keyword "${key}"`);
  const branches = (key: string): unknown[] => {
    if (keys.length > 1) fail(`${key} beside ${keys.filter((k) => k !== key).join(', ')}`);
    const value = node[key];
    if (!Array.isArray(value) || value.length === 0) return fail(`an empty ${key}`);
    return value;
  };

  if (keys.length === 0) return 'anything';
  if ('const' in node || 'enum' in node) {
    const values = 'const' in node ? [node.const] : node.enum;
    if (keys.length > 1) fail(`const or enum beside ${keys.join(', ')}`);
    if (!Array.isArray(values) || values.length === 0 || !values.every(isScalar))
      fail('a const or enum of non-scalars (strings, finite numbers, booleans and null only)');
    return call('values', ...(values as unknown[]).map(literal));
  }
  if ('anyOf' in node) {
    return call('anyOf', ...branches('anyOf').map((b, i) => compile(b, [...path, 'anyOf', i])));
  }
  if ('oneOf' in node) {
    const cases: [string, string][] = branches('oneOf').map((branch, i) => {
      const type = isNode(branch) && isNode(branch.properties) ? branch.properties.type : undefined;
      const required = isNode(branch) && Array.isArray(branch.required) && branch.required.includes('type');
      if (!isNode(type) || typeof type.const !== 'string' || Object.keys(type).length > 1 || !required)
        fail(`oneOf branch ${i} has no required "type" constant (only discriminated unions on "type")`);
      // The key picks the branch, so its `type` is known to match.
      const name = (type as Node).const as string;
      const rest = {
        ...(branch as Node),
        properties: { ...((branch as Node).properties as Node), type: {} },
      };
      return [name, compile(rest, [...path, 'oneOf', i])];
    });
    if (new Set(cases.map(([name]) => name)).size !== cases.length)
      fail('oneOf branches with the same "type"');
    return call('oneOf', record(cases));
  }

  const type = node.type as JsonType;
  if (typeof type !== 'string' || !Object.hasOwn(BOUNDS, type))
    fail(`unsupported type ${JSON.stringify(type)}`);
  const allowed = new Set<string>(['type', ...BOUNDS[type]]);
  if (type === 'array') ['items', 'prefixItems'].forEach((k) => allowed.add(k));
  if (type === 'object') ['properties', 'required', 'additionalProperties'].forEach((k) => allowed.add(k));
  for (const key of keys) if (!allowed.has(key)) fail(`${key} on a schema of type ${type}`);
  if (type === 'boolean') return 'boolean';

  if (type === 'object') {
    const { properties = {}, required = [], additionalProperties } = node;
    if (!isNode(properties)) return fail('properties that are not an object');
    if (!Array.isArray(required) || !required.every((k) => Object.hasOwn(properties, k)))
      fail('a required key missing from properties');
    if (additionalProperties !== undefined && additionalProperties !== false)
      fail('additionalProperties other than false');
    if (keys.length === 1) return 'anyObject';
    const props: [string, string][] = Object.entries(properties).map(([key, child]) => [
      key,
      compile(child, [...path, 'properties', key]),
    ]);
    const optional = props.map(([key]) => key).filter((k) => !(required as string[]).includes(k));
    const loose = additionalProperties === undefined;
    return call(
      'object',
      record(props),
      optional.length || loose ? literal(optional) : undefined,
      loose ? 'true' : undefined,
    );
  }

  const bounds = BOUNDS[type].map((key) => {
    if (key in node && !Number.isFinite(node[key])) fail(`${key} ${JSON.stringify(node[key])}`);
    return node[key] as number | undefined;
  });
  const [min, max] = bounds.map((bound) => (bound === undefined ? undefined : String(bound)));
  if (type !== 'array') return call(type, min, max);
  const { items, prefixItems } = node;
  if (prefixItems === undefined) {
    // `simplify` dropped `items: {}`: any items.
    return call('array', items === undefined ? 'anything' : compile(items, [...path, 'items']), min, max);
  }
  // A tuple: exactly its positions.
  const n = Array.isArray(prefixItems) ? prefixItems.length : -1;
  if (n < 1 || items !== false || bounds[0] !== n || bounds[1] !== n)
    fail('prefixItems other than a tuple (items: false, minItems and maxItems its length)');
  const positions = (prefixItems as unknown[]).map((b, i) => compile(b, [...path, 'prefixItems', i]));
  return call('tuple', `[${positions.join(', ')}]`);
}

/**
 * The check of a zod schema, as source code calling the checks of json-schema-check.ts. Throws
 * when its JSON Schema needs a keyword the checks cannot say, or when the refinements JSON Schema
 * cannot express differ from `unexpressed` (both ways: a stale entry is an error too).
 */
export function toCheckableJsonSchema(
  schema: z.core.$ZodType,
  unexpressed: Readonly<Record<string, string>>,
): string {
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
  return compile(simplify(raw), []);
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
    ...TARGETS.map(
      (target) =>
        `${docComment(target)}\nexport const ${target.name}: JsonSchemaCheck = ${toCheckableJsonSchema(
          target.schema,
          target.unexpressed,
        )};`,
    ),
  ];
  // A check is used where its name stands as a value (an object key is followed by a colon).
  const used = CHECKS.filter((name) =>
    parts.some((part) => new RegExp(`\\b${name}(?=[(,)\\]}])`).test(part)),
  );
  parts.splice(
    1,
    0,
    `import { ${[...used.sort(), 'type JsonSchemaCheck'].join(', ')} } from '../json-schema-check.js';`,
  );
  const options = await prettier.resolveConfig(OUTPUT_FILE);
  return prettier.format(parts.join('\n\n'), { ...options, filepath: OUTPUT_FILE });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OUTPUT_FILE, await renderJsonSchemasModule());
  console.log(`wrote ${OUTPUT_FILE}`);
}
