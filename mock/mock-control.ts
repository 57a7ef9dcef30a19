/**
 * The control API of the mock, for stories and tests: write data the way a backend would (every
 * write goes through the engine, so subscribers get events with seqs, batched like the server's),
 * make traffic, and turn on the faults a page meets in the wild. Each method says what a page
 * connected to the mock sees.
 */
import type { LiveRecord } from '../protocol/index.js';
import type { Engine } from '../dev-server/engine/engine.js';
import type { Environment } from '../dev-server/engine/environment.js';
import { startSimulation, writeOnce } from '../dev-server/engine/simulator.js';
import type { FaultState, MockFaults } from './mock-faults.js';
import type { MockSockets } from './mock-sockets.js';

/** Which (client, environment) a call is about; the first configured key's by default. */
export type MockTarget = { client?: string; environment?: string };

/** Options of `burst` and `simulate`. */
export type TrafficOptions = MockTarget & {
  /** Write to this object only (default: every configured object). */
  object?: string;
  /** Random source of the writes (default `Math.random`); pass a seeded one for repeatable runs. */
  random?: () => number;
};

/** Drives a mock: data, traffic and faults. Get it from `createMock`. */
export class MockControl {
  private stopTraffic: (() => void) | undefined;
  private navigatorPatched = false;

  constructor(
    private readonly engine: Engine,
    private readonly faultSwitches: MockFaults,
    private readonly sockets: MockSockets,
  ) {}

  /** Which faults are on. */
  get faults(): Readonly<FaultState> {
    return { ...this.faultSwitches.state };
  }

  // ---- data ----------------------------------------------------------------------------------

  /** The store of one (client, environment): records, seq, history. */
  environment(target: MockTarget = {}): Environment {
    const first = this.engine.config.keys[0];
    return this.engine.environment(
      target.client ?? first?.client ?? 'demo',
      target.environment ?? first?.environment ?? 'production',
    );
  }

  /**
   * Puts records in the store without events, as the config's `records` do: for the state a page
   * finds when it connects (a 10 000-record list, an empty one with `replace` and no records).
   * Pages already subscribed do not see the change until they subscribe again.
   */
  seed(
    object: string,
    records: readonly Record<string, unknown>[],
    options: MockTarget & { replace?: boolean } = {},
  ): void {
    const env = this.environment(options);
    if (options.replace) env.table(object).clear();
    env.seed(object, records);
  }

  /** Creates a record, as `POST /api/objects/:object/records` would; subscribers get `added`. */
  create(object: string, record: Record<string, unknown>, target: MockTarget = {}): LiveRecord {
    return this.environment(target).create(object, record, 'mock');
  }

  /** Merges a patch into a record, as `PATCH …/records/:id` would; subscribers get what it does to them. */
  patch(object: string, id: string, patch: Record<string, unknown>, target: MockTarget = {}): LiveRecord {
    return this.environment(target).patch(object, id, patch, 'mock');
  }

  /**
   * Creates the record, or patches it when its `id` exists (a playground's "save"); subscribers
   * get what the create or the patch does to them.
   */
  write(object: string, record: Record<string, unknown>, target: MockTarget = {}): LiveRecord {
    const { id, ...fields } = record;
    if (typeof id === 'string' && this.environment(target).table(object).has(id)) {
      return this.patch(object, id, fields, target);
    }
    return this.create(object, record, target);
  }

  /** Deletes a record, as `DELETE …/records/:id` would; subscribers that held it get `removed`. */
  remove(object: string, id: string, target: MockTarget = {}): void {
    this.environment(target).remove(object, id, 'mock');
  }

  /** Publishes a custom event to `events:<topic>` subscribers; returns its seq. */
  publish(topic: string, data: unknown, target: MockTarget = {}): number {
    return this.environment(target).publish(topic, data);
  }

  // ---- traffic -------------------------------------------------------------------------------

  /**
   * Commits `count` random writes (creates, updates, deletes) at once, like the simulator's:
   * pages get them in batches of at most `maxBatchEvents` at the next flush.
   */
  burst(count: number, options: TrafficOptions = {}): void {
    const env = this.environment(options);
    const objects = options.object === undefined ? this.engine.config.objects : [options.object];
    const random = options.random ?? Math.random;
    // A random update may change nothing and commit nothing: count commits, not attempts.
    const until = env.seq + count;
    while (env.seq < until) writeOnce(env, objects, random);
  }

  /** Writes at `rate` per second to every configured environment until stopped (0 stops). */
  simulate(rate: number, options: Pick<TrafficOptions, 'random'> = {}): () => void {
    this.stopSimulation();
    if (!(rate > 0)) return () => undefined;
    const stop = startSimulation(this.engine, rate, options.random);
    this.stopTraffic = stop;
    return () => {
      stop();
      if (this.stopTraffic === stop) this.stopTraffic = undefined;
    };
  }

  /** Stops `simulate`. */
  stopSimulation(): void {
    this.stopTraffic?.();
    this.stopTraffic = undefined;
  }

  // ---- faults --------------------------------------------------------------------------------

  /**
   * Cuts every open socket and SSE stream as a lost network does (1006, no close frame). Pages
   * show `reconnecting`, come back with a new token and resume with `since`. Returns how many.
   */
  drop(): number {
    return this.sockets.cutAll();
  }

  /** The next `count` WebSocket connections are refused by the engine with 4002 (token invalid). */
  refuseTokens(count = 1): void {
    this.faultSwitches.state.refusedTokens += count;
  }

  /**
   * Ends every open session with 4001 (of one client, when given), as `sessionTtlMs` would.
   * Pages fetch a new token and reconnect at once, without backoff. Returns how many closed.
   */
  expireSession(target: Pick<MockTarget, 'client'> = {}): number {
    return this.engine.closeConnections('token_expired', {
      ...target,
      reason: 'session reached sessionTtlMs',
    });
  }

  /**
   * Denies the key until `allow()`: open sockets close with 4003, ws-auth answers 403 and new
   * sockets close with 4003. Pages show `denied` and stop retrying.
   */
  deny(): void {
    this.faultSwitches.state.denied = true;
    this.engine.closeConnections('scope_denied', { reason: 'this key is denied' });
  }

  /** Ends `deny()`. A denied page stays denied until it retries (`LiveConnection.retry()`). */
  allow(): void {
    this.faultSwitches.state.denied = false;
  }

  /**
   * Over the connection quota until `restoreQuota()`: open sockets close with 4008 and new ones
   * are refused with 4008. Pages wait the longest backoff before each try.
   */
  exceedQuota(): void {
    this.faultSwitches.state.quotaExceeded = true;
    this.engine.closeConnections('quota_exceeded');
  }

  /** Ends `exceedQuota()`: the next try gets in. */
  restoreQuota(): void {
    this.faultSwitches.state.quotaExceeded = false;
  }

  /**
   * Goes offline until `online()`: sockets are cut (1006), ws-auth and every request fail with a
   * network error, sockets cannot open. In a browser `navigator.onLine` reads false and `offline`
   * fires first, so pages show `offline` rather than `reconnecting`.
   */
  offline(): void {
    this.faultSwitches.state.offline = true;
    this.setNavigatorOnline(false);
    this.sockets.cutAll();
  }

  /** Back online: requests reach the engine again and, in a browser, `online` fires, so pages reconnect at once. */
  online(): void {
    this.faultSwitches.state.offline = false;
    this.setNavigatorOnline(true);
  }

  /** Every fault off and the simulation stopped; the data stays. */
  reset(): void {
    if (this.faultSwitches.state.offline) this.online();
    this.faultSwitches.clear();
    this.stopSimulation();
  }

  /**
   * Browsers only: shadows `navigator.onLine` and fires `offline`/`online` on `window`, which is
   * what pages (and the connection manager) watch. Node has no such events, so it is left alone.
   */
  private setNavigatorOnline(online: boolean): void {
    if (typeof window === 'undefined' || typeof navigator === 'undefined') return;
    if (!online) {
      Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => false });
      this.navigatorPatched = true;
    } else if (this.navigatorPatched) {
      delete (navigator as { onLine?: boolean }).onLine;
      this.navigatorPatched = false;
    } else return;
    window.dispatchEvent(new Event(online ? 'online' : 'offline'));
  }
}
