/**
 * Tabs of one browser share one connection (issue 6): three pages of the demo in one Chromium
 * context hold one server connection between them — the first tab holds the socket, the others
 * receive through it — and each page's elements show what REST says. Closing the leading tab
 * while events flow loses none and doubles none: another tab takes over and resumes with
 * `since`. `<live-connection share="none">` gives a page a connection of its own.
 *
 * The real dev server CLI serves the demo page and the script-tag build (as `npm start` does);
 * builds nothing: it needs dist/ (scripts/test.mjs builds first).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_KEYS } from '../../dev-server/engine/demo-data.js';
import type { RecordListResponse } from '../../protocol/index.js';
import type { CliProcess } from '../support/cli-process.js';
import { eventually, launchChromium, serveDemo } from '../support/browser.js';
import { rest, sleep } from '../support/raw-client.js';
import { connectionCount } from '../support/test-server.js';

/** The custom events the tabs count. */
const TOPIC = 'tabs';

describe('tabs of one browser (one connection between them)', () => {
  let server: CliProcess & { url: string };
  let browser: Browser;
  let context: BrowserContext;
  const tabs: Page[] = [];
  /** Per tab: the WebSockets it opened to the API. */
  const sockets = new Map<Page, string[]>();
  const problems: string[] = [];

  async function openTab(inContext: BrowserContext = context): Promise<Page> {
    const page = await inContext.newPage();
    sockets.set(page, []);
    page.on('websocket', (socket) => sockets.get(page)?.push(socket.url()));
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await page.goto(`${server.url}/`);
    tabs.push(page);
    return page;
  }

  /** The ids the tab's list shows, in order. */
  const listed = (page: Page): Promise<string[]> =>
    page.evaluate(() =>
      [
        ...(document.querySelector('live-record-list')?.shadowRoot?.querySelectorAll('[part~="item"]') ?? []),
      ].map((item) => (item as HTMLElement).dataset.id ?? ''),
    );

  /** The ids the demo's list must show now, through REST with the page's key. */
  async function truth(): Promise<string[]> {
    const query = new URLSearchParams({ where: '{"status":"pending"}', sort: '-createdAt', limit: '8' });
    const res = await rest(server, 'GET', `/api/objects/orders/records?${query}`, {
      key: DEMO_KEYS.publishable,
    });
    assert.equal(res.status, 200);
    return (res.body as RecordListResponse).records.map((record) => record.id);
  }

  async function listsMatchTruth(pages: Page[], message: string): Promise<void> {
    for (const page of pages) {
      const expected = await truth();
      await eventually(
        () => listed(page),
        (ids) => JSON.stringify(ids) === JSON.stringify(expected),
        `${message} (tab ${tabs.indexOf(page) + 1})`,
      );
    }
  }

  /**
   * Starts counting the custom events of TOPIC in the tab, through the page's shared connection
   * (plain JavaScript: tsx would wrap a function's named closures in a helper the page lacks).
   */
  const countEvents = (page: Page) =>
    page.evaluate(`(async () => {
      const { connect } = await import('/catalyst-elements.js');
      globalThis.seen = [];
      await new Promise((subscribed) =>
        connect({ url: location.origin, apiKey: ${JSON.stringify(DEMO_KEYS.publishable)} }).subscribe(
          { channel: 'events:${TOPIC}' },
          {
            onSubscribed: subscribed,
            onEvents: (events) => events.forEach((event) => globalThis.seen.push(event.data.n)),
          },
        ),
      );
    })()`);

  const seen = (page: Page) => page.evaluate(() => (globalThis as unknown as { seen: number[] }).seen);

  const publish = async (n: number) => {
    const res = await rest(server, 'POST', `/api/events/${TOPIC}`, { key: DEMO_KEYS.secret, body: { n } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
  };

  before(async () => {
    server = await serveDemo(); // launchChromium checks that dist/ is built
    browser = await launchChromium();
    context = await browser.newContext();
    for (let i = 0; i < 3; i++) await openTab();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('three tabs hold one server connection, and each shows the live list', async () => {
    await listsMatchTruth(tabs, 'a tab never showed the snapshot');
    await eventually(
      () => connectionCount(server),
      (n) => n === 1,
      'three tabs did not share one connection',
    );
    assert.deepEqual(
      tabs.map((tab) => sockets.get(tab)?.length),
      [1, 0, 0],
      'the first tab holds the socket; the others open none',
    );
    const create = await rest(server, 'POST', '/api/objects/orders/records', {
      key: DEMO_KEYS.secret,
      body: { title: '1 × Shared lamp', status: 'pending', total: 12 },
    });
    assert.equal(create.status, 201);
    await listsMatchTruth(tabs, 'a tab never showed the new order');
    for (const tab of tabs) {
      const state = await tab.evaluate(() => document.querySelector('live-status')?.getAttribute('state'));
      assert.equal(state, 'open', 'every tab says it is live');
    }
  });

  it('counts every tab in presence: each is a member of its own', async () => {
    for (const tab of tabs) {
      await eventually(
        () => tab.evaluate(() => document.querySelector('live-presence')?.count),
        (count) => count === 3,
        `tab ${tabs.indexOf(tab) + 1} did not count three tabs`,
      );
    }
  });

  it('closing the leading tab while events flow loses none and doubles none', async () => {
    for (const tab of tabs) await countEvents(tab);
    const total = 300;
    for (let n = 1; n <= total; n++) {
      await publish(n);
      if (n === 100) await tabs[0]?.close();
      if (n % 10 === 0) await sleep(5);
    }
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    for (const tab of tabs.slice(1)) {
      const got = await eventually(
        () => seen(tab),
        (ns) => ns.length >= total,
        `tab ${tabs.indexOf(tab) + 1} did not receive every event`,
      );
      assert.deepEqual(got, expected, 'every event once, in order');
    }
    await eventually(
      () => connectionCount(server),
      (n) => n === 1,
      'the remaining tabs did not share one connection',
    );
    assert.equal(
      tabs.slice(1).filter((tab) => (sockets.get(tab)?.length ?? 0) > 0).length,
      1,
      'one of the remaining tabs took over the socket',
    );
    await rest(server, 'POST', '/api/objects/orders/records', {
      key: DEMO_KEYS.secret,
      body: { title: '1 × After the handover', status: 'pending', total: 13 },
    });
    await listsMatchTruth(tabs.slice(1), 'a remaining tab never showed the new order');
    await eventually(
      () => (tabs[1] as Page).evaluate(() => document.querySelector('live-presence')?.count),
      (count) => count === 2,
      'presence did not drop the closed tab',
    );
  });

  it('a closed follower tab leaves presence at once, as a closed socket would', async () => {
    const extra = await openTab();
    const presence = (page: Page) => page.evaluate(() => document.querySelector('live-presence')?.count);
    await eventually(
      () => presence(tabs[1] as Page),
      (count) => count === 3,
      'the new tab never joined',
    );
    assert.equal(sockets.get(extra)?.length, 0, 'the new tab follows');
    await extra.close();
    // The server's heartbeat would drop a silent follower only after 2 × heartbeatMs (60 s).
    await eventually(
      () => presence(tabs[1] as Page),
      (count) => count === 2,
      'the closed tab stayed',
      10_000, // far below the 60 s of two missed heartbeats, even on a loaded machine
    );
  });

  it("a follower's list follows its new filter, and shows the server's refusal of a bad one", async () => {
    const tab = tabs[2] as Page;
    const where = (value: string) =>
      tab.evaluate(
        (value) => document.querySelector('live-record-list')?.setAttribute('where', value),
        value,
      );
    await where('{"status":"shipped"}');
    const query = new URLSearchParams({ where: '{"status":"shipped"}', sort: '-createdAt', limit: '8' });
    const res = await rest(server, 'GET', `/api/objects/orders/records?${query}`, {
      key: DEMO_KEYS.publishable,
    });
    const shipped = (res.body as RecordListResponse).records.map((record) => record.id);
    assert.ok(shipped.length > 0);
    await eventually(
      () => listed(tab),
      (ids) => JSON.stringify(ids) === JSON.stringify(shipped),
      'the follower never showed the shipped orders',
    );
    await where('{"total":{"$near":3}}');
    const error = await eventually(
      () =>
        tab.evaluate(
          () =>
            document.querySelector('live-record-list')?.shadowRoot?.querySelector('[part~="error"]')
              ?.textContent ?? '',
        ),
      (text) => text.includes('$near'),
      'the refusal never showed',
    );
    assert.match(error, /where/);
    await where('{"status":"pending"}');
    await listsMatchTruth([tab], 'the follower never came back to the pending orders');
  });

  it('a page with share="none" keeps a connection of its own', async () => {
    const tab = tabs[2] as Page;
    const before = sockets.get(tab)?.length ?? 0;
    await tab.evaluate(() => document.querySelector('live-connection')?.setAttribute('share', 'none'));
    await eventually(
      () => connectionCount(server),
      (n) => n === 2,
      'share="none" did not open its own connection',
    );
    // Playwright reports the socket a moment after the server counts it.
    await eventually(
      async () => (sockets.get(tab)?.length ?? 0) - before,
      (opened) => opened === 1,
      'the page did not open one socket of its own',
    );
    await listsMatchTruth([tab], 'the page with its own connection shows the list');
  });

  it('a refused key is refused in every tab that shares it', async () => {
    const pair = [await openTab(), await openTab()];
    const before = problems.length;
    for (const tab of pair) {
      await tab.evaluate(() =>
        document.querySelector('live-connection')?.setAttribute('api-key', 'pk_not_a_key'),
      );
    }
    for (const tab of pair) {
      await eventually(
        () => tab.evaluate(() => document.querySelector('live-status')?.getAttribute('state')),
        (state) => state === 'denied',
        `tab ${tabs.indexOf(tab) + 1} never said the key was refused`,
      );
    }
    assert.equal(
      pair.filter((tab) => (sockets.get(tab)?.length ?? 0) > 1).length,
      0,
      'no socket for a refused key',
    );
    // The refused ws-auth requests are logged by the browser: expected, and nothing else.
    for (const problem of problems.splice(before)) assert.match(problem, /status of 401/);
  });

  it("closing a follower's connection for good ends it cleanly", async () => {
    const tab = await openTab();
    await listsMatchTruth([tab], 'the new tab never showed the list');
    assert.equal(sockets.get(tab)?.length, 0, 'the new tab follows');
    const state = await tab.evaluate(`(async () => {
      const { connect } = await import('/catalyst-elements.js');
      const connection = connect({ url: location.origin, apiKey: ${JSON.stringify(DEMO_KEYS.publishable)} });
      connection.close();
      return connection.status.state;
    })()`);
    assert.equal(state, 'closed');
    await tab.close();
  });

  it('a leading tab the browser freezes hands the connection over, and follows when it resumes', async () => {
    const other = await browser.newContext(); // a browser window of its own: no tab here leads yet
    try {
      const [x, y] = [await openTab(other), await openTab(other)] as [Page, Page];
      await listsMatchTruth([x, y], 'a tab never showed the list');
      assert.deepEqual([sockets.get(x)?.length, sockets.get(y)?.length], [1, 0], 'the first tab leads');
      const connections = await connectionCount(server);
      for (const tab of [x, y]) await countEvents(tab);
      // Page Lifecycle's `freeze` (Chrome freezes background tabs to save energy): dispatched here,
      // since the page must still run to show what it did.
      const lifecycle = (tab: Page, event: string) =>
        tab.evaluate((event) => document.dispatchEvent(new Event(event)), event);
      const total = 150;
      for (let n = 1; n <= total; n++) {
        await publish(n);
        if (n === 50) await lifecycle(x, 'freeze');
        if (n === 100) await lifecycle(x, 'resume');
        if (n % 10 === 0) await sleep(5);
      }
      const expected = Array.from({ length: total }, (_, i) => i + 1);
      for (const tab of [x, y]) {
        const got = await eventually(
          () => seen(tab),
          (ns) => ns.length >= total,
          'a tab did not receive every event',
        );
        assert.deepEqual(got, expected, 'every event once, in order');
      }
      assert.equal(sockets.get(y)?.length, 1, 'the other tab took the socket over');
      await eventually(
        () => connectionCount(server),
        (n) => n === connections,
        'the window does not hold one connection again',
      );
    } finally {
      await other.close();
    }
  });

  it('met no error on any page', () => {
    assert.deepEqual(problems, []);
  });
});
