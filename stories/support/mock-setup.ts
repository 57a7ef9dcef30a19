/**
 * The in-browser mock behind every story: msw's worker, started once per page, and one mock
 * (`createMock` from `mock/`: the dev server's engine inside msw's handlers) per rendered story.
 *
 * Each rendered story gets its own mock at its own base URL (`https://mock.catalyst.test/story-N`,
 * a host that exists nowhere, so nothing leaks out), and so its own engine and its own shared
 * connection (the connection registry is keyed by url and key): the stories of one docs page
 * never see each other's records, drops or refusals. The worker starts
 * once, with no handlers; each mock's handlers are added with `worker.use()` when its story first
 * renders. A mock lives as long as its story is on screen: changing a control re-renders the same
 * story against the same mock, so records written meanwhile stay; leaving the story ends its
 * scenario, its traffic and its faults (the mock's `control.reset()`).
 *
 * A story describes its mock with `parameters.mock` (`MockParameters`): the dev server config
 * (default: the built-in demo data), limits, and a `scenario` that drives the mock once the story
 * is on screen (traffic, drops, refusals). `parameters.mock: false` runs a story with no mock.
 */
import type { Loader, StoryContext } from '@storybook/web-components-vite';
import type { RequestHandler, WebSocketHandler } from 'msw';
import { setupWorker, type SetupWorker } from 'msw/browser';
import { connect, type ConnectionState, type LiveConnection } from '../../elements/index.js';
import { createMock, MOCK_URL, type DevServerConfig, type Mock, type MockControl } from '../../mock/index.js';
import type { Limits } from '../../protocol/index.js';

/** What a story asks of its mock (`parameters.mock`). */
export type MockParameters = {
  /** The dev server config the mock runs (the same schema); default: the built-in demo data. */
  config?: DevServerConfig;
  /** Limits over the config's; stories default to a 50 ms flush so edits show at once. */
  limits?: Partial<Limits>;
  /** msw handlers in front of the mock's, for what the mock does not do (a server that never answers). */
  handlers?: (baseUrl: string) => (RequestHandler | WebSocketHandler)[];
  /** Drives the mock once the story is on screen; stopped (its `signal` aborted) when the story leaves. */
  scenario?: (mock: StoryMock) => Promise<void> | void;
};

/** A story's mock, as its render function and scenario see it (`context.loaded.mock`). */
export type StoryMock = {
  /** Where the mock answers: give it to `<live-connection url>`. */
  baseUrl: string;
  /** The config's first publishable key: what the page uses. */
  apiKey: string;
  /** The config's first secret key: what a back office would write with. */
  secretKey: string;
  control: MockControl;
  engine: Mock['engine'];
  /** Aborted when the story leaves the screen. */
  signal: AbortSignal;
  /** The page's shared connection to this mock with `apiKey`: the one the story's elements use. */
  readonly connection: LiveConnection;
  /** Resolves once the connection is in `state` (at once if it already is). */
  until(state: ConnectionState): Promise<void>;
  /** Resolves once the connection is open and the elements had time to show their first data. */
  ready(): Promise<void>;
  /** Waits `ms`; rejects when the story leaves. */
  sleep(ms: number): Promise<void>;
};

/** Story limits: a short flush so a change shows at once; the rest as the dev server has them. */
const STORY_LIMITS: Partial<Limits> = { flushIntervalMs: 50 };

/** How long `ready()` leaves the elements to show their first snapshot once the connection is open. */
const SNAPSHOT_GRACE_MS = 300;

/** sessionStorage key: set while the page reloads to be controlled by msw's worker. */
const RELOADED = 'catalyst-stories:reloaded-for-msw';

let worker: Promise<SetupWorker> | undefined;

/** Starts msw's worker once per page (a story's iframe, or a docs page with many stories). */
export function startWorker(): Promise<SetupWorker> {
  worker ??= (async () => {
    const started = setupWorker();
    await started.start({
      // Relative to iframe.html, which sits at the site's root: so the site works from any
      // static host, under any sub-path (the worker's scope is its own folder).
      serviceWorker: { url: './mockServiceWorker.js' },
      quiet: true,
      // Storybook's own modules and assets go to the network untouched, without a warning each.
      onUnhandledRequest: 'bypass',
    });
    // msw's worker unregisters itself when its last page closes. A page loading at that moment
    // (iframe.html opened alone, then the manager) finds it registered again yet is not
    // controlled by it, so every request would go past the mocks. msw reloads the page when it
    // sees this before registering; here it shows only after, so reload once here.
    const uncontrolled = 'serviceWorker' in navigator && !navigator.serviceWorker.controller;
    if (uncontrolled && sessionStorage.getItem(RELOADED) === null) {
      sessionStorage.setItem(RELOADED, 'yes');
      location.reload();
      return new Promise<never>(() => undefined);
    }
    sessionStorage.removeItem(RELOADED);
    return started;
  })();
  return worker;
}

type Rendered = { id: string; mock: StoryMock; abort: AbortController };

/** The mock of each story on screen, by the element Storybook renders it into. */
const rendered = new WeakMap<HTMLElement, Rendered>();
let mocks = 0;

/**
 * Storybook loader (preview.ts): creates the story's mock on its first render and hands the same
 * one to every re-render (`context.loaded.mock`), then starts its scenario.
 */
export const mockLoader: Loader = async (context) => {
  const parameters = context.parameters.mock as MockParameters | false | undefined;
  if (parameters === false) return {};
  const canvas = context.canvasElement as HTMLElement;
  const existing = rendered.get(canvas);
  if (existing?.id === context.id && !existing.abort.signal.aborted) return { mock: existing.mock };

  const active = await startWorker();
  const mock = createMock({
    ...(parameters?.config ? { config: parameters.config } : {}),
    baseUrl: `${MOCK_URL}/story-${++mocks}`,
    limits: { ...STORY_LIMITS, ...parameters?.limits },
  });
  active.use(...mock.handlers);
  // `use` puts handlers first: the story's own win over the mock's.
  if (parameters?.handlers) active.use(...parameters.handlers(mock.url));

  const abort = new AbortController();
  const entry: Rendered = { id: context.id, abort, mock: storyMockOf(mock, abort.signal) };
  rendered.set(canvas, entry);

  if (parameters?.scenario) {
    Promise.resolve()
      .then(() => parameters.scenario?.(entry.mock))
      .catch((error: unknown) => {
        if (!abort.signal.aborted) console.error(`story ${context.id}: the mock scenario failed`, error);
      });
  }
  return { mock: entry.mock };
};

/** The `StoryMock` view of a mock, whose waits end when `signal` aborts. */
function storyMockOf(mock: Mock, signal: AbortSignal): StoryMock {
  const url = mock.url;
  const keys = mock.engine.config.keys;
  const apiKey = keys.find((k) => k.role === 'publishable')?.key ?? (keys[0]?.key as string);
  const secretKey = keys.find((k) => k.role === 'secret')?.key ?? apiKey;

  /** A promise settled by `start`, rejected when the story leaves; `start` returns its cleanup. */
  const abortable = (start: (resolve: () => void) => () => void) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => (stop(), reject(signal.reason));
      const stop = start(() => (stop(), signal.removeEventListener('abort', onAbort), resolve()));
      signal.addEventListener('abort', onAbort, { once: true });
    });
  const until = (state: ConnectionState) =>
    abortable((resolve) => {
      const connection = connect({ url, apiKey });
      const stop = connection.onStatus((status) => status.state === state && resolve());
      if (connection.status.state === state) queueMicrotask(resolve);
      return stop;
    });
  const sleep = (ms: number) =>
    abortable((resolve) => {
      const timer = setTimeout(resolve, ms);
      return () => clearTimeout(timer);
    });

  return {
    baseUrl: url,
    apiKey,
    secretKey,
    control: mock.control,
    engine: mock.engine,
    signal,
    get connection() {
      return connect({ url, apiKey });
    },
    until,
    sleep,
    async ready() {
      await until('open');
      // The snapshots follow the welcome by a few milliseconds in the page: wait them out, so a
      // drop or a burst finds data on screen.
      await sleep(SNAPSHOT_GRACE_MS);
    },
  };
}

/**
 * Storybook `beforeEach` (preview.ts): its cleanup, which Storybook runs when the story leaves
 * the screen, ends the story's scenario and whatever it started.
 */
export function disposeMockOnLeave(context: StoryContext): () => void {
  return () => {
    const canvas = context.canvasElement as HTMLElement;
    const entry = rendered.get(canvas);
    if (!entry || entry.id !== context.id) return;
    rendered.delete(canvas);
    entry.abort.abort(new Error('the story left the screen'));
    // Not `close()`: the story's elements are still connected, and would retry against a shut
    // server until Storybook replaces them. `reset()` stops the traffic and every fault (back
    // online too); the connection winds down once the elements are gone.
    entry.mock.control.reset();
  };
}

/** The story's mock; throws when the story runs without one (`parameters.mock: false`). */
export function storyMock(context: { loaded: Record<string, unknown> }): StoryMock {
  const mock = context.loaded.mock as StoryMock | undefined;
  if (!mock) throw new Error('this story has no mock: remove `parameters.mock: false` to get one');
  return mock;
}
