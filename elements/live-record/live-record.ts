import { LitElement, html, nothing, type PropertyDeclarations, type TemplateResult } from 'lit';
import type { LiveRecord } from '../../protocol/index.js';
import { defineElement } from '../shared/define-element.js';
import { LiveRecordController } from '../shared/live-record-controller.js';
import { renderRecord, type ItemRenderer, type RecordRenderOptions } from '../shared/render-record.js';
import { renderEmpty, renderError, renderLoading } from '../shared/render-states.js';
import { resolveLocale } from '../shared/resolve-locale.js';
import { templateBinder } from '../shared/template-binder.js';
import styles from './live-record.styles.js';

/**
 * One record, live: shows record `record-id` of `object` and follows every change to it. When
 * the record is deleted, the element keeps its last version, dimmed, inside the `removed` part
 * with the `removed` slot above it (default: "This record was deleted."); when it does not exist
 * at all, the `empty` slot.
 *
 * The record renders through the `renderItem` property, a `<template>` child with `data-field`
 * elements (text only; `data-format` as in `<live-record-list>`), or a default list of its fields.
 *
 * @summary One record, live, with a removed state.
 *
 * @slot loading - Shown until the record arrives (default: "Loading…").
 * @slot empty - Shown when the record does not exist (default: "Not found.").
 * @slot removed - Shown above the last version when the record was deleted (default: "This record was deleted.").
 * @slot error - Shown above the error message when the element cannot show data.
 *
 * @csspart base - The wrapper of everything below; `data-state` is `loading`, `ready`, `removed`, `empty` or `error`.
 * @csspart record - The record's content; `data-changed="added|modified"` for a moment after a change.
 * @csspart changed - The record's content right after it changed.
 * @csspart removed - The removed state (the `removed` slot and the dimmed last version).
 * @csspart fields - The default rendering: a description list.
 * @csspart field - One field of the default rendering.
 * @csspart field-name - A field's path in the default rendering.
 * @csspart field-value - A field's value in the default rendering.
 * @csspart loading - The loading state.
 * @csspart empty - The not-found state.
 * @csspart error - The error state (`role="alert"`).
 * @csspart error-message - The message that says what is wrong.
 * @csspart announcer - The visually hidden polite live region (with `announce`).
 *
 * @cssprop --live-color - Text color.
 * @cssprop --live-muted-color - Color of the loading and empty states and of field names.
 * @cssprop --live-error-color - Color of the error state.
 * @cssprop --live-gap - Space between a field's name and value.
 * @cssprop --live-highlight-color - Background the record flashes with after a change.
 * @cssprop --live-highlight-duration - How long the flash fades (no flash under `prefers-reduced-motion`).
 * @cssprop --live-removed-opacity - Opacity of the last version of a deleted record.
 *
 * @fires {LiveChangeEvent} live-change - The record arrived, changed or was deleted (`detail`: `{reason, added, modified, removed, records}`).
 * @fires {LiveStatusEvent} live-status - The connection's state changed (`detail`: `{state, retryInMs?, at, lastError?}`).
 * @fires {LiveErrorEvent} live-error - The element cannot show data: invalid attribute, no connection, refused (`detail`: `{source, name, message, code?}`).
 */
export class LiveRecordElement extends LitElement {
  static override styles = styles;
  // The reactive properties (each documented where it is declared below), declared here rather
  // than with `@property()`: once no element uses decorators, the script-tag bundle leaves out
  // Lit's decorator module and the decorator helper.
  static override properties: PropertyDeclarations = {
    object: {},
    recordId: { attribute: 'record-id' },
    fields: {},
    url: {},
    apiKey: { attribute: 'api-key' },
    locale: {},
    announce: { type: Boolean },
    highlight: { type: Number },
    renderItem: { attribute: false },
  };

  /** The object the record belongs to, e.g. `orders`. Required. */
  object: string | undefined;

  /** The record's id. Required. */
  recordId: string | undefined;

  /** Fields to fetch and show (dotted paths, comma-separated). Default: all. */
  fields: string | readonly string[] | undefined;

  /** The API's base URL (a relative one, like `/`, means the page's origin), when not inside a `<live-connection>` (with `api-key`). */
  url: string | undefined;

  /** The key, when not inside a `<live-connection>` (with `url`). */
  apiKey: string | undefined;

  /** Locale for `data-format`; default: the nearest `lang`, else the browser's. */
  locale: string | undefined;

  /** Announce changes and the deletion in a polite live region. */
  announce = false;

  /** How long the record stays marked `changed` after a change, in ms; 0 turns marking off. */
  highlight = 1500;

  /** Renders the record (a Lit template or a DOM node); wins over the `<template>`. */
  renderItem: ItemRenderer | undefined;

  readonly #live = new LiveRecordController(this);

  /** The record (its last version once deleted), or `undefined`. */
  get record(): LiveRecord | undefined {
    return this.#live.record;
  }

  /** Whether the record was deleted while shown. */
  get removed(): boolean {
    return this.#live.removed;
  }

  override render() {
    const { state, record, removed } = this.#live;
    const shown = state === 'ready' ? (record ? (removed ? 'removed' : 'ready') : 'empty') : state;
    return html`<div part="base" data-state=${shown}>
      ${this.#renderBody(shown)}
      ${
        this.announce
          ? html`<div part="announcer" class="visually-hidden" aria-live="polite">
              ${shown === 'removed' ? 'Deleted.' : shown === 'ready' && this.#live.changed ? 'Updated.' : ''}
            </div>`
          : nothing
      }
    </div>`;
  }

  #renderBody(shown: string): TemplateResult {
    const record = this.#live.record;
    if (shown === 'loading') return renderLoading();
    if (shown === 'error') return renderError(this.#live.error?.message ?? '');
    if (shown === 'empty' || !record) return renderEmpty('Not found.');
    const template = this.querySelector<HTMLTemplateElement>(':scope > template');
    const binder = template ? templateBinder(template) : undefined;
    const options: RecordRenderOptions = {
      renderItem: this.renderItem,
      binder,
      fields: this.#live.fields,
      locale: resolveLocale(this, this.locale),
    };
    const mark = shown === 'removed' ? undefined : this.#live.changed;
    const content = html`${binder?.styles ?? nothing}
      <div part=${mark ? 'record changed' : 'record'} data-changed=${mark ?? nothing}>
        ${renderRecord(record, options)}
      </div>`;
    if (shown !== 'removed') return content;
    return html`<div part="removed">
      <slot name="removed">This record was deleted.</slot>
      ${content}
    </div>`;
  }
}

defineElement('live-record', LiveRecordElement);

declare global {
  interface HTMLElementTagNameMap {
    'live-record': LiveRecordElement;
  }
}
