/**
 * The elements across everything that drops a connection: a server restart (with its data
 * file), a slow-consumer close (4009), a heartbeat close (4011) and session expiry (4001). After
 * each, the lists equal a fresh REST query, and their `live-change` events never add an id twice
 * nor lose one. Also: every element on a page shares one WebSocket.
 *
 * Each test holds the client's reconnect back (an `AuthGate` on the shared connection's ws-auth
 * requests) while it writes, so those writes can only arrive by resuming with `since`.
 */
import { expect } from '@open-wc/testing';
import type {
  ConnectionStatus,
  LiveConnection,
  LiveRecordElement,
  LiveRecordListElement,
  LiveStatusElement,
} from '../../elements/index.js';
import type { Limits } from '../../protocol/index.js';
import { startDevServer, type RecordWrite, type TestDevServer } from './support/dev-server.js';
import {
  AuthGate,
  ChangeLedger,
  WireSpy,
  closeConnections,
  expectListMatches,
  fastConnection,
  mount,
  noConnectionsLeft,
  part,
  seededRandom,
  shownIds,
  statusLog,
  text,
  unmountAll,
  until,
  itOnWebSocket,
} from './support/elements.js';

const ROW = `<template><span data-field="id"></span> <span data-field="status"></span> <span data-field="total"></span></template>`;

/** The two queries the page shows, as the lists ask and as REST answers them. */
const ALL = { sort: ['id'] };
const PENDING = { where: { status: 'pending' }, sort: ['-total', 'id'], limit: 5 };

/** Random REST writes to orders: creates, patches of status and total, removals. */
class Writer {
  private readonly random = seededRandom(4242);
  private readonly ids = ['o1', 'o2', 'o3'];
  private next = 0;

  constructor(private readonly server: TestDevServer) {}

  /** `count` writes in one round trip to the server. */
  async burst(count: number): Promise<void> {
    await this.server.write(Array.from({ length: count }, () => this.write()));
  }

  private write(): RecordWrite {
    const roll = this.random();
    const total = Math.floor(this.random() * 100);
    const status = this.random() < 0.6 ? 'pending' : 'paid';
    if (roll < 0.35 || this.ids.length < 4) {
      const id = `w${String(this.next++).padStart(3, '0')}`;
      this.ids.push(id);
      return { op: 'create', object: 'orders', record: { id, status, total } };
    }
    if (roll < 0.55) {
      const [id] = this.ids.splice(Math.floor(this.random() * this.ids.length), 1);
      return { op: 'remove', object: 'orders', id: id as string };
    }
    const id = this.ids[Math.floor(this.random() * this.ids.length)] as string;
    return { op: 'patch', object: 'orders', id, patch: roll < 0.8 ? { total } : { status } };
  }
}

/** The page of these tests: a status and two lists on one shared, gated connection. */
type Page = {
  connection: LiveConnection;
  gate: AuthGate;
  statuses: ConnectionStatus[];
  status: LiveStatusElement;
  all: LiveRecordListElement;
  pending: LiveRecordListElement;
  ledgers: { all: ChangeLedger; pending: ChangeLedger };
};

describe('no event lost or doubled', () => {
  let server: TestDevServer;
  let writer: Writer;

  async function open(limits: Partial<Limits> = {}): Promise<Page> {
    server = await startDevServer({ limits });
    writer = new Writer(server);
    const gate = new AuthGate();
    const connection = fastConnection(server, server.keys.acmeSecret, { gate });
    const statuses = statusLog(connection);
    const root = mount(
      `<live-connection url="${server.url}" api-key="${server.keys.acmeSecret}">
        <live-status></live-status>
        <live-record-list object="orders" sort="id">${ROW}</live-record-list>
        <live-record-list object="orders" where='{"status":"pending"}' sort="-total, id" limit="5">${ROW}</live-record-list>
      </live-connection>`,
    );
    const [all, pending] = [...root.querySelectorAll('live-record-list')] as LiveRecordListElement[];
    const page = {
      connection,
      gate,
      statuses,
      status: root.querySelector('live-status') as LiveStatusElement,
      all: all as LiveRecordListElement,
      pending: pending as LiveRecordListElement,
      ledgers: {
        all: new ChangeLedger(all as HTMLElement),
        pending: new ChangeLedger(pending as HTMLElement),
      },
    };
    await until(() => shownIds(page.all).length === 3, 'the snapshot never rendered');
    await writer.burst(10);
    await expectCaughtUp(page);
    return page;
  }

  /** Both lists equal a fresh query, every event was applied once, and the page is live. */
  async function expectCaughtUp(page: Page): Promise<void> {
    await expectListMatches(page.all, server, 'orders', ALL);
    await expectListMatches(page.pending, server, 'orders', PENDING);
    expect(page.ledgers.all.problems).to.deep.equal([]);
    expect(page.ledgers.pending.problems).to.deep.equal([]);
    // Resumed with `since`, never reloaded: a fresh snapshot would paper over a lost event.
    expect(page.ledgers.all.snapshots, 'the full list resumed instead of reloading').to.equal(1);
    await until(() => text(part(page.status, 'label')) === 'Live', 'the status never said Live again');
  }

  /** The close codes the connection has reported so far. */
  function closeCodes(page: Page): number[] {
    return page.statuses
      .filter((status) => status.state === 'reconnecting' && status.lastError?.code !== undefined)
      .map((status) => status.lastError?.code as number)
      .filter((code, i, all) => all.indexOf(code) === i);
  }

  afterEach(async () => {
    unmountAll();
    closeConnections(server);
    await noConnectionsLeft(server);
    await server.close();
  });

  it('across a server restart with its data file', async () => {
    const page = await open();
    page.gate.close();
    await server.stop();
    await until(() => page.connection.status.state === 'reconnecting', 'the stop went unnoticed');
    await server.restart();
    await writer.burst(20); // while the client waits at the gate
    page.gate.open();
    await expectCaughtUp(page);
    expect(closeCodes(page)).to.include(1001);
    await writer.burst(10);
    await expectCaughtUp(page);
  });

  it('across a slow-consumer close (4009) provoked by a burst of large writes', async function () {
    // Megabytes must pile up past the kernel's socket buffers before the server sees a slow
    // consumer: on a loaded two-core machine that takes longer than the default 10 s.
    this.timeout(45_000);
    const page = await open({ maxBufferedBytes: 65_536 });
    // Large records, archived: the pending list never sees them; the full list does (its
    // template shows only the small fields), and every change to one is a large event.
    const large = 'x'.repeat(300_000);
    const bulk = Array.from({ length: 6 }, (_, i) => `big${i}`);
    await server.write(
      bulk.map((id) => ({
        op: 'create' as const,
        object: 'orders',
        record: { id, status: 'archived', total: 0, note: large },
      })),
    );
    await until(() => shownIds(page.all).includes('big5'), 'the large records never arrived');
    page.gate.close();
    // Small writes, large events: megabytes for the server to send while the page is too busy
    // to read them, so its unsent data passes maxBufferedBytes and it closes with 4009.
    // Chromium's network process keeps reading for a busy page for a while, so on a loaded machine
    // it may take a few rounds before the server's unsent data passes the limit.
    for (let round = 0; round < 8 && !closeCodes(page).includes(4009); round++) {
      const burst = server.write(
        Array.from({ length: 60 }, (_, i) => ({
          op: 'patch' as const,
          object: 'orders',
          id: bulk[i % bulk.length] as string,
          patch: { total: round * 100 + i },
        })),
      );
      await new Promise((resolve) => setTimeout(resolve, 20)); // the command is on its way
      const busyUntil = Date.now() + 800;
      while (Date.now() < busyUntil) {
        /* busy */
      }
      await burst;
    }
    await until(() => closeCodes(page).includes(4009), 'the server never closed with 4009');
    await writer.burst(20);
    // Small again, so that any fresh snapshot fits well within the limit.
    await server.write(
      bulk.map((id) => ({ op: 'patch' as const, object: 'orders', id, patch: { note: null } })),
    );
    page.gate.open();
    await expectCaughtUp(page);
  });

  itOnWebSocket('across a heartbeat close (4011) while the page was too busy to answer', async () => {
    const page = await open({ heartbeatMs: 150 });
    page.gate.close();
    // A long task: no pong leaves the page for 2 × heartbeatMs, so the server hangs up (and
    // the client, seeing no ping either, would too).
    const busyUntil = Date.now() + 800;
    while (Date.now() < busyUntil) {
      /* busy */
    }
    await until(() => page.connection.status.state !== 'open', 'the connection survived the silence');
    await writer.burst(20);
    page.gate.open();
    await expectCaughtUp(page);
    expect(closeCodes(page)).to.include(4011);
  });

  itOnWebSocket('across session expiry (4001), renewing at once each time', async function () {
    this.timeout(15_000);
    const page = await open({ sessionTtlMs: 400 });
    // Hold each renewal back a moment, so that some writes land while the page is away.
    page.connection.onStatus((status) => {
      if (status.state !== 'reconnecting') return;
      page.gate.close();
      setTimeout(() => page.gate.open(), 40);
    });
    const opened = () => page.statuses.filter((status) => status.state === 'open').length;
    while (opened() < 4) await writer.burst(5);
    await expectCaughtUp(page);
    expect(closeCodes(page)).to.deep.equal([4001]);
    const retries = page.statuses.filter((status) => status.retryInMs !== undefined);
    expect(retries, 'no backoff after 4001').to.deep.equal([]);
  });
});

describe('one connection for the page', () => {
  let server: TestDevServer;

  before(async () => {
    server = await startDevServer();
  });
  afterEach(async () => {
    unmountAll();
    document.head.querySelector('meta[name="catalyst-realtime"]')?.remove();
    closeConnections(server);
    await noConnectionsLeft(server);
  });
  after(async () => {
    await server.close();
  });

  itOnWebSocket('carries every element of one url and key on one WebSocket', async () => {
    const spy = new WireSpy(server);
    try {
      const { url } = server;
      const key = server.keys.acmeSecret;
      const meta = document.createElement('meta');
      meta.name = 'catalyst-realtime';
      meta.content = `url=${url}, api-key=${key}`;
      document.head.append(meta);
      const root = mount(
        `<div>
          <live-connection url="${url}" api-key="${key}">
            <live-status></live-status>
            <live-record-list object="orders" sort="id"></live-record-list>
            <live-record-list object="orders" where='{"status":"pending"}'></live-record-list>
            <live-record-list object="products"></live-record-list>
            <live-record object="orders" record-id="o1"></live-record>
            <live-record object="products" record-id="p1"></live-record>
          </live-connection>
          <live-record-list url="${url}" api-key="${key}" object="orders" limit="1"></live-record-list>
          <live-record object="orders" record-id="o2"></live-record>
        </div>`,
      );
      const lists = [...root.querySelectorAll('live-record-list')] as LiveRecordListElement[];
      const records = [...root.querySelectorAll('live-record')] as LiveRecordElement[];
      await until(
        () =>
          lists.every((list) => shownIds(list).length > 0) &&
          records.every((record) => part(record, 'base')?.dataset.state === 'ready'),
        'not every element loaded',
      );
      expect((await server.healthz()).connections).to.equal(1);
      expect(spy.sockets).to.equal(1);
      expect(new Set(spy.of('subscribe').map((frame) => frame.id)).size).to.equal(7);

      await server.patch('orders', 'o2', { status: 'pending' });
      const o2 = records[2] as LiveRecordElement;
      await until(() => o2.record?.status === 'pending', 'the update never reached the outside record');
      await until(() => shownIds(lists[1] as Element).includes('o2'), 'the update never reached the list');

      // Elements leaving end their subscriptions, not the socket the others use.
      (lists[0] as Element).remove();
      (records[0] as Element).remove();
      await until(() => spy.of('unsubscribe').length === 2, 'no unsubscribe');
      await server.patch('orders', 'o2', { total: 1 });
      await until(() => o2.record?.total === 1, 'the others stopped hearing');
      expect((await server.healthz()).connections).to.equal(1);
      expect(spy.sockets).to.equal(1);
    } finally {
      spy.uninstall();
    }
  });
});
