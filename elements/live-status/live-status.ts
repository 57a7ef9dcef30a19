import { LitElement, html, nothing, type PropertyDeclarations } from 'lit';
import type { ConnectionState, ConnectionStatus } from '../connection/index.js';
import { ConnectionStatusController } from '../shared/connection-status-controller.js';
import { defineElement } from '../shared/define-element.js';
import { STATUS_LABELS, type StatusLabels } from '../shared/status-labels.js';
import styles from './live-status.styles.js';

/**
 * The state of the page's live connection, for people: "Live", "Connecting…", "Reconnecting in
 * 5 s" (counting down), "Offline", "Access denied". It uses the connection of the nearest
 * `<live-connection>`, its own `url`/`api-key`, or the page's `<meta name="catalyst-realtime">`,
 * and only watches it: it opens nothing by itself. The host has `role="status"`, and its `state`
 * attribute mirrors the connection state for styling (`live-status[state=open]`). The countdown
 * is hidden from assistive technology, which hears "Reconnecting…" once instead of every second.
 *
 * @summary Shows the connection state: live, reconnecting in N s, offline, denied.
 *
 * @csspart base - The wrapper of the dot and the label; `data-state` holds the state.
 * @csspart indicator - The colored dot.
 * @csspart label - The words.
 *
 * @cssprop --live-status-gap - Space between the dot and the label.
 * @cssprop --live-status-dot-size - Size of the dot.
 * @cssprop --live-status-open-color - Dot color while live.
 * @cssprop --live-status-pending-color - Dot color while connecting, reconnecting or offline.
 * @cssprop --live-status-error-color - Dot color when access is denied.
 * @cssprop --live-status-idle-color - Dot color when not connected.
 *
 * @fires {LiveStatusEvent} live-status - The connection's state changed (`detail`: `{state, retryInMs?, at, lastError?}`).
 */
export class LiveStatusElement extends LitElement {
  static override styles = styles;
  // The reactive properties (each documented where it is declared below), declared here rather
  // than with `@property()`: once no element uses decorators, the script-tag bundle leaves out
  // Lit's decorator module and the decorator helper.
  static override properties: PropertyDeclarations = {
    url: {},
    apiKey: { attribute: 'api-key' },
    labels: { attribute: false },
  };

  /** The API's base URL (a relative one, like `/`, means the page's origin), when not inside a `<live-connection>` (with `api-key`). */
  url: string | undefined;

  /** The key, when not inside a `<live-connection>` (with `url`). */
  apiKey: string | undefined;

  /** The words for each state (`STATUS_LABELS` is the English default); set to translate. */
  labels: Partial<StatusLabels> = {};

  readonly #connection = new ConnectionStatusController(this);

  /** The connection's current state; `undefined` when none is configured. */
  get status(): ConnectionStatus | undefined {
    return this.#connection.status;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.hasAttribute('role')) this.setAttribute('role', 'status');
  }

  protected override updated(): void {
    const state = this.#connection.status?.state ?? 'idle';
    if (this.getAttribute('state') !== state) this.setAttribute('state', state);
  }

  override render() {
    const labels = { ...STATUS_LABELS, ...this.labels };
    const state: ConnectionState = this.#connection.status?.state ?? 'idle';
    const seconds = this.#connection.retryInSeconds;
    const countdown = state === 'reconnecting' && seconds !== undefined && seconds > 0;
    const problem = this.#connection.problem?.message ?? this.#connection.status?.lastError?.message;
    return html`<span part="base" data-state=${state} title=${problem ?? nothing}>
      <span part="indicator" aria-hidden="true"></span>
      ${
        countdown
          ? html`<span part="label" aria-hidden="true">${labels.reconnectingIn(seconds)}</span>
              <span class="visually-hidden">${labels.reconnecting}</span>`
          : html`<span part="label">${labels[state]}</span>`
      }
    </span>`;
  }
}

defineElement('live-status', LiveStatusElement);

declare global {
  interface HTMLElementTagNameMap {
    'live-status': LiveStatusElement;
  }
}
