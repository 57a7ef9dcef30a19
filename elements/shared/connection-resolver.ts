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
import { ContextConsumer } from '@lit/context';
import type { ReactiveControllerHost } from 'lit';
import { connect, type LiveConnection, type LiveError } from '../connection/index.js';
import { attachContextRoot, connectionContext } from './connection-context.js';
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

/** Resolves an element's connection; construct it before the controller that uses it. */
export class ConnectionResolver {
  private readonly consumer: ContextConsumer<typeof connectionContext, ConnectionHost>;

  constructor(private readonly host: ConnectionHost) {
    attachContextRoot();
    // Subscribing: a provider that changes its url or key, or appears late, reaches us again.
    this.consumer = new ContextConsumer(host, { context: connectionContext, subscribe: true });
  }

  /** The connection to use now (see the module comment for the order). */
  resolve(): ResolvedConnection {
    const { url, apiKey } = this.host;
    if (url || apiKey) {
      if (!url || !apiKey) {
        return {
          error: {
            name: 'bad_attribute',
            message: url ? 'url is set but api-key is missing' : 'api-key is set but url is missing',
          },
        };
      }
      return { connection: connect({ url: resolveApiUrl(url), apiKey }) };
    }
    if (this.consumer.value) return { connection: this.consumer.value };
    const meta = typeof document === 'undefined' ? undefined : readMetaConfig(document);
    if (meta === undefined) return undefined;
    if ('error' in meta) return { error: { name: 'bad_meta', message: meta.error } };
    return { connection: connect({ url: resolveApiUrl(meta.url), apiKey: meta.apiKey }) };
  }

  /**
   * Forgets the provider's value when the host leaves the document: the consumer keeps the old
   * one otherwise, and the host might be re-attached outside that provider.
   */
  forget(): void {
    this.consumer.value = undefined;
  }
}
