/**
 * `<story-event-log>`: a few lines telling what the live elements next to it just did, for
 * stories whose state goes by quickly (a token renewed, a burst applied). It listens to the
 * kit's bubbling events on the `<live-connection>` around it (else its parent element).
 */
import { LitElement, css, html } from 'lit';
import { property, state } from 'lit/decorators.js';
import type {
  LiveChangeEvent,
  LiveErrorEvent,
  LivePresenceChangeEvent,
  LiveStatusEvent,
} from '../../elements/index.js';

const EVENTS = ['live-status', 'live-change', 'live-error'] as const;

export class StoryEventLog extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font: 12px/1.5 monospace;
      color: #57606a;
    }
    ol {
      margin: 0;
      padding-left: 1.5em;
    }
  `;

  /** How many lines to keep. */
  @property({ type: Number }) lines = 6;

  @state() private entries: string[] = [];
  private target: Element | null = null;

  private readonly onEvent = (event: Event): void => {
    // Every element inside reports the one connection's state: the provider's report is enough.
    const provider = this.target?.localName === 'live-connection' ? this.target : undefined;
    if (event.type === 'live-status' && provider && event.target !== provider) return;
    this.add(describe(event as LiveStatusEvent | LiveChangeEvent | LivePresenceChangeEvent | LiveErrorEvent));
  };

  override connectedCallback(): void {
    super.connectedCallback();
    this.target = this.closest('live-connection') ?? this.parentElement;
    for (const name of EVENTS) this.target?.addEventListener(name, this.onEvent);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const name of EVENTS) this.target?.removeEventListener(name, this.onEvent);
    this.target = null;
  }

  private add(line: string): void {
    const time = new Date().toLocaleTimeString('en-GB');
    this.entries = [`${time} ${line}`, ...this.entries].slice(0, this.lines);
  }

  override render() {
    return html`<ol reversed aria-label="Recent events">
      ${this.entries.map((entry) => html`<li>${entry}</li>`)}
    </ol>`;
  }
}

function describe(
  event: LiveStatusEvent | LiveChangeEvent | LivePresenceChangeEvent | LiveErrorEvent,
): string {
  const source = (event.target as Element).localName;
  switch (event.type) {
    case 'live-status': {
      const { state, retryInMs, lastError } = (event as LiveStatusEvent).detail;
      const retry = retryInMs === undefined ? '' : `, retry in ${(retryInMs / 1000).toFixed(1)} s`;
      const error = lastError ? ` (${lastError.code ?? ''} ${lastError.name})` : '';
      return `${source} live-status: ${state}${retry}${error}`;
    }
    case 'live-change': {
      const detail = (event as LiveChangeEvent | LivePresenceChangeEvent).detail;
      if ('members' in detail) {
        const { reason, added, removed, members } = detail;
        return `${source} live-change: ${reason}, +${added.length} −${removed.length}, ${members.length} here`;
      }
      const { reason, added, modified, removed, records } = detail;
      return `${source} live-change: ${reason}, +${added.length} ~${modified.length} −${removed.length}, ${records.length} shown`;
    }
    default: {
      const { source: from, name, message } = (event as LiveErrorEvent).detail;
      return `${source} live-error: ${from} ${name}: ${message}`;
    }
  }
}

if (!customElements.get('story-event-log')) customElements.define('story-event-log', StoryEventLog);

declare global {
  interface HTMLElementTagNameMap {
    'story-event-log': StoryEventLog;
  }
}
