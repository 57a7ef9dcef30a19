/**
 * What the element tests share: mounting markup as a page author writes it, reading what a user
 * sees through the elements' shadow parts, following their events, and watching the wire from
 * the page (the ws-auth requests and the frames sent) without touching the manager's insides.
 */
import { expect, waitUntil } from '@open-wc/testing';
import '../../../elements/index.js';
import {
  connect,
  type ConnectionStatus,
  type LiveChangeDetail,
  type LiveConnection,
  type LiveErrorDetail,
} from '../../../elements/index.js';
import { PATHS, type LiveRecord } from '../../../protocol/index.js';
import type { RecordQuery, TestDevServer } from './dev-server.js';

/**
 * Waits until `predicate` holds, polling every 10 ms, and fails with `message` after `timeout`
 * ms: longer than `waitUntil`'s 1 s default, since a loaded machine may take that long to
 * deliver and render a batch (a passing test waits no longer for it).
 */
export async function until(predicate: () => unknown, message: string, timeout = 5000): Promise<void> {
  await waitUntil(predicate, message, { timeout, interval: 10 });
}

const mounted: HTMLElement[] = [];

/**
 * Puts `markup` into the page as an author would write it (the elements upgrade at once) and
 * returns the first element; `unmountAll()` takes it out again.
 */
export function mount<E extends Element = HTMLElement>(markup: string): E {
  const container = document.createElement('div');
  container.innerHTML = markup;
  document.body.append(container);
  mounted.push(container);
  return container.firstElementChild as E;
}

/** Removes everything `mount()` added (the elements release their subscriptions). */
export function unmountAll(): void {
  for (const container of mounted.splice(0)) container.remove();
}

/** Escapes a value for an attribute in `mount()` markup. */
export function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The element's first shadow part named `name` (a part list may hold several names). */
export function part(element: Element, name: string): HTMLElement | null {
  return element.shadowRoot?.querySelector<HTMLElement>(`[part~="${name}"]`) ?? null;
}

/** Every shadow part named `name`, in document order. */
export function parts(element: Element, name: string): HTMLElement[] {
  return [...(element.shadowRoot?.querySelectorAll<HTMLElement>(`[part~="${name}"]`) ?? [])];
}

/** The ids of the items a `<live-record-list>` shows, in display order. */
export function shownIds(list: Element): string[] {
  return parts(list, 'item').map((item) => item.dataset.id ?? '');
}

/** The item of record `id` in a `<live-record-list>`. */
export function item(list: Element, id: string): HTMLElement | undefined {
  return parts(list, 'item').find((row) => row.dataset.id === id);
}

/** The text of `data-field="field"` inside `root` (an item, a record part), trimmed. */
export function fieldText(root: Element | null | undefined, field: string): string | undefined {
  return root?.querySelector(`[data-field="${field}"]`)?.textContent?.trim();
}

/** Text as a user reads it: whitespace collapsed. */
export function text(node: Node | null | undefined): string {
  return (node?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** The text of what a slot shows: its assigned elements, or its own fallback content. */
export function slotText(element: Element, name: string): string {
  const slot = element.shadowRoot?.querySelector<HTMLSlotElement>(`slot[name="${name}"]`);
  if (!slot) return '';
  const assigned = slot.assignedNodes({ flatten: true });
  return (assigned.length ? assigned : [...slot.childNodes]).map((node) => text(node)).join(' ');
}

/** The message of the element's `error-message` part, when it shows one. */
export function errorMessage(element: Element): string | undefined {
  return part(element, 'error-message')?.textContent?.trim();
}

/** Every event of `type` fired at `target`, in order. */
export class EventLog<D> {
  readonly details: D[] = [];
  private readonly listener = (event: Event) => this.details.push((event as CustomEvent<D>).detail);

  constructor(
    private readonly target: EventTarget,
    private readonly type: string,
  ) {
    target.addEventListener(type, this.listener);
  }

  get last(): D | undefined {
    return this.details.at(-1);
  }

  stop(): void {
    this.target.removeEventListener(this.type, this.listener);
  }
}

/** `live-error` details of an element. */
export function errorLog(target: EventTarget): EventLog<LiveErrorDetail> {
  return new EventLog<LiveErrorDetail>(target, 'live-error');
}

/**
 * Follows a list's `live-change` events as a user of them would: a snapshot replaces the records
 * shown; a batch adds records that were not shown, changes or removes records that were.
 * Anything else is a `problem`, the trace of an event lost or applied twice: an id added while
 * shown, a removal or change of an id not shown, or a "change" to exactly the version already
 * shown (the server commits no write that changes nothing, so a real update always differs).
 * After every change the ledger's ids must be the ids the list renders.
 */
export class ChangeLedger {
  readonly problems: string[] = [];
  readonly changes: LiveChangeDetail[] = [];
  private shown = new Map<string, string>();

  constructor(private readonly list: HTMLElement) {
    list.addEventListener('live-change', (event) => this.apply(event.detail));
  }

  /** How many snapshots (first load, resync, resume without history) the list applied. */
  get snapshots(): number {
    return this.changes.filter((change) => change.reason === 'snapshot').length;
  }

  private apply(change: LiveChangeDetail): void {
    this.changes.push(change);
    const version = (record: LiveRecord) => JSON.stringify(record);
    if (change.reason === 'snapshot') {
      this.shown = new Map(change.records.map((record) => [record.id, version(record)]));
    } else {
      for (const record of change.added) {
        if (this.shown.has(record.id)) this.problems.push(`added ${record.id}, already shown`);
        this.shown.set(record.id, version(record));
      }
      for (const record of change.modified) {
        const before = this.shown.get(record.id);
        if (before === undefined) this.problems.push(`modified ${record.id}, not shown`);
        else if (before === version(record)) this.problems.push(`modified ${record.id} to the version shown`);
        this.shown.set(record.id, version(record));
      }
      for (const { id } of change.removed) {
        if (!this.shown.delete(id)) this.problems.push(`removed ${id}, not shown`);
      }
    }
    const rendered = shownIds(this.list);
    if (rendered.length !== this.shown.size || rendered.some((id) => !this.shown.has(id))) {
      this.problems.push(
        `after a ${change.reason}, the list shows [${rendered}], events say [${[...this.shown.keys()]}]`,
      );
    }
  }
}

/**
 * Waits until `list` shows exactly what a fresh REST query with the same `query` answers (ids in
 * order, and each record's values), then asserts it. Query after the writes are done.
 */
export async function expectListMatches(
  list: HTMLElement & { records: readonly LiveRecord[] },
  server: TestDevServer,
  object: string,
  query: RecordQuery,
  timeout = 5000,
): Promise<void> {
  const truth = (await server.query(object, query)).records;
  const ids = truth.map((record) => record.id);
  // The records themselves, not only the ids: a change of a field may still be on its way.
  const expected = JSON.stringify(truth);
  await until(
    () => JSON.stringify(list.records) === expected && JSON.stringify(shownIds(list)) === JSON.stringify(ids),
    `the list never showed [${ids}]`,
    timeout,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; it shows [${shownIds(list)}]`);
  });
  expect(shownIds(list)).to.deep.equal(ids);
  expect(list.records).to.deep.equal(truth);
}

/** Reconnect delays short enough for a test, long enough to write while the client waits. */
export const FAST_BACKOFF = { minMs: 200, maxMs: 800, factor: 2 };

/**
 * Holds back the manager's ws-auth requests while closed, so a test decides when a dropped
 * connection may come back (writes made meanwhile must arrive by resuming). Handed to `connect`
 * as its `fetch`; counts the ws-auth requests it saw.
 */
export class AuthGate {
  requests = 0;
  private waiting: (() => void)[] = [];
  private closed = false;

  readonly fetch: typeof fetch = async (input, init) => {
    if (String(input).includes(PATHS.wsAuth)) {
      this.requests++;
      while (this.closed) await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    return fetch(input, init);
  };

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.closed = false;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/**
 * The page's shared connection for `server` and `apiKey`, created here first so that it gets a
 * fast backoff (and optionally a gated fetch): the elements' `connect()` calls find this one in
 * the registry. Close it after the test so the next test gets a fresh one.
 */
export function fastConnection(
  server: TestDevServer,
  apiKey: string,
  options: { gate?: AuthGate; backoff?: typeof FAST_BACKOFF } = {},
): LiveConnection {
  const connection = connect({
    url: server.url,
    apiKey,
    backoff: options.backoff ?? FAST_BACKOFF,
    ...(options.gate ? { fetch: options.gate.fetch } : {}),
  });
  return connection;
}

/**
 * Closes the page's connections to `server` for its keys and `extraKeys`, so the next test starts
 * with fresh ones (and `fastConnection` can set their options again).
 */
export function closeConnections(server: TestDevServer, ...extraKeys: string[]): void {
  for (const apiKey of [...Object.values(server.keys), ...extraKeys])
    connect({ url: server.url, apiKey }).close();
}

/** Every status a connection reports from now on. */
export function statusLog(connection: LiveConnection): ConnectionStatus[] {
  const statuses: ConnectionStatus[] = [];
  connection.onStatus((status) => statuses.push(status));
  return statuses;
}

/** How many ws-auth requests the page has made (resource timing: nothing is intercepted). */
export function wsAuthRequests(): number {
  return performance.getEntriesByType('resource').filter((entry) => entry.name.includes(PATHS.wsAuth)).length;
}

/** A frame the page sent on a WebSocket to the dev server, parsed. */
export type SentFrame = { type: string; id?: string; channel?: string; since?: number } & Record<
  string,
  unknown
>;

/**
 * Records the frames the page sends to `server`'s WebSocket endpoint and the sockets it opens
 * there, by wrapping the browser's `WebSocket` (the test runner's own socket is left alone).
 * Install it before the connection opens; `uninstall()` after the test.
 */
export class WireSpy {
  readonly sent: SentFrame[] = [];
  sockets = 0;
  private readonly original = WebSocket;
  private readonly originalSend = WebSocket.prototype.send;

  constructor(server: TestDevServer) {
    const base = server.url.replace(/^http/, 'ws');
    const opened = (url: string | URL) => {
      if (String(url).startsWith(base)) this.sockets++;
    };
    const sent = (socket: WebSocket, data: unknown) => {
      if (socket.url.startsWith(base) && typeof data === 'string')
        this.sent.push(JSON.parse(data) as SentFrame);
    };
    const Original = this.original;
    const originalSend = this.originalSend;
    class SpiedWebSocket extends Original {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        opened(url);
      }
    }
    WebSocket.prototype.send = function (this: WebSocket, data) {
      sent(this, data);
      return originalSend.call(this, data);
    };
    globalThis.WebSocket = SpiedWebSocket;
  }

  /** The frames of `type` sent, optionally only those for `channel`. */
  of(type: string, channel?: string): SentFrame[] {
    return this.sent.filter(
      (frame) => frame.type === type && (channel === undefined || frame.channel === channel),
    );
  }

  uninstall(): void {
    globalThis.WebSocket = this.original;
    WebSocket.prototype.send = this.originalSend;
  }
}

/** A seeded random number generator (mulberry32), so a failing random run can be repeated. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits until nothing is connected to `server` (the last test's sockets lingered out). */
export async function noConnectionsLeft(server: TestDevServer): Promise<void> {
  await until(async () => (await server.healthz()).connections === 0, 'a connection was left open');
}

/**
 * Whether this page runs on a network that refuses WebSocket upgrades to the API (the `sse`
 * group of web-test-runner.config.js), where the elements fall back to Server-Sent Events.
 */
export const WEBSOCKET_BLOCKED =
  (globalThis as { catalystTestNetwork?: string }).catalystTestNetwork === 'websocket-blocked';

/**
 * `it` for a test about WebSocket itself (frames on the wire, sockets counted, pongs, close
 * codes of a socket): skipped where WebSocket is blocked, run everywhere else.
 */
export function itOnWebSocket(title: string, fn: MochaFunction): void {
  (WEBSOCKET_BLOCKED ? it.skip : it)(title, fn);
}
