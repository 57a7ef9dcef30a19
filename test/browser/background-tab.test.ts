/**
 * A tab the browser freezes (Page Lifecycle, emulated through the DevTools protocol): while it
 * sleeps, records change; when it runs again it must catch up — resuming with `since`, or taking a
 * fresh snapshot when its position has left the server's history — and lose or repeat nothing.
 */
import { expect } from '@open-wc/testing';
import { connect, type LiveRecordListElement } from '../../elements/index.js';
import { startDevServer, type RecordWrite, type TestDevServer } from './support/dev-server.js';
import {
  ChangeLedger,
  closeConnections,
  expectListMatches,
  itOnWebSocket,
  mount,
  noConnectionsLeft,
  shownIds,
  statusLog,
  unmountAll,
  until,
} from './support/elements.js';

const ORDERS = [
  { id: 'o1', status: 'pending', total: 10 },
  { id: 'o2', status: 'paid', total: 20 },
];

/** Creates, moves out of the filter (pending → paid) and deletes: `count` writes in all. */
function writes(count: number, from: number): RecordWrite[] {
  return Array.from({ length: count }, (_, i): RecordWrite => {
    const n = from + i;
    if (n % 4 === 1) return { op: 'patch', object: 'orders', id: `f${n - 1}`, patch: { status: 'paid' } };
    if (n % 4 === 3) return { op: 'remove', object: 'orders', id: `f${n - 1}` };
    return { op: 'create', object: 'orders', record: { id: `f${n}`, status: 'pending', total: n } };
  });
}

async function frozenPage(limits: Record<string, number>) {
  const server = await startDevServer({
    limits,
    config: { records: { acme: { production: { orders: ORDERS } } } },
  });
  const connection = connect({ url: server.url, apiKey: server.keys.acmePublic });
  const statuses = statusLog(connection);
  const list = mount<LiveRecordListElement>(
    `<live-record-list url="${server.url}" api-key="${server.keys.acmePublic}" object="orders"
       where='{"status":"pending"}' sort="id"></live-record-list>`,
  );
  const ledger = new ChangeLedger(list);
  await until(() => shownIds(list).join() === 'o1', 'the snapshot never rendered');
  return { server, statuses, list, ledger };
}

describe('a frozen tab', () => {
  let server: TestDevServer | undefined;

  afterEach(async () => {
    unmountAll();
    if (server) {
      closeConnections(server);
      await noConnectionsLeft(server);
    }
  });

  // On SSE the server keeps a silent stream open (no pongs to miss): the next test's case.
  itOnWebSocket(
    'catches up with since when the server dropped it meanwhile, and says so before Live',
    async function () {
      this.timeout(15_000);
      const page = await frozenPage({ heartbeatMs: 250 });
      server = page.server;
      const before = page.statuses.length;
      // The server closes the silent socket (4011) after 500 ms; the writes come after that.
      await server.freeze(1500, writes(12, 0), 800);
      await until(
        () => page.statuses.at(-1)?.state === 'open' && page.statuses.length > before + 1,
        'never back',
      );
      await expectListMatches(page.list, server, 'orders', { where: { status: 'pending' }, sort: ['id'] });
      const after = page.statuses.slice(before).map((status) => status.state);
      expect(after.indexOf('reconnecting'), 'not Live again before reconnecting').to.be.lessThan(
        after.indexOf('open'),
      );
      expect(page.ledger.problems).to.deep.equal([]);
      expect(page.ledger.snapshots, 'resumed with since, not a new snapshot').to.equal(1);
    },
  );

  // On SSE the server keeps a silent stream open (no pongs to miss): the next test's case.
  itOnWebSocket('takes a fresh snapshot when it slept past the history the server keeps', async function () {
    this.timeout(15_000);
    const page = await frozenPage({ heartbeatMs: 250, historySize: 5 });
    server = page.server;
    await server.freeze(1500, writes(20, 0), 800);
    await until(() => page.ledger.snapshots === 2, 'no fresh snapshot after the freeze');
    await expectListMatches(page.list, server, 'orders', { where: { status: 'pending' }, sort: ['id'] });
    expect(page.ledger.problems).to.deep.equal([]);
  });

  it('applies what arrived while it slept when the connection survived', async function () {
    this.timeout(15_000);
    const page = await frozenPage({ heartbeatMs: 60_000 });
    server = page.server;
    await server.freeze(800, writes(9, 0));
    await expectListMatches(page.list, server, 'orders', { where: { status: 'pending' }, sort: ['id'] });
    expect(page.ledger.problems).to.deep.equal([]);
    expect(page.ledger.snapshots).to.equal(1);
  });
});
