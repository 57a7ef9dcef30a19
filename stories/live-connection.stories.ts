import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { orderCard } from './support/fixtures.js';
import { storyMock } from './support/mock-setup.js';
import { elementDescription } from './support/manifest-arg-types.js';
import { connection, record, recordList, status, type ElementArgs } from './support/render-elements.js';

const meta = {
  title: 'Elements/live-connection',
  component: 'live-connection',
  parameters: {
    docs: {
      description: {
        component: elementDescription(
          'live-connection',
          "In these stories `url` and `api-key`, left empty, point at the story's mock; set them in the " +
            'controls to try a wrong key, or a dev server on your machine (`npm start`: ' +
            '`http://127.0.0.1:8787` with `pk_dev_demo`).',
        ),
      },
    },
  },
  argTypes: { transport: { control: { type: 'select' }, options: ['auto', 'websocket', 'sse'] } },
  render: (args, context) =>
    connection(
      storyMock(context),
      html`<p>${status({})}</p>
        <div style="display: grid; grid-template-columns: 3fr 2fr; gap: 2rem">
          ${recordList({ object: 'orders', sort: '-createdAt', limit: 5 }, orderCard)}
          ${record({ object: 'orders', 'record-id': 'o40', fields: 'title, status, total' })}
        </div>
        <story-event-log></story-event-log>`,
      args,
    ),
} satisfies Meta<ElementArgs>;
export default meta;

type Story = StoryObj<ElementArgs>;

/** A status, a list and a record sharing one connection. */
export const Default: Story = { parameters: { shows: '€' } };

/** A key the server does not know: ws-auth answers 401, and every element says access is denied. */
export const UnknownKey: Story = {
  args: { 'api-key': 'pk_unknown_key' },
  parameters: {
    shows: 'Access denied',
    // The browser logs the 401 answer of ws-auth: expected here.
    consoleErrors: ['401'],
  },
};

/** A transport the kit does not have: `live-error` says so, and the connection uses `auto`. */
export const UnsupportedTransport: Story = {
  args: { transport: 'carrier-pigeon' as 'auto' },
  parameters: { shows: 'is not supported' },
};
