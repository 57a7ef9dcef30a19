/**
 * Finds the connection an element should use, in this order:
 *
 * 1. its own `url` and `api-key` attributes (both, or it is an error);
 * 2. the connection of the nearest `<live-connection>` around it (through `@lit/context`);
 * 3. `<meta name="catalyst-realtime" content="url=…, api-key=…">` in the document.
 *
 * Every way ends in `connect()`, so elements that name the same url and key share one socket.
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
      return { connection: connect({ url, apiKey }) };
    }
    if (this.consumer.value) return { connection: this.consumer.value };
    const meta = typeof document === 'undefined' ? undefined : readMetaConfig(document);
    if (meta === undefined) return undefined;
    if ('error' in meta) return { error: { name: 'bad_meta', message: meta.error } };
    return { connection: connect(meta) };
  }

  /**
   * Forgets the provider's value when the host leaves the document: the consumer keeps the old
   * one otherwise, and the host might be re-attached outside that provider.
   */
  forget(): void {
    this.consumer.value = undefined;
  }
}
