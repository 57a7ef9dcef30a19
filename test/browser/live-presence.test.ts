/**
 * `<live-presence>` in Chromium against the real dev server: who is in a room, counted across
 * elements, connections and keys; joins and leaves as they happen; members' meta through a
 * template as text; invalid attributes; a new room or meta; leaving when removed.
 */
import { expect } from '@open-wc/testing';
import { html } from 'lit';
import {
  connect,
  type LivePresenceChangeDetail,
  type LivePresenceElement,
  type LiveSubscriptionHandle,
} from '../../elements/index.js';
import { startDevServer, type TestDevServer } from './support/dev-server.js';
import {
  EventLog,
  WireSpy,
  attr,
  closeConnections,
  errorLog,
  errorMessage,
  fastConnection,
  itOnWebSocket,
  mount,
  noConnectionsLeft,
  part,
  parts,
  slotText,
  text,
  unmountAll,
  until,
} from './support/elements.js';

/** Shows each member's `meta.name`. */
const NAMES = `<template><b data-field="name"></b></template>`;

describe('<live-presence>', () => {
  let server: TestDevServer;
  const raw: LiveSubscriptionHandle[] = [];

  /** A `<live-presence>` on this test's server, with the acme publishable key unless `key` says otherwise. */
  function presence(attributes: string, content = '', key = server.keys.acmePublic): LivePresenceElement {
    return mount<LivePresenceElement>(
      `<live-presence url="${server.url}" api-key="${key}" ${attributes}>${content}</live-presence>`,
    );
  }

  /** `meta` as an attribute value for `presence()`. */
  function meta(value: Record<string, unknown>): string {
    return `meta="${attr(JSON.stringify(value))}"`;
  }

  /** A member that is no element: a subscription of its own connection (the products-only key). */
  function rawMember(room: string, value: Record<string, unknown>): LiveSubscriptionHandle {
    const connection = connect({ url: server.url, apiKey: server.keys.acmeProductsOnly });
    const handle = connection.subscribe({ channel: `presence:${room}`, meta: value }, {});
    raw.push(handle);
    return handle;
  }

  const state = (element: Element) => part(element, 'base')?.dataset.state;

  /** The count as the user reads it (the `empty` slot's fallback is the count too). */
  function shownCount(element: Element): string {
    return state(element) === 'empty' ? slotText(element, 'empty') : text(part(element, 'count'));
  }

  /** The names the template shows, in order. */
  function shownNames(element: Element): string[] {
    return parts(element, 'item').map((item) => text(item));
  }

  const names = (element: LivePresenceElement) => element.members.map((member) => member.meta.name);

  before(async () => {
    server = await startDevServer();
  });
  afterEach(async () => {
    for (const handle of raw.splice(0)) handle.unsubscribe();
    unmountAll();
    closeConnections(server);
    await noConnectionsLeft(server);
    // The rooms commit those leaves at their next flush (flushIntervalMs 20): let them, so that
    // the next test's room starts empty, not with leaves on their way.
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
  after(async () => {
    await server.close();
  });

  it('counts every member of the room, across elements, connections and keys', async () => {
    const ada = presence(`room="lobby" ${meta({ name: 'Ada' })}`);
    await until(() => state(ada) === 'empty', 'the room never arrived');
    expect(shownCount(ada), 'alone').to.equal('1 here');
    expect(ada.count).to.equal(1);

    // Grace uses the connection of a <live-connection> around her, with another key.
    const provider = mount(
      `<live-connection url="${server.url}" api-key="${server.keys.acmeSecret}"><live-presence room="lobby" ${meta({ name: 'Grace' })}></live-presence></live-connection>`,
    );
    const grace = provider.querySelector('live-presence') as LivePresenceElement;
    rawMember('lobby', { name: 'Raw' });
    await until(() => ada.count === 3 && grace.count === 3, 'the members never added up to 3');
    expect(shownCount(ada)).to.equal('3 here');
    expect(shownCount(grace)).to.equal('3 here');
    expect(state(ada)).to.equal('ready');
    expect(names(ada)).to.have.members(['Ada', 'Grace', 'Raw']);
    expect(names(grace)).to.have.members(['Ada', 'Grace', 'Raw']);

    // Rooms are per client and environment: acme's staging has a lobby of its own.
    const staging = presence(`room="lobby"`, '', server.keys.acmeStaging);
    await until(() => state(staging) === 'empty', 'the staging room never arrived');
    expect(staging.count).to.equal(1);
    expect(staging.members[0]?.meta).to.deep.equal({});
    expect(ada.count, 'production does not see staging').to.equal(3);
  });

  it('follows joins and leaves live, and leaves the room when removed', async () => {
    const ada = presence(`room="lobby" ${meta({ name: 'Ada' })}`, NAMES);
    const changes = new EventLog<LivePresenceChangeDetail>(ada, 'live-change');
    await until(() => changes.details.length === 1, 'no live-change for the members');
    expect(changes.last).to.deep.include({ reason: 'snapshot', added: [], removed: [] });
    expect(changes.last?.members.map((member) => member.meta)).to.deep.equal([{ name: 'Ada' }]);

    const grace = presence(`room="lobby" ${meta({ name: 'Grace' })}`, '', server.keys.acmeSecret);
    await until(() => shownNames(ada).length === 2, 'Grace never showed');
    expect(shownNames(ada)).to.deep.equal(['Ada', 'Grace']);
    expect(part(ada, 'changed')?.dataset.changed, 'the newcomer is marked').to.equal('added');
    await until(() => changes.details.length === 2, 'no live-change for the join');
    expect(changes.last?.reason).to.equal('events');
    expect(changes.last?.added.map((member) => member.meta)).to.deep.equal([{ name: 'Grace' }]);
    expect(changes.last?.removed).to.deep.equal([]);
    expect(changes.last?.members).to.have.length(2);

    const handle = rawMember('lobby', { name: 'Raw' });
    await until(() => ada.count === 3, 'the raw member never joined');
    handle.unsubscribe();
    await until(() => ada.count === 2, 'the raw member never left');
    expect(changes.last?.removed.map((member) => member.meta)).to.deep.equal([{ name: 'Raw' }]);

    grace.remove();
    await until(() => state(ada) === 'empty', 'Grace never left');
    expect(shownNames(ada)).to.deep.equal(['Ada']);
    expect(shownCount(ada)).to.equal('1 here');
    await until(() => changes.last?.removed[0]?.meta.name === 'Grace', 'no live-change for the leave');
    expect(changes.last?.members.map((member) => member.meta)).to.deep.equal([{ name: 'Ada' }]);
  });

  it('takes the members afresh after the server restarts, with no one left over', async () => {
    fastConnection(server, server.keys.acmePublic);
    fastConnection(server, server.keys.acmeSecret);
    const ada = presence(`room="lobby" ${meta({ name: 'Ada' })}`);
    const grace = presence(`room="lobby" ${meta({ name: 'Grace' })}`, '', server.keys.acmeSecret);
    await until(() => ada.count === 2 && grace.count === 2, 'the lobby never had two');
    const changes = new EventLog<LivePresenceChangeDetail>(ada, 'live-change');

    await server.restart();
    await until(() => changes.details.some((change) => change.reason === 'snapshot'), 'Ada never re-joined');
    await until(() => ada.count === 2 && grace.count === 2, 'the lobby never had two again');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(names(ada)).to.have.members(['Ada', 'Grace']);
    expect(names(grace)).to.have.members(['Ada', 'Grace']);
  });

  it('shows a member’s meta as text, never as HTML', async () => {
    const hostile = '<img src="x" onerror="window.presencePwned = true">';
    const ada = presence(`room="lobby" ${meta({ name: 'Ada' })}`, NAMES);
    rawMember('lobby', { name: hostile });
    await until(() => shownNames(ada).length === 2, 'the hostile member never showed');
    expect(shownNames(ada)).to.have.members(['Ada', hostile]);
    expect(ada.shadowRoot?.querySelector('img'), 'no element made from the meta').to.equal(null);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((window as { presencePwned?: boolean }).presencePwned).to.equal(undefined);
  });

  it('shows two members of one connection as two items with the same connection id', async () => {
    const first = presence(`room="lobby" ${meta({ name: 'Tab' })}`, NAMES);
    const second = presence(`room="lobby" ${meta({ name: 'Tab' })}`, NAMES);
    await until(() => first.count === 2 && second.count === 2, 'the two elements never saw each other');
    const items = parts(first, 'item');
    expect(items).to.have.length(2);
    expect(items[0]?.dataset.id).to.be.a('string').and.not.equal('');
    expect(items[0]?.dataset.id, 'one connection').to.equal(items[1]?.dataset.id);

    second.remove();
    await until(() => first.count === 1, 'the second element never left');
    expect(parts(first, 'item')).to.have.length(1);
  });

  const INVALID: { title: string; attributes: string; message: string }[] = [
    {
      title: 'meta that is not JSON',
      attributes: `room="lobby" meta='{"name":'`,
      message: 'meta is not valid JSON (',
    },
    {
      title: 'meta that is not an object',
      attributes: `room="lobby" meta='["Ada"]'`,
      message: 'meta must be a JSON object of what the others see',
    },
    {
      title: 'meta over 1 KiB',
      attributes: `room="lobby" ${meta({ name: 'x'.repeat(1100) })}`,
      message: 'meta is 1111 bytes of JSON, over the 1024 allowed',
    },
    { title: 'no room', attributes: meta({ name: 'Ada' }), message: 'room is required' },
    {
      title: 'a malformed room',
      attributes: `room="two words"`,
      message: 'room: malformed presence name "two words"',
    },
  ];
  for (const { title, attributes, message } of INVALID) {
    it(`shows an error, fires live-error and joins nothing with ${title}`, async () => {
      const witness = presence(`room="lobby"`);
      await until(() => state(witness) === 'empty', 'the witness never joined');
      const element = presence(attributes);
      const errors = errorLog(element);
      await until(() => state(element) === 'error', 'no error state');
      expect(errorMessage(element)).to.contain(message);
      expect(part(element, 'error')?.getAttribute('role')).to.equal('alert');
      expect(errors.details).to.have.length(1);
      expect(errors.details[0]).to.include({ source: 'attribute', name: 'bad_attribute' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(witness.count, 'nobody joined').to.equal(1);
    });
  }

  it('joins another room when room changes', async () => {
    const lobby = presence(`room="lobby" ${meta({ name: 'Lobby' })}`, '', server.keys.acmeSecret);
    const kitchen = presence(`room="kitchen" ${meta({ name: 'Kitchen' })}`, '', server.keys.acmeSecret);
    const mover = presence(`room="lobby" ${meta({ name: 'Mover' })}`);
    await until(() => lobby.count === 2 && mover.count === 2, 'the lobby never had two');

    mover.room = 'kitchen';
    await until(() => lobby.count === 1 && kitchen.count === 2, 'the mover never moved');
    await until(() => names(mover).includes('Kitchen'), 'the mover never saw the kitchen');
    expect(names(mover)).to.have.members(['Kitchen', 'Mover']);
    expect(names(lobby)).to.deep.equal(['Lobby']);
  });

  itOnWebSocket('replaces its one subscription when room changes, without unsubscribing', async () => {
    const spy = new WireSpy(server);
    try {
      const mover = presence(`room="lobby" ${meta({ name: 'Mover' })}`);
      await until(() => state(mover) === 'empty', 'the lobby never arrived');
      mover.room = 'kitchen';
      await until(() => spy.of('subscribe', 'presence:kitchen').length === 1, 'no subscribe for the kitchen');
      await until(
        () => state(mover) === 'empty' && !mover.shadowRoot?.querySelector('[aria-busy="true"]'),
        'the kitchen never arrived',
      );
      const [before, after] = [
        ...spy.of('subscribe', 'presence:lobby'),
        ...spy.of('subscribe', 'presence:kitchen'),
      ];
      expect(after?.id, 'the same subscription, replaced').to.equal(before?.id);
      expect(after?.meta).to.deep.equal({ name: 'Mover' });
      expect(spy.of('unsubscribe')).to.deep.equal([]);
    } finally {
      spy.uninstall();
    }
  });

  it('shows its new meta to the others when meta changes', async () => {
    const watcher = presence(`room="lobby" ${meta({ name: 'Watcher' })}`, NAMES, server.keys.acmeSecret);
    const ada = presence(`room="lobby" ${meta({ name: 'Ada' })}`);
    await until(() => shownNames(watcher).length === 2, 'Ada never showed');

    ada.meta = { name: 'Ada L.', role: 'admin' };
    await until(() => shownNames(watcher).includes('Ada L.'), 'the new meta never showed');
    expect(shownNames(watcher)).to.deep.equal(['Watcher', 'Ada L.']);
    await until(() => names(ada).includes('Ada L.'), 'the element never saw its own new meta');
    expect(ada.members.find((member) => member.meta.name === 'Ada L.')?.meta).to.deep.equal({
      name: 'Ada L.',
      role: 'admin',
    });
  });

  it('shows the author’s slots: loading, and empty while alone', async () => {
    const ada = presence(
      `room="lobby"`,
      `<span slot="loading">Looking around…</span><span slot="empty">Only you here</span>`,
    );
    await ada.updateComplete;
    expect(slotText(ada, 'loading')).to.equal('Looking around…');
    await until(() => state(ada) === 'empty', 'the room never arrived');
    expect(slotText(ada, 'empty')).to.equal('Only you here');

    rawMember('lobby', { name: 'Raw' });
    await until(() => state(ada) === 'ready', 'the second member never joined');
    expect(text(part(ada, 'count'))).to.equal('2 here');
  });

  it('announces the new count politely with announce, in the words of labels', async () => {
    const ada = presence(`room="lobby" announce`);
    ada.labels = { count: (count) => `${count} personnes ici` };
    await until(() => state(ada) === 'empty', 'the room never arrived');
    const announcer = part(ada, 'announcer');
    expect(announcer?.getAttribute('aria-live')).to.equal('polite');
    expect(text(announcer), 'nothing to announce on arrival').to.equal('');
    expect(slotText(ada, 'empty')).to.equal('1 personnes ici');

    const handle = rawMember('lobby', {});
    await until(() => text(part(ada, 'count')) === '2 personnes ici', 'the join never showed');
    expect(text(part(ada, 'announcer'))).to.equal('2 personnes ici');
    handle.unsubscribe();
    await until(() => state(ada) === 'empty', 'the leave never showed');
    expect(part(ada, 'announcer')?.textContent?.trim()).to.equal('1 personnes ici');
  });

  it('renders members through renderItem', async () => {
    const ada = presence(`room="lobby" ${meta({ name: 'Ada' })}`);
    ada.renderItem = (member) => html`<i>${String(member.meta.name)}</i>`;
    rawMember('lobby', { name: 'Raw' });
    await until(() => shownNames(ada).length === 2, 'the members never showed');
    expect(shownNames(ada)).to.have.members(['Ada', 'Raw']);
    expect(parts(ada, 'item').map((item) => item.firstElementChild?.localName)).to.deep.equal(['i', 'i']);
  });
});
