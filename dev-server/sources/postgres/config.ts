/**
 * The `postgres` section of the dev server's config (PROTOCOL.md section 10): where the database
 * is, which replication slot and publication to use, and which tables are exposed — each to one
 * client and environment, optionally as the store of an object.
 *
 * Names the server writes into SQL and into the replication protocol are checked here, before
 * anything connects: a slot name follows PostgreSQL's own rule (lower-case letters, digits and
 * `_`, at most 63), a publication name the same (pg-logical-replication writes it unquoted into
 * START_REPLICATION), and a schema or table name is a plain identifier (letters, digits and `_`,
 * not starting with a digit, at most 63), since a table's name is also its channel name
 * (`postgres:<table>`).
 */
import * as z from 'zod/mini';
import { CHANNEL_NAME_PATTERN } from '../../../protocol/index.js';

const SLOT_NAME = /^[a-z0-9_]{1,63}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const slotName = (what: string) =>
  z.string().check(z.regex(SLOT_NAME, { message: `${what} must be 1-63 lower-case letters, digits or "_"` }));
const identifier = (what: string) =>
  z.string().check(
    z.regex(IDENTIFIER, {
      message: `${what} must be 1-63 letters, digits or "_", not starting with a digit`,
    }),
  );
const channelName = (what: string) =>
  z.string().check(
    z.regex(CHANNEL_NAME_PATTERN, {
      message: `${what} must be 1-128 letters, digits, "_", "-", "." or ":", starting with a letter or digit`,
    }),
  );

/** One exposed table. */
export const PostgresTableConfigSchema = z.strictObject({
  client: channelName('client'),
  environment: channelName('environment'),
  table: identifier('table'),
  /** Default `public`. */
  schema: z.optional(identifier('schema')),
  /** The object whose records live in this table (`records:<object>` and the REST API read and write it). */
  object: z.optional(channelName('object')),
});
/** One exposed table, as written. */
export type PostgresTableConfig = z.infer<typeof PostgresTableConfigSchema>;

/** The `postgres` section. */
export const PostgresConfigSchema = z
  .strictObject({
    url: z
      .string()
      .check(z.regex(/^postgres(ql)?:\/\//, { message: 'url must be a postgres:// or postgresql:// URL' })),
    /** Default `catalyst`. */
    slot: z.optional(slotName('slot')),
    /** Default `catalyst`. */
    publication: z.optional(slotName('publication')),
    tables: z
      .array(PostgresTableConfigSchema)
      .check(z.minLength(1, { message: 'at least one table is needed' })),
  })
  .check(
    z.superRefine((config, ctx) => {
      const tables = new Map<string, number>();
      const channels = new Map<string, number>();
      const objects = new Map<string, number>();
      config.tables.forEach((entry, i) => {
        const table = `${entry.schema ?? 'public'}.${entry.table}`;
        const env = `${entry.client}/${entry.environment}`;
        const problem = (field: string, message: string) =>
          ctx.addIssue({ code: 'custom', path: ['tables', i, field], message });
        if (tables.has(table))
          problem(
            'table',
            `${table} is listed twice (tables.${tables.get(table)}); a table belongs to one environment`,
          );
        else tables.set(table, i);
        const channel = `${env} ${entry.table}`;
        if (channels.has(channel)) {
          problem(
            'table',
            `${env} already exposes a table named ${entry.table} (tables.${channels.get(channel)}): its channel would be postgres:${entry.table} twice`,
          );
        } else channels.set(channel, i);
        if (entry.object === undefined) return;
        const object = `${env} ${entry.object}`;
        if (objects.has(object)) {
          problem('object', `${env} already keeps object ${entry.object} in tables.${objects.get(object)}`);
        } else objects.set(object, i);
      });
    }),
  );
/** The `postgres` section as written. */
export type PostgresConfig = z.infer<typeof PostgresConfigSchema>;

/** The `postgres` section with its defaults. */
export type ResolvedPostgresConfig = {
  url: string;
  slot: string;
  publication: string;
  tables: (PostgresTableConfig & { schema: string })[];
};

/** Fills in the defaults of a valid `postgres` section. */
export function resolvePostgresConfig(config: PostgresConfig): ResolvedPostgresConfig {
  return {
    url: config.url,
    slot: config.slot ?? 'catalyst',
    publication: config.publication ?? 'catalyst',
    tables: config.tables.map((t) => ({ ...t, schema: t.schema ?? 'public' })),
  };
}
