/**
 * The dev server's configuration (DESIGN.md "Dev server"): keys, objects, seed records, limits
 * and allowed origins. The browser mock takes the same schema. A bad config is refused with the
 * dotted JSON path of each problem (`keys.0.role`) and the reason.
 */
import * as z from 'zod/mini';
import './english-errors.js';
import { CHANNEL_NAME_PATTERN, LIMIT_DEFAULTS, LimitsSchema, type Limits } from '../../protocol/index.js';
import { PostgresConfigSchema } from '../sources/postgres/config.js';
import { checkStoredValue } from './stored-value.js';

const nameSchema = (what: string) =>
  z.string().check(
    z.regex(CHANNEL_NAME_PATTERN, {
      message: `${what} must be 1-128 letters, digits, "_", "-", "." or ":", starting with a letter or digit`,
    }),
  );

/** One API key: which client and environment it belongs to, and what it may do. */
export const KeyConfigSchema = z.strictObject({
  key: z.string().check(z.minLength(8, { message: 'a key must be at least 8 characters' }), z.maxLength(256)),
  client: nameSchema('client'),
  environment: nameSchema('environment'),
  role: z.enum(['secret', 'publishable']),
  /** Publishable keys only: the objects the key may read (all when absent). */
  objects: z.optional(z.array(nameSchema('object'))),
  /** Publishable keys only: the PostgreSQL tables (`postgres:<table>`) the key may read (all its environment's when absent). */
  tables: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(63)))),
});
/** One API key. */
export type KeyConfig = z.infer<typeof KeyConfigSchema>;

/** A seed record: any JSON object; an `id` is assigned when absent. */
const SeedRecordSchema = z.looseObject({
  id: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
});

/** The config file. */
export const DevServerConfigSchema = z
  .strictObject({
    limits: z.optional(z.partial(LimitsSchema)),
    allowedOrigins: z.optional(z.array(z.string().check(z.minLength(1)))),
    keys: z.array(KeyConfigSchema).check(z.minLength(1, { message: 'at least one key is needed' })),
    objects: z
      .array(nameSchema('object'))
      .check(z.minLength(1, { message: 'at least one object is needed' })),
    records: z.optional(
      z.record(z.string(), z.record(z.string(), z.record(z.string(), z.array(SeedRecordSchema)))),
    ),
    /** PostgreSQL tables as `postgres:` channels and as the store of objects (PROTOCOL.md section 10). */
    postgres: z.optional(PostgresConfigSchema),
    /** Several server processes as one (PROTOCOL.md section 11): their shared Redis. */
    cluster: z.optional(
      z.strictObject({
        redis: z
          .string()
          .check(z.regex(/^rediss?:\/\//, { message: 'cluster.redis must be a redis:// or rediss:// URL' })),
      }),
    ),
  })
  .check(
    z.superRefine((config, ctx) => {
      const objects = new Set(config.objects);
      const seenKeys = new Set<string>();
      config.keys.forEach((key, i) => {
        if (seenKeys.has(key.key))
          ctx.addIssue({ code: 'custom', path: ['keys', i, 'key'], message: 'duplicate key' });
        seenKeys.add(key.key);
        if (key.objects && key.role === 'secret') {
          ctx.addIssue({
            code: 'custom',
            path: ['keys', i, 'objects'],
            message: 'only publishable keys take an objects list; a secret key reads every object',
          });
        }
        if (key.tables && key.role === 'secret') {
          ctx.addIssue({
            code: 'custom',
            path: ['keys', i, 'tables'],
            message:
              'only publishable keys take a tables list; a secret key reads every table of its environment',
          });
        }
        key.tables?.forEach((table, j) => {
          const exposed = config.postgres?.tables.some(
            (t) => t.table === table && t.client === key.client && t.environment === key.environment,
          );
          if (!exposed) {
            ctx.addIssue({
              code: 'custom',
              path: ['keys', i, 'tables', j],
              message: `table "${table}" is not in postgres.tables for ${key.client}/${key.environment}`,
            });
          }
        });
        key.objects?.forEach((object, j) => {
          if (!objects.has(object)) {
            ctx.addIssue({
              code: 'custom',
              path: ['keys', i, 'objects', j],
              message: `object "${object}" is not in objects`,
            });
          }
        });
      });
      config.postgres?.tables.forEach((entry, i) => {
        const path = ['postgres', 'tables', i];
        if (!config.keys.some((k) => k.client === entry.client && k.environment === entry.environment)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'environment'],
            message: `no key belongs to ${entry.client}/${entry.environment}, so no one could read this table; add a key or fix the names`,
          });
        }
        if (entry.object === undefined) return;
        if (!objects.has(entry.object)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'object'],
            message: `object "${entry.object}" is not in objects`,
          });
        }
        if (config.records?.[entry.client]?.[entry.environment]?.[entry.object] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['records', entry.client, entry.environment, entry.object],
            message: `object "${entry.object}" is kept in table ${entry.schema ?? 'public'}.${entry.table}: seed it with INSERTs there, not here`,
          });
        }
      });
      if (config.cluster) {
        // In a cluster every process must see the same records: they live in PostgreSQL.
        const environments = new Set(config.keys.map((k) => `${k.client}/${k.environment}`));
        config.objects.forEach((object, i) => {
          for (const env of environments) {
            const kept = config.postgres?.tables.some(
              (t) => t.object === object && `${t.client}/${t.environment}` === env,
            );
            if (kept) continue;
            ctx.addIssue({
              code: 'custom',
              path: ['objects', i],
              message: `object "${object}" is not kept in a PostgreSQL table for ${env}: in a cluster every object is (postgres.tables[].object)`,
            });
            return;
          }
        });
      }
      for (const [client, environments] of Object.entries(config.records ?? {})) {
        for (const [environment, byObject] of Object.entries(environments)) {
          for (const [object, records] of Object.entries(byObject)) {
            if (!objects.has(object)) {
              ctx.addIssue({
                code: 'custom',
                path: ['records', client, environment, object],
                message: `object "${object}" is not in objects`,
              });
            }
            const ids = new Set<string>();
            records.forEach((record, i) => {
              if (record.id === undefined) return;
              if (ids.has(record.id)) {
                ctx.addIssue({
                  code: 'custom',
                  path: ['records', client, environment, object, i, 'id'],
                  message: `duplicate id "${record.id}"`,
                });
              }
              ids.add(record.id);
            });
          }
        }
      }
    }),
  );
/** The config file as written. */
export type DevServerConfig = z.infer<typeof DevServerConfigSchema>;

/** A config with every default filled in: what the engine runs on. */
export type ResolvedConfig = Omit<DevServerConfig, 'limits' | 'allowedOrigins'> & {
  limits: Limits;
  allowedOrigins: string[];
};

/** One problem in a config: the dotted JSON path and the reason. */
export type ConfigProblem = { path: string; message: string };

/** Thrown by `resolveConfig` for a bad config; `problems` lists every path and reason. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Validates a config (any JSON value) and fills in the defaults; `overrides` (the CLI flags) win
 * over the file's limits. Throws `ConfigError`.
 */
export function resolveConfig(value: unknown, overrides: Partial<Limits> = {}): ResolvedConfig {
  const seedProblems = checkSeedRecords(value); // before zod, which drops a `__proto__` key
  const parsed = DevServerConfigSchema.safeParse(value);
  if (!parsed.success || seedProblems.length > 0) {
    throw new ConfigError([
      ...seedProblems,
      ...(parsed.error?.issues ?? []).map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      })),
    ]);
  }
  const limits = LimitsSchema.safeParse({ ...LIMIT_DEFAULTS, ...parsed.data.limits, ...overrides });
  if (!limits.success) {
    throw new ConfigError(
      limits.error.issues.map((issue) => ({
        path: ['limits', ...issue.path].map(String).join('.'),
        message: issue.message,
      })),
    );
  }
  return { ...parsed.data, limits: limits.data, allowedOrigins: parsed.data.allowedOrigins ?? ['*'] };
}

/**
 * Seed records are stored values like any a client writes: the same checks as a REST body
 * (`checkStoredValue`: depth, no `__proto__` key, infinities stored as `null`), on the file's own
 * objects, so a key zod would drop is still seen. Shapes zod refuses are left to it.
 */
function checkSeedRecords(value: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const entries = (node: unknown) => (node && typeof node === 'object' ? Object.entries(node) : []);
  for (const [client, environments] of entries((value as { records?: unknown } | null)?.records)) {
    for (const [environment, byObject] of entries(environments)) {
      for (const [object, records] of entries(byObject)) {
        if (!Array.isArray(records)) continue;
        records.forEach((record, i) => {
          const path = ['records', client, environment, object, i].join('.');
          try {
            checkStoredValue(record, path);
          } catch (error) {
            problems.push({ path, message: (error as Error).message });
          }
        });
      }
    }
  }
  return problems;
}
