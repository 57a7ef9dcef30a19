/**
 * The contract between a browser test and the Node side of the test runner: one wtr server
 * command, `catalyst-dev-server`, whose payload names an action. Types only, so both the page
 * (`dev-server.ts`) and the wtr plugin (`dev-server-plugin.ts`) import it.
 */
import type * as z from 'zod/mini';
import type {
  HealthResponseSchema,
  Limits,
  LiveRecord,
  RecordListResponse,
} from '../../../protocol/index.js';

/** The server command's name. */
export const DEV_SERVER_COMMAND = 'catalyst-dev-server';

/** How a browser test's dev server is configured; JSON, as it crosses to Node. */
export type StartOptions = {
  /** Limits over the fast test ones (`flushIntervalMs: 20`, `heartbeatMs: 60000`). */
  limits?: Partial<Limits>;
  /** Top-level config entries that replace the test config's (`records`, `keys`, `objects`, …). */
  config?: Record<string, unknown>;
};

/** One record write through REST, with the acme secret key unless `key` says otherwise. */
export type RecordWrite = { key?: string } & (
  | { op: 'create'; object: string; record: Record<string, unknown> }
  | { op: 'patch'; object: string; id: string; patch: Record<string, unknown> }
  | { op: 'remove'; object: string; id: string }
);

/** Query parameters of `GET /api/objects/:object/records`. */
export type RecordQuery = {
  where?: unknown;
  /** Sort fields, `-` for descending, e.g. `['-total', 'id']`. */
  sort?: string[];
  limit?: number;
  fields?: string[];
  /** Defaults to the acme secret key. */
  key?: string;
};

/** The `GET /healthz` body. */
export type Health = z.infer<typeof HealthResponseSchema>;

/** What the page learns about its server. */
export type DevServerInfo = {
  /** `http://127.0.0.1:PORT`: give it to `connect({ url })` or an element's `url`. */
  url: string;
  port: number;
  /** The keys of the test config (`test/support/test-server.ts`). */
  keys: {
    acmeSecret: string;
    acmePublic: string;
    acmeProductsOnly: string;
    acmeStaging: string;
    globexSecret: string;
  };
};

/** Every action of the command, with its payload and result. */
export type DevServerActions = {
  start: { payload: { options?: StartOptions }; result: DevServerInfo };
  write: { payload: { writes: RecordWrite[] }; result: (LiveRecord | null)[] };
  query: { payload: { object: string; query?: RecordQuery }; result: RecordListResponse };
  healthz: { payload: Record<string, never>; result: Health };
  stop: { payload: Record<string, never>; result: true };
  restart: { payload: Record<string, never>; result: DevServerInfo };
  close: { payload: Record<string, never>; result: true };
  /**
   * Freezes the page (no task of it runs, as in a frozen tab), makes `writes` `writesAfterMs`
   * into the freeze, keeps it frozen `ms` in all, then lets it run again.
   */
  freeze: {
    payload: { ms: number; writes: RecordWrite[]; writesAfterMs: number };
    result: (LiveRecord | null)[];
  };
};

/** An action's name. */
export type DevServerAction = keyof DevServerActions;

/**
 * What the command answers: a refusal comes back as a value, not a thrown error, so a test that
 * expects one does not fill wtr's output with a Node stack trace.
 */
export type DevServerAnswer<R> = { ok: true; result: R } | { ok: false; error: string };

/** The payload the command carries. */
export type DevServerCommandPayload = {
  [A in DevServerAction]: { action: A } & DevServerActions[A]['payload'];
}[DevServerAction];
