import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import type { StatusLabels } from '../elements/index.js';
import { orderCard } from './support/fixtures.js';
import { storyMock, type MockParameters } from './support/mock-setup.js';
import { elementDescription } from './support/manifest-arg-types.js';
import { connection, record, recordList, status, type ElementArgs } from './support/render-elements.js';
import * as scenarios from './support/scenarios.js';

const meta = {
  title: 'Elements/live-status',
  component: 'live-status',
  parameters: {
    docs: {
      description: {
        component: elementDescription(
          'live-status',
          'Each story below puts the connection in one state, shown by `<live-status>` and by the list and ' +
            'the record next to it (a status opens nothing by itself: the list and the record are what ' +
            'connect). The log below each tells what happened, for states that go by quickly.',
        ),
      },
    },
  },
  render: (args, context) =>
    connection(
      storyMock(context),
      html`<p style="font-size: 1.25rem">${status(args)}</p>
        <div style="display: grid; grid-template-columns: 3fr 2fr; gap: 2rem">
          ${recordList({ object: 'orders', sort: '-createdAt', limit: 3 }, orderCard)}
          ${record({ object: 'orders', 'record-id': 'o40', fields: 'title, status, total' })}
        </div>
        <story-event-log></story-event-log>`,
    ),
} satisfies Meta<ElementArgs>;
export default meta;

type Story = StoryObj<ElementArgs>;

/** Connected: "Live". */
export const Live: Story = { parameters: { shows: 'Live' } };

/** The first attempt hangs (the server never answers): "Connecting…", the data loading. */
export const Connecting: Story = {
  parameters: {
    mock: { handlers: scenarios.serverNeverAnswers } satisfies MockParameters,
    shows: 'Connecting…',
  },
};

/**
 * The connection dropped and every new token is refused (4002): "Reconnecting in N s", counting
 * down, each wait longer than the last (up to 30 s). The data stays on screen.
 */
export const Reconnecting: Story = {
  parameters: {
    mock: { scenario: scenarios.reconnecting } satisfies MockParameters,
    shows: 'Reconnecting in',
  },
};

/** The browser went offline: "Offline"; it reconnects as soon as the browser is back online. */
export const Offline: Story = {
  parameters: {
    mock: { scenario: scenarios.offline } satisfies MockParameters,
    shows: 'Offline',
    // The browser logs each ws-auth request the dead network fails: expected here.
    consoleErrors: ['net::ERR_FAILED'],
  },
};

/** The key lost access (4003): "Access denied"; the connection does not retry. */
export const Denied: Story = {
  parameters: { mock: { scenario: scenarios.denied } satisfies MockParameters, shows: 'Access denied' },
};

/**
 * The session expires (4001) every few seconds: the connection fetches a new token and is back
 * at once, without losing or repeating an event (the log shows each renewal).
 */
export const TokenExpired: Story = {
  parameters: {
    mock: { scenario: scenarios.tokenExpired() } satisfies MockParameters,
    shows: 'token_expired',
  },
};

/** Too many connections for the client (4008): it waits the longest backoff, 30 s, counting down. */
export const QuotaExceeded: Story = {
  parameters: {
    mock: { scenario: scenarios.quotaExceeded } satisfies MockParameters,
    shows: 'quota_exceeded',
  },
};

/** Nothing on the page subscribes: "Not connected" (a status alone opens nothing). */
export const NotConnected: Story = {
  render: (args, context) => connection(storyMock(context), status(args)),
  parameters: { shows: 'Not connected' },
};

const french: Partial<StatusLabels> = {
  idle: 'Non connecté',
  connecting: 'Connexion…',
  open: 'En direct',
  reconnecting: 'Reconnexion…',
  reconnectingIn: (seconds) => `Reconnexion dans ${seconds} s`,
  offline: 'Hors ligne',
  denied: 'Accès refusé',
};

/** Translated through the `labels` property. */
export const TranslatedLabels: Story = {
  render: (args, context) =>
    connection(
      storyMock(context),
      html`<p style="font-size: 1.25rem">${status(args, french)}</p>
        ${recordList({ object: 'orders', limit: 3 }, orderCard)}`,
    ),
  parameters: { shows: 'En direct' },
};

/** The dot and the words through the `--live-status-*` properties (edit them in the controls). */
export const Themed: Story = {
  args: {
    '--live-status-gap': '0.75em',
    '--live-status-dot-size': '1em',
    '--live-status-open-color': '#0969da',
    '--live-status-pending-color': '#bf8700',
    '--live-status-error-color': '#cf222e',
  },
  parameters: { shows: 'Live' },
};
