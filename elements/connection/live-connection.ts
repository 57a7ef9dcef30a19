/**
 * The connection manager: one WebSocket per (url, key), shared by every element on the page.
 * It fetches a fresh one-time token before every (re)connect, backs off with full jitter,
 * lets close codes steer the retry, watches the heartbeat, multiplexes every subscription on
 * the one socket and re-sends each after a reconnect with `since`/`epoch`, so no event is lost
 * or applied twice. Every incoming frame is validated; a bad one is reported, never fatal.
 *
 * `reconnecting-websocket` owns the socket's life (open, close, reconnect trigger, connect
 * timeout); all waiting happens in our URL provider, which it awaits before each attempt. The
 * provider never rejects: that library stops reconnecting for good on a rejected provider.
 */
import ReconnectingWebSocket from 'reconnecting-websocket';
import {
  CODE,
  codeName,
  parseServerMessage,
  stringifyClientMessage,
  type ClientMessage,
  type LiveEvent,
  type ServerMessage,
  type WelcomeMessage,
} from '../../protocol/index.js';
import { retryDelay, type BackoffOptions } from './backoff.js';
import { fetchToken } from './fetch-token.js';
import type { ConnectionState, ConnectionStatus, LiveError } from './connection-status.js';
import {
  SubscriptionEntry,
  type LiveSubscriptionHandle,
  type SubscriptionHandlers,
  type SubscriptionRequest,
} from './live-subscription.js';

/**
 * A WebSocket constructor: the browser's, or `ws`'s in Node. Typed by its constructor only, so
 * `ws`'s class (whose instance type differs from the DOM's) is accepted without a cast.
 */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => unknown;

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
} & Partial<typeof DEFAULTS>;

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
};

type Listener = (status: ConnectionStatus) => void;

/** The shared connection to one API with one key. Get it with `connect()`. */
export class LiveConnection {
  readonly url: string;
  readonly apiKey: string;
  private readonly options: Required<Omit<ConnectOptions, 'url' | 'apiKey'>>;
  private current: ConnectionStatus = { state: 'idle', at: Date.now() };
  private readonly listeners = new Set<Listener>();
  private readonly subscriptions = new Map<string, SubscriptionEntry>();
  private readonly publishes = new Map<
    string,
    { resolve: (seq: number) => void; reject: (e: LiveError) => void }
  >();
  private socket: ReconnectingWebSocket | undefined;
  private welcome: WelcomeMessage | undefined;
  private nextId = 1;
  private attempt = 0;
  private lastClose: number | undefined;
  private lastFrameAt = 0;
  private openedAt = 0;
  private timers = {
    linger: undefined as unknown,
    heartbeat: undefined as unknown,
    welcome: undefined as unknown,
  };
  private wake: (() => void) | undefined;
  private readonly onBrowserBack = () => this.wakeUp();

  constructor(options: ConnectOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.options = {
      WebSocket: options.WebSocket ?? (globalThis.WebSocket as WebSocketClass),
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      backoff: options.backoff ?? DEFAULTS.backoff,
      stableAfterMs: options.stableAfterMs ?? DEFAULTS.stableAfterMs,
      lingerMs: options.lingerMs ?? DEFAULTS.lingerMs,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    };
  }

  // ---- state ---------------------------------------------------------------------------------

  /** The current state, `retryInMs` and `lastError`. */
  get status(): ConnectionStatus {
    return this.current;
  }

  /** Calls `listener` on every state change; returns the function that stops it. */
  onStatus(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The one writer of the state. */
  private setState(state: ConnectionState, extra: { retryInMs?: number; error?: LiveError } = {}): void {
    const next: ConnectionStatus = { state, at: Date.now() };
    if (extra.retryInMs !== undefined) next.retryInMs = extra.retryInMs;
    const lastError = extra.error ?? (state === 'open' ? undefined : this.current.lastError);
    if (lastError) next.lastError = lastError;
    this.current = next;
    for (const listener of [...this.listeners]) listener(next);
  }

  // ---- subscriptions -------------------------------------------------------------------------

  /** Subscribes; opens the socket on the first subscription. */
  subscribe(request: SubscriptionRequest, handlers: SubscriptionHandlers): LiveSubscriptionHandle {
    if (this.current.state === 'closed') {
      throw new Error('this connection was closed for good; call connect() again for a new one');
    }
    const entry = new SubscriptionEntry(`s${this.nextId++}`, request, handlers);
    this.subscriptions.set(entry.id, entry);
    this.clearTimer('linger');
    if (this.welcome) this.sendSubscribe(entry);
    else if (this.current.state !== 'denied') this.open(); // the same key would be refused again: see `retry()`
    return {
      id: entry.id,
      update: (next) => {
        if (!this.subscriptions.has(entry.id)) return;
        entry.request = next;
        entry.refused = false;
        this.restart(entry);
      },
      resync: () => {
        if (this.subscriptions.has(entry.id)) this.restart(entry);
      },
      unsubscribe: () => {
        if (!this.subscriptions.delete(entry.id)) return;
        if (this.welcome) this.send({ type: 'unsubscribe', id: entry.id });
        if (this.subscriptions.size === 0) this.lingerThenClose();
      },
    };
  }

  /** Re-sends a subscription without `since`: a fresh snapshot replaces the element's state. */
  private restart(entry: SubscriptionEntry): void {
    entry.fresh = true;
    entry.seq = undefined;
    if (this.welcome) this.sendSubscribe(entry);
  }

  /** Publishes a custom event (secret keys); resolves with its seq. */
  publish(channel: string, data: unknown): Promise<number> {
    const id = `p${this.nextId++}`;
    return new Promise((resolve, reject) => {
      if (!this.welcome) {
        reject({
          name: 'not_connected',
          message: 'publish needs an open connection; subscribe to something first',
        });
        return;
      }
      this.publishes.set(id, { resolve, reject });
      this.send({ type: 'publish', id, channel, data });
    });
  }

  /** After `denied` (a key fixed on the server, say): tries again with every subscription. */
  retry(): void {
    if (this.current.state !== 'denied' || this.subscriptions.size === 0) return;
    this.open();
  }

  /** Closes for good: every subscription ends and the socket closes. */
  close(): void {
    this.subscriptions.clear();
    this.teardown();
    this.setState('closed');
  }

  // ---- socket --------------------------------------------------------------------------------

  private open(): void {
    if (this.socket) return;
    this.attempt = 0;
    this.lastClose = undefined;
    this.setState('connecting');
    this.listenToBrowser(true);
    const socket = new ReconnectingWebSocket(() => this.nextUrl(), [], {
      WebSocket: this.options.WebSocket,
      minReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      connectionTimeout: this.options.connectTimeoutMs,
      maxEnqueuedMessages: 0,
      maxRetries: Infinity,
    });
    socket.addEventListener('message', (event) => this.onFrame(String(event.data)));
    socket.addEventListener('close', (event) => this.onClose(event.code, event.reason));
    this.socket = socket;
  }

  /** Waits as the last close says, fetches a token, and gives the socket URL. Never rejects. */
  private async nextUrl(): Promise<string> {
    // reconnecting-websocket starts its next attempt before our close listener runs, so this may
    // be called for a socket that listener has just ended (4003 → denied) or that `close()` or the
    // linger ended while we waited: check before each step, or a dead socket would overwrite
    // `denied` with `reconnecting`, fetch tokens and arm timers.
    const owner = this.socket;
    const stale = () => owner === undefined || this.socket !== owner;
    const never = () => new Promise<string>(() => undefined);
    for (;;) {
      if (stale()) return never();
      const delay = this.delayBeforeAttempt();
      if (delay > 0) {
        this.setState(this.isOffline() ? 'offline' : 'reconnecting', { retryInMs: delay });
        await this.sleep(delay);
      }
      if (stale()) return never(); // closed meanwhile: never resume
      this.attempt++;
      try {
        const token = await fetchToken(this.options.fetch, this.url, this.apiKey);
        if (stale()) return never();
        this.armWelcomeTimeout();
        const base = this.url.replace(/^http/, 'ws');
        return `${base}${token.url}?token=${encodeURIComponent(token.token)}`;
      } catch (error) {
        if (stale()) return never();
        const problem = error as LiveError;
        if (problem.code === 401 || problem.code === 403) {
          this.deny(problem);
          return never();
        }
        this.lastClose = undefined;
        this.setState(this.isOffline() ? 'offline' : 'reconnecting', { error: problem });
      }
    }
  }

  private delayBeforeAttempt(): number {
    return this.attempt === 0 ? 0 : retryDelay(this.lastClose, this.attempt, this.options.backoff);
  }

  private onFrame(text: string): void {
    this.lastFrameAt = Date.now();
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      this.report({
        name: 'bad_frame',
        message: `ignored a frame the protocol does not allow: ${parsed.error}`,
      });
      return;
    }
    this.handle(parsed.message);
  }

  private handle(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
        this.onWelcome(message);
        return;
      case 'subscribed': {
        const entry = this.subscriptions.get(message.id);
        if (!entry) return;
        entry.pending = false;
        entry.fresh = false;
        entry.epoch = this.welcome?.epoch;
        if (!message.resumed) entry.seq = message.seq;
        else entry.seq = Math.max(entry.seq ?? 0, message.seq);
        entry.handlers.onSubscribed?.(message);
        return;
      }
      case 'batch':
        this.onBatch(message.events);
        return;
      case 'error': {
        if (message.id === undefined) {
          this.report({ code: message.code, name: message.name, message: message.message });
          return;
        }
        const publish = this.publishes.get(message.id);
        if (publish) {
          this.publishes.delete(message.id);
          publish.reject({ code: message.code, name: message.name, message: message.message });
          return;
        }
        const entry = this.subscriptions.get(message.id);
        if (!entry) return;
        entry.pending = false;
        entry.refused = true;
        entry.handlers.onError?.({ code: message.code, name: message.name, message: message.message });
        return;
      }
      case 'published': {
        const publish = message.id === undefined ? undefined : this.publishes.get(message.id);
        if (publish && message.id !== undefined) {
          this.publishes.delete(message.id);
          publish.resolve(message.seq);
        }
        return;
      }
      case 'ping':
        this.send(message.t === undefined ? { type: 'pong' } : { type: 'pong', t: message.t });
        return;
      case 'pong':
      case 'unsubscribed':
        return;
    }
  }

  private onWelcome(message: WelcomeMessage): void {
    this.clearTimer('welcome');
    this.welcome = message;
    this.openedAt = Date.now();
    this.setState('open');
    this.watchHeartbeat(message.heartbeatMs);
    for (const entry of this.subscriptions.values()) {
      if (!entry.refused) this.sendSubscribe(entry);
    }
  }

  /** Hands each subscription its events of one batch at once, dropping any already seen. */
  private onBatch(events: LiveEvent[]): void {
    const bySub = new Map<string, LiveEvent[]>();
    for (const event of events) {
      const entry = this.subscriptions.get(event.sub);
      if (!entry || entry.pending) continue; // replaced or gone: its new `subscribed` will set the state
      if (entry.seq !== undefined && event.seq <= entry.seq) continue; // seen before a reconnect
      entry.seq = event.seq;
      let list = bySub.get(event.sub);
      if (!list) bySub.set(event.sub, (list = []));
      list.push(event);
    }
    for (const [id, list] of bySub) this.subscriptions.get(id)?.handlers.onEvents?.(list);
  }

  private onClose(code: number, reason: string): void {
    const wasOpen = this.welcome !== undefined;
    this.welcome = undefined;
    this.clearTimer('heartbeat');
    this.clearTimer('welcome');
    for (const entry of this.subscriptions.values()) entry.pending = true;
    for (const [id, publish] of this.publishes) {
      publish.reject({
        name: 'connection_lost',
        message: 'the connection closed before the server confirmed the publish',
      });
      this.publishes.delete(id);
    }
    if (!this.socket) return;
    if (wasOpen && Date.now() - this.openedAt >= this.options.stableAfterMs) this.attempt = 1; // stable: start over
    this.lastClose = code;
    const error: LiveError = {
      code,
      name: closeName(code),
      message: reason || `connection closed (${code})`,
    };
    if (code === CODE.scope_denied) {
      this.deny(error);
      return;
    }
    this.setState(this.isOffline() ? 'offline' : 'reconnecting', { error });
  }

  private sendSubscribe(entry: SubscriptionEntry): void {
    entry.pending = true;
    this.send({ type: 'subscribe', ...entry.spec() });
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === 1) this.socket.send(stringifyClientMessage(message));
  }

  private deny(error: LiveError): void {
    this.teardown();
    this.setState('denied', { error });
  }

  private report(error: LiveError): void {
    this.setState(this.current.state, {
      error,
      ...(this.current.retryInMs === undefined ? {} : { retryInMs: this.current.retryInMs }),
    });
  }

  // ---- timers and the browser ----------------------------------------------------------------

  /** Two heartbeat intervals of silence from the server mean the socket is dead. */
  private watchHeartbeat(heartbeatMs: number): void {
    this.clearTimer('heartbeat');
    this.timers.heartbeat = setInterval(
      () => {
        if (Date.now() - this.lastFrameAt > 2 * heartbeatMs) {
          this.lastFrameAt = Date.now();
          this.socket?.reconnect(4011, 'no message from the server for 2 × heartbeatMs');
        }
      },
      Math.max(250, heartbeatMs / 2),
    );
  }

  private armWelcomeTimeout(): void {
    this.clearTimer('welcome');
    this.timers.welcome = setTimeout(() => {
      if (!this.welcome) this.socket?.reconnect(4000, 'no welcome in time');
    }, this.options.connectTimeoutMs);
  }

  private lingerThenClose(): void {
    this.clearTimer('linger');
    this.timers.linger = setTimeout(() => {
      if (this.subscriptions.size > 0) return;
      this.teardown();
      if (this.current.state !== 'denied') this.setState('idle'); // a refused key stays refused
    }, this.options.lingerMs);
  }

  private teardown(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.welcome = undefined;
    for (const name of ['linger', 'heartbeat', 'welcome'] as const) this.clearTimer(name);
    this.listenToBrowser(false);
    this.wake?.();
    socket?.close(1000, 'done');
  }

  /** Waits `ms`, or less when `wakeUp` cuts the wait short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** The network or the page came back: stop waiting and try now. */
  private wakeUp(): void {
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return;
    this.attempt = Math.min(this.attempt, 1);
    this.wake?.();
    // A socket that slept through its heartbeats (frozen tab) is probably dead: check now.
    if (this.welcome && this.lastFrameAt && Date.now() - this.lastFrameAt > 2 * this.welcome.heartbeatMs) {
      this.socket?.reconnect(4011, 'stale after the page woke up');
    }
  }

  private listenToBrowser(on: boolean): void {
    if (typeof window === 'undefined' || typeof document === 'undefined') return;
    const method = on ? 'addEventListener' : 'removeEventListener';
    window[method]('online', this.onBrowserBack);
    document[method]('visibilitychange', this.onBrowserBack);
  }

  private isOffline(): boolean {
    return typeof navigator !== 'undefined' && navigator.onLine === false;
  }

  private clearTimer(name: keyof LiveConnection['timers']): void {
    const timer = this.timers[name];
    if (timer !== undefined) {
      clearTimeout(timer as ReturnType<typeof setTimeout>);
      clearInterval(timer as ReturnType<typeof setInterval>);
    }
    this.timers[name] = undefined;
  }
}

function closeName(code: number): string {
  return codeName(code) ?? (code === 1006 ? 'connection_lost' : 'closed');
}
