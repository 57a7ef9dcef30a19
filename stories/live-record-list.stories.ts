import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html, nothing } from 'lit';
import type { LiveRecord } from '../protocol/index.js';
import {
  demoConfig,
  everyFormat,
  invoices,
  manyItems,
  orderCard,
  orderIds,
  withObject,
} from './support/fixtures.js';
import { storyMock, type MockParameters } from './support/mock-setup.js';
import { elementDescription } from './support/manifest-arg-types.js';
import { connection, recordList, type ElementArgs } from './support/render-elements.js';
import * as scenarios from './support/scenarios.js';

const meta = {
  title: 'Elements/live-record-list',
  component: 'live-record-list',
  parameters: {
    docs: {
      description: {
        component: elementDescription(
          'live-record-list',
          'The stories below run each state against its own in-browser mock of the server; the controls ' +
            'set the attributes, slots and `--live-*` properties.',
        ),
      },
    },
  },
  args: { object: 'orders', sort: '-createdAt', limit: 8 },
  render: (args, context) => connection(storyMock(context), recordList(args)),
} satisfies Meta<ElementArgs>;
export default meta;

type Story = StoryObj<ElementArgs>;

/** With no `<template>`, each record shows as a list of its fields. */
export const Default: Story = { parameters: { shows: 'createdAt' } };

/** Records through a `<template>` with `data-field` and `data-format`, as DESIGN.md writes it. */
export const WithTemplate: Story = {
  render: (args, context) => connection(storyMock(context), recordList(args, orderCard)),
  parameters: { shows: '€' },
};

/** Until the first snapshot arrives (here the server never answers): the `loading` slot. */
export const Loading: Story = {
  args: { 'slot-loading': '' },
  parameters: {
    mock: { handlers: scenarios.serverNeverAnswers } satisfies MockParameters,
    shows: 'Loading…',
  },
};

/** No record matches the filter: the `empty` slot. */
export const Empty: Story = {
  args: { where: '{"status":"refunded"}', 'slot-empty': 'No refunded orders.' },
  parameters: { shows: 'No refunded orders.' },
};

/** Orders are created, changed and deleted a few times a second; changed items flash. */
export const LiveTraffic: Story = {
  render: (args, context) =>
    connection(storyMock(context), html`${recordList(args, orderCard)}<story-event-log></story-event-log>`),
  parameters: { mock: { scenario: scenarios.traffic(3) } satisfies MockParameters, shows: '€' },
};

const moving = orderIds(40).slice(-6);

/**
 * Left, the pending orders (`where`); right, the six newest orders with their status, which
 * changes every 1.5 s: records move into and out of the filter.
 */
export const FilterMovesRecordsInAndOut: Story = {
  args: { where: '{"status":"pending"}', limit: undefined, 'slot-empty': 'No pending orders.' },
  render: (args, context) => {
    const mock = storyMock(context);
    return connection(
      mock,
      html`<div style="display: grid; grid-template-columns: 1fr 1fr; gap: 2rem">
        <section>
          <h4>where = ${String(args.where)}</h4>
          ${recordList(args, orderCard)}
        </section>
        <section>
          <h4>The six newest orders</h4>
          ${recordList({ object: 'orders', sort: '-createdAt', limit: 6 }, orderCard)}
        </section>
      </div>`,
    );
  },
  parameters: {
    mock: {
      scenario: scenarios.cycleField('orders', moving, 'status', ['pending', 'paid', 'shipped']),
    } satisfies MockParameters,
    shows: '€',
  },
};

/** The five largest orders (`sort="-total" limit="5"`) while totals keep changing. */
export const SortAndLimit: Story = {
  args: { sort: '-total', limit: 5 },
  render: (args, context) => connection(storyMock(context), recordList(args, orderCard)),
  parameters: {
    mock: { scenario: scenarios.churn('orders', orderIds(40), 'total', 2000) } satisfies MockParameters,
    shows: '€',
  },
};

/** 1000 writes at once, a second after the list is live and every 8 s after: applied in one render. */
export const Burst1000Events: Story = {
  args: { sort: '-createdAt', limit: undefined },
  tags: ['!autodocs'],
  render: (args, context) =>
    connection(storyMock(context), html`<story-event-log></story-event-log>${recordList(args, orderCard)}`),
  parameters: {
    mock: { scenario: scenarios.burst(1000) } satisfies MockParameters,
    // Each event's record would go to the Actions panel: too much to log.
    actions: { handles: ['live-status', 'live-error'] },
    shows: 'live-change: events',
  },
};

const ITEMS = manyItems(10_000);

const itemRow = html`<template
  ><span data-field="title"></span> · <span data-field="group"></span> ·
  <b data-field="value" data-format="integer"></b
></template>`;

/**
 * 10 000 records, no limit, a few changing every second, in a scrolling box: only the items in
 * view (and a viewport's height around them) are in the DOM, with `aria-posinset` of 10 000.
 */
export const TenThousandRecords: Story = {
  args: { object: 'items', sort: 'title', limit: undefined },
  tags: ['!autodocs'],
  render: (args, context) =>
    connection(
      storyMock(context),
      html`<story-event-log lines="3"></story-event-log>
        <div style="block-size: 60vh; overflow: auto">${recordList(args, itemRow)}</div>`,
    ),
  parameters: {
    mock: {
      config: withObject(demoConfig(), 'items', ITEMS),
      scenario: scenarios.churn(
        'items',
        ITEMS.map((item) => item.id as string),
        'value',
        1000,
        200,
      ),
    } satisfies MockParameters,
    actions: { handles: ['live-status', 'live-error'] },
    shows: '10000 shown',
  },
};

/** The same 10 000 records in the page's flow: the page scrolls, as tall as with every item rendered. */
export const TenThousandRecordsInThePage: Story = {
  ...TenThousandRecords,
  render: (args, context) =>
    connection(
      storyMock(context),
      html`<story-event-log lines="3"></story-event-log>${recordList(args, itemRow)}`,
    ),
};

/** Every `data-format` (`number`, `integer`, `percent`, `currency:…`, `date`, `datetime`, `time`, `relative`). */
export const EveryDataFormat: Story = {
  args: { object: 'invoices', sort: 'id', limit: undefined },
  render: (args, context) => connection(storyMock(context), recordList(args, everyFormat)),
  parameters: {
    mock: { config: withObject(demoConfig(), 'invoices', invoices()) } satisfies MockParameters,
    shows: '€',
  },
};

/** The same formats in German (`locale="de-DE"`). */
export const EveryDataFormatInGerman: Story = {
  ...EveryDataFormat,
  args: { ...EveryDataFormat.args, locale: 'de-DE' },
};

/** The `renderItem` property (JavaScript users): a function from a record to a Lit template. */
export const RenderItemProperty: Story = {
  render: (args, context) => {
    const renderItem = (order: LiveRecord) =>
      html`<strong>${String(order.title)}</strong> — ${String(order.status)} (renderItem)`;
    return connection(storyMock(context), recordList(args, nothing, renderItem));
  },
  parameters: { shows: '(renderItem)' },
};

/** An invalid attribute: the `error` slot above the message that says what is wrong. */
export const InvalidAttribute: Story = {
  args: { where: '{"status": pending}', 'slot-error': 'This list cannot show orders:' },
  parameters: { shows: 'where is not valid JSON' },
};

/** The key may not read this object (a publishable key limited to `products`): the server refuses. */
export const ObjectNotAllowed: Story = {
  parameters: {
    mock: {
      config: {
        ...demoConfig(),
        keys: [
          { key: 'sk_dev_demo', client: 'demo', environment: 'production', role: 'secret' },
          {
            key: 'pk_dev_products',
            client: 'demo',
            environment: 'production',
            role: 'publishable',
            objects: ['products'],
          },
        ],
      },
    } satisfies MockParameters,
    shows: 'orders',
  },
};

/** Additions and removals announced in a polite live region (`announce`), for screen readers. */
export const Announced: Story = {
  args: { announce: true },
  render: (args, context) => connection(storyMock(context), recordList(args, orderCard)),
  parameters: { mock: { scenario: scenarios.traffic(1) } satisfies MockParameters, shows: '€' },
};
