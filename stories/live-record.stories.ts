import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { demoConfig, everyFormat, invoices, withObject } from './support/fixtures.js';
import { storyMock, type MockParameters } from './support/mock-setup.js';
import { elementDescription } from './support/manifest-arg-types.js';
import { connection, record, type ElementArgs } from './support/render-elements.js';
import * as scenarios from './support/scenarios.js';

/** A single order card: the `<template>` an author writes for one record. */
const orderTemplate = html`<template>
  <style>
    h3 {
      margin: 0 0 0.25rem;
    }
  </style>
  <h3 data-field="title"></h3>
  <p><span data-field="customer.name"></span>, <span data-field="customer.city"></span></p>
  <p>Status: <b data-field="status"></b> · Total: <b data-field="total" data-format="currency:EUR"></b></p>
  <p>Ordered <span data-field="createdAt" data-format="relative"></span></p>
</template>`;

const meta = {
  title: 'Elements/live-record',
  component: 'live-record',
  parameters: {
    docs: {
      description: {
        component: elementDescription(
          'live-record',
          'The stories below run each state against its own in-browser mock of the server; the controls ' +
            'set the attributes, slots and `--live-*` properties.',
        ),
      },
    },
  },
  args: { object: 'orders', 'record-id': 'o40' },
  render: (args, context) => connection(storyMock(context), record(args)),
} satisfies Meta<ElementArgs>;
export default meta;

type Story = StoryObj<ElementArgs>;

/** With no `<template>`: the record's fields as a list. */
export const Default: Story = { parameters: { shows: 'createdAt' } };

/** Through a `<template>` with `data-field` and `data-format`. */
export const WithTemplate: Story = {
  render: (args, context) => connection(storyMock(context), record(args, orderTemplate)),
  parameters: { shows: '€' },
};

/** The record changes every second; the element flashes on each change. */
export const LiveUpdates: Story = {
  render: (args, context) =>
    connection(storyMock(context), html`${record(args, orderTemplate)}<story-event-log></story-event-log>`),
  parameters: {
    mock: { scenario: scenarios.churn('orders', ['o40'], 'total', 900, 1000) } satisfies MockParameters,
    shows: '€',
  },
};

/** Until the record arrives (here the server never answers): the `loading` slot. */
export const Loading: Story = {
  parameters: {
    mock: { handlers: scenarios.serverNeverAnswers } satisfies MockParameters,
    shows: 'Loading…',
  },
};

/** Deleted while shown, two seconds in: the last version dimmed, below the `removed` slot. */
export const Removed: Story = {
  render: (args, context) => connection(storyMock(context), record(args, orderTemplate)),
  parameters: {
    mock: {
      scenario: async (mock) => {
        await mock.ready();
        await mock.sleep(2000);
        await scenarios.rest(mock, 'DELETE', 'orders', 'o40');
      },
    } satisfies MockParameters,
    shows: 'This record was deleted.',
  },
};

/** No record has this id: the `empty` slot. */
export const NotFound: Story = {
  args: { 'record-id': 'o999' },
  parameters: { shows: 'Not found.' },
};

/** Only some fields (`fields="title, status, total"`). */
export const SomeFields: Story = {
  args: { fields: 'title, status, total' },
  parameters: { shows: 'status' },
};

/** Every `data-format` on one record. */
export const EveryDataFormat: Story = {
  args: { object: 'invoices', 'record-id': 'inv1' },
  render: (args, context) => connection(storyMock(context), record(args, everyFormat)),
  parameters: {
    mock: { config: withObject(demoConfig(), 'invoices', invoices()) } satisfies MockParameters,
    shows: '€',
  },
};

/** A required attribute is missing: the `error` slot above the message. */
export const MissingRecordId: Story = {
  args: { 'record-id': '', 'slot-error': 'This card is misconfigured:' },
  parameters: { shows: 'record-id is required' },
};
