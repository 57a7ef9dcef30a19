/**
 * Starts the real dev server for a test on a random port of 127.0.0.1, with small limits for
 * speed, and a config of two clients and two environments to test isolation with.
 */
import { connect, createServer, type AddressInfo } from 'node:net';
import { createDevServer, type DevServer, type DevServerOptions } from '../../dev-server/node/server.js';

/** Keys of the test config. */
export const KEYS = {
  acmeSecret: 'sk_test_acme_prod',
  acmePublic: 'pk_test_acme_prod',
  acmeProductsOnly: 'pk_test_acme_products',
  acmeStaging: 'sk_test_acme_staging',
  globexSecret: 'sk_test_globex_prod',
} as const;

/** A config with acme (production and staging) and globex (production). */
export function testConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    allowedOrigins: ['http://allowed.test'],
    keys: [
      { key: KEYS.acmeSecret, client: 'acme', environment: 'production', role: 'secret' },
      { key: KEYS.acmePublic, client: 'acme', environment: 'production', role: 'publishable' },
      {
        key: KEYS.acmeProductsOnly,
        client: 'acme',
        environment: 'production',
        role: 'publishable',
        objects: ['products'],
      },
      { key: KEYS.acmeStaging, client: 'acme', environment: 'staging', role: 'secret' },
      { key: KEYS.globexSecret, client: 'globex', environment: 'production', role: 'secret' },
    ],
    objects: ['orders', 'products'],
    records: {
      acme: {
        production: {
          orders: [
            { id: 'o1', status: 'pending', total: 10, customer: { name: 'Ada', city: 'London' } },
            { id: 'o2', status: 'paid', total: 250, customer: { name: 'Grace', city: 'New York' } },
            { id: 'o3', status: 'pending', total: 99, customer: { name: 'Alan', city: 'Manchester' } },
          ],
          products: [{ id: 'p1', title: 'Desk', price: 120 }],
        },
      },
      globex: { production: { orders: [{ id: 'g1', status: 'pending', total: 5 }] } },
    },
    ...extra,
  };
}

/** Limits small enough for tests to run fast; each test may override. */
export const FAST_LIMITS = { flushIntervalMs: 20, heartbeatMs: 60_000 } as const;

/** A running test server. */
export type TestServer = DevServer & { wsUrl: string };

/** Starts a dev server on a random port; close it in `after`/`afterEach`. */
export async function startTestServer(options: DevServerOptions = {}): Promise<TestServer> {
  const server = await createDevServer({
    config: testConfig(),
    port: 0,
    host: '127.0.0.1',
    ...options,
    limits: { ...FAST_LIMITS, ...options.limits },
  });
  return Object.assign(server, { wsUrl: server.url.replace(/^http/, 'ws') + '/ws/events/object-records/' });
}

/** A port of 127.0.0.1 nothing listens on now: for a server to restart on, or to refuse connections. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Open connections (WebSocket and SSE) as the server's `/healthz` counts them. */
export async function connectionCount(server: { url: string }): Promise<number> {
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { connections: number };
  return health.connections;
}

/** Resolves once `port` of 127.0.0.1 accepts connections; rejects after `timeoutMs` naming `what`. */
export async function portAccepts(port: number, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      throw new Error(`${what} did not listen on ${port} within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
