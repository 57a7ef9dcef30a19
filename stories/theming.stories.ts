import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { orderCard } from './support/fixtures.js';
import { storyMock, type MockParameters } from './support/mock-setup.js';
import { connection, record, recordList, status, type ElementArgs } from './support/render-elements.js';
import * as scenarios from './support/scenarios.js';

/**
 * How the elements look with no styling at all, and the two ways to style them: the `--live-*`
 * custom properties (edit them in the controls) and `::part()` selectors. A changed item flashes
 * with `--live-highlight-color` (not under `prefers-reduced-motion`).
 */
const meta = {
  title: 'Theming',
  component: 'live-record-list',
  args: { object: 'orders', sort: '-createdAt', limit: 4 },
  render: (args, context) =>
    connection(
      storyMock(context),
      html`<p>${status({})}</p>
        ${recordList(args)}
        <h4>live-record</h4>
        ${record({ object: 'orders', 'record-id': 'o40', ...cssArgs(args) })}`,
    ),
  parameters: { mock: { scenario: scenarios.traffic(2) } satisfies MockParameters },
} satisfies Meta<ElementArgs>;
export default meta;

type Story = StoryObj<ElementArgs>;

/** The `--live-*` args of a story, to style a second element the same way. */
function cssArgs(args: ElementArgs): ElementArgs {
  return Object.fromEntries(Object.entries(args).filter(([name]) => name.startsWith('--')));
}

/** No styling: the elements' defaults inherit the page's font and color. */
export const DefaultLook: Story = { parameters: { shows: 'createdAt' } };

/** The `--live-*` custom properties, set inline from the controls. */
export const CustomProperties: Story = {
  args: {
    '--live-color': '#1f2328',
    '--live-muted-color': '#6e7781',
    '--live-gap': '1.5rem',
    '--live-item-padding': '0.75rem 1rem',
    '--live-item-border': '2px solid #d0d7de',
    '--live-highlight-color': '#ddf4ff',
    '--live-highlight-duration': '3s',
    '--live-removed-opacity': '0.3',
  },
  parameters: { shows: 'createdAt' },
};

/** `::part()` selectors from the page's stylesheet: items as cards, field names in small caps. */
export const ShadowParts: Story = {
  render: (args, context) =>
    connection(
      storyMock(context),
      html`<style>
          .parts-demo live-record-list::part(list) {
            display: grid;
            grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr));
            gap: 1rem;
            padding: 0;
          }
          .parts-demo live-record-list::part(item) {
            list-style: none;
            border: 1px solid #d0d7de;
            border-radius: 8px;
            padding: 0.75rem;
            box-shadow: 0 1px 2px rgb(0 0 0 / 0.08);
          }
          .parts-demo live-record-list::part(changed) {
            outline: 2px solid #0969da;
          }
          .parts-demo live-record-list::part(field-name) {
            font-variant: small-caps;
          }
          .parts-demo live-status::part(indicator) {
            border-radius: 2px;
          }
          .parts-demo live-status::part(label) {
            font-weight: 600;
            text-transform: uppercase;
            letter-spacing: 0.05em;
          }
        </style>
        <div class="parts-demo">
          <p>${status({})}</p>
          ${recordList({ ...args, fields: 'title, status, total' })}
        </div>`,
    ),
  parameters: { shows: 'title' },
};

/** A dark theme: both ways together, with a template. */
export const Dark: Story = {
  args: {
    '--live-color': '#e6edf3',
    '--live-muted-color': '#8d96a0',
    '--live-item-border': '1px solid #30363d',
    '--live-highlight-color': '#1f6feb66',
  },
  render: (args, context) =>
    connection(
      storyMock(context),
      html`<style>
          .dark-demo {
            background: #0d1117;
            color: #e6edf3;
            padding: 1rem 1.5rem;
            border-radius: 8px;
          }
          .dark-demo live-status {
            --live-status-open-color: #3fb950;
          }
        </style>
        <div class="dark-demo">
          <p>${status({})}</p>
          ${recordList(args, orderCard)}
        </div>`,
    ),
  parameters: { shows: '€' },
};
