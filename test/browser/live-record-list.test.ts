/**
 * `<live-record-list>` in Chromium against the real dev server: what a page shows from the
 * snapshot, through REST writes, filter and window changes, and invalid attributes.
 */
import { expect } from '@open-wc/testing';
import { emulateMedia } from '@web/test-runner-commands';
import type { LiveChangeDetail, LiveRecordListElement } from '../../elements/index.js';
import type { LiveRecord } from '../../protocol/index.js';
import { startDevServer, type TestDevServer } from './support/dev-server.js';
import {
  ChangeLedger,
  EventLog,
  WireSpy,
  attr,
  closeConnections,
  errorLog,
  errorMessage,
  expectListMatches,
  item,
  mount,
  noConnectionsLeft,
  part,
  parts,
  seededRandom,
  shownIds,
  slotText,
  text,
  unmountAll,
  until,
  itOnWebSocket,
} from './support/elements.js';

/** The orders every test starts from (acme, production). */
const ORDERS = [
  {
    id: 'o1',
    status: 'pending',
    total: 1234.5,
    createdAt: '2025-03-05T12:00:00.000Z',
    customer: { name: 'Ada', address: { city: 'London' } },
  },
  {
    id: 'o2',
    status: 'paid',
    total: 250,
    createdAt: '2025-01-10T12:00:00.000Z',
    customer: { name: 'Grace', address: { city: 'New York' } },
  },
  {
    id: 'o3',
    status: 'pending',
    total: 99,
    createdAt: '2024-12-24T12:00:00.000Z',
    customer: { name: 'Alan', address: { city: 'Manchester' } },
  },
];

/** A template that shows a record's id, status and total as plain text. */
const ROW = `<template><span data-field="id"></span> <span data-field="status"></span> <span data-field="total"></span></template>`;

describe('<live-record-list>', () => {
  let server: TestDevServer;

  /** A `<live-record-list>` with `attributes` on this test's server, with the acme publishable key. */
  function list(attributes: string, content = ROW): LiveRecordListElement {
    return mount<LiveRecordListElement>(
      `<live-record-list url="${server.url}" api-key="${server.keys.acmePublic}" ${attributes}>${content}</live-record-list>`,
    );
  }

  /** The `id status total` line of each item, as the user reads them. */
  function rows(element: Element): string[] {
    return parts(element, 'item').map((row) => text(row));
  }

  beforeEach(async () => {
    // A fresh server per test: every test starts from ORDERS and no connection.
    server = await startDevServer({
      config: { records: { acme: { production: { orders: ORDERS, products: [] } } } },
    });
  });
  afterEach(async () => {
    unmountAll();
    closeConnections(server);
    await noConnectionsLeft(server);
  });
  after(async () => {
    await server.close();
  });

  describe('snapshot', () => {
    it('renders the snapshot through a template with nested paths and every format', async () => {
      const element = list(
        'object="orders" sort="id" locale="en-US"',
        `<template>
          <article>
            <h3 data-field="customer.name"></h3>
            <span data-field="customer.address.city"></span>
            <em data-field="customer.phone"></em>
            <b data-field="total" data-format="currency:EUR"></b>
            <i data-field="total" data-format="number"></i>
            <time data-field="createdAt" data-format="date"></time>
            <small data-field="createdAt" data-format="relative"></small>
          </article>
        </template>`,
      );
      await until(() => shownIds(element).length === 3, 'the snapshot never rendered');

      expect(shownIds(element)).to.deep.equal(['o1', 'o2', 'o3']);
      expect(part(element, 'list')?.getAttribute('role')).to.equal('list');
      const first = item(element, 'o1');
      const read = (selector: string) => first?.querySelector(selector)?.textContent;
      expect(read('h3')).to.equal('Ada');
      expect(read('span')).to.equal('London');
      expect(read('em'), 'a missing path shows as empty text').to.equal('');
      expect(read('b')).to.equal('€1,234.50');
      expect(read('i')).to.equal('1,234.5');
      expect(read('time')).to.equal('Mar 5, 2025');
      expect(read('small')).to.match(/ago$/);
      expect(item(element, 'o2')?.querySelector('span')?.textContent).to.equal('New York');
      expect(item(element, 'o3')?.querySelector('b')?.textContent).to.equal('€99.00');

      // Relative time from now, both ways.
      const minutesAgo = new Date(Date.now() - 3 * 60_000).toISOString();
      const inTwoDays = new Date(Date.now() + 2 * 86_400_000 + 60_000).toISOString();
      await server.write([
        { op: 'create', object: 'orders', record: { id: 'o4', createdAt: minutesAgo, total: 0.5 } },
        { op: 'create', object: 'orders', record: { id: 'o5', createdAt: inTwoDays, total: 7 } },
      ]);
      await until(() => shownIds(element).length === 5, 'the new orders never arrived');
      expect(item(element, 'o4')?.querySelector('small')?.textContent).to.equal('3 minutes ago');
      expect(item(element, 'o5')?.querySelector('small')?.textContent).to.equal('in 2 days');
      expect(item(element, 'o4')?.querySelector('b')?.textContent).to.equal('€0.50');
    });

    it('renders each record as a list of its fields without a template', async () => {
      const element = list('object="orders" sort="-total" fields="customer.name, total" locale="en-US"', '');
      await until(() => shownIds(element).length === 3, 'the snapshot never rendered');
      expect(shownIds(element)).to.deep.equal(['o1', 'o2', 'o3']);
      const first = item(element, 'o1') as HTMLElement;
      const names = [...first.querySelectorAll('[part~="field-name"]')].map((node) => text(node));
      const values = [...first.querySelectorAll('[part~="field-value"]')].map((node) => text(node));
      expect(names).to.deep.equal(['customer.name', 'total']);
      expect(values).to.deep.equal(['Ada', '1234.5']);
    });

    it('shows the loading slot until the snapshot, then the empty slot when nothing matches', async () => {
      const element = list(
        `object="orders" where='{"status":"refunded"}'`,
        `${ROW}<p slot="loading">Fetching orders…</p><p slot="empty">No refunded orders.</p>`,
      );
      await element.updateComplete;
      expect(part(element, 'loading'), 'loading before the snapshot').to.be.instanceOf(HTMLElement);
      expect(slotText(element, 'loading')).to.equal('Fetching orders…');
      expect(part(element, 'base')?.getAttribute('aria-busy')).to.equal('true');

      await until(() => part(element, 'empty') !== null, 'the empty state never showed');
      expect(slotText(element, 'empty')).to.equal('No refunded orders.');
      expect(part(element, 'loading')).to.equal(null);
      expect(part(element, 'base')?.getAttribute('aria-busy')).to.equal('false');

      await server.create('orders', { id: 'r1', status: 'refunded', total: 1 });
      await until(() => shownIds(element).length === 1, 'the matching order never arrived');
      expect(part(element, 'empty')).to.equal(null);
      expect(rows(element)).to.deep.equal(['r1 refunded 1']);
    });
  });

  describe('live changes', () => {
    it('shows records created, updated and deleted through REST, in place and in sort order', async () => {
      const element = list('object="orders" sort="-total"');
      const changes = new EventLog<LiveChangeDetail>(element, 'live-change');
      await until(() => shownIds(element).length === 3, 'the snapshot never rendered');
      expect(rows(element)).to.deep.equal(['o1 pending 1234.5', 'o2 paid 250', 'o3 pending 99']);
      const o3 = item(element, 'o3');

      await server.create('orders', { id: 'o4', status: 'pending', total: 500 });
      await until(() => shownIds(element).length === 4, 'the created order never arrived');
      expect(shownIds(element)).to.deep.equal(['o1', 'o4', 'o2', 'o3']);

      await server.patch('orders', 'o3', { total: 5000, status: 'paid' });
      await until(() => shownIds(element)[0] === 'o3', 'the update never moved o3 up');
      expect(rows(element)).to.deep.equal([
        'o3 paid 5000',
        'o1 pending 1234.5',
        'o4 pending 500',
        'o2 paid 250',
      ]);
      expect(item(element, 'o3'), 'the item keeps its DOM (keyed, in place)').to.equal(o3);

      await server.remove('orders', 'o2');
      await until(() => shownIds(element).length === 3, 'the deleted order never left');
      expect(shownIds(element)).to.deep.equal(['o3', 'o1', 'o4']);

      const batches = changes.details.filter((change) => change.reason === 'events');
      const ids = (records: readonly LiveRecord[]) => records.map((record) => record.id);
      expect(
        batches.map((change) => [ids(change.added), ids(change.modified), ids(change.removed)]),
      ).to.deep.equal([
        [['o4'], [], []],
        [[], ['o3'], []],
        [[], [], ['o2']],
      ]);
      await expectListMatches(element, server, 'orders', { sort: ['-total'] });
    });

    it('removes a record that leaves the filter and inserts one that enters it in sort position', async () => {
      const element = list(`object="orders" where='{"status":"pending"}' sort="-total"`);
      await until(() => shownIds(element).length === 2, 'the snapshot never rendered');
      expect(shownIds(element)).to.deep.equal(['o1', 'o3']);

      await server.patch('orders', 'o1', { status: 'paid' });
      await until(() => !shownIds(element).includes('o1'), 'o1 stayed after leaving the filter');
      expect(shownIds(element)).to.deep.equal(['o3']);

      await server.patch('orders', 'o2', { status: 'pending' });
      await until(() => shownIds(element).includes('o2'), 'o2 never entered');
      expect(shownIds(element)).to.deep.equal(['o2', 'o3']);

      await server.create('orders', { id: 'o5', status: 'pending', total: 150 });
      await until(() => shownIds(element).includes('o5'), 'o5 never entered');
      expect(rows(element)).to.deep.equal(['o2 pending 250', 'o5 pending 150', 'o3 pending 99']);
      await expectListMatches(element, server, 'orders', { where: { status: 'pending' }, sort: ['-total'] });
    });

    it('refills the window with a fresh snapshot when a removal leaves fewer than limit', async () => {
      const element = list('object="orders" sort="id" limit="2"');
      const ledger = new ChangeLedger(element);
      await until(() => shownIds(element).length === 2, 'the snapshot never rendered');
      expect(shownIds(element)).to.deep.equal(['o1', 'o2']);

      // o3 was never sent (outside the window): only a fresh snapshot can bring it in.
      await server.remove('orders', 'o1');
      await until(() => shownIds(element).join() === 'o2,o3', 'the window was never refilled');
      expect(ledger.snapshots).to.equal(2);
      expect(ledger.problems).to.deep.equal([]);
      await expectListMatches(element, server, 'orders', { sort: ['id'], limit: 2 });
    });

    it('applies a batch of writes in one render and one live-change', async () => {
      // A long flush interval: the five writes reach the page as one batch.
      server = await startDevServer({
        limits: { flushIntervalMs: 300 },
        config: { records: { acme: { production: { orders: ORDERS } } } },
      });
      const element = list('object="orders" sort="id"');
      const changes = new EventLog<LiveChangeDetail>(element, 'live-change');
      await until(() => shownIds(element).length === 3, 'the snapshot never rendered');
      let renders = 0;
      new MutationObserver(() => renders++).observe(element.shadowRoot as ShadowRoot, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });

      await server.write([
        { op: 'create', object: 'orders', record: { id: 'o4', status: 'pending', total: 4 } },
        { op: 'create', object: 'orders', record: { id: 'o5', status: 'pending', total: 5 } },
        { op: 'patch', object: 'orders', id: 'o1', patch: { total: 1 } },
        { op: 'remove', object: 'orders', id: 'o2' },
        { op: 'create', object: 'orders', record: { id: 'o6', status: 'pending', total: 6 } },
      ]);
      await until(() => changes.details.length === 2, 'the batch never arrived');
      const batch = changes.last as LiveChangeDetail;
      const ids = (records: readonly LiveRecord[]) => records.map((record) => record.id);
      expect([ids(batch.added), ids(batch.modified), ids(batch.removed)]).to.deep.equal([
        ['o4', 'o5', 'o6'],
        ['o1'],
        ['o2'],
      ]);
      expect(shownIds(element)).to.deep.equal(['o1', 'o3', 'o4', 'o5', 'o6']);
      expect(renders, 'DOM mutations delivered in one go').to.equal(1);
    });

    it('keeps sort and limit true through 200 random writes', async function () {
      this.timeout(20_000);
      const random = seededRandom(20_250_305);
      const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
      const statuses = ['pending', 'paid', 'cancelled'];
      const where = [['status', 'in', ['pending', 'paid']]];
      const limit = 7;
      let next = 0;
      const live: string[] = [];
      const newOrder = () => {
        const id = `r${String(next++).padStart(3, '0')}`;
        live.push(id);
        return { id, status: pick(statuses), total: Math.floor(random() * 50) };
      };
      await server.write(
        Array.from({ length: 30 }, () => ({ op: 'create' as const, object: 'orders', record: newOrder() })),
      );

      const element = list(
        `object="orders" where='${JSON.stringify(where)}' sort="-total, id" limit="${limit}"`,
      );
      const ledger = new ChangeLedger(element);
      const broken: string[] = [];
      element.addEventListener('live-change', ({ detail }) => {
        const records = detail.records;
        if (records.length > limit) broken.push(`${records.length} records shown`);
        for (const [i, record] of records.entries()) {
          if (!['pending', 'paid'].includes(record.status as string))
            broken.push(`${record.id} is ${record.status}`);
          const after = records[i + 1];
          if (after && !sortedBefore(record, after)) broken.push(`${record.id} before ${after.id}`);
        }
      });
      await until(() => shownIds(element).length === limit, 'the snapshot never rendered');

      for (let round = 0; round < 4; round++) {
        const writes = Array.from({ length: 50 }, () => {
          const roll = random();
          if (roll < 0.3 || live.length < 5) {
            return { op: 'create' as const, object: 'orders', record: newOrder() };
          }
          if (roll < 0.6) {
            const id = live.splice(Math.floor(random() * live.length), 1)[0] as string;
            return { op: 'remove' as const, object: 'orders', id };
          }
          const patch = random() < 0.5 ? { total: Math.floor(random() * 50) } : { status: pick(statuses) };
          return { op: 'patch' as const, object: 'orders', id: pick(live), patch };
        });
        await server.write(writes);
      }

      await expectListMatches(element, server, 'orders', { where, sort: ['-total', 'id'], limit });
      expect(broken, 'every rendered change was sorted, limited and filtered').to.deep.equal([]);
      expect(ledger.problems).to.deep.equal([]);
      expect(ledger.changes.length).to.be.greaterThan(4);
    });
  });

  describe('attributes', () => {
    itOnWebSocket('replaces the subscription when where, sort and limit change', async () => {
      const spy = new WireSpy(server);
      try {
        const element = list(`object="orders" where='{"status":"pending"}' sort="id"`);
        const changes = new EventLog<LiveChangeDetail>(element, 'live-change');
        await until(() => shownIds(element).length === 2, 'the snapshot never rendered');
        expect(shownIds(element)).to.deep.equal(['o1', 'o3']);

        element.setAttribute('where', '{"status":"paid"}');
        await element.updateComplete;
        expect(shownIds(element), 'the old records stay until the new snapshot').to.deep.equal(['o1', 'o3']);
        expect(part(element, 'base')?.getAttribute('aria-busy')).to.equal('true');
        await until(() => shownIds(element).join() === 'o2', 'the new filter never applied');
        expect(part(element, 'base')?.getAttribute('aria-busy')).to.equal('false');
        const subscribes = spy.of('subscribe', 'records:orders');
        expect(subscribes).to.have.length(2);
        expect(subscribes[1]?.id, 'the same subscription, replaced').to.equal(subscribes[0]?.id);
        expect(subscribes[1]?.filter).to.deep.equal({ where: { status: 'paid' } });
        expect(spy.of('unsubscribe')).to.deep.equal([]);
        expect(changes.last?.reason).to.equal('snapshot');

        // Only the new filter's writes arrive: o7 is written after o6, so o6 would be there first.
        await server.create('orders', { id: 'o6', status: 'pending', total: 1 });
        await server.create('orders', { id: 'o7', status: 'paid', total: 2 });
        await until(() => shownIds(element).includes('o7'), 'the paid order never arrived');
        expect(shownIds(element)).to.deep.equal(['o2', 'o7']);

        element.setAttribute('sort', '-total');
        await until(() => shownIds(element).join() === 'o2,o7', 'the new sort never applied');
        element.setAttribute('sort', 'total');
        element.setAttribute('limit', '1');
        await until(() => shownIds(element).join() === 'o7', 'the new sort and limit never applied');
        expect(spy.of('subscribe', 'records:orders').at(-1)?.snapshot).to.deep.equal({
          limit: 1,
          sort: ['total'],
        });
        expect(new Set(spy.of('subscribe').map((frame) => frame.id)).size).to.equal(1);
        expect(spy.of('unsubscribe')).to.deep.equal([]);
        expect((await server.healthz()).connections).to.equal(1);
      } finally {
        spy.uninstall();
      }
    });

    const INVALID: { title: string; attributes: string; message: string | RegExp }[] = [
      {
        title: 'bad JSON in where',
        attributes: `object="orders" where='{"status":'`,
        message: /^where is not valid JSON \(.+\); write it like where='\{"status":"pending"\}'$/,
      },
      {
        title: 'an unknown operator in where (list form)',
        attributes: `object="orders" where='[["total","~",5]]'`,
        message: /^where is invalid: .*unknown operator "~" at total; expected one of =, !=/,
      },
      {
        title: 'an unknown operator in where (object form)',
        attributes: `object="orders" where='{"total":{"$near":5}}'`,
        message: /^where is invalid: .*unknown operator "\$near" at total; expected one of \$eq/,
      },
      {
        title: 'a limit of 0',
        attributes: 'object="orders" limit="0"',
        message: 'limit must be a whole number from 1 to 1000 (got 0)',
      },
      {
        title: 'a limit that is not a number',
        attributes: 'object="orders" limit="many"',
        message: 'limit must be a whole number from 1 to 1000 (it is not a number)',
      },
      {
        title: 'a sort on a forbidden path',
        attributes: 'object="orders" sort="-__proto__"',
        message: /^sort is invalid: .*"-__proto__".*forbidden segment/,
      },
      {
        title: 'an unknown operation',
        attributes: 'object="orders" operations="create, upsert"',
        message:
          'operations: "upsert" is not an operation; use create, update or delete (INSERT, UPDATE, DELETE are aliases)',
      },
      {
        title: 'no object',
        attributes: '',
        message: 'object is required: the name of the records to show, e.g. object="orders"',
      },
    ];
    for (const { title, attributes, message } of INVALID) {
      it(`shows the error part and fires live-error for ${title}`, async () => {
        const element = list(attributes, `${ROW}<strong slot="error">Cannot show orders</strong>`);
        const errors = errorLog(element);
        await until(() => part(element, 'error') !== null, 'no error part');
        expect(part(element, 'error')?.getAttribute('role')).to.equal('alert');
        expect(slotText(element, 'error')).to.equal('Cannot show orders');
        const shown = errorMessage(element) ?? '';
        if (typeof message === 'string') expect(shown).to.equal(message);
        else expect(shown).to.match(message);
        expect(errors.details).to.have.length(1);
        expect(errors.details[0]).to.include({ source: 'attribute', name: 'bad_attribute', message: shown });
        expect(shownIds(element)).to.deep.equal([]);
      });
    }

    it('shows an api-key without url as a configuration error', async () => {
      const element = mount<LiveRecordListElement>(
        `<live-record-list object="orders" api-key="${attr(server.keys.acmePublic)}">${ROW}</live-record-list>`,
      );
      const errors = errorLog(element);
      await until(() => part(element, 'error') !== null, 'no error part');
      expect(errorMessage(element)).to.equal('api-key is set but url is missing');
      expect(errors.details[0]).to.include({ source: 'connection', name: 'bad_attribute' });
    });

    it('shows the server refusing an object it does not have', async () => {
      const element = list('object="invoices"');
      const errors = errorLog(element);
      await until(() => part(element, 'error') !== null, 'no error part');
      expect(errors.details[0]).to.include({ source: 'subscription', code: 4010 });
      expect(errorMessage(element)).to.equal(errors.details[0]?.message);
      expect(errorMessage(element)).to.include('invoices');
    });

    it('recovers when an invalid attribute is corrected', async () => {
      const element = list(`object="orders" where='{"status":' sort="id"`);
      await until(() => part(element, 'error') !== null, 'no error part');
      element.setAttribute('where', '{"status":"pending"}');
      await until(() => shownIds(element).length === 2, 'the corrected list never loaded');
      expect(part(element, 'error')).to.equal(null);
      expect(shownIds(element)).to.deep.equal(['o1', 'o3']);
    });
  });

  describe('events', () => {
    it('fires live-change after the snapshot and each batch are rendered', async () => {
      const element = list('object="orders" sort="id"');
      const seen: { detail: LiveChangeDetail; rendered: string[] }[] = [];
      document.addEventListener('live-change', function record(event) {
        if (event.target !== element) return;
        seen.push({ detail: event.detail, rendered: shownIds(element) });
        if (seen.length === 2) document.removeEventListener('live-change', record);
      });
      await until(() => seen.length === 1, 'no live-change for the snapshot');
      expect(seen[0]?.detail.reason).to.equal('snapshot');
      expect(seen[0]?.rendered, 'rendered when the event fires').to.deep.equal(['o1', 'o2', 'o3']);
      expect(seen[0]?.detail.records.map((record) => record.id)).to.deep.equal(['o1', 'o2', 'o3']);

      const created = await server.create('orders', { id: 'o0', status: 'paid', total: 3 });
      await until(() => seen.length === 2, 'no live-change for the batch');
      const { detail, rendered } = seen[1] as (typeof seen)[number];
      expect(rendered).to.deep.equal(['o0', 'o1', 'o2', 'o3']);
      expect(detail).to.deep.include({ reason: 'events', modified: [], removed: [] });
      expect(detail.added).to.deep.equal([created]);
      expect(item(element, 'o0')?.getAttribute('part')).to.equal('item changed');
      expect(item(element, 'o0')?.dataset.changed).to.equal('added');
    });

    it('marks changed items for a moment, without animation under prefers-reduced-motion', async () => {
      const element = list('object="orders" sort="id" highlight="300"');
      await until(() => shownIds(element).length === 3, 'the snapshot never rendered');
      expect(parts(element, 'changed'), 'nothing is marked after the snapshot').to.deep.equal([]);
      await server.patch('orders', 'o2', { total: 251 });
      await until(() => item(element, 'o2')?.dataset.changed === 'modified', 'o2 was never marked');
      const o2 = item(element, 'o2') as HTMLElement;
      expect(o2.getAttribute('part')).to.equal('item changed');
      expect(getComputedStyle(o2).animationName).to.equal('live-highlight');
      await until(() => item(element, 'o2')?.dataset.changed === undefined, 'the mark never went away');
      expect(o2.getAttribute('part')).to.equal('item');

      await emulateMedia({ reducedMotion: 'reduce' });
      try {
        await server.patch('orders', 'o3', { total: 98 });
        await until(() => item(element, 'o3')?.dataset.changed === 'modified', 'o3 was never marked');
        expect(getComputedStyle(item(element, 'o3') as HTMLElement).animationName).to.equal('none');
      } finally {
        await emulateMedia({ reducedMotion: 'no-preference' });
      }
    });

    it('unmarks on time after highlight is lowered, whatever longer mark is pending', async () => {
      const element = list('object="orders" sort="id" highlight="5000"');
      await until(() => shownIds(element).length === 3, 'the snapshot never rendered');
      await server.patch('orders', 'o2', { total: 252 });
      await until(() => item(element, 'o2')?.dataset.changed === 'modified', 'o2 was never marked');
      element.highlight = 200;
      await server.patch('orders', 'o3', { total: 97 });
      await until(() => item(element, 'o3')?.dataset.changed === 'modified', 'o3 was never marked');
      await until(() => item(element, 'o3')?.dataset.changed === undefined, 'the 200 ms mark stayed', 2000);
      expect(item(element, 'o2')?.dataset.changed, 'the 5 s mark is still on').to.equal('modified');
    });

    it('announces what changed in a polite live region when asked to', async () => {
      const element = list('object="orders" sort="id" announce');
      await until(() => shownIds(element).length === 3, 'the snapshot never rendered');
      const region = part(element, 'announcer') as HTMLElement;
      expect(region.getAttribute('aria-live')).to.equal('polite');
      // Counts, not contents; a repeated sentence differs by a trailing no-break space.
      const said = () => text(region).replace(/\u00a0/g, '');
      await server.create('orders', { id: 'o8', status: 'paid', total: 8 });
      await until(() => said() === '1 added.', 'the addition was not announced');
      await server.patch('orders', 'o8', { total: 9 });
      await until(() => said() === '1 updated.', 'the update was not announced');
      await server.remove('orders', 'o1');
      await until(() => said() === '1 removed.', 'the removal was not announced');
    });
  });
});

/** `-total, id`: larger totals first, then ids in ascending order. */
function sortedBefore(a: LiveRecord, b: LiveRecord): boolean {
  const [x, y] = [a.total as number, b.total as number];
  return x !== y ? x > y : a.id < b.id;
}
