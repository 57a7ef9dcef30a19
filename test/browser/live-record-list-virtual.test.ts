/**
 * `<live-record-list>` with more records than it renders at once (over 200): 10 000 records from
 * the real dev server, scrolled through by the page, a scrolling ancestor and a scroller inside a
 * shadow root; what is rendered, where, with which `aria-posinset`, through writes above, in and
 * below the view; and `virtualize="off"`, which renders every record.
 */
import { expect } from '@open-wc/testing';
import type { LiveChangeDetail, LiveRecordListElement } from '../../elements/index.js';
import { startDevServer, type TestDevServer } from './support/dev-server.js';
import {
  EventLog,
  closeConnections,
  mount,
  noConnectionsLeft,
  part,
  parts,
  shownIds,
  text,
  unmountAll,
  until,
} from './support/elements.js';

const COUNT = 10_000;

/** Records `i0000`…`i9999`: `n` is the sort key (the record's index in the list), `title` the text shown. */
const ITEMS = Array.from({ length: COUNT }, (_, n) => ({
  id: `i${String(n).padStart(4, '0')}`,
  n,
  title: `Item ${n}`,
}));

const ROW = `<template><span data-field="title"></span></template>`;

/** The test config's entries for a server holding `items`. */
function itemsConfig(items: readonly Record<string, unknown>[]) {
  return { objects: ['orders', 'products', 'items'], records: { acme: { production: { items } } } };
}

/** The rendered items of `list`. */
const rows = (list: Element): HTMLElement[] => parts(list, 'item');

/** `aria-posinset` of `row`, as a number. */
const position = (row: Element): number => Number(row.getAttribute('aria-posinset'));

/** The part of `box` the viewport shows (empty when it shows none). */
function onScreen(box: DOMRect): { top: number; bottom: number } {
  return { top: Math.max(0, box.top), bottom: Math.min(innerHeight, box.bottom) };
}

/** The rendered items fill the part of `within` (the list, or a scroller around it) that is on screen. */
function filled(list: Element, within: Element = list): boolean {
  const shown = rows(list);
  const view = onScreen(within.getBoundingClientRect());
  const box = list.getBoundingClientRect();
  const top = Math.max(view.top, box.top);
  const bottom = Math.min(view.bottom, box.bottom);
  if (top >= bottom) return true;
  const first = shown[0]?.getBoundingClientRect();
  const last = shown.at(-1)?.getBoundingClientRect();
  return first !== undefined && last !== undefined && first.top <= top + 1 && last.bottom >= bottom - 1;
}

/** The items that the viewport (and `within`, a scroller around the list) shows at least in part. */
function inView(list: Element, within?: Element): HTMLElement[] {
  const { top, bottom } = within ? onScreen(within.getBoundingClientRect()) : { top: 0, bottom: innerHeight };
  return rows(list).filter((row) => {
    const box = row.getBoundingClientRect();
    return box.bottom > top && box.top < bottom;
  });
}

/** Waits two frames: scroll events, IntersectionObserver callbacks and the renders they cause. */
function frames(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
}

/** Checks the rendered items are consecutive records in order, each with its `aria-posinset` and `aria-setsize`. */
function expectConsecutive(list: LiveRecordListElement): void {
  const shown = rows(list);
  const start = position(shown[0] as HTMLElement) - 1;
  expect(shownIds(list)).to.deep.equal(
    list.records.slice(start, start + shown.length).map((record) => record.id),
  );
  shown.forEach((row, k) => {
    expect(position(row), `aria-posinset of ${row.dataset.id}`).to.equal(start + k + 1);
    expect(row.getAttribute('aria-setsize')).to.equal(String(list.records.length));
  });
}

/** Scrolls the page so that the list's item `index` would be at the top of the viewport. */
async function scrollToItem(list: Element, index: number, pitch: number): Promise<void> {
  const top = list.getBoundingClientRect().top + scrollY;
  scrollTo(0, top + index * pitch);
  await frames();
  await until(() => filled(list), `the view was left empty at item ${index}`);
}

/** The distance from one item's top to the next one's, as rendered. */
function pitchOf(list: Element): number {
  const [a, b] = rows(list);
  return (b as HTMLElement).getBoundingClientRect().top - (a as HTMLElement).getBoundingClientRect().top;
}

describe('<live-record-list> with 10 000 records', () => {
  let server: TestDevServer;

  function list(attributes = '', content = ROW, container?: Element): LiveRecordListElement {
    const markup = `<live-record-list url="${server.url}" api-key="${server.keys.acmePublic}" object="items" sort="n" ${attributes}>${content}</live-record-list>`;
    if (!container) return mount<LiveRecordListElement>(markup);
    container.insertAdjacentHTML('beforeend', markup);
    return container.lastElementChild as LiveRecordListElement;
  }

  async function loaded(element: LiveRecordListElement, count = COUNT): Promise<void> {
    await until(
      () => element.records.length === count && rows(element).length > 0,
      'the snapshot never rendered',
      10_000,
    );
    await frames();
    await until(() => filled(element), 'the view was left empty');
  }

  beforeEach(async () => {
    server = await startDevServer({
      limits: { flushIntervalMs: 200 },
      config: itemsConfig(ITEMS),
    });
  });
  afterEach(async () => {
    unmountAll();
    scrollTo(0, 0);
    document.documentElement.style.overflowAnchor = '';
    closeConnections(server);
    await noConnectionsLeft(server);
  });
  after(async () => {
    await server.close();
  });

  it('renders the items in view only, with their place among all (aria-posinset, aria-setsize)', async () => {
    const element = list();
    await loaded(element);

    const shown = rows(element);
    expect(shown.length, 'items rendered').to.be.within(10, 150);
    expect(shownIds(element)[0]).to.equal('i0000');
    expectConsecutive(element);
    expect(part(element, 'list')?.getAttribute('role')).to.equal('list');
    expect(text(shown[3])).to.equal('Item 3');
    // Rendered beyond the view, not far beyond it.
    const last = (shown.at(-1) as HTMLElement).getBoundingClientRect();
    expect(last.bottom).to.be.within(innerHeight, 3 * innerHeight + 200);
  });

  it('is as tall as all its items, so the page scrolls as far as with every item rendered', async () => {
    const element = list();
    await loaded(element);
    const pitch = pitchOf(element);
    const height = (part(element, 'list') as HTMLElement).getBoundingClientRect().height;
    expect(height / (COUNT * pitch)).to.be.within(0.99, 1.01);
    expect(document.documentElement.scrollHeight).to.be.greaterThan(height);

    await scrollToItem(element, COUNT, pitch);
    expect(shownIds(element).at(-1), 'the last item at the end').to.equal('i9999');
    const bottom = (rows(element).at(-1) as HTMLElement).getBoundingClientRect().bottom;
    expect(bottom, 'the last item is in view').to.be.within(0, innerHeight);
    expectConsecutive(element);
  });

  it('shows the right items wherever the page is scrolled', async () => {
    const element = list();
    await loaded(element);
    const pitch = pitchOf(element);
    for (const index of [2500, 7300, 9990, 120, 5000, 0]) {
      await scrollToItem(element, index, pitch);
      expectConsecutive(element);
      const first = inView(element)[0] as HTMLElement;
      // The item at the top of the view is (about) the one scrolled to, or the last that can be:
      // its estimated place is the average height of the items measured so far, all of one height.
      const at = Math.floor((scrollY - (element.getBoundingClientRect().top + scrollY)) / pitch);
      expect(position(first) - 1, `the first item in view, scrolled to ${index}`).to.be.within(
        at - 2,
        at + 2,
      );
      expect(text(first)).to.equal(`Item ${position(first) - 1}`);
    }
  });

  for (const anchoring of [
    'the browser’s scroll anchoring',
    'its own scrolling (overflow-anchor: none, as in Safari)',
  ]) {
    it(`keeps the items in view in place through writes above, in and below it, with ${anchoring}`, async () => {
      if (anchoring.startsWith('its own')) document.documentElement.style.overflowAnchor = 'none';
      const element = list();
      const changes = new EventLog<LiveChangeDetail>(element, 'live-change');
      await loaded(element);
      await scrollToItem(element, 4000, pitchOf(element));
      const [first, second, third] = inView(element).filter((row) => row.getBoundingClientRect().top >= 0);
      const anchor = (first as HTMLElement).dataset.id as string;
      const top = (first as HTMLElement).getBoundingClientRect().top;
      const before = position(first as HTMLElement);

      // Removals first: the list holds at most the 10 000 records a snapshot may carry.
      const removals = (ids: string[]) => ids.map((id) => ({ op: 'remove' as const, object: 'items', id }));
      const creations = (records: { id: string; n: number; title: string }[]) =>
        records.map((record) => ({ op: 'create' as const, object: 'items', record }));
      const id = (n: number) => `i${String(n).padStart(4, '0')}`;
      await server.write([
        // Above the view: 30 removed, 5 moved to the end, 150 added (more than the items rendered
        // around the view); below it: 140 removed, 1 added.
        ...removals(Array.from({ length: 30 }, (_, k) => id(1000 + k))),
        ...Array.from({ length: 5 }, (_, k) => ({
          op: 'patch' as const,
          object: 'items',
          id: id(2000 + k),
          patch: { n: 20_000 + k },
        })),
        ...removals(Array.from({ length: 140 }, (_, k) => id(8000 + k))),
        // In view: one item changes its text, one leaves.
        {
          op: 'patch',
          object: 'items',
          id: (second as HTMLElement).dataset.id as string,
          patch: { title: 'Changed' },
        },
        ...removals([(third as HTMLElement).dataset.id as string]),
        ...creations(
          Array.from({ length: 150 }, (_, k) => ({ id: `a${k}`, n: -1 - k, title: `Added ${k}` })),
        ),
        ...creations([{ id: 'b1', n: 9000.5, title: 'Below' }]),
      ]);
      const ids = () => new Set(element.records.map((record) => record.id));
      await until(
        () =>
          ids().has('b1') &&
          ids().has('a149') &&
          !ids().has(id(8139)) &&
          element.records.length === COUNT - 20,
        'the writes never arrived',
      );
      await frames();
      await until(() => filled(element), 'the view was left empty after the writes');

      const still = rows(element).find((row) => row.dataset.id === anchor) as HTMLElement;
      expect(still, 'the first item in view is still rendered').to.not.equal(undefined);
      expect(Math.abs(still.getBoundingClientRect().top - top), 'it did not move on screen').to.be.below(1.5);
      expect(position(still), 'its place among all moved by the items added and removed above').to.equal(
        before + 150 - 30 - 5,
      );
      expect(
        text(rows(element).find((row) => row.dataset.id === (second as HTMLElement).dataset.id)),
      ).to.equal('Changed');
      expect(shownIds(element)).to.not.include((third as HTMLElement).dataset.id);
      expectConsecutive(element);
      const added = changes.details.flatMap((change) => change.added.map((record) => record.id));
      expect(added, 'live-change reports the records that are not rendered').to.include.members([
        'a0',
        'a149',
        'b1',
      ]);
      expect(changes.details.at(-1)?.reason, 'no fresh snapshot').to.equal('events');
    });
  }

  it('lets items added at the top push the others down while the top of the list is in view', async () => {
    const element = list();
    await loaded(element);
    await server.write([{ op: 'create', object: 'items', record: { id: 'top', n: -1, title: 'New first' } }]);
    await until(() => shownIds(element)[0] === 'top', 'the new item never showed at the top');
    expect(text(rows(element)[0])).to.equal('New first');
    expect(scrollY).to.equal(0);
    expectConsecutive(element);
  });

  it('marks a changed record that is not rendered when it is scrolled into view', async () => {
    const element = list('highlight="10000"');
    const changes = new EventLog<LiveChangeDetail>(element, 'live-change');
    await loaded(element);
    await server.patch('items', 'i6000', { title: 'Far below' });
    await until(() => changes.last?.modified[0]?.id === 'i6000', 'the change never arrived');
    expect(shownIds(element)).to.not.include('i6000');
    await scrollToItem(element, 5995, pitchOf(element));
    const changed = rows(element).find((row) => row.dataset.id === 'i6000') as HTMLElement;
    expect(changed.dataset.changed).to.equal('modified');
    expect(changed.getAttribute('part')).to.equal('item changed');
    expect(text(changed)).to.equal('Far below');
  });

  it('follows a scrolling ancestor', async () => {
    const box = mount('<div style="height: 300px; overflow: auto"></div>');
    const element = list('', ROW, box);
    await loaded(element);
    const pitch = pitchOf(element);
    box.scrollTop = 3000 * pitch;
    await frames();
    await until(() => filled(element, box), 'the scroller was left empty');
    const first = inView(element, box)[0] as HTMLElement;
    expect(position(first) - 1).to.be.within(2998, 3002);
    expect(scrollY, 'the page did not scroll').to.equal(0);
    expectConsecutive(element);
  });

  it('follows a scroller inside a shadow root (the list slotted into it)', async () => {
    const host = mount('<div></div>');
    const root = host.attachShadow({ mode: 'open' });
    root.innerHTML = '<div style="height: 300px; overflow: auto"><slot></slot></div>';
    const box = root.firstElementChild as HTMLElement;
    const element = list('', ROW, host);
    await loaded(element);
    const pitch = pitchOf(element);
    box.scrollTop = 6000 * pitch;
    await until(() => filled(element, box), 'the scroller was left empty', 3000);
    const first = inView(element, box)[0] as HTMLElement;
    expect(position(first) - 1).to.be.within(5998, 6002);
    expectConsecutive(element);
  });

  it('renders every item with virtualize="off", and only those in view again without it', async function () {
    this.timeout(30_000);
    const element = list('virtualize="off"');
    await until(() => rows(element).length === COUNT, 'not every item rendered', 15_000);
    expect(rows(element).some((row) => row.hasAttribute('aria-posinset'))).to.equal(false);
    expect(part(element, 'list')?.querySelectorAll('[aria-hidden]').length, 'no spacers').to.equal(0);

    element.virtualize = 'auto';
    await until(() => rows(element).length < 200, 'the list kept every item');
    expectConsecutive(element);
  });

  it('renders every item up to 200 records, as a short list does', async () => {
    server = await startDevServer({ config: itemsConfig(ITEMS.slice(0, 200)) });
    const element = list();
    await until(() => rows(element).length === 200, 'the 200 items never rendered');
    expect(rows(element).some((row) => row.hasAttribute('aria-posinset'))).to.equal(false);
    expect(part(element, 'list')?.querySelectorAll('[aria-hidden]').length, 'no spacers').to.equal(0);

    await server.create('items', { id: 'z', n: 500, title: 'The 201st' });
    await until(
      () => element.records.length === 201 && rows(element).length < 201,
      'the list never windowed',
    );
    expectConsecutive(element);

    await server.remove('items', 'z');
    await until(() => rows(element).length === 200, 'the list never rendered every item again');
    expect(rows(element).some((row) => row.hasAttribute('aria-posinset'))).to.equal(false);
  });
});
