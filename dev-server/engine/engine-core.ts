/** What a connection needs of the engine: shared services, admission and bookkeeping. */
import type { Limits } from '../../protocol/index.js';
import type { AuditTrail } from './audit-trail.js';
import type { Clock } from './clock.js';
import type { KeyConfig } from './config.js';
import type { Connection } from './connection.js';
import type { Environment } from './environment.js';
import type { FlushScheduler } from './flush-scheduler.js';
import type { TokenRefusal } from './tokens.js';
import type { WorkQueue } from './work-queue.js';

/**
 * A configured key, with the objects and the PostgreSQL tables it may read (undefined: every one
 * of its environment).
 */
export type KeyRecord = KeyConfig & {
  readable: ReadonlySet<string> | undefined;
  readableTables: ReadonlySet<string> | undefined;
};

/** Why a connection was not admitted. */
/** Why a connection was not admitted; `key` when the token named one (for the audit). */
export type Refusal = { refused: TokenRefusal | 'quota_exceeded'; message: string; key?: KeyRecord };

/** The engine as a connection sees it. */
export interface EngineCore {
  readonly clock: Clock;
  readonly limits: Limits;
  readonly audit: AuditTrail;
  readonly scheduler: FlushScheduler;
  /** Runs long snapshots, replays and REST lists in slices. */
  readonly work: WorkQueue;
  /** Spends a token and checks the client's connection quota (asynchronously in a cluster). */
  admit(token: string): { key: KeyRecord } | Refusal | Promise<{ key: KeyRecord } | Refusal>;
  /** A connection the cluster admitted went before it opened: give its slot back. */
  releaseAdmission(key: KeyRecord): void;
  /** The environment a key belongs to. */
  environment(client: string, environment: string): Environment;
  /** A connection was admitted (counts toward its client's quota). */
  opened(connection: Connection): void;
  /** An admitted connection's socket is gone: it no longer counts toward the quota. */
  closed(connection: Connection): void;
}
