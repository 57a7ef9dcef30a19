/**
 * `<story-record-editor>`: the playground's back office. A form that edits one order through the
 * REST API (each change is a PATCH with the secret key, as a real back office would write), and
 * buttons that do to the connection what the mock's control API can: drop it, go offline, expire
 * the session, deny, exceed the quota, a 1000-event burst, steady traffic.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { LiveRecord } from '../../protocol/index.js';
import type { StoryMock } from './mock-setup.js';
import { rest } from './scenarios.js';

const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'] as const;

export class StoryRecordEditor extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font:
        14px/1.4 system-ui,
        sans-serif;
    }
    form {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 0.4rem 0.75rem;
      align-items: center;
      margin-bottom: 1rem;
    }
    fieldset {
      display: flex;
      flex-wrap: wrap;
      gap: 0.4rem;
      border: 1px solid #d0d7de;
      border-radius: 6px;
      margin: 0 0 0.75rem;
    }
    .problem {
      color: #b3261e;
    }
  `;

  /** The story's mock. */
  @property({ attribute: false }) mock: StoryMock | undefined;
  /** The object of the record edited. */
  @property() object = 'orders';
  /** The id of the record edited. */
  @property({ attribute: 'record-id' }) recordId = 'o40';

  @state() private current: LiveRecord | undefined;
  @state() private deleted = false;
  @state() private problem = '';
  @state() private offline = false;
  @state() private trafficOn = false;
  private stopTraffic: (() => void) | undefined;
  private pending = new Map<string, ReturnType<typeof setTimeout>>();

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('mock') || changed.has('recordId')) void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopTraffic?.();
    if (this.offline) this.mock?.control.online();
    for (const timer of this.pending.values()) clearTimeout(timer);
  }

  private async load(): Promise<void> {
    if (!this.mock) return;
    await this.run(async () => {
      this.current = (await rest(this.mock as StoryMock, 'GET', this.object, this.recordId)) as LiveRecord;
      this.deleted = false;
    });
  }

  /** Runs a write, showing its error instead of throwing. */
  private async run(write: () => Promise<unknown>): Promise<void> {
    try {
      this.problem = '';
      await write();
    } catch (error) {
      this.problem = (error as Error).message;
    }
  }

  /** Sends `patch` a moment after the last keystroke in that field. */
  private change(field: string, patch: Record<string, unknown>): void {
    clearTimeout(this.pending.get(field));
    this.pending.set(
      field,
      setTimeout(() => {
        this.pending.delete(field);
        void this.run(() => rest(this.mock as StoryMock, 'PATCH', this.object, this.recordId, patch));
      }, 250),
    );
  }

  private text(event: Event): string {
    return (event.target as HTMLInputElement | HTMLSelectElement).value;
  }

  private toggleTraffic(): void {
    const mock = this.mock as StoryMock;
    if (this.stopTraffic) {
      this.stopTraffic();
      this.stopTraffic = undefined;
    } else {
      this.stopTraffic = mock.control.simulate(3);
    }
    this.trafficOn = this.stopTraffic !== undefined;
  }

  private toggleOffline(): void {
    const mock = this.mock as StoryMock;
    if (this.offline) mock.control.online();
    else mock.control.offline();
    this.offline = !this.offline;
  }

  override render() {
    const mock = this.mock;
    if (!mock) return nothing;
    const order = this.current;
    const customer = (order?.customer ?? {}) as { name?: string; city?: string };
    return html`
      <form @submit=${(event: Event) => event.preventDefault()} aria-label="Edit order ${this.recordId}">
        <label for="title">Title</label>
        <input
          id="title"
          .value=${String(order?.title ?? '')}
          @input=${(e: Event) => this.change('title', { title: this.text(e) })}
        />
        <label for="status">Status</label>
        <select id="status" @change=${(e: Event) => this.change('status', { status: this.text(e) })}>
          ${STATUSES.map((s) => html`<option .selected=${order?.status === s}>${s}</option>`)}
        </select>
        <label for="total">Total (EUR)</label>
        <input
          id="total"
          type="number"
          min="0"
          .value=${String(order?.total ?? 0)}
          @input=${(e: Event) => this.change('total', { total: Number(this.text(e)) })}
        />
        <label for="customer">Customer</label>
        <input
          id="customer"
          .value=${customer.name ?? ''}
          @input=${(e: Event) => this.change('customer', { customer: { name: this.text(e) } })}
        />
        <label for="city">City</label>
        <input
          id="city"
          .value=${customer.city ?? ''}
          @input=${(e: Event) => this.change('city', { customer: { city: this.text(e) } })}
        />
      </form>
      <fieldset>
        <legend>Record ${this.recordId}</legend>
        ${
          this.deleted
            ? html`<button
                @click=${() =>
                  this.run(async () => {
                    const {
                      id: _id,
                      createdAt: _c,
                      updatedAt: _u,
                      ...body
                    }: Record<string, unknown> = order ?? {};
                    await rest(mock, 'POST', this.object, undefined, { ...body, id: this.recordId });
                    this.deleted = false;
                  })}
              >
                Create it again
              </button>`
            : html`<button
                @click=${() =>
                  this.run(async () => {
                    await rest(mock, 'DELETE', this.object, this.recordId);
                    this.deleted = true;
                  })}
              >
                Delete it
              </button>`
        }
        <button
          @click=${() =>
            this.run(() =>
              rest(mock, 'POST', this.object, undefined, {
                title: 'New order',
                status: 'pending',
                total: 99,
                customer: { name: 'A new customer', city: 'Utrecht' },
              }),
            )}
        >
          Add a pending order
        </button>
      </fieldset>
      <fieldset>
        <legend>The connection</legend>
        <button @click=${() => mock.control.drop()}>Drop it</button>
        <button @click=${() => this.toggleOffline()}>${this.offline ? 'Back online' : 'Go offline'}</button>
        <button @click=${() => mock.control.expireSession()}>Expire the session (4001)</button>
        <button @click=${() => mock.control.deny()}>Deny access (4003)</button>
        <button @click=${() => mock.connection.retry()}>Retry after denied</button>
        <button @click=${() => mock.control.exceedQuota()}>Exceed the quota (4008)</button>
      </fieldset>
      <fieldset>
        <legend>Traffic</legend>
        <button @click=${() => mock.control.burst(1000)}>Burst of 1000 events</button>
        <button aria-pressed=${this.trafficOn ? 'true' : 'false'} @click=${() => this.toggleTraffic()}>
          ${this.trafficOn ? 'Stop traffic' : 'Start traffic (3 writes/s)'}
        </button>
      </fieldset>
      ${this.problem ? html`<p class="problem" role="alert">${this.problem}</p>` : nothing}
    `;
  }
}

if (!customElements.get('story-record-editor'))
  customElements.define('story-record-editor', StoryRecordEditor);

declare global {
  interface HTMLElementTagNameMap {
    'story-record-editor': StoryRecordEditor;
  }
}
