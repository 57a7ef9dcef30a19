/**
 * The connection manager: one WebSocket per (url, key), shared by every element on the page.
 * It fetches a fresh one-time token before every (re)connect, backs off with full jitter,
 * lets close codes steer the retry, watches the heartbeat, multiplexes every subscription on
 * the one socket and re-sends each after a reconnect with `since`/`epoch`, so no event is lost
 * or applied twice. Every incoming frame is validated; a bad one is reported, never fatal.
 *
 * One loop (`run`) owns the attempts: wait as the last close says, fetch a token, open a link,
 * wait for it to end, again — until the last subscription leaves, the key is refused, or
 * `close()`. Outgoing frames are not validated here: they are typed, built from attributes the
 * elements have already checked, and the server validates each one.
 */
import type { ClientMessage, LiveEvent, ServerMessage, WelcomeMessage } from '../../protocol/messages.js';
import { CODE, codeName } from '../../protocol/codes.js';
import { describeIssues } from '../../protocol/issues.js';
import { PATHS } from '../../protocol/paths.js';
import { readServerMessage } from '../../protocol/read-server-message.js';
import { retryDelay, type BackoffOptions } from './backoff.js';
import { fetchToken } from './fetch-token.js';
import { openWebSocketLink, type Link, type WebSocketClass } from './link.js';
import { fellBackBefore, rememberFallback } from './sse-fallback-memory.js';
import { openSseLink, refusedSubscription } from './sse-link.js';
import { joinTabs, type TabLeadership } from './tab-leadership.js';
import { openTabLink, RELINK } from './tab-link.js';
import { TabRelay } from './tab-relay.js';
import type { ConnectionState, ConnectionStatus, LiveError } from './connection-status.js';
import {
  SubscriptionEntry,
  type LiveSubscriptionHandle,
  type SubscriptionHandlers,
  type SubscriptionRequest,
} from './live-subscription.js';

export type { WebSocketClass } from './link.js';

/** How to connect. */
export type ConnectOptions = {
  /** The API's base URL, e.g. `https://api.example.com` (ws-auth and the socket hang off it). */
  url: string;
  /** A publishable or secret key. */
  apiKey: string;
  /** WebSocket implementation; defaults to `globalThis.WebSocket` (pass `ws`'s in Node). */
  WebSocket?: WebSocketClass;
  /** fetch implementation; defaults to `globalThis.fetch`. */
  fetch?: typeof fetch;
  /**
   * `websocket`, `sse` (Server-Sent Events: read-only, for networks that block WebSocket), or
   * `auto` (the default): WebSocket, falling back to SSE for the rest of the page's life when
   * `fallbackAfter` WebSocket attempts in a row fail to open while the API answers.
   */
  transport?: Transport;
  /**
   * `tabs` (the default): the page's tabs of this origin share one connection per API and key —
   * one tab holds it, the others reach the server through it — where the browser has Web Locks
   * and `BroadcastChannel` (secure contexts). `none`: this tab keeps a connection of its own.
   */
  share?: Share;
} & Partial<typeof DEFAULTS>;

/** The ways a connection can be shared. */
export const SHARES = ['tabs', 'none'] as const;

/** One of `SHARES`. */
export type Share = (typeof SHARES)[number];

/** The transports a connection can use. */
export const TRANSPORTS = ['auto', 'websocket', 'sse'] as const;

/** One of `TRANSPORTS`. */
export type Transport = (typeof TRANSPORTS)[number];

/** Every default of the manager, in one place. */
export const DEFAULTS = {
  /** Reconnect backoff: 1 s → 30 s, factor 2, full jitter. */
  backoff: { minMs: 1000, maxMs: 30_000, factor: 2 } as BackoffOptions,
  /** Open this long without trouble and the backoff starts over. */
  stableAfterMs: 10_000,
  /** After the last subscription leaves, keep the socket this long in case another comes. */
  lingerMs: 1000,
  /** A socket that has not opened and welcomed by then is given up and retried. */
  connectTimeoutMs: 10_000,
  /** With `transport: 'auto'`: WebSocket attempts that fail to open, in a row, before SSE. */
  fallbackAfter: 3,
};

type Listener = (status: ConnectionStatus) => void;

type TimerName = 'linger' | 'heartbeat' | 'welcome';

/** The shared connection to one API with one key. Get it with `connect()`. */
export class LiveConnection {
  readonly url: string;
  readonly apiKey: string;
  readonly #options: Required<Omit<ConnectOptions, 'url' | 'apiKey'>>;
  #current: ConnectionStatus = { state: 'idle', at: Date.now() };
  readonly #listeners = new Set<Listener>();
  readonly #subscriptions = new Map<string, SubscriptionEntry>();
  readonly #publishes = new Map<string, { resolve: (seq: number) => void; reject: (e: LiveError) => void }>();
  /** Bumped by every `open()` and `teardown()`: a loop of an older generation stops. */
  #generation = 0;
  #running = false;
  #link: Link | undefined;
  /** The link carries SSE: subscription changes mean a new link. */
  #sse = false;
  /** `auto` fell back to SSE. */
  #fellBack = false;
  /** WebSocket attempts in a row that never got a welcome while ws-auth answered. */
  #failedOpens = 0;
  /** The subscriptions in the current SSE link's URL, in order. */
  #urlEntries: SubscriptionEntry[] = [];
  /** The current link is being replaced on purpose: a new set of subscriptions (SSE), a new leading tab. */
  #relinking = false;
  /** This tab's place among the tabs sharing the connection (`share: 'tabs'`), once opened. */
  #tabs: TabLeadership | undefined;
  /** While this tab leads: the other tabs' subscriptions it carries. */
  #relay: TabRelay | undefined;
  #welcome: WelcomeMessage | undefined;
  #nextId = 1;
  #attempt = 0;
  #lastClose: number | undefined;
  #openedAt = 0;
  #lastFrameAt = 0;
  #timers = {
    linger: undefined as unknown,
    heartbeat: undefined as unknown,
    welcome: undefined as unknown,
  };
  #wake: (() => void) | undefined;
  readonly #onBrowserBack = () => this.#wakeUp();

  constructor(options: ConnectOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.#options = {
      WebSocket: options.WebSocket ?? (globalThis.WebSocket as WebSocketClass),
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      backoff: options.backoff ?? DEFAULTS.backoff,
      stableAfterMs: options.stableAfterMs ?? DEFAULTS.stableAfterMs,
      lingerMs: options.lingerMs ?? DEFAULTS.lingerMs,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      transport: options.transport ?? 'auto',
      share: options.share ?? 'tabs',
      fallbackAfter: options.fallbackAfter ?? DEFAULTS.fallbackAfter,
    };
    // `auto` starts on SSE when this tab fell back before, or has no WebSocket at all.
    this.#fellBack =
      this.#options.transport === 'auto' &&
      (fellBackBefore(this.url) || typeof this.#options.WebSocket !== 'function');
  }

  // ---- state ---------------------------------------------------------------------------------

  /** The current state, `retryInMs` and `lastError`. */
  get status(): ConnectionStatus {
    return this.#current;
  }

  /** Calls `listener` on every state change; returns the function that stops it. */
  onStatus(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The one writer of the state. */
  #setState(state: ConnectionState, extra: { retryInMs?: number; error?: LiveError } = {}): void {
    const next: ConnectionStatus = { state, at: Date.now() };
    if (extra.retryInMs !== undefined) next.retryInMs = extra.retryInMs;
    const lastError = extra.error ?? (state === 'open' ? undefined : this.#current.lastError);
    if (lastError) next.lastError = lastError;
    this.#current = next;
    for (const listener of [...this.#listeners]) listener(next);
  }

  // ---- subscriptions -------------------------------------------------------------------------

  /** Subscribes; opens the socket on the first subscription. */
  subscribe(request: SubscriptionRequest, handlers: SubscriptionHandlers): LiveSubscriptionHandle {
    if (this.#current.state === 'closed') {
      throw new Error('this connection was closed for good; call connect() again for a new one');
    }
    const entry = new SubscriptionEntry(`s${this.#nextId++}`, request, handlers);
    this.#add(entry);
    return {
      id: entry.id,
      update: (next) => {
        if (!this.#subscriptions.has(entry.id)) return;
        entry.request = next;
        entry.refused = false;
        this.#restart(entry);
      },
      resync: () => {
        if (this.#subscriptions.has(entry.id)) this.#restart(entry);
      },
      unsubscribe: () => this.#remove(entry.id),
    };
  }

  #add(entry: SubscriptionEntry): void {
    this.#subscriptions.set(entry.id, entry);
    this.#clearTimer('linger');
    if (this.#welcome || (this.#sse && this.#link)) this.#sendSubscribe(entry);
    else if (this.#current.state !== 'denied') this.#open(); // the same key would be refused again: see `retry()`
  }

  #remove(id: string): void {
    if (!this.#subscriptions.delete(id)) return;
    if (this.#subscriptions.size === 0) this.#lingerThenClose();
    else if (this.#sse) this.#resubscribe();
    if (this.#welcome) this.#send({ type: 'unsubscribe', id });
  }

  /** Re-sends a subscription without `since`: a fresh snapshot replaces the element's state. */
  #restart(entry: SubscriptionEntry): void {
    entry.fresh = true;
    entry.seq = undefined;
    if (this.#welcome) this.#sendSubscribe(entry);
  }

  /** Publishes a custom event (secret keys); resolves with its seq. */
  publish(channel: string, data: unknown): Promise<number> {
    const id = `p${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      if (!this.#welcome || this.#sse) {
        reject({
          name: 'not_connected',
          message: this.#sse
            ? 'publish needs a WebSocket; this connection reads Server-Sent Events'
            : 'publish needs an open connection; subscribe to something first',
        });
        return;
      }
      this.#publishes.set(id, { resolve, reject });
      this.#send({ type: 'publish', id, channel, data });
    });
  }

  /** After `denied` (a key fixed on the server, say): tries again with every subscription. */
  retry(): void {
    if (this.#current.state !== 'denied' || this.#subscriptions.size === 0) return;
    this.#open();
  }

  /** Closes for good: every subscription ends and the socket closes. */
  close(): void {
    this.#subscriptions.clear();
    this.#relay?.close();
    this.#teardown(); // before the tabs' channel closes: a follower's link says goodbye on it
    this.#tabs?.close();
    this.#setState('closed');
  }

  // ---- the connection loop ----------------------------------------------------------------

  #open(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#lastClose = undefined;
    if (this.#options.share === 'tabs') {
      const name = `catalyst-realtime ${this.url} ${this.apiKey} ${this.#options.transport}`;
      this.#tabs ??= joinTabs(
        name,
        this.url,
        () => this.#lead(),
        () => this.#stepDown(),
      );
    }
    this.#setState('connecting');
    this.#listenToBrowser(true);
    void this.#run(++this.#generation);
  }

  /** Attempt after attempt until `teardown()` starts another generation. Never rejects. */
  async #run(generation: number): Promise<void> {
    const current = () => generation === this.#generation;
    await this.#tabs?.decided;
    while (current()) {
      const delay =
        this.#attempt === 0 ? 0 : retryDelay(this.#lastClose, this.#attempt, this.#options.backoff);
      if (delay > 0) {
        this.#setState(this.#isOffline() ? 'offline' : 'reconnecting', { retryInMs: delay });
        await this.#sleep(delay);
        if (!current()) return;
      }
      this.#attempt++;
      // Through the leading tab, or on a link of our own: WebSocket, or SSE when asked or fallen back.
      const viaTab = this.#tabs?.leading === false;
      this.#sse = !viaTab && (this.#options.transport === 'sse' || this.#fellBack);
      let path = '';
      if (!viaTab)
        try {
          const answer = await fetchToken(this.#options.fetch, this.url, this.apiKey);
          path = `${this.#sse ? PATHS.sse : answer.url}?token=${encodeURIComponent(answer.token)}`;
        } catch (error) {
          if (!current()) return;
          const problem = error as LiveError;
          if (problem.code === 401 || problem.code === 403) return this.#deny(problem);
          this.#lastClose = undefined;
          this.#setState(this.#isOffline() ? 'offline' : 'reconnecting', { error: problem });
          continue;
        }
      if (!current()) return;
      const { code, reason, wasOpen, details } = await this.#connectOnce(path, viaTab);
      if (!current()) return;
      if (this.#sse && code === CODE.bad_request && this.#refuseFromUrl(details)) {
        this.#attempt = 0; // the others go on a new stream at once
        continue;
      }
      if (this.#relinking || code === RELINK) {
        this.#relinking = false; // straight to the new link
        this.#attempt = 0;
        continue;
      }
      if (
        !wasOpen &&
        !this.#sse &&
        !viaTab &&
        this.#options.transport === 'auto' &&
        ++this.#failedOpens >= this.#options.fallbackAfter
      ) {
        this.#fellBack = this.#sse = true;
        this.#attempt = 0;
        rememberFallback(this.url);
        continue; // not a reconnect to the page: on to SSE at once
      }
      if (wasOpen && Date.now() - this.#openedAt >= this.#options.stableAfterMs) this.#attempt = 1; // stable: start over
      this.#lastClose = code;
      const error: LiveError = {
        code,
        name: closeName(code),
        message: reason || `connection closed (${code})`,
      };
      if (code === CODE.scope_denied) return this.#deny(error);
      this.#setState(this.#isOffline() ? 'offline' : 'reconnecting', { error });
    }
  }

  /**
   * Opens one link — through the leading tab, or to `path` (its path and token) — and resolves
   * when it ends, whoever ended it.
   */
  #connectOnce(
    path: string,
    viaTab: boolean,
  ): Promise<{ code: number; reason: string; wasOpen: boolean; details?: unknown }> {
    return new Promise((resolve) => {
      const onClose = (code: number, reason: string, details?: unknown) => {
        const wasOpen = this.#welcome !== undefined;
        this.#link = undefined;
        this.#welcome = undefined;
        this.#clearTimer('heartbeat');
        this.#clearTimer('welcome');
        for (const entry of this.#subscriptions.values()) entry.pending = true;
        if (!this.#relinking) this.#relay?.linkLost(code, reason);
        for (const [id, publish] of this.#publishes) {
          publish.reject({
            name: 'connection_lost',
            message: 'the connection closed before the server confirmed the publish',
          });
          this.#publishes.delete(id);
        }
        resolve({ code, reason, wasOpen, details });
      };
      const onFrame = (text: string) => this.#onFrame(text);
      try {
        if (viaTab && this.#tabs) {
          this.#link = openTabLink(this.#tabs.channel, this.#tabs.id, { onFrame, onClose });
        } else if (this.#sse) {
          // Every live subscription goes in the URL, each with its own resume position.
          const specs = [];
          this.#urlEntries = [];
          for (const entry of this.#subscriptions.values()) {
            if (entry.refused) continue;
            entry.pending = true;
            specs.push(entry.spec());
            this.#urlEntries.push(entry);
          }
          const url = `${this.url}${path}&subscriptions=${encodeURIComponent(JSON.stringify(specs))}`;
          const onActivity = () => {
            this.#lastFrameAt = Date.now();
            this.#relayHeartbeat(); // SSE's heartbeat is a comment line
          };
          this.#link = openSseLink(this.#options.fetch, url, { onFrame, onClose, onActivity });
        } else {
          this.#link = openWebSocketLink(
            this.#options.WebSocket,
            `${this.url.replace(/^http/, 'ws')}${path}`,
            {
              onFrame,
              onClose,
            },
          );
        }
      } catch (error) {
        // The environment refuses the socket outright (a bad URL, a Content-Security-Policy, a
        // blocked scheme): it never will open, so `auto` goes to SSE at once.
        if (this.#options.transport === 'auto') this.#failedOpens = this.#options.fallbackAfter - 1;
        // Say which URL, without the token.
        onClose(1006, `cannot open a WebSocket to ${this.url}: ${(error as Error).message}`);
        return;
      }
      this.#armWelcomeTimeout();
    });
  }

  #onFrame(text: string): void {
    this.#lastFrameAt = Date.now();
    const parsed = readServerMessage(text);
    if (!parsed.ok) {
      this.#report({
        name: 'bad_frame',
        message: `ignored a frame the protocol does not allow: ${parsed.error}`,
      });
      return;
    }
    this.#handle(parsed.message);
  }

  #handle(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
        this.#onWelcome(message);
        return;
      case 'subscribed': {
        const entry = this.#subscriptions.get(message.id);
        if (!entry) return;
        entry.pending = false;
        entry.fresh = false;
        entry.epoch = this.#welcome?.epoch;
        if (!message.resumed) entry.seq = message.seq;
        else entry.seq = Math.max(entry.seq ?? 0, message.seq);
        entry.handlers.onSubscribed?.(message);
        return;
      }
      case 'batch':
        this.#onBatch(message.events);
        return;
      case 'error': {
        if (message.id === undefined) {
          this.#report({ code: message.code, name: message.name, message: message.message });
          return;
        }
        const publish = this.#publishes.get(message.id);
        if (publish) {
          this.#publishes.delete(message.id);
          publish.reject({ code: message.code, name: message.name, message: message.message });
          return;
        }
        const entry = this.#subscriptions.get(message.id);
        if (!entry) return;
        entry.pending = false;
        entry.refused = true;
        const { code, name, details } = message;
        entry.handlers.onError?.({
          code,
          name,
          message: message.message,
          ...(details === undefined ? {} : { details }),
        });
        return;
      }
      case 'published': {
        const publish = message.id === undefined ? undefined : this.#publishes.get(message.id);
        if (publish && message.id !== undefined) {
          this.#publishes.delete(message.id);
          publish.resolve(message.seq);
        }
        return;
      }
      case 'ping':
        this.#relayHeartbeat();
        this.#send(message.t === undefined ? { type: 'pong' } : { type: 'pong', t: message.t });
        return;
      case 'pong':
      case 'unsubscribed':
        return;
    }
  }

  #onWelcome(message: WelcomeMessage): void {
    this.#clearTimer('welcome');
    this.#welcome = message;
    this.#failedOpens = 0;
    this.#openedAt = Date.now();
    this.#setState('open');
    this.#watchHeartbeat(message.heartbeatMs);
    for (const entry of this.#subscriptions.values()) {
      if (!entry.refused && !this.#sse) this.#sendSubscribe(entry);
    }
    this.#relay?.welcome();
  }

  /** Hands each subscription its events of one batch at once, dropping any already seen. */
  #onBatch(events: LiveEvent[]): void {
    const bySub = new Map<string, LiveEvent[]>();
    for (const event of events) {
      const entry = this.#subscriptions.get(event.sub);
      if (!entry || entry.pending) continue; // replaced or gone: its new `subscribed` will set the state
      if (entry.seq !== undefined && event.seq <= entry.seq) continue; // seen before a reconnect
      entry.seq = event.seq;
      let list = bySub.get(event.sub);
      if (!list) bySub.set(event.sub, (list = []));
      list.push(event);
    }
    for (const [id, list] of bySub) this.#subscriptions.get(id)?.handlers.onEvents?.(list);
  }

  #sendSubscribe(entry: SubscriptionEntry): void {
    entry.pending = true; // events of the spec it replaces are dropped until `subscribed`
    if (this.#sse) return this.#resubscribe();
    this.#send({ type: 'subscribe', ...entry.spec() });
  }

  /**
   * SSE: the server refused the stream for one subscription in its URL (HTTP 400, issues at
   * `["subscriptions", index, …]`): that one is refused as a WebSocket would refuse its `subscribe`, the others go
   * on. False when the refusal names no subscription.
   */
  #refuseFromUrl(details: unknown): boolean {
    const refusal = refusedSubscription(details);
    const entry = refusal && this.#urlEntries[refusal.index];
    if (!refusal || !entry) return false;
    const { issues } = refusal;
    entry.pending = false;
    entry.refused = true;
    entry.handlers.onError?.({
      code: CODE.bad_request,
      name: 'bad_request',
      message: describeIssues(issues),
      details: issues,
    });
    return true;
  }

  /** SSE: the subscriptions changed; a new link carries the new set (one per turn of the loop). */
  #resubscribe(): void {
    if (this.#relinking || !this.#link) return;
    this.#relinking = true;
    queueMicrotask(() => this.#link?.close(1000, 'subscriptions changed'));
  }

  #send(message: ClientMessage): void {
    this.#link?.send(JSON.stringify(message));
  }

  #deny(error: LiveError): void {
    this.#relay?.linkLost(CODE.scope_denied, error.message); // the other tabs use the same key
    this.#teardown();
    this.#setState('denied', { error });
  }

  #report(error: LiveError): void {
    this.#setState(this.#current.state, {
      error,
      ...(this.#current.retryInMs === undefined ? {} : { retryInMs: this.#current.retryInMs }),
    });
  }

  // ---- tabs sharing the connection -----------------------------------------------------------

  /** This tab takes the lead: it carries the other tabs' subscriptions on a link of its own. */
  #lead(): void {
    const tabs = this.#tabs as TabLeadership;
    this.#relay = new TabRelay(tabs.channel, {
      welcome: () => this.#welcome,
      open: () => {
        // Denied too: a follower that says hello again is retrying, as `retry()` would here.
        this.#open();
        // A link for followers alone closes like any other once no subscription is left.
        if (this.#subscriptions.size === 0) this.#lingerThenClose();
      },
      relay: (id, { since, epoch, ...request }, handlers) => {
        const entry = new SubscriptionEntry(id, request, handlers);
        entry.seq = since;
        entry.epoch = epoch;
        this.#add(entry);
      },
      drop: (id) => this.#remove(id),
      publish: (channel, data) => this.publish(channel, data),
    });
    tabs.channel.postMessage({ leader: tabs.id }); // followers of the tab that left come to this one
    if (this.#link) {
      this.#relinking = true;
      this.#link.close(RELINK, 'relink');
    }
    this.#wake?.();
  }

  /**
   * The page is being frozen: the followers go to the tab that takes the lead next, and this
   * tab's own subscriptions follow it there (resuming with `since` once the page runs again).
   */
  #stepDown(): void {
    this.#relay?.close();
    this.#relay = undefined;
    if (this.#link) {
      this.#relinking = true;
      this.#link.close(RELINK, 'relink');
    }
  }

  #relayHeartbeat(): void {
    if (this.#welcome) this.#relay?.heartbeat(this.#welcome.heartbeatMs);
  }

  // ---- timers and the browser ----------------------------------------------------------------

  /** Two heartbeat intervals of silence from the server mean the socket is dead. */
  #watchHeartbeat(heartbeatMs: number): void {
    this.#clearTimer('heartbeat');
    this.#timers.heartbeat = setInterval(
      () => {
        if (Date.now() - this.#lastFrameAt > 2 * heartbeatMs) {
          this.#lastFrameAt = Date.now();
          this.#link?.close(4011, 'no message from the server for 2 × heartbeatMs');
        }
      },
      Math.max(250, heartbeatMs / 2),
    );
  }

  #armWelcomeTimeout(): void {
    this.#clearTimer('welcome');
    this.#timers.welcome = setTimeout(() => {
      if (!this.#welcome) this.#link?.close(4000, 'no welcome in time');
    }, this.#options.connectTimeoutMs);
  }

  #lingerThenClose(): void {
    this.#clearTimer('linger');
    this.#timers.linger = setTimeout(() => {
      if (this.#subscriptions.size > 0) return;
      this.#teardown();
      if (this.#current.state !== 'denied') this.#setState('idle'); // a refused key stays refused
    }, this.#options.lingerMs);
  }

  /** Stops the loop and ends the link. */
  #teardown(): void {
    this.#generation++;
    this.#running = false;
    this.#clearTimer('linger');
    this.#listenToBrowser(false);
    this.#wake?.();
    this.#link?.close(1000, 'done');
  }

  /** Waits `ms`, or less when `wakeUp` cuts the wait short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** The network or the page came back: stop waiting and try now. */
  #wakeUp(): void {
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return;
    this.#attempt = Math.min(this.#attempt, 1);
    this.#wake?.();
    // A socket that slept through its heartbeats (frozen tab) is probably dead: check now.
    if (
      this.#welcome &&
      this.#lastFrameAt &&
      Date.now() - this.#lastFrameAt > 2 * this.#welcome.heartbeatMs
    ) {
      this.#link?.close(4011, 'stale after the page woke up');
    }
  }

  #listenToBrowser(on: boolean): void {
    if (typeof window === 'undefined' || typeof document === 'undefined') return;
    const method = on ? 'addEventListener' : 'removeEventListener';
    window[method]('online', this.#onBrowserBack);
    document[method]('visibilitychange', this.#onBrowserBack);
  }

  #isOffline(): boolean {
    return typeof navigator !== 'undefined' && navigator.onLine === false;
  }

  #clearTimer(name: TimerName): void {
    const timer = this.#timers[name];
    if (timer !== undefined) {
      clearTimeout(timer as ReturnType<typeof setTimeout>);
      clearInterval(timer as ReturnType<typeof setInterval>);
    }
    this.#timers[name] = undefined;
  }
}

function closeName(code: number): string {
  return codeName(code) ?? (code === 1006 ? 'connection_lost' : 'closed');
}
