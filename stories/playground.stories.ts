import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { orderCard } from './support/fixtures.js';
import { storyMock } from './support/mock-setup.js';
import { connection, record, recordList, status, type ElementArgs } from './support/render-elements.js';
import './support/story-record-editor.js';

/**
 * Edit order o40 on the left and watch every element react: the record itself, the pending
 * orders (change its status), the five largest orders (change its total), and the status (drop
 * the connection, go offline, deny, …). Writes go through the mock's REST API with the secret
 * key; the page reads with the publishable key over the WebSocket, like a real site.
 */
const meta = {
  title: 'Playground',
  // One story, the page itself: no docs page.
  tags: ['!autodocs'],
  args: { 'record-id': 'o40' },
  argTypes: { 'record-id': { control: 'text', description: 'The order to edit (`o1` … `o40`).' } },
  render: (args, context) => {
    const mock = storyMock(context);
    const id = String(args['record-id']);
    return connection(
      mock,
      html`<div style="display: grid; grid-template-columns: minmax(18rem, 1fr) 2fr; gap: 2rem">
        <section>
          <h3>Back office</h3>
          <story-record-editor .mock=${mock} record-id=${id}></story-record-editor>
        </section>
        <section>
          <p style="font-size: 1.25rem">${status({})}</p>
          <h4>live-record: order ${id}</h4>
          ${record({ object: 'orders', 'record-id': id })}
          <h4>live-record-list: pending orders, newest first</h4>
          ${recordList(
            {
              object: 'orders',
              where: '{"status":"pending"}',
              sort: '-createdAt',
              'slot-empty': 'None pending.',
            },
            orderCard,
          )}
          <h4>live-record-list: the five largest orders</h4>
          ${recordList({ object: 'orders', sort: '-total', limit: 5 }, orderCard)}
          <story-event-log></story-event-log>
        </section>
      </div>`,
    );
  },
} satisfies Meta<ElementArgs>;
export default meta;

/** Every element on one order. */
export const Playground: StoryObj<ElementArgs> = { parameters: { shows: 'createdAt' } };
