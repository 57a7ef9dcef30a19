/**
 * `createMock`: the dev server's engine in the page, behind msw handlers. The same config schema
 * as the dev server (validated by `resolveConfig`, refused with `ConfigError`), one `Engine`,
 * and two thin transports — `http-handler.ts` for the HTTP API and `websocket-handler.ts` for
 * the socket — so the mock can never drift from the server: there is no second implementation.
 *
 * ```ts
 * const mock = createMock({ limits: { flushIntervalMs: 100 } });
 * await setupWorker(...mock.handlers).start(); // or setupServer(...mock.handlers).listen() in Node
 * connect({ url: mock.url, apiKey: DEMO_KEYS.publishable });
 * mock.control.burst(1000);
 * ```
 */
import type { HttpHandler, WebSocketHandler } from 'msw';
import type { Limits } from '../protocol/index.js';
import type { Clock } from '../dev-server/engine/clock.js';
import { ConfigError, resolveConfig } from '../dev-server/engine/config.js';
import { demoConfig } from '../dev-server/engine/demo-data.js';
import { Engine } from '../dev-server/engine/engine.js';
import { createHttpHandler } from './http-handler.js';
import { MOCK_URL, MockBaseUrl } from './mock-base-url.js';
import { MockControl } from './mock-control.js';
import { MockFaults } from './mock-faults.js';
import { MockSockets } from './mock-sockets.js';
import { createWebSocketHandler } from './websocket-handler.js';
import { markPageLocal } from '../elements/connection/tab-leadership.js';

/** Options of `createMock`. */
export type MockOptions = {
  /** A dev server config (the same schema; a bad one throws `ConfigError`). Default: the built-in demo. */
  config?: unknown;
  /** Where the handlers answer, e.g. `https://mock.catalyst.test` (the default) or `https://x.test/rt`. */
  baseUrl?: string;
  /** Limits that win over the config's, like the dev server's flags (`flushIntervalMs: 100` for lively stories). */
  limits?: Partial<Limits>;
  /** Random writes per second from the start, like `--simulate`. */
  simulate?: number;
  /** The engine's clock (default: the system's). */
  clock?: Clock;
};

/** A mock: register its handlers with msw, then drive it with `control`. */
export type Mock = {
  /** The base URL to give `connect({url})` or `<live-connection url>`. */
  url: string;
  /** msw handlers: the HTTP API and the WebSocket, both answering for `url` only. */
  handlers: (HttpHandler | WebSocketHandler)[];
  /** The engine itself: audit hooks (`on`), `onCommit`, `connectionCount`. */
  engine: Engine;
  /** Data, traffic and faults. */
  control: MockControl;
  /** Stops the traffic and every fault, and closes every connection with 1001 as a server shutdown would. */
  close(): void;
};

/** Creates a mock; nothing is intercepted until its `handlers` are given to msw. */
export function createMock(options: MockOptions = {}): Mock {
  const config = resolveConfig(options.config ?? demoConfig(), options.limits);
  if (config.postgres) {
    // The browser cannot read a replication slot: say so rather than serve tables with no rows.
    throw new ConfigError([
      {
        path: 'postgres',
        message:
          'the in-browser mock has no PostgreSQL: run the dev server (catalyst-dev-server) for postgres tables',
      },
    ]);
  }
  const engine = new Engine(config, options.clock ? { clock: options.clock } : {});
  const base = new MockBaseUrl(options.baseUrl ?? MOCK_URL);
  const faults = new MockFaults();
  const sockets = new MockSockets();
  const control = new MockControl(engine, faults, sockets);
  if (options.simulate) control.simulate(options.simulate);
  // This page answers for the mock's URL: other tabs have mocks of their own, so no tab shares
  // its connection to it.
  markPageLocal(base.http);
  return {
    url: base.http,
    handlers: [
      createHttpHandler(engine, base, faults, sockets),
      createWebSocketHandler(engine, base, faults, sockets),
    ],
    engine,
    control,
    close() {
      control.reset();
      engine.shutdown();
    },
  };
}
