import { LitElement, html, type PropertyValues, type PropertyDeclarations } from 'lit';
import {
  SHARES,
  TRANSPORTS,
  connect,
  type ConnectionStatus,
  type Share,
  type Transport,
} from '../connection/index.js';
import { ConnectionProvider } from '../shared/connection-context.js';
import { badApiUrl, resolveApiUrl } from '../shared/connection-resolver.js';
import { ConnectionStatusController } from '../shared/connection-status-controller.js';
import { defineElement } from '../shared/define-element.js';
import { LiveErrorEvent, emit } from '../shared/live-element-event.js';
import styles from './live-connection.styles.js';

/**
 * Connects the live elements inside it to one API with one key. Every `<live-record-list>`,
 * `<live-record>` and `<live-status>` inside uses this connection (one WebSocket, or one
 * Server-Sent Events stream, for all of them, shared with any other element or script naming the
 * same url and key, and with the page's other open tabs), unless it has `url` and `api-key`
 * attributes of its own. Changing `url` or `api-key` moves them all to the new connection.
 *
 * @summary Provides the shared connection to the live elements inside it.
 *
 * @slot - The page content that uses the connection.
 *
 * @csspart base - A wrapper with `display: contents`.
 *
 * @attr {'auto' | 'websocket' | 'sse'} transport
 * @attr {'tabs' | 'none'} share
 *
 * @fires {LiveStatusEvent} live-status - The connection's state changed (`detail`: `{state, retryInMs?, at, lastError?}`).
 * @fires {LiveErrorEvent} live-error - The connection met a new problem, `url` is not an http: or https:
 *   address, or `transport` or `share` has an unknown value (`detail`: `{source, code?, name, message}`).
 */
export class LiveConnectionElement extends LitElement {
  static override styles = styles;

  // The reactive properties (each documented where it is declared below), declared here rather
  // than with `@property()`: no element uses decorators, so the script-tag bundle leaves out
  // Lit's decorator module and the decorator helper.
  static override properties: PropertyDeclarations = {
    url: { reflect: true },
    apiKey: { attribute: 'api-key' },
    transport: { reflect: true },
    share: { reflect: true },
  };

  /**
   * The API's base URL, e.g. `https://api.example.com`; a relative one is resolved against the
   * document's base URL, so `url="/"` names the server that served the page.
   */
  url: string | undefined;

  /** The publishable key (`pk_…`) the page connects with. */
  apiKey: string | undefined;

  /**
   * `auto` (the default): WebSocket, falling back to Server-Sent Events for the page's life when
   * WebSocket fails to open three times in a row (a proxy that blocks upgrades); `websocket`; or
   * `sse` (read-only pages behind such a proxy).
   */
  transport: Transport | undefined;

  /**
   * `tabs` (the default): the page's open tabs share one connection — one tab holds it, the
   * others receive through it, and another takes over when that tab closes; `none`: this page
   * keeps a connection of its own (say, to see its own socket in the developer tools).
   */
  share: Share | undefined;

  readonly #provider = new ConnectionProvider(this);
  private readonly connectionStatus = new ConnectionStatusController(this, {
    reportErrors: true,
    connection: () => this.#provider.value, // with its transport and sharing
  });

  /** The connection's current state (`undefined` until `url` and `api-key` are set). */
  get status(): ConnectionStatus | undefined {
    return this.connectionStatus.status;
  }

  override connectedCallback(): void {
    // Provide before the children upgrade and ask for it: they must not see an empty value first.
    this.provide();
    super.connectedCallback();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    this.provide();
    const badUrl = this.url && badApiUrl(resolveApiUrl(this.url));
    if (changed.has('url') && badUrl) {
      emit(this, new LiveErrorEvent({ source: 'attribute', name: 'bad_attribute', message: badUrl }));
    }
    for (const [name, allowed] of [
      ['transport', TRANSPORTS],
      ['share', SHARES],
    ] as const) {
      const value = this[name];
      if (changed.has(name) && value && !(allowed as readonly string[]).includes(value)) {
        const message = `${name} "${value}" is not supported; use ${allowed.slice(1).join(', ')} or ${allowed[0]} (the default)`;
        emit(this, new LiveErrorEvent({ source: 'attribute', name: 'bad_attribute', message }));
      }
    }
  }

  private provide(): void {
    const { url, apiKey, transport, share } = this;
    const resolved = url && resolveApiUrl(url);
    this.#provider.setValue(
      resolved && apiKey && !badApiUrl(resolved) // a bad url is reported by `willUpdate`
        ? connect({
            url: resolved,
            apiKey,
            // An unknown value counts as the default (and is reported).
            transport: transport && TRANSPORTS.includes(transport) ? transport : 'auto',
            share: share && SHARES.includes(share) ? share : 'tabs',
          })
        : undefined,
    );
  }

  override render() {
    return html`<div part="base"><slot></slot></div>`;
  }
}

defineElement('live-connection', LiveConnectionElement);

declare global {
  interface HTMLElementTagNameMap {
    'live-connection': LiveConnectionElement;
  }
}
