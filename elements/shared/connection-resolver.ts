/**
 * Finds the connection an element should use, in this order:
 *
 * 1. its own `url` and `api-key` attributes (both, or it is an error);
 * 2. the connection of the nearest `<live-connection>` around it (through `@lit/context`);
 * 3. `<meta name="catalyst-realtime" content="url=…, api-key=…">` in the document.
 *
 * Every way ends in `connect()`, so elements that name the same url and key share one socket.
 * A relative url (`/`, `/realtime`, `//api.example.com`) is resolved against the document's
 * base URL first (`resolveApiUrl`), so a page served by the API's own server can say `url="/"`
 * without naming its host and port, and shares its socket with code that names them.
 */
import { ContextEvent } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { connect, type LiveConnection, type LiveError } from '../connection/index.js';
import { connectionContext } from './connection-context.js';
import { META_NAME, readMetaConfig } from './read-meta-config.js';

/** An element that may name its own connection. */
export type ConnectionHost = ReactiveControllerHost &
  HTMLElement & {
    /** The API's base URL (attribute `url`). */
    url?: string | undefined;
    /** The key (attribute `api-key`). */
    apiKey?: string | undefined;
  };

/** The outcome of `resolve()`: a connection, a configuration error, or nothing (yet). */
export type ResolvedConnection = { connection: LiveConnection } | { error: LiveError } | undefined;

/** The message shown when no way to connect is configured at all. */
export const NO_CONNECTION_MESSAGE =
  `no connection configured: put the element inside <live-connection url="…" api-key="…">, ` +
  `give it url and api-key attributes, or add <meta name="${META_NAME}" content="url=…, api-key=…">`;

/** An absolute URL or one with a scheme of its own (`https:`, `http:`, `file:`, …). */
const HAS_SCHEME = /^[a-z][a-z\d+.-]*:/i;

/**
 * `url` made absolute against `baseUri` (default: the document's base URL) when it is relative;
 * an absolute url, or one that cannot be resolved, is returned as it is (a bad one then fails
 * where the connection reports it).
 */
export function resolveApiUrl(
  url: string,
  baseUri: string | undefined = typeof document === 'undefined' ? undefined : document.baseURI,
): string {
  if (HAS_SCHEME.test(url) || baseUri === undefined) return url;
  try {
    return new URL(url, baseUri).href;
  } catch {
    return url;
  }
}

/**
 * Why a resolved `url` cannot be an API's base URL (it is not http: or https:: `javascript:`,
 * `ws:`, `file:`, …), or `undefined` when it can.
 */
export function badApiUrl(url: string): string | undefined {
  return /^https?:/i.test(url)
    ? undefined
    : `url "${url}" is not an http: or https: address (or one relative to the page)`;
}

/**
 * Resolves an element's connection; construct it before the controller that uses it. It is a
 * controller of the host itself, and a context consumer (the `@lit/context` protocol, spoken
 * directly: its requests always subscribe, and the one late-provider case below is all of
 * `ContextRoot` the elements need).
 */
export class ConnectionResolver implements ReactiveController {
  /** The connection of the nearest provider (`undefined` while it has none, or none answered). */
  #provided: LiveConnection | undefined;
  /** Stops that provider's updates. */
  #unsubscribe: (() => void) | undefined;
  /** A provider answered since the host was connected. */
  #answered = false;

  /** A provider's answer, and again on every change of its connection (the request subscribes). */
  readonly #receive = (connection: LiveConnection | undefined, unsubscribe?: () => void) => {
    // Another provider answers (the host moved, or a closer one appeared): leave the old one.
    if (this.#unsubscribe !== unsubscribe) this.#unsubscribe?.();
    this.#unsubscribe = unsubscribe;
    this.#provided = connection;
    this.#answered = true;
    this.#host.requestUpdate();
  };

  /** Asks the providers again when one announces itself (`context-provider`). */
  readonly #askAgain = (event: Event) => {
    if ((event as Event & { context?: unknown }).context !== connectionContext) return;
    this.#ask();
    if (this.#answered) document.removeEventListener('context-provider', this.#askAgain);
  };

  readonly #host: ConnectionHost;

  constructor(host: ConnectionHost) {
    this.#host = host;
    host.addController(this);
  }

  /**
   * Asks the providers around the host. When none answers, a provider defined or upgraded after
   * the host (a `<live-connection>` whose definition came later) announces itself once it
   * connects: ask again then.
   */
  hostConnected(): void {
    this.#ask();
    if (!this.#answered) document.addEventListener('context-provider', this.#askAgain);
  }

  /**
   * Leaves the provider when the host leaves the document, and forgets its connection: the host
   * might be re-attached outside that provider.
   */
  hostDisconnected(): void {
    document.removeEventListener('context-provider', this.#askAgain);
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#provided = undefined;
    this.#answered = false;
  }

  #ask(): void {
    this.#host.dispatchEvent(new ContextEvent(connectionContext, this.#host, this.#receive, true));
  }

  /** The connection to use now (see the module comment for the order). */
  resolve(): ResolvedConnection {
    let { url, apiKey } = this.#host;
    if (!url && !apiKey) {
      if (this.#provided) return { connection: this.#provided };
      const meta = typeof document === 'undefined' ? undefined : readMetaConfig(document);
      if (meta === undefined) return undefined;
      if ('error' in meta) return { error: { name: 'bad_meta', message: meta.error } };
      ({ url, apiKey } = meta);
    } else if (!url || !apiKey) {
      return {
        error: {
          name: 'bad_attribute',
          message: url ? 'url is set but api-key is missing' : 'api-key is set but url is missing',
        },
      };
    }
    const resolved = resolveApiUrl(url);
    const problem = badApiUrl(resolved);
    return problem
      ? { error: { name: 'bad_attribute', message: problem } }
      : { connection: connect({ url: resolved, apiKey }) };
  }
}
