/**
 * Generated config files for the CLI (DESIGN.md "Dev server": "a bad one is refused with the
 * exact path and reason"): text that is not JSON, and mutations of the test config that break
 * one rule each — a wrong type, a name outside the pattern, a limit out of range, a duplicate, an
 * unknown key, a `__proto__` key — each with the dotted path the refusal must name. Also configs
 * that are hostile but valid (names such as `constructor`, odd Unicode and huge numbers in seed
 * records), which must start and serve each key exactly its own records.
 */
import { testConfig } from '../../support/test-server.js';
import { HUGE_NUMBERS, PROTOTYPE_KEYS, nestedArrays, oddString, quote } from './hostile-json.js';
import type { Random } from './seeded-random.js';

/** What the CLI must do with a config. */
export type ConfigExpectation =
  { refused: string } | { serves: { key: string; object: string; ids: string[] }; otherKey: string };

/** One generated config file. */
export type ConfigCase = { what: string; text: string; expect: ConfigExpectation };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Names the config accepts (letters first) that are also properties of every object. */
const PROTOTYPE_NAMES = [
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'prototype',
];

/** Values no string field, no number field, no array or object field accepts (by the field's kind). */
const WRONG = {
  string: ['7', 'null', 'true', '[]', '{}'],
  limit: ['"x"', '-1', '1.5', 'null', 'true', '[]', '1e309'],
  array: ['"x"', '7', '{}', 'null'],
  object: ['"x"', '7', '[]', 'null'],
};

function base(): { [key: string]: Json } {
  return JSON.parse(JSON.stringify(testConfig())) as { [key: string]: Json };
}

/** Sets the value at a dotted path to raw JSON text and returns the whole config's text. */
function withRaw(config: { [key: string]: Json }, path: (string | number)[], raw: string): string {
  const marker = '@@raw-value@@';
  let node: Json = config;
  for (const step of path.slice(0, -1)) node = (node as Record<string, Json>)[step] as Json;
  (node as Record<string, Json>)[path[path.length - 1] as string] = marker;
  return JSON.stringify(config).replace(JSON.stringify(marker), raw);
}

/** Generates config cases from a seeded stream. */
export class ConfigGenerator {
  constructor(private readonly r: Random) {}

  /** The next config. */
  next(): ConfigCase {
    return this.r.pick([
      () => this.notJson(),
      () => this.wrongType(),
      () => this.brokenRule(),
      () => this.hostileButValid(),
    ])();
  }

  private notJson(): ConfigCase {
    const text = JSON.stringify(testConfig());
    const choices: [string, string][] = [
      ['a truncated file', text.slice(0, this.r.int(0, text.length - 1))],
      ['random bytes', `\u0001${this.r.bytes(this.r.int(0, 400)).toString('latin1')}`],
      ['a byte order mark before the JSON', `\ufeff${text}`],
      ['JSON with a trailing comma', text.replace(/}$/, ',}')],
      ['JSON with comments', `// config\n${text}`],
    ];
    const [what, bad] = this.r.pick(choices);
    return { what, text: bad, expect: { refused: 'is not valid JSON' } };
  }

  private wrongType(): ConfigCase {
    const config = base();
    const keys = config.keys as Json[];
    const k = this.r.int(0, keys.length - 1);
    const sites: [(string | number)[], readonly string[]][] = [
      [['limits'], WRONG.object],
      [['allowedOrigins'], WRONG.array],
      [
        ['allowedOrigins', 0],
        [...WRONG.string, '""'],
      ],
      [['keys'], WRONG.array],
      [['keys', k], WRONG.object],
      [
        ['keys', k, 'key'],
        [...WRONG.string, '"short"', quote('k'.repeat(this.r.int(257, 5000)))],
      ],
      [['keys', k, 'client'], WRONG.string],
      [['keys', k, 'environment'], WRONG.string],
      [
        ['keys', k, 'role'],
        [...WRONG.string, '"admin"', '"Secret"'],
      ],
      [['objects'], WRONG.array],
      [['objects', 0], WRONG.string],
      [['records'], WRONG.object],
      [['records', 'acme'], WRONG.object],
      [['records', 'acme', 'production'], WRONG.object],
      [['records', 'acme', 'production', 'orders'], WRONG.array],
      [
        ['records', 'acme', 'production', 'orders', 0],
        ['"x"', '7', 'null', '[]'],
      ],
      [
        ['records', 'acme', 'production', 'orders', 0, 'id'],
        ['7', 'null', 'true', '""', '{}'],
      ],
    ];
    if (this.r.chance(0.4)) {
      const limit = this.r.pick([
        'flushIntervalMs',
        'maxBatchEvents',
        'heartbeatMs',
        'maxMessageBytes',
        'historySize',
        'tokenTtlMs',
      ]);
      config.limits = {};
      const raw = this.r.pick(WRONG.limit);
      return {
        what: `limits.${limit} = ${raw}`,
        text: withRaw(config, ['limits', limit], raw),
        expect: { refused: `limits.${limit}` },
      };
    }
    const [path, wrong] = this.r.pick(sites);
    const raw = this.r.pick(wrong);
    const dotted = path.join('.');
    return {
      what: `${dotted} = ${raw.slice(0, 40)}`,
      text: withRaw(config, path, raw),
      expect: { refused: dotted },
    };
  }

  private brokenRule(): ConfigCase {
    const config = base();
    const keys = config.keys as { [key: string]: Json }[];
    const secret = keys.findIndex((key) => key.role === 'secret');
    const choices: (() => ConfigCase)[] = [
      () => {
        const name = this.r.pick([
          '',
          'a b',
          '-x',
          '.x',
          '__proto__',
          `x${oddString(this.r, 20)} `,
          'c'.repeat(129),
        ]);
        const field = this.r.pick(['client', 'environment']);
        (keys[0] as Record<string, Json>)[field] = name;
        return {
          what: `keys.0.${field} = ${JSON.stringify(name).slice(0, 40)}`,
          text: JSON.stringify(config),
          expect: { refused: `keys.0.${field}` },
        };
      },
      () => {
        (keys[1] as Record<string, Json>).key = keys[0]?.key ?? '';
        return { what: 'a duplicate key', text: JSON.stringify(config), expect: { refused: 'keys.1.key' } };
      },
      () => {
        (keys[secret] as Record<string, Json>).objects = ['orders'];
        return {
          what: 'a secret key with an objects list',
          text: JSON.stringify(config),
          expect: { refused: `keys.${secret}.objects` },
        };
      },
      () => {
        config.objects = [
          'orders',
          'products',
          this.r.pick(['__proto__', 'a b', '', `-${oddString(this.r, 10)}`]),
        ];
        return {
          what: 'a malformed object name',
          text: JSON.stringify(config),
          expect: { refused: 'objects.2' },
        };
      },
      () => ({
        what: 'no objects',
        text: JSON.stringify({ ...config, objects: [] }),
        expect: { refused: 'objects' },
      }),
      () => {
        const seed = ((config.records as Record<string, Record<string, Record<string, Json[]>>>).acme
          ?.production?.orders ?? []) as { [key: string]: Json }[];
        (seed[1] as Record<string, Json>).id = seed[0]?.id ?? '';
        return {
          what: 'a duplicate seed id',
          text: JSON.stringify(config),
          expect: { refused: 'records.acme.production.orders.1.id' },
        };
      },
      () => {
        const acme = (config.records as Record<string, Record<string, Record<string, Json>>>).acme as Record<
          string,
          Record<string, Json>
        >;
        (acme.production as Record<string, Json>).nope = [];
        return {
          what: 'seed records of an unknown object',
          text: JSON.stringify(config),
          expect: { refused: 'records.acme.production.nope' },
        };
      },
      () => {
        const key = this.r.pick(['bogus', 'constructor', 'prototype', 'limit']);
        return {
          what: `an unknown top-level key ${key}`,
          text: JSON.stringify({ ...config, [key]: 1 }),
          expect: { refused: key },
        };
      },
      () => ({
        what: 'a top-level __proto__ key',
        text: JSON.stringify(config).replace(/^\{/, '{"__proto__":{"polluted":true},'),
        expect: { refused: '__proto__' },
      }),
      () => ({
        // Stored values may not carry a __proto__ key (protocol/README.md), seed records included.
        what: 'a seed record with a __proto__ key',
        text: JSON.stringify(config).replace('{"id":"o1",', '{"id":"o1","__proto__":{"status":"paid"},'),
        expect: { refused: 'records.acme.production.orders.0' },
      }),
      () => ({
        what: 'a config nested 100 000 levels deep',
        text: nestedArrays(100_000),
        expect: { refused: '(root)' },
      }),
    ];
    return this.r.pick(choices)();
  }

  private hostileButValid(): ConfigCase {
    const client = this.r.pick(PROTOTYPE_NAMES);
    const environment = this.r.pick(PROTOTYPE_NAMES);
    const object = this.r.pick(PROTOTYPE_NAMES);
    const key = `sk_${client}_${environment}`;
    const ids = [`x${oddString(this.r, 40)}`, this.r.pick(PROTOTYPE_KEYS), 'plain'];
    const huge = this.r.pick(HUGE_NUMBERS);
    const records = ids.map(
      (id) =>
        `{"id":${quote(id)},"odd":${quote(oddString(this.r, 30))},"n":${huge},${quote(this.r.pick(PROTOTYPE_NAMES))}:{"prototype":1}}`,
    );
    const config = testConfig({
      keys: [...(testConfig().keys as Json[]), { key, client, environment, role: 'secret' }],
      objects: ['orders', 'products', ...(object === 'orders' ? [] : [object])],
    });
    const text = JSON.stringify(config).replace(
      /"records":\{/,
      `"records":{${quote(client)}:{${quote(environment)}:{${quote(object)}:[${records.join(',')}]}},`,
    );
    return {
      what: `client ${client}, environment ${environment}, object ${object}, seed ids ${JSON.stringify(ids)}`,
      text,
      expect: { serves: { key, object, ids }, otherKey: 'sk_test_acme_prod' },
    };
  }
}
