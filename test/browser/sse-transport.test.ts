/**
 * Server-Sent Events in Chromium against the real dev server: `<live-connection transport="sse">`
 * opens no WebSocket at all, and `auto` falls back to SSE when WebSocket upgrades fail (here
 * they go to a port where nothing listens, as behind a proxy that refuses them), then remembers
 * the choice for the tab's session. (The `sse` group of web-test-runner.config.js runs the element
 * tests again with WebSocket refused outright.)
 */
import { expect } from '@open-wc/testing';
import {
  connect,
  type LiveConnectionElement,
  type LiveRecordListElement,
  type LiveStatusElement,
} from '../../elements/index.js';
import { startDevServer, type TestDevServer } from './support/dev-server.js';
import {
  closeConnections,
  mount,
  noConnectionsLeft,
  part,
  shownIds,
  statusLog,
  text,
  unmountAll,
  until,
} from './support/elements.js';

const ORDERS = [
  { id: 'o1', status: 'pending', total: 10 },
  { id: 'o2', status: 'paid', total: 20 },
];

/** Every WebSocket the page opens from now on, to the API or not. */
function socketsOpened(): { urls: string[]; restore: () => void } {
  const Real = globalThis.WebSocket;
  const urls: string[] = [];
  globalThis.WebSocket = class extends Real {
    constructor(url: string | URL, protocols?: string | string[]) {
      urls.push(String(url));
      super(url, protocols);
    }
  };
  return { urls, restore: () => (globalThis.WebSocket = Real) };
}

/** Upgrades to the API go to a closed port and fail as a refused upgrade does. */
function refuseUpgrades(): () => void {
  const Real = globalThis.WebSocket;
  globalThis.WebSocket = class extends Real {
    constructor(url: string | URL, protocols?: string | string[]) {
      const text = String(url);
      super(text.includes('/ws/events/') ? text.replace(/\/\/[^/]+/, '//127.0.0.1:9') : text, protocols);
    }
  };
  return () => (globalThis.WebSocket = Real);
}

describe('Server-Sent Events', () => {
  let server: TestDevServer;

  beforeEach(async () => {
    sessionStorage.clear();
    server = await startDevServer({ config: { records: { acme: { production: { orders: ORDERS } } } } });
  });
  afterEach(async () => {
    unmountAll();
    closeConnections(server);
    for (const transport of ['sse', 'auto'] as const)
      for (const apiKey of Object.values(server.keys))
        connect({ url: server.url, apiKey, transport }).close();
    await noConnectionsLeft(server);
    sessionStorage.clear();
  });

  it('transport="sse": the list is live on one stream, and no WebSocket is opened', async () => {
    const sockets = socketsOpened();
    try {
      const page = mount(
        `<live-connection url="${server.url}" api-key="${server.keys.acmePublic}" transport="sse">
          <live-status></live-status>
          <live-record-list object="orders" where='{"status":"pending"}' sort="id"></live-record-list>
        </live-connection>`,
      );
      const list = page.querySelector('live-record-list') as LiveRecordListElement;
      const status = page.querySelector('live-status') as LiveStatusElement;
      await until(() => shownIds(list).join() === 'o1', 'the snapshot never rendered');
      await server.create('orders', { id: 'o3', status: 'pending', total: 30 });
      await until(() => shownIds(list).join() === 'o1,o3', 'a created record never appeared');
      await server.patch('orders', 'o1', { status: 'paid' });
      await until(() => shownIds(list).join() === 'o3', 'a record that left the filter stayed');
      await server.remove('orders', 'o3');
      await until(() => shownIds(list).join() === '', 'a deleted record stayed');
      expect(text(part(status, 'label'))).to.equal('Live');
      // The provider reports the state of the connection it provides (transport sse), not another.
      expect((page as LiveConnectionElement).status?.state).to.equal('open');
      expect((await server.healthz()).connections).to.equal(1);
      expect(sockets.urls.filter((url) => url.includes('/ws/events/'))).to.deep.equal([]);
    } finally {
      sockets.restore();
    }
  });

  it('auto falls back to SSE after three refused upgrades, and the next connection starts there', async function () {
    this.timeout(20_000);
    const restore = refuseUpgrades();
    const sockets = socketsOpened();
    try {
      const connection = connect({
        url: server.url,
        apiKey: server.keys.acmePublic,
        backoff: { minMs: 50, maxMs: 200, factor: 2 },
      });
      const statuses = statusLog(connection);
      const list = mount<LiveRecordListElement>(
        `<live-record-list url="${server.url}" api-key="${server.keys.acmePublic}" object="orders" sort="id"></live-record-list>`,
      );
      await until(() => shownIds(list).join() === 'o1,o2', 'the snapshot never rendered', 10_000);
      expect(sockets.urls.filter((url) => url.includes('/ws/events/'))).to.have.length(3);
      expect(statuses.at(-1)?.state).to.equal('open');
      await server.create('orders', { id: 'o3', status: 'paid', total: 5 });
      await until(() => shownIds(list).join() === 'o1,o2,o3', 'an event never arrived on SSE');

      // Another connection to the same API in this tab (another key) goes straight to SSE.
      const other = mount<LiveRecordListElement>(
        `<live-record-list url="${server.url}" api-key="${server.keys.acmeSecret}" object="orders" sort="id"></live-record-list>`,
      );
      await until(() => shownIds(other).join() === 'o1,o2,o3', 'the second list never rendered');
      expect(sockets.urls.filter((url) => url.includes('/ws/events/'))).to.have.length(3);
      expect((await server.healthz()).connections).to.equal(2);
    } finally {
      sockets.restore();
      restore();
    }
  });
});
