import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html, nothing, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { connect, type LiveSubscriptionHandle, type PresenceLabels } from '../elements/index.js';
import { elementDescription } from './support/manifest-arg-types.js';
import { storyMock, type MockParameters } from './support/mock-setup.js';
import { connection, type ElementArgs } from './support/render-elements.js';
import * as scenarios from './support/scenarios.js';

/** The room every story joins. */
const ROOM = 'lobby';

/**
 * Visitors who come and go, one every `everyMs`, in turn: each joins `room` with its name as
 * `meta`, and leaves on its next turn. Each is a presence subscription of one other connection
 * (the mock's secret key), as visitors on other pages would be.
 */
function visitors(names: readonly string[], everyMs = 1500): scenarios.Scenario {
  return async (mock) => {
    await mock.ready();
    const others = connect({ url: mock.baseUrl, apiKey: mock.secretKey });
    const here = new Map<string, LiveSubscriptionHandle>();
    try {
      for (let turn = 0; ; turn++) {
        const name = names[turn % names.length] as string;
        const handle = here.get(name);
        if (handle) {
          handle.unsubscribe();
          here.delete(name);
        } else {
          here.set(name, others.subscribe({ channel: `presence:${ROOM}`, meta: { name } }, {}));
        }
        await mock.sleep(everyMs);
      }
    } finally {
      for (const handle of here.values()) handle.unsubscribe();
    }
  };
}

/** Ada, Grace and Alan join in turn, then leave in turn, and again. */
const comingAndGoing = { scenario: visitors(['Ada', 'Grace', 'Alan']) } satisfies MockParameters;

/** An attribute value from an arg: text and numbers as text; empty and unset leave it out. */
function attribute(args: ElementArgs, name: string): string | undefined {
  const arg = args[name];
  if (arg === undefined || arg === null || arg === '') return undefined;
  return typeof arg === 'string' ? arg : JSON.stringify(arg);
}

/** `<live-presence>` with the attributes, slots and `--live-*` properties of `args` (and `labels`). */
function presence(
  args: ElementArgs,
  content: unknown = nothing,
  labels: Partial<PresenceLabels> = {},
): TemplateResult {
  const style = Object.entries(args)
    .filter(([name, arg]) => name.startsWith('--') && typeof arg === 'string' && arg !== '')
    .map(([name, arg]) => `${name}: ${String(arg)}`)
    .join('; ');
  const slots = ['loading', 'empty', 'error'].map((name) => {
    const text = attribute(args, `slot-${name}`);
    return text === undefined ? nothing : html`<span slot=${name}>${text}</span>`;
  });
  return html`<live-presence
    .labels=${labels}
    room=${ifDefined(attribute(args, 'room'))}
    meta=${ifDefined(attribute(args, 'meta'))}
    locale=${ifDefined(attribute(args, 'locale'))}
    ?announce=${args.announce === true}
    highlight=${ifDefined(attribute(args, 'highlight'))}
    style=${ifDefined(style || undefined)}
    >${content}${slots}</live-presence
  >`;
}

/** Each member as a name badge: the `<template>` an author writes for one member's `meta`. */
const badge = html`<template>
  <style>
    .badge {
      display: inline-block;
      padding: 0.2rem 0.6rem;
      border-radius: 999px;
      background: #eef0ff;
      color: #3730a3;
      font-weight: 600;
    }
  </style>
  <span class="badge" data-field="name"></span>
</template>`;

const meta = {
  title: 'Elements/live-presence',
  component: 'live-presence',
  parameters: {
    docs: {
      description: {
        component: elementDescription(
          'live-presence',
          'In the stories below, visitors on other pages (other connections to the in-browser mock) join ' +
            'and leave the room in turn; the controls set the attributes, slots and `--live-*` properties.',
        ),
      },
    },
  },
  args: { room: ROOM, meta: '{"name":"You"}' },
  render: (args, context) => connection(storyMock(context), presence(args)),
} satisfies Meta<ElementArgs>;
export default meta;

type Story = StoryObj<ElementArgs>;

/** The count, as visitors come and go ("1 here" … "4 here"). */
export const Count: Story = { parameters: { mock: comingAndGoing, shows: 'here' } };

/** Through a `<template>`: each member's `meta.name` as a badge; a newcomer flashes. */
export const WithTemplate: Story = {
  render: (args, context) => connection(storyMock(context), presence(args, badge)),
  parameters: { mock: comingAndGoing, shows: 'Ada' },
};

/** Three elements on one page, each one member: each counts the three of them. */
export const SeveralElements: Story = {
  render: (args, context) =>
    connection(
      storyMock(context),
      html`${['Ada', 'Grace', 'Alan'].map((name) =>
        presence({ ...args, meta: JSON.stringify({ name }) }, badge),
      )}`,
    ),
  parameters: { shows: '3 here' },
};

/** No one else in the room: the `empty` slot stands in for the count. */
export const Alone: Story = {
  args: { 'slot-empty': 'Only you here' },
  parameters: { shows: 'Only you here' },
};

/** A visitor whose name is markup: shown as text, never as HTML. */
export const HostileMeta: Story = {
  render: (args, context) => connection(storyMock(context), presence(args, badge)),
  parameters: {
    mock: { scenario: visitors(['<img src=x onerror=alert(1)>'], 60_000) } satisfies MockParameters,
    shows: '<img src=x onerror=alert(1)>',
  },
};

const french: Partial<PresenceLabels> = {
  count: (count) => (count === 1 ? '1 personne ici' : `${count} personnes ici`),
};

/** Translated through the `labels` property. */
export const TranslatedLabels: Story = {
  render: (args, context) => connection(storyMock(context), presence(args, nothing, french)),
  parameters: { mock: comingAndGoing, shows: 'personne' },
};

/** Until the members arrive (here the server never answers): the `loading` slot. */
export const Loading: Story = {
  parameters: {
    mock: { handlers: scenarios.serverNeverAnswers } satisfies MockParameters,
    shows: 'Loading…',
  },
};

/** `meta` is not JSON: the `error` slot above the message; nothing joins. */
export const InvalidMeta: Story = {
  args: { meta: '{"name":', 'slot-error': 'This widget is misconfigured:' },
  parameters: { shows: 'meta is not valid JSON' },
};

/** No `room`: the error says what to write. */
export const MissingRoom: Story = {
  args: { room: '' },
  parameters: { shows: 'room is required' },
};
