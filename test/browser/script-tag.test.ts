/**
 * "A page built from only a script tag and HTML works": the built bundle (`npm run build`,
 * `dist/`) in an iframe whose document is DESIGN.md's first example, word for word but for the
 * url and key, against the real dev server. Nothing here imports the elements: the bundle alone
 * must define them, in the iframe's own window. Once with the ES module, once with the classic
 * script (IIFE).
 */
import { expect, waitUntil } from '@open-wc/testing';
import { startDevServer, type TestDevServer } from './support/dev-server.js';

const BUNDLES = {
  esm: '/dist/catalyst-elements.js',
  iife: '/dist/catalyst-elements.iife.js',
} as const;

/** The list's query, as the markup states it. */
const WHERE = { status: 'pending' };
const SORT = ['-createdAt'];
const LIMIT = 20;

/** 28 orders, 24 of them pending, one minute apart, so the list shows the 20 newest pending. */
const START = Date.parse('2025-03-01T09:00:00Z');
const ORDERS = Array.from({ length: 28 }, (_, i) => ({
  id: `o${String(i + 1).padStart(2, '0')}`,
  title: `Order ${i + 1}`,
  status: i % 7 === 3 ? 'paid' : 'pending',
  total: 10 + i * 2.5,
  createdAt: new Date(START + i * 60_000).toISOString(),
}));

const euros = new Intl.NumberFormat('en', { style: 'currency', currency: 'EUR' });

/** What one rendered item shows. */
type Row = { id: string | undefined; title: string | null | undefined; total: string | null | undefined };

/** DESIGN.md's first example with `src` as its one script. */
function pageHtml(server: TestDevServer, script: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Pending orders</title>
    ${script}
  </head>
  <body>
    <live-connection url="${server.url}" api-key="${server.keys.acmePublic}">
      <live-status></live-status>
      <live-record-list object="orders" where='{"status":"pending"}' sort="-createdAt" limit="20">
        <template><article><h3 data-field="title"></h3><b data-field="total" data-format="currency:EUR"></b></article></template>
        <p slot="empty">No pending orders.</p>
      </live-record-list>
    </live-connection>
  </body>
</html>`;
}

/** The page in an iframe, and what the test reads from it. */
class Page {
  private constructor(readonly frame: HTMLIFrameElement) {}

  /** Loads `html` into a new iframe; resolves once its scripts have run (`load`). */
  static async open(html: string): Promise<Page> {
    const frame = document.createElement('iframe');
    frame.srcdoc = html;
    const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    document.body.append(frame);
    await loaded;
    return new Page(frame);
  }

  get window(): Window & { CatalystElements?: Record<string, unknown> } {
    return this.frame.contentWindow as Window;
  }

  get list(): HTMLElement {
    return this.window.document.querySelector('live-record-list') as HTMLElement;
  }

  get status(): HTMLElement {
    return this.window.document.querySelector('live-status') as HTMLElement;
  }

  /** The items the list renders, in order. */
  rows(): Row[] {
    const items = this.list.shadowRoot?.querySelectorAll<HTMLElement>('li[part~="item"]') ?? [];
    return [...items].map((item) => ({
      id: item.dataset.id,
      title: item.querySelector('[data-field="title"]')?.textContent,
      total: item.querySelector('[data-field="total"]')?.textContent,
    }));
  }

  /** The words `<live-status>` shows. */
  statusLabel(): string | undefined {
    return this.status.shadowRoot?.querySelector('[part="label"]')?.textContent?.trim();
  }

  /** Whether the list shows its empty state with the author's `<p slot="empty">` in it. */
  showsEmptySlot(): boolean {
    const slot = this.list.shadowRoot?.querySelector<HTMLSlotElement>('[part="empty"] slot[name="empty"]');
    const assigned = slot?.assignedElements() ?? [];
    return assigned.length === 1 && assigned[0]?.textContent === 'No pending orders.';
  }

  close(): void {
    this.frame.remove();
  }
}

/** The rows the list must show now: the server's answer to the same query. */
async function truth(server: TestDevServer): Promise<Row[]> {
  const { records } = await server.query('orders', { where: WHERE, sort: SORT, limit: LIMIT });
  return records.map((record) => ({
    id: record.id,
    title: record.title as string,
    total: euros.format(record.total as number),
  }));
}

/** Waits until the list shows what the server holds; fails with the difference if it never does. */
async function expectListMatchesServer(page: Page, server: TestDevServer, what: string): Promise<Row[]> {
  const expected = await truth(server);
  const same = () => JSON.stringify(page.rows()) === JSON.stringify(expected);
  await waitUntil(same, what, { timeout: 3000 }).catch(() => undefined);
  expect(page.rows(), what).to.deep.equal(expected);
  return expected;
}

/** The scenario both bundles go through. */
async function showsLivePendingOrders(page: Page, server: TestDevServer): Promise<void> {
  // The bundle defined the elements in the iframe's window, and only there.
  for (const name of ['live-connection', 'live-record-list', 'live-record', 'live-status']) {
    expect(page.window.customElements.get(name), `the bundle did not define <${name}>`).to.be.a('function');
  }
  expect(customElements.get('live-record-list'), 'the test page itself has no elements').to.equal(undefined);

  // The 20 newest pending orders, formatted by the template, and the status says Live.
  const initial = await expectListMatchesServer(page, server, 'the first snapshot');
  expect(initial).to.have.length(LIMIT);
  expect(initial[0]).to.deep.equal({ id: 'o28', title: 'Order 28', total: '€77.50' });
  await waitUntil(() => page.statusLabel() === 'Live', `<live-status> says ${page.statusLabel()}`);
  expect(page.status.getAttribute('state')).to.equal('open');
  expect(page.showsEmptySlot()).to.equal(false);
  // The status and the list share the page's one connection.
  expect((await server.healthz()).connections).to.equal(1);

  // A new pending order comes in at the top; the 20th drops off.
  await server.create('orders', { id: 'new', title: 'Fresh order', status: 'pending', total: 1234.5 });
  const afterCreate = await expectListMatchesServer(page, server, 'after a create');
  expect(afterCreate[0]).to.deep.equal({ id: 'new', title: 'Fresh order', total: '€1,234.50' });
  expect(afterCreate.map((row) => row.id)).not.to.include(initial.at(-1)?.id);

  // One order is paid (it leaves, the next pending one comes back in); another is renamed.
  await server.write([
    { op: 'patch', object: 'orders', id: 'o27', patch: { status: 'paid' } },
    { op: 'patch', object: 'orders', id: 'o26', patch: { title: 'Renamed order', total: 5 } },
  ]);
  const afterPatch = await expectListMatchesServer(page, server, 'after two patches');
  expect(afterPatch.map((row) => row.id)).not.to.include('o27');
  expect(afterPatch).to.deep.include({ id: 'o26', title: 'Renamed order', total: '€5.00' });

  // A deleted order leaves.
  await server.remove('orders', 'new');
  const afterDelete = await expectListMatchesServer(page, server, 'after a delete');
  expect(afterDelete.map((row) => row.id)).not.to.include('new');

  // Once no order is pending, the author's empty slot shows.
  const { records: pending } = await server.query('orders', { where: WHERE });
  await server.write(
    pending.map((record) => ({ op: 'patch', object: 'orders', id: record.id, patch: { status: 'paid' } })),
  );
  await expectListMatchesServer(page, server, 'after every order is paid');
  await waitUntil(() => page.showsEmptySlot(), 'the empty slot never showed');
  expect(page.statusLabel()).to.equal('Live');
}

describe('a page built from only a script tag and HTML', () => {
  let server: TestDevServer;
  let page: Page | undefined;

  before(async () => {
    for (const path of Object.values(BUNDLES)) {
      const response = await fetch(path);
      if (!response.ok) throw new Error(`${path} answered ${response.status}: run \`npm run build\` first`);
    }
  });
  beforeEach(async () => {
    // A fresh server (and data) for each bundle.
    server = await startDevServer({ config: { records: { acme: { production: { orders: ORDERS } } } } });
  });
  afterEach(() => {
    page?.close();
    page = undefined;
  });
  after(async () => {
    if (server) await server.close(); // undefined when the bundle was missing
  });

  it('works with the ES module: <script type="module" src>', async () => {
    page = await Page.open(pageHtml(server, `<script type="module" src="${BUNDLES.esm}"></script>`));
    await showsLivePendingOrders(page, server);
  });

  it('works with the classic script: <script src>', async () => {
    page = await Page.open(pageHtml(server, `<script src="${BUNDLES.iife}"></script>`));
    expect(page.window.CatalystElements?.connect, 'window.CatalystElements.connect').to.be.a('function');
    await showsLivePendingOrders(page, server);
  });
});
