/**
 * What the elements do with what they must not trust: keys the server refuses, and record values
 * that look like markup. A refused key ends in a visible error and no retry storm; record values
 * are text in every element, with and without a template, in every format, and no script runs.
 */
import { expect } from '@open-wc/testing';
import type { LiveRecordElement, LiveRecordListElement, LiveStatusElement } from '../../elements/index.js';
import { startDevServer, type TestDevServer } from './support/dev-server.js';
import {
  WireSpy,
  closeConnections,
  errorLog,
  errorMessage,
  fastConnection,
  item,
  mount,
  noConnectionsLeft,
  part,
  shownIds,
  text,
  unmountAll,
  wsAuthRequests,
  until,
  itOnWebSocket,
} from './support/elements.js';

declare global {
  interface Window {
    /** Set by any payload script that manages to run. */
    __xss?: string;
    /** Set by the control image that proves an `onerror` had the time to run. */
    __control?: boolean;
  }
}

const UNKNOWN_KEY = 'pk_test_nobody';

describe('keys the server refuses', () => {
  let server: TestDevServer;

  beforeEach(async () => {
    server = await startDevServer();
    performance.clearResourceTimings();
  });
  afterEach(async () => {
    unmountAll();
    closeConnections(server, UNKNOWN_KEY);
    await noConnectionsLeft(server);
  });
  after(async () => {
    await server.close();
  });

  itOnWebSocket('shows 4003 for an object the key may not read, and never asks for it again', async () => {
    const spy = new WireSpy(server);
    fastConnection(server, server.keys.acmeProductsOnly);
    try {
      const page = mount(
        `<live-connection url="${server.url}" api-key="${server.keys.acmeProductsOnly}">
          <live-status></live-status>
          <live-record-list object="orders"></live-record-list>
          <live-record-list object="products"></live-record-list>
        </live-connection>`,
      );
      const [orders, products] = [...page.querySelectorAll('live-record-list')] as LiveRecordListElement[];
      const status = page.querySelector('live-status') as LiveStatusElement;
      const errors = errorLog(orders as LiveRecordListElement);
      const list = orders as LiveRecordListElement;

      await until(() => part(list, 'error') !== null, 'the orders list shows no error');
      expect(errorMessage(list)).to.equal('this key may not read "orders"');
      expect(errors.details).to.have.length(1);
      expect(errors.details[0]).to.include({ source: 'subscription', code: 4003, name: 'scope_denied' });
      await until(() => shownIds(products as LiveRecordListElement).join() === 'p1', 'no products');
      expect(text(part(status, 'label')), 'the connection itself is fine').to.equal('Live');

      // A reconnect re-sends every live subscription: the refused one is not among them.
      await server.restart();
      await until(() => spy.of('subscribe', 'records:products').length === 2, 'products never resumed');
      await server.create('products', { id: 'p2', title: 'Chair', price: 40 });
      await until(() => shownIds(products as LiveRecordListElement).join() === 'p1,p2', 'no new product');
      expect(spy.of('subscribe', 'records:orders')).to.have.length(1);
      expect(errors.details).to.have.length(1);
      expect(errorMessage(list)).to.equal('this key may not read "orders"');
    } finally {
      spy.uninstall();
    }
  });

  itOnWebSocket('lets the socket go when its only subscription is refused', async () => {
    const list = mount<LiveRecordListElement>(
      `<live-record-list url="${server.url}" api-key="${server.keys.acmeProductsOnly}" object="orders"></live-record-list>`,
    );
    await until(() => part(list, 'error') !== null, 'the orders list shows no error');
    await noConnectionsLeft(server);
    expect(wsAuthRequests()).to.equal(1);
  });

  it('shows "Access denied" for an unknown key and asks for no more tokens', async () => {
    const page = mount(
      `<live-connection url="${server.url}" api-key="${UNKNOWN_KEY}">
        <live-status></live-status>
        <live-record-list object="orders"></live-record-list>
      </live-connection>`,
    );
    const status = page.querySelector('live-status') as LiveStatusElement;
    const list = page.querySelector('live-record-list') as LiveRecordListElement;
    const errors = errorLog(list);

    await until(() => text(part(status, 'label')) === 'Access denied', 'never denied');
    expect(status.getAttribute('state')).to.equal('denied');
    await until(() => part(list, 'error') !== null, 'the list shows no error');
    expect(errorMessage(list)).to.match(/^access denied: .+/);
    expect(errors.details[0]).to.include({ source: 'connection', code: 401 });

    // Nothing makes it try again with the same key: not the network coming back, not another element.
    window.dispatchEvent(new Event('online'));
    page.insertAdjacentHTML('beforeend', '<live-record object="orders" record-id="o1"></live-record>');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(wsAuthRequests()).to.equal(1);
    expect(text(part(status, 'label'))).to.equal('Access denied');
    expect((await server.healthz()).connections).to.equal(0);
  });
});

/** Markup in record values, each setting `window.__xss` should it ever run. */
const PAYLOADS = {
  img: `<img src=x onerror="window.__xss='img'">`,
  script: `"><script>window.__xss='script'</script>`,
  svg: `<svg onload="window.__xss='svg'"><circle r="1"></circle></svg>`,
  iframe: `<iframe srcdoc="<script>parent.__xss='iframe'</script>"></iframe>`,
  style: `</style><style>*{display:none}</style><b onmouseover="window.__xss='b'">hover</b>`,
};

/** Every `data-format`, and none. */
const FORMATS = ['', 'number', 'integer', 'percent', 'currency:EUR', 'date', 'datetime', 'time', 'relative'];

/** The field paths that carry payloads: top level and nested. */
const FIELDS = ['title', 'note', 'customer.name', 'customer.address.city', 'tags'];

/** A record whose every text field is a payload; `id` may be one too. */
function hostileRecord(id: string, shift = 0): Record<string, unknown> {
  const values = Object.values(PAYLOADS);
  const at = (i: number) => values[(i + shift) % values.length] as string;
  return {
    id,
    title: at(0),
    note: at(1),
    total: at(2),
    createdAt: at(3),
    customer: { name: at(4), address: { city: at(0) } },
    tags: at(1),
    [PAYLOADS.img.replace(/\./g, '')]: at(2), // a field name that looks like markup
  };
}

/** A template binding every payload field in every format. */
const HOSTILE_TEMPLATE = `<template><style>b { color: red }</style><div>${FIELDS.flatMap((field) =>
  FORMATS.map((format) => `<span data-field="${field}"${format ? ` data-format="${format}"` : ''}></span>`),
).join('')}</div></template>`;

/** Markup the elements must never have created in their shadow roots. */
const INJECTED = 'img, script, svg, iframe, b, [onerror], [onload], [onmouseover], [srcdoc]';

describe('record values that look like markup', () => {
  let server: TestDevServer;
  const hostileId = `"><img src=x onerror="window.__xss='id'">`;

  beforeEach(async () => {
    server = await startDevServer();
    delete window.__xss;
    delete window.__control;
  });
  afterEach(async () => {
    unmountAll();
    closeConnections(server);
    await noConnectionsLeft(server);
  });
  after(async () => {
    await server.close();
  });

  /** Every `data-field` node of `root` shows exactly the raw value of its path. */
  function expectBoundText(root: Element | undefined | null, record: Record<string, unknown>): void {
    expect(root, 'the record is rendered').to.be.instanceOf(Element);
    const nodes = [...(root as Element).querySelectorAll<HTMLElement>('[data-field]')];
    expect(nodes).to.have.length(FIELDS.length * FORMATS.length);
    for (const node of nodes) {
      const path = node.dataset.field as string;
      const value = path
        .split('.')
        .reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], record);
      expect(node.textContent, `${path} as ${node.dataset.format ?? 'text'}`).to.equal(value);
      expect(node.children, `${path} as ${node.dataset.format ?? 'text'} has no elements`).to.have.length(0);
    }
  }

  /** The default rendering: each field's name and value, as text (objects as JSON). */
  function expectFieldList(root: Element | undefined | null, record: Record<string, unknown>): void {
    expect(root, 'the record is rendered').to.be.instanceOf(Element);
    const shown = new Map(
      [...(root as Element).querySelectorAll('[part~="field"]')].map((field) => [
        field.querySelector('[part~="field-name"]')?.textContent?.trim(),
        field.querySelector('[part~="field-value"]')?.textContent?.trim(),
      ]),
    );
    for (const [name, value] of Object.entries(record)) {
      if (typeof value === 'string') expect(shown.get(name), name).to.equal(value);
      else expect(JSON.parse(shown.get(name) ?? 'null'), name).to.deep.equal(value);
    }
    expect((root as Element).querySelectorAll(INJECTED)).to.have.length(0);
  }

  /** Nothing parsed from a value: no element the template did not have, no script that ran. */
  async function expectNothingRan(...elements: Element[]): Promise<void> {
    // A control that does run: once its onerror fired, a payload's would have fired too.
    mount('<img src="data:," onerror="window.__control = true" alt="">');
    await until(() => window.__control === true, 'the control image never errored');
    for (const element of elements) {
      expect(
        [...(element.shadowRoot?.querySelectorAll(INJECTED) ?? [])].map((node) => node.outerHTML),
      ).to.deep.equal([]);
    }
    expect(window.__xss, 'a payload ran').to.equal(undefined);
    delete window.__control;
  }

  it('renders them as text in <live-record-list>, with a template, in every format', async () => {
    await server.create('orders', hostileRecord(hostileId));
    const list = mount<LiveRecordListElement>(
      `<live-record-list url="${server.url}" api-key="${server.keys.acmeSecret}" object="orders" locale="en-US" where='{"title":{"$exists":true}}'>${HOSTILE_TEMPLATE}</live-record-list>`,
    );
    await until(() => shownIds(list).length === 1, 'the snapshot never rendered');
    expect(shownIds(list)).to.deep.equal([hostileId]);
    expectBoundText(item(list, hostileId), hostileRecord(hostileId));

    // Through events too: a new record and a changed one.
    await server.create('orders', hostileRecord('h2', 1));
    await server.write([
      { op: 'patch', object: 'orders', id: hostileId, patch: hostileRecord(hostileId, 2) },
    ]);
    await until(() => shownIds(list).length === 2, 'the new record never arrived');
    await until(
      () => item(list, hostileId)?.querySelector('[data-field="title"]')?.textContent === PAYLOADS.svg,
      'the update never arrived',
    );
    expectBoundText(item(list, 'h2'), hostileRecord('h2', 1));
    expectBoundText(item(list, hostileId), hostileRecord(hostileId, 2));
    await expectNothingRan(list);
  });

  it('renders them as text in <live-record-list> without a template', async () => {
    const record = hostileRecord('h3');
    await server.create('orders', record);
    const list = mount<LiveRecordListElement>(
      `<live-record-list url="${server.url}" api-key="${server.keys.acmeSecret}" object="orders" where='{"title":{"$exists":true}}'></live-record-list>`,
    );
    await until(() => shownIds(list).length === 1, 'the snapshot never rendered');
    expectFieldList(item(list, 'h3'), record);
    await expectNothingRan(list);
  });

  it('renders them as text in <live-record>, with and without a template', async () => {
    await server.create('orders', hostileRecord(hostileId));
    const withTemplate = mount<LiveRecordElement>(
      `<live-record url="${server.url}" api-key="${server.keys.acmeSecret}" object="orders" locale="en-US">${HOSTILE_TEMPLATE}</live-record>`,
    );
    const plain = mount<LiveRecordElement>(
      `<live-record url="${server.url}" api-key="${server.keys.acmeSecret}" object="orders"></live-record>`,
    );
    // As properties: the id is a payload too.
    withTemplate.recordId = hostileId;
    plain.recordId = hostileId;
    const ready = (element: Element) => part(element, 'base')?.dataset.state === 'ready';
    await until(() => ready(withTemplate) && ready(plain), 'the record never loaded');
    expectBoundText(part(withTemplate, 'record'), hostileRecord(hostileId));
    expectFieldList(part(plain, 'fields'), { ...hostileRecord(hostileId), id: hostileId });

    await server.write([
      { op: 'patch', object: 'orders', id: hostileId, patch: hostileRecord(hostileId, 3) },
    ]);
    await until(
      () =>
        part(withTemplate, 'record')?.querySelector('[data-field="title"]')?.textContent === PAYLOADS.iframe,
      'the update never arrived',
    );
    expectBoundText(part(withTemplate, 'record'), hostileRecord(hostileId, 3));
    await server.remove('orders', hostileId);
    await until(() => part(withTemplate, 'base')?.dataset.state === 'removed', 'the removal never showed');
    expectBoundText(part(withTemplate, 'record'), hostileRecord(hostileId, 3));
    await expectNothingRan(withTemplate, plain);
  });
});
