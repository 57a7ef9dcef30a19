/**
 * The connection manager in Chromium against the real dev server: the browser's own `fetch` and
 * `WebSocket`, the page's origin, and a server that really stops and comes back.
 */
import { expect, waitUntil } from '@open-wc/testing';
import {
  connect,
  type ConnectionState,
  type LiveConnection,
  type SubscriptionRequest,
} from '../../elements/connection/index.js';
import type { LiveEvent, RecordEvent, SubscribedMessage } from '../../protocol/index.js';
import { startDevServer, type TestDevServer } from './support/dev-server.js';

/** Fast retries, so a restart costs well under a second of waiting. */
const FAST_BACKOFF = { minMs: 200, maxMs: 800, factor: 2 };

/** One subscription's view: every `subscribed` answer and every event, in arrival order. */
class Recorder {
  readonly subscribed: SubscribedMessage[] = [];
  readonly events: RecordEvent[] = [];
  readonly errors: string[] = [];

  constructor(connection: LiveConnection, request: SubscriptionRequest) {
    connection.subscribe(request, {
      onSubscribed: (message) => this.subscribed.push(message),
      onEvents: (events: LiveEvent[]) => this.events.push(...(events as RecordEvent[])),
      onError: (error) => this.errors.push(error.message),
    });
  }

  /** The records of the first snapshot, by id. */
  snapshotIds(): string[] {
    return (this.subscribed[0]?.snapshot ?? []).map((record) => String(record.id));
  }

  /** `change id` of each event, e.g. `added o9`. */
  changes(): string[] {
    return this.events.map((event) => `${event.change} ${event.id}`);
  }
}

/** Every state a connection goes through, starting with the current one. */
function watchStates(connection: LiveConnection): ConnectionState[] {
  const states: ConnectionState[] = [connection.status.state];
  connection.onStatus((status) => {
    if (states.at(-1) !== status.state) states.push(status.state);
  });
  return states;
}

describe('connection manager in the browser', () => {
  let server: TestDevServer;
  let connection: LiveConnection | undefined;

  before(async () => {
    server = await startDevServer();
  });
  after(async () => {
    await server.close();
  });
  afterEach(async () => {
    connection?.close();
    connection = undefined;
    // Each test starts with no connection left over from the last one.
    await waitUntil(
      async () => (await server.healthz()).connections === 0,
      'the last test left a connection',
    );
  });

  it('delivers the snapshot, then a REST write as an event', async () => {
    connection = connect({ url: server.url, apiKey: server.keys.acmePublic });
    const orders = new Recorder(connection, {
      channel: 'records:orders',
      snapshot: { sort: ['id'] },
    });

    await waitUntil(() => orders.subscribed.length === 1, 'no subscribed answer');
    expect(connection.status.state).to.equal('open');
    expect(orders.snapshotIds()).to.deep.equal(['o1', 'o2', 'o3']);

    const created = await server.create('orders', { id: 'o4', status: 'pending', total: 42 });
    await waitUntil(() => orders.events.length === 1, 'the write never arrived');
    const [event] = orders.events;
    expect(event?.change).to.equal('added');
    expect(event?.operation).to.equal('create');
    expect(event?.record).to.deep.equal(created);
    expect(event?.seq).to.be.greaterThan(orders.subscribed[0]?.seq ?? Infinity);
    expect(orders.errors).to.deep.equal([]);
  });

  it('carries two subscriptions on one WebSocket', async () => {
    connection = connect({ url: server.url, apiKey: server.keys.acmeSecret });
    expect(connect({ url: `${server.url}/`, apiKey: server.keys.acmeSecret })).to.equal(connection);
    const orders = new Recorder(connection, { channel: 'records:orders' });
    const products = new Recorder(connection, { channel: 'records:products' });

    await waitUntil(() => orders.subscribed.length === 1 && products.subscribed.length === 1);
    expect((await server.healthz()).connections).to.equal(1);

    await server.write([
      { op: 'patch', object: 'products', id: 'p1', patch: { price: 130 } },
      { op: 'patch', object: 'orders', id: 'o1', patch: { status: 'paid' } },
    ]);
    await waitUntil(() => orders.events.length === 1 && products.events.length === 1, 'events missing');
    expect(orders.changes()).to.deep.equal(['modified o1']);
    expect(products.changes()).to.deep.equal(['modified p1']);
    expect((await server.healthz()).connections).to.equal(1);
  });

  it('reconnects after the server stops and restarts, missing and repeating nothing', async () => {
    connection = connect({ url: server.url, apiKey: server.keys.acmeSecret, backoff: FAST_BACKOFF });
    const states = watchStates(connection);
    const orders = new Recorder(connection, { channel: 'records:orders' });
    await waitUntil(() => orders.subscribed.length === 1, 'no subscribed answer');
    await server.create('orders', { id: 'before', status: 'pending', total: 1 });
    await waitUntil(() => orders.events.length === 1, 'the first write never arrived');

    await server.stop();
    await waitUntil(() => connection?.status.state === 'reconnecting', 'the stop went unnoticed');
    await server.restart();
    // Written while the client is still waiting to retry: it hears of them by resuming.
    await server.write([
      { op: 'create', object: 'orders', record: { id: 'after', status: 'pending', total: 2 } },
      { op: 'patch', object: 'orders', id: 'before', patch: { total: 3 } },
      { op: 'remove', object: 'orders', id: 'o3' },
    ]);

    await waitUntil(() => orders.events.length >= 4, 'the writes made during the restart never arrived', {
      timeout: 5000,
    });
    expect(orders.changes()).to.deep.equal(['added before', 'added after', 'modified before', 'removed o3']);
    const seqs = orders.events.map((event) => event.seq);
    expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).to.equal(seqs.length);
    expect(orders.subscribed).to.have.length(2);
    expect(orders.subscribed[1]?.resumed).to.equal(true);
    expect(states).to.deep.equal(['idle', 'connecting', 'open', 'reconnecting', 'open']);
    expect((await server.healthz()).connections).to.equal(1);
  });
});
