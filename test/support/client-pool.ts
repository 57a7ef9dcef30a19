/**
 * Keeps track of the raw clients a suite opens so that one `afterEach(() => pool.closeAll())`
 * closes them all, whatever a failing test left behind.
 */
import assert from 'node:assert/strict';
import { RawClient, getToken, rest, sleep } from './raw-client.js';
import type { TestServer } from './test-server.js';

/** Opens raw clients and closes them all at once. */
export class ClientPool {
  private readonly clients: RawClient[] = [];

  /** Gets a token for `key`, connects with `?token=` and waits for `welcome`. */
  async connect(server: TestServer, key: string): Promise<RawClient> {
    return this.track(await RawClient.connect(server, key));
  }

  /** Opens a socket to the WebSocket endpoint, with `?token=` when one is given; no `welcome` wait. */
  async open(server: TestServer, token?: string, headers: Record<string, string> = {}): Promise<RawClient> {
    const url = token === undefined ? server.wsUrl : `${server.wsUrl}?token=${encodeURIComponent(token)}`;
    return this.track(await RawClient.open(url, headers));
  }

  /** Opens a socket without a token and authenticates with an `auth` frame; waits for `welcome`. */
  async connectWithAuthFrame(server: TestServer, key: string): Promise<RawClient> {
    const token = await getToken(server, key);
    const client = await this.open(server);
    client.send({ type: 'auth', token });
    await client.next('welcome');
    return client;
  }

  /** Closes every client still open. */
  closeAll(): void {
    for (const client of this.clients.splice(0)) if (!client.closed) client.close();
  }

  private track(client: RawClient): RawClient {
    this.clients.push(client);
    return client;
  }
}

/** Waits until the server's `/healthz` counts `n` open connections (closes are seen a moment late). */
export async function connectionsBecome(server: TestServer, n: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const health = await rest(server, 'GET', '/healthz');
    if ((health.body as { connections: number }).connections === n) return;
    await sleep(10);
  }
  assert.fail(`the server never counted ${n} connections`);
}
