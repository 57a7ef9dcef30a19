/**
 * `<live-record>` in Chromium against the real dev server: one record, rendered, followed through
 * REST writes, and shown as removed when deleted.
 */
import { expect } from '@open-wc/testing';
import type { LiveChangeDetail, LiveRecordElement } from '../../elements/index.js';
import { startDevServer, type TestDevServer } from './support/dev-server.js';
import {
  EventLog,
  closeConnections,
  errorLog,
  errorMessage,
  mount,
  noConnectionsLeft,
  part,
  parts,
  slotText,
  text,
  unmountAll,
  until,
} from './support/elements.js';

const ORDERS = [
  {
    id: 'o1',
    status: 'pending',
    total: 1234.5,
    createdAt: '2025-03-05T12:00:00.000Z',
    customer: { name: 'Ada', address: { city: 'London' } },
  },
  { id: 'o2', status: 'paid', total: 250, customer: { name: 'Grace', address: { city: 'New York' } } },
];

const TEMPLATE = `<template>
  <h3 data-field="customer.name"></h3>
  <span data-field="customer.address.city"></span>
  <b data-field="total" data-format="currency:EUR"></b>
  <em data-field="status"></em>
</template>`;

describe('<live-record>', () => {
  let server: TestDevServer;

  function record(attributes: string, content = TEMPLATE): LiveRecordElement {
    return mount<LiveRecordElement>(
      `<live-record url="${server.url}" api-key="${server.keys.acmePublic}" object="orders" locale="en-US" ${attributes}>${content}</live-record>`,
    );
  }

  /** What the record part shows, read through the template's fields. */
  function shown(element: Element): Record<string, string> {
    const root = part(element, 'record');
    const read = (selector: string) => root?.querySelector(selector)?.textContent ?? '';
    return { name: read('h3'), city: read('span'), total: read('b'), status: read('em') };
  }

  const state = (element: Element) => part(element, 'base')?.dataset.state;

  beforeEach(async () => {
    server = await startDevServer({ config: { records: { acme: { production: { orders: ORDERS } } } } });
  });
  afterEach(async () => {
    unmountAll();
    closeConnections(server);
    await noConnectionsLeft(server);
  });
  after(async () => {
    await server.close();
  });

  it('renders the record through its template and follows every change', async () => {
    const element = record('record-id="o1"');
    const changes = new EventLog<LiveChangeDetail>(element, 'live-change');
    await until(() => state(element) === 'ready', 'the record never loaded');
    expect(shown(element)).to.deep.equal({
      name: 'Ada',
      city: 'London',
      total: '€1,234.50',
      status: 'pending',
    });
    expect(changes.details.map((change) => change.reason)).to.deep.equal(['snapshot']);

    await server.patch('orders', 'o1', { status: 'paid', customer: { address: { city: 'Paris' } } });
    await until(() => shown(element).status === 'paid', 'the update never arrived');
    expect(shown(element)).to.deep.equal({ name: 'Ada', city: 'Paris', total: '€1,234.50', status: 'paid' });
    expect(part(element, 'record')?.getAttribute('part')).to.equal('record changed');
    expect(part(element, 'record')?.dataset.changed).to.equal('modified');
    await until(() => changes.details.length === 2, 'no live-change for the update');
    expect(changes.last?.modified.map((change) => change.id)).to.deep.equal(['o1']);
    expect(element.record).to.include({ id: 'o1', status: 'paid' });

    // Writes to another record do not touch this one: o2's change comes first, o1's after it.
    await server.patch('orders', 'o2', { status: 'refunded' });
    await server.patch('orders', 'o1', { total: 10 });
    await until(() => shown(element).total === '€10.00', 'the second update never arrived');
    expect(changes.details.map((change) => change.reason)).to.deep.equal(['snapshot', 'events', 'events']);
  });

  it('renders its fields as a list without a template', async () => {
    const element = record('record-id="o2" fields="status, customer.name"', '');
    await until(() => state(element) === 'ready', 'the record never loaded');
    const names = parts(element, 'field-name').map((node) => text(node));
    const values = parts(element, 'field-value').map((node) => text(node));
    expect(names).to.deep.equal(['status', 'customer.name']);
    expect(values).to.deep.equal(['paid', 'Grace']);
  });

  it('shows the removed state with its last version when the record is deleted', async () => {
    const element = record('record-id="o1"');
    const changes = new EventLog<LiveChangeDetail>(element, 'live-change');
    await until(() => state(element) === 'ready', 'the record never loaded');

    await server.remove('orders', 'o1');
    await until(() => state(element) === 'removed', 'the deletion never showed');
    expect(part(element, 'removed'), 'the removed part').to.be.instanceOf(HTMLElement);
    expect(slotText(element, 'removed')).to.equal('This record was deleted.');
    expect(shown(element).name, 'the last version stays, dimmed').to.equal('Ada');
    expect(part(element, 'removed')?.contains(part(element, 'record'))).to.equal(true);
    expect(element.removed).to.equal(true);
    await until(() => changes.details.length === 2, 'no live-change for the deletion');
    expect(changes.last?.removed.map((change) => change.id)).to.deep.equal(['o1']);
    expect(changes.last?.records).to.deep.equal([]);
  });

  it('shows the author’s removed slot', async () => {
    const element = record('record-id="o2"', `${TEMPLATE}<p slot="removed">Order cancelled.</p>`);
    await until(() => state(element) === 'ready', 'the record never loaded');
    await server.remove('orders', 'o2');
    await until(() => state(element) === 'removed', 'the deletion never showed');
    expect(slotText(element, 'removed')).to.equal('Order cancelled.');
  });

  it('shows not found, then the record once it is created', async () => {
    const element = record('record-id="o9"');
    await until(() => state(element) === 'empty', 'the not-found state never showed');
    expect(slotText(element, 'empty')).to.equal('Not found.');

    await server.create('orders', { id: 'o9', status: 'pending', total: 5, customer: { name: 'Lin' } });
    await until(() => state(element) === 'ready', 'the created record never showed');
    expect(shown(element)).to.deep.equal({ name: 'Lin', city: '', total: '€5.00', status: 'pending' });
  });

  it('follows another record when record-id changes', async () => {
    const element = record('record-id="o1"');
    await until(() => state(element) === 'ready', 'the record never loaded');
    element.setAttribute('record-id', 'o2');
    await until(() => shown(element).name === 'Grace', 'the other record never loaded');
    await server.patch('orders', 'o1', { customer: { name: 'Ada L.' } });
    await server.patch('orders', 'o2', { customer: { name: 'Grace H.' } });
    await until(() => shown(element).name === 'Grace H.', 'the new record’s update never arrived');
    expect(element.record?.id).to.equal('o2');
  });

  it('shows an error and fires live-error without a record-id', async () => {
    const element = record('');
    const errors = errorLog(element);
    await until(() => state(element) === 'error', 'no error state');
    expect(errorMessage(element)).to.equal('record-id is required: the id of the record to show');
    expect(part(element, 'error')?.getAttribute('role')).to.equal('alert');
    expect(errors.details).to.have.length(1);
    expect(errors.details[0]).to.include({ source: 'attribute', message: errorMessage(element) });
  });
});
