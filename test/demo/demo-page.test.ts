/**
 * The demo page (demo/index.html) as a visitor sees it: the real dev server CLI serves it with
 * `--static demo --static dist` on a random port, headless Chromium opens it, and the test makes
 * through the REST API, with the demo's secret key, the writes `--simulate` would make. The page
 * must load nothing but the script-tag build and show every write where it belongs. Last,
 * `scripts/start.mjs` (`npm start`) must really start the server and serve the page.
 *
 * Builds nothing: it needs dist/ from `npx vite build` (scripts/test.mjs builds first).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page } from 'playwright-core';
import { DEMO_KEYS } from '../../dev-server/engine/demo-data.js';
import type { LiveRecord, RecordListResponse } from '../../protocol/index.js';
import { REPO_ROOT, type CliProcess } from '../support/cli-process.js';
import {
  demoListItems,
  eventually,
  launchChromium,
  serveDemo,
  type DemoListRow,
} from '../support/browser.js';
import { rest, sleep } from '../support/raw-client.js';

/** The list's query, as the page's markup must state it. */
const LIST = { object: 'orders', where: '{"status":"pending"}', sort: '-createdAt', limit: '8' };
/** The record the page follows. */
const RECORD_ID = 'o38';

const euros = new Intl.NumberFormat('en', { style: 'currency', currency: 'EUR' });

/** What one item of the list shows. */
type Row = DemoListRow;

describe('the demo page (demo/index.html)', () => {
  let server: CliProcess & { url: string };
  let browser: Browser;
  let page: Page;
  const scripts: string[] = [];
  const problems: string[] = [];

  const shown = (): Promise<Row[]> => demoListItems(page);

  /** The rows the list must show now: the same query through REST, with the page's key. */
  async function truth(limit = LIST.limit): Promise<Row[]> {
    const query = new URLSearchParams({ where: LIST.where, sort: LIST.sort, limit });
    const res = await rest(server, 'GET', `/api/objects/orders/records?${query}`, {
      key: DEMO_KEYS.publishable,
    });
    assert.equal(res.status, 200);
    return (res.body as RecordListResponse).records.map((record) => ({
      id: record.id,
      title: String(record.title),
      total: euros.format(Number(record.total)),
    }));
  }

  /** Waits until the list shows exactly what REST answers now. */
  async function listMatchesTruth(message: string): Promise<Row[]> {
    const expected = await truth();
    const rows = await eventually(
      shown,
      (rows) => JSON.stringify(rows) === JSON.stringify(expected),
      message,
    );
    assert.deepEqual(rows, expected);
    return rows;
  }

  /** A REST write with the demo's secret key, as a back office would make it. */
  async function write(method: string, path: string, body?: unknown): Promise<LiveRecord | undefined> {
    const res = await rest(server, method, path, { key: DEMO_KEYS.secret, body });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as LiveRecord | undefined;
  }

  /** What the `<live-record>` shows: its state and the text of its fields. */
  const record = () =>
    page.evaluate(() => {
      const root = document.querySelector('live-record')?.shadowRoot;
      // No named function in here: tsx would wrap it in a helper the page does not have.
      const [title, status, total] = ['title', 'status', 'total'].map(
        (field) => root?.querySelector(`[data-field="${field}"]`)?.textContent ?? '',
      );
      return {
        state: root?.querySelector('[part~="base"]')?.getAttribute('data-state') ?? '',
        title,
        status,
        total,
      };
    });

  before(async () => {
    server = await serveDemo(); // launchChromium checks that dist/ is built
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('requestfailed', (request) =>
      problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
    );
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    page.on('request', (request) => {
      if (request.resourceType() === 'script') scripts.push(request.url());
    });
    await page.goto(`${server.url}/`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('loads the script-tag build and no other script', async () => {
    assert.deepEqual(scripts, [`${server.url}/catalyst-elements.js`]);
    const inPage = await page.evaluate(() =>
      [...document.scripts].map((script) => ({
        src: script.src,
        type: script.type,
        inline: script.text.trim(),
      })),
    );
    assert.deepEqual(inPage, [{ src: `${server.url}/catalyst-elements.js`, type: 'module', inline: '' }]);
  });

  it('says it is live', async () => {
    const label = () =>
      page.evaluate(() => {
        const status = document.querySelector('live-status');
        return `${status?.getAttribute('state')}: ${status?.shadowRoot?.querySelector('[part~="label"]')?.textContent}`;
      });
    await eventually(label, (text) => text === 'open: Live', 'the status never said Live');
  });

  it('shows the newest pending orders of the snapshot, formatted', async () => {
    const stated = await page.$eval('live-record-list', (list) => ({
      object: list.getAttribute('object'),
      where: list.getAttribute('where'),
      sort: list.getAttribute('sort'),
      limit: list.getAttribute('limit'),
    }));
    assert.deepEqual(stated, LIST, 'the page states the query this test checks');
    const rows = await listMatchesTruth('the list never showed the snapshot');
    assert.equal(rows.length, 8, 'the demo data has more than 8 pending orders: the limit shows');
  });

  let created: LiveRecord;

  it('shows a new pending order at the top', async () => {
    created = (await write('POST', '/api/objects/orders/records', {
      title: '2 × Test lamp',
      status: 'pending',
      total: 64.5,
      customer: { name: 'Test Visitor', city: 'Testville' },
    })) as LiveRecord;
    const rows = await listMatchesTruth('the new order never appeared');
    assert.deepEqual(rows[0], { id: created.id, title: '2 × Test lamp', total: '€64.50' });
  });

  it('shows a change to an order it lists', async () => {
    const [, second] = await shown();
    assert.ok(second);
    await write('PATCH', `/api/objects/orders/records/${second.id}`, {
      total: 1234,
      title: '9 × Changed clock',
    });
    const rows = await listMatchesTruth('the change never showed');
    assert.deepEqual(rows[1], { id: second.id, title: '9 × Changed clock', total: '€1,234.00' });
  });

  it('drops an order that is no longer pending, and the next one moves up', async () => {
    const next = (await truth('9'))[8];
    assert.ok(next, 'a ninth pending order waits below the limit');
    await write('PATCH', `/api/objects/orders/records/${created.id}`, { status: 'paid' });
    const rows = await listMatchesTruth('the paid order never left');
    assert.ok(!rows.some((row) => row.id === created.id));
    assert.equal(rows.at(-1)?.id, next.id);
  });

  it('drops a deleted order', async () => {
    const [, , third] = await shown();
    assert.ok(third);
    await write('DELETE', `/api/objects/orders/records/${third.id}`);
    const rows = await listMatchesTruth('the deleted order never left');
    assert.ok(!rows.some((row) => row.id === third.id));
  });

  it('updates the live record', async () => {
    const stated = await page.$eval(
      'live-record',
      (element) => `${element.getAttribute('object')}/${element.getAttribute('record-id')}`,
    );
    assert.equal(stated, `orders/${RECORD_ID}`, 'the page follows the record this test changes');
    await eventually(
      record,
      (r) => r.state === 'ready' && r.title === '1 × Oak shelf' && r.status === 'paid',
      'the record never showed',
    );
    await write('PATCH', `/api/objects/orders/records/${RECORD_ID}`, { status: 'shipped', total: 77 });
    await eventually(
      record,
      (r) => r.status === 'shipped' && r.total === '€77.00',
      "the record's change never showed",
    );
  });

  it('keeps the last version of the record when it is deleted, and says so', async () => {
    await write('DELETE', `/api/objects/orders/records/${RECORD_ID}`);
    await eventually(record, (r) => r.state === 'removed', 'the record never showed as deleted');
    const removed = await page.evaluate(() => {
      const slot = document.querySelector('live-record [slot="removed"]');
      return {
        text: slot?.textContent?.trim(),
        visible: (slot as HTMLElement | null)?.offsetParent !== null,
      };
    });
    assert.deepEqual(removed, { text: 'This order was deleted. Its last version:', visible: true });
    assert.equal((await record()).total, '€77.00');
  });

  it('ran without a console error, an uncaught error or a failed request', () => {
    assert.deepEqual(problems, []);
  });
});

/** Opens a connection to `url` and sends half a request, which the server waits for. */
async function halfSentRequest(url: string): Promise<void> {
  const socket = createConnection(Number(new URL(url).port), '127.0.0.1');
  socket.on('error', () => undefined); // the server drops it when it stops
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET / HTTP/1.1\r\n');
}

describe('npm start (scripts/start.mjs)', () => {
  it('starts the dev server on the demo, prints the page URL, serves the page and the bundle, stops on Ctrl-C', async () => {
    const start = spawn(process.execPath, ['scripts/start.mjs', '--port', '0'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    start.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    start.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => start.on('exit', (code) => resolve(code)));
    let code: number | null;
    let url: string | undefined;
    try {
      // Up to a minute: it builds first when the sources are newer than dist/.
      await eventually(
        async () => stdout,
        (text) => /static files/.test(text),
        `start.mjs printed no "static files" line (stderr: ${stderr})`,
        60_000,
      );
      const lines = stdout.split('\n');
      url = /^catalyst-dev-server listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(lines[0] ?? '')?.[1];
      assert.ok(url, `first line: ${lines[0]}`);
      assert.equal(lines[1], `  demo page: ${url}/`);
      assert.ok(lines.includes('  simulating 2 writes/s'), stdout);

      const home = await fetch(`${url}/`);
      assert.equal(home.status, 200);
      assert.equal(home.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.match(await home.text(), /<script type="module" src="catalyst-elements.js"><\/script>/);
      const bundle = await fetch(`${url}/catalyst-elements.js`);
      assert.equal(bundle.status, 200);
      assert.equal(bundle.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.match(await bundle.text(), /live-record-list/);
    } finally {
      // Ctrl-C under npm: the terminal and npm both send SIGINT. One graceful stop must follow. A
      // half-sent request keeps the server closing for a moment, so the second SIGINT finds it so.
      if (url) await halfSentRequest(url);
      start.kill('SIGINT');
      await sleep(30); // apart, or the kernel merges them into one
      start.kill('SIGINT');
      const timer = setTimeout(() => start.kill('SIGKILL'), 10_000);
      code = await exited;
      clearTimeout(timer);
    }
    assert.equal(code, 0, `start.mjs stops gracefully on a doubled SIGINT (stderr: ${stderr})`);
    assert.match(stderr, /catalyst-dev-server: SIGINT, closing/);
  });
});
