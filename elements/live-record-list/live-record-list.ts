import { LitElement, html, nothing, type TemplateResult, type PropertyDeclarations } from 'lit';
import type { LiveRecord, Where } from '../../protocol/index.js';
import type { ChangeAnnouncer } from '../shared/announce-change.js';
import { defineElement } from '../shared/define-element.js';
import { keyedList } from '../shared/keyed-list.js';
import { LiveQueryController } from '../shared/live-query-controller.js';
import { renderRecord, type ItemRenderer, type RecordRenderOptions } from '../shared/render-record.js';
import { renderEmpty, renderError, renderLoading } from '../shared/render-states.js';
import { resolveLocale } from '../shared/resolve-locale.js';
import { templateBinder } from '../shared/template-binder.js';
import { VisibleRangeController } from '../shared/visible-range-controller.js';
import styles from './live-record-list.styles.js';

/**
 * A live query: shows the records of `object` that match `where`, sorted by `sort`, at most
 * `limit` of them, and keeps showing exactly those as records are created, changed and deleted
 * anywhere. Each batch of changes is applied in one render, in place (items keep their DOM).
 *
 * Each record renders through, in order: the `renderItem` property; a `<template>` child whose
 * `data-field` elements show fields as text (`data-format`: `number`, `integer`, `percent`,
 * `currency:EUR`, `date`, `datetime`, `time`, `relative`); or a default list of its fields.
 * Record values are always text, never HTML.
 *
 * Above 200 records the list renders only the items in view and a viewport's height above and
 * below them, and keeps the place of the others, so the page scrolls as far as with every item in
 * the DOM; scrolling the page or any scrolling ancestor brings the others in, and the first item in
 * view stays put when items above it come and go. Each rendered item carries `aria-posinset` and
 * `aria-setsize`. `records`, `live-change` and the change marks still cover every record.
 *
 * @summary A live, sorted, limited list of records.
 *
 * @attr {('create' | 'update' | 'delete')[]} operations
 * @attr {'auto' | 'off'} virtualize
 *
 * @slot loading - Shown until the first snapshot arrives (default: "Loading…").
 * @slot empty - Shown when no record matches (default: "No records.").
 * @slot error - Shown above the error message when the list cannot show data.
 *
 * @csspart base - The wrapper of everything below.
 * @csspart list - The list (`role="list"`).
 * @csspart item - One record (a list item); `data-id` holds the record's id.
 * @csspart changed - An item that changed a moment ago; also has `data-changed="added|modified"`.
 * @csspart fields - The default rendering of a record: a description list.
 * @csspart field - One field of the default rendering (`field-name` and `field-value` inside).
 * @csspart field-name - A field's path in the default rendering.
 * @csspart field-value - A field's value in the default rendering.
 * @csspart loading - The loading state.
 * @csspart empty - The empty state.
 * @csspart error - The error state (`role="alert"`).
 * @csspart error-message - The message that says what is wrong.
 * @csspart announcer - The visually hidden polite live region (with `announce`).
 *
 * @cssprop --live-color - Text color.
 * @cssprop --live-muted-color - Color of the loading and empty states and of field names.
 * @cssprop --live-error-color - Color of the error state.
 * @cssprop --live-gap - Space between items.
 * @cssprop --live-item-padding - Padding of each item.
 * @cssprop --live-item-border - Border below each item.
 * @cssprop --live-highlight-color - Background a changed item flashes with.
 * @cssprop --live-highlight-duration - How long the flash fades (no flash under `prefers-reduced-motion`).
 *
 * @fires {LiveChangeEvent} live-change - A snapshot or a batch was applied and rendered (`detail`: `{reason, added, modified, removed, records}`).
 * @fires {LiveStatusEvent} live-status - The connection's state changed (`detail`: `{state, retryInMs?, at, lastError?}`).
 * @fires {LiveErrorEvent} live-error - The list cannot show data: invalid attribute, no connection, refused (`detail`: `{source, name, message, code?}`).
 */
export class LiveRecordListElement extends LitElement {
  static override styles = styles;

  // The reactive properties (each documented where it is declared below), declared here rather
  // than with `@property()`: no element uses decorators, so the script-tag bundle leaves out
  // Lit's decorator module and the decorator helper.
  static override properties: PropertyDeclarations = {
    object: {},
    where: {},
    sort: {},
    fields: {},
    limit: { type: Number },
    operations: {},
    url: {},
    apiKey: { attribute: 'api-key' },
    locale: {},
    announce: { type: Boolean },
    highlight: { type: Number },
    virtualize: {},
    renderItem: { attribute: false },
    announcer: { attribute: false },
  };

  /** The object whose records to show, e.g. `orders`. Required. */
  object: string | undefined;

  /** Filter as JSON, object form `{"status":"pending"}` or list form `[["total",">=",100]]`; as a property, also the parsed value. */
  where: string | Where | undefined;

  /** Sort keys, comma-separated, `-` for descending: `-createdAt, title`. Default: by id. */
  sort: string | readonly string[] | undefined;

  /** Fields to fetch and show (dotted paths, comma-separated). Default: all. */
  fields: string | readonly string[] | undefined;

  /** Most records shown, 1 to 1000. Default: every match, up to the 10 000 a snapshot holds. */
  limit: number | undefined;

  /** Only hear of these writes: `create`, `update`, `delete` (comma-separated). Default: all. */
  operations: string | readonly string[] | undefined;

  /** The API's base URL (a relative one, like `/`, means the page's origin), when not inside a `<live-connection>` (with `api-key`). */
  url: string | undefined;

  /** The key, when not inside a `<live-connection>` (with `url`). */
  apiKey: string | undefined;

  /** Locale for `data-format`; default: the nearest `lang`, else the browser's. */
  locale: string | undefined;

  /** Announce additions and removals in a polite live region. */
  announce = false;

  /** How long a changed item stays marked `changed`, in ms; 0 turns marking off. */
  highlight = 1500;

  /**
   * `auto`: above 200 records, only the items in view (and a viewport's height around them) are in
   * the DOM; `off`: every item, for find-in-page, printing, or a list styled with several items per line.
   */
  virtualize: 'auto' | 'off' = 'auto';

  /** Renders one record (a Lit template or a DOM node); wins over the `<template>`. */
  renderItem: ItemRenderer | undefined;

  /** Turns a change into the live region's text (default: "2 added, 1 removed."). */
  announcer: ChangeAnnouncer | undefined;

  private readonly query = new LiveQueryController(this);
  private readonly visible = new VisibleRangeController(this, () => this.renderRoot.querySelector('ul'));

  /** The records shown, in display order. */
  get records(): readonly LiveRecord[] {
    return this.query.records;
  }

  override render() {
    const template = this.querySelector<HTMLTemplateElement>(':scope > template');
    const binder = template ? templateBinder(template) : undefined;
    const options: RecordRenderOptions = {
      renderItem: this.renderItem,
      binder,
      fields: this.query.fields,
      locale: resolveLocale(this, this.locale),
    };
    const busy = this.query.state === 'loading' || this.query.resyncing;
    return html`<div part="base" aria-busy=${busy ? 'true' : 'false'}>
      ${binder?.styles ?? nothing} ${this.renderBody(options)}
      ${
        this.announce
          ? html`<div part="announcer" class="visually-hidden" aria-live="polite">
              ${this.query.announcement}
            </div>`
          : nothing
      }
    </div>`;
  }

  private renderBody(options: RecordRenderOptions): TemplateResult {
    // New attributes keep the old records on screen (aria-busy) until the new snapshot.
    if (this.query.state === 'loading' && this.records.length === 0) return renderLoading();
    if (this.query.state === 'error') return renderError(this.query.error?.message ?? '');
    if (this.records.length === 0) return renderEmpty('No records.');
    const { renderItem, binder, fields, locale } = options;
    const all = this.records;
    const range = this.visible.range(all, this.virtualize !== 'off' && all.length > VIRTUALIZE_ABOVE);
    // When only some items render, an item re-renders when its place (aria-posinset) changes:
    // `range.start` in the deps, its index among those rendered in the stamp.
    return html`<ul part="list" role="list">
      ${spacer(range?.before)}
      ${keyedList(range?.rows ?? all, {
        key: (record) => record.id,
        stamp: (record, i) => `${this.query.highlights.get(record.id)} ${range && i}`,
        deps: [renderItem, binder, fields, locale, range?.start, range && all.length],
        template: (record, i) => this.renderRow(record, options, range && range.start + i + 1),
      })}
      ${spacer(range?.after)}
    </ul>`;
  }

  /** One item; `position` (from 1) when the list renders only some items. */
  private renderRow(record: LiveRecord, options: RecordRenderOptions, position?: number): TemplateResult {
    const mark = this.query.highlights.get(record.id);
    return html`<li
      part=${mark ? 'item changed' : 'item'}
      data-id=${record.id}
      data-changed=${mark ?? nothing}
      aria-setsize=${position ? this.records.length : nothing}
      aria-posinset=${position ?? nothing}
    >
      ${renderRecord(record, options)}
    </li>`;
  }
}

/** More records than this, and the list renders only those in view (unless `virtualize="off"`). */
const VIRTUALIZE_ABOVE = 200;

/** Keeps the place of the items not rendered before or after those that are (hidden when none: the list's gap). */
function spacer(px: number | undefined) {
  return px === undefined
    ? nothing
    : html`<li aria-hidden="true" ?hidden=${!px} .style=${`height:${px}px`}></li>`;
}

defineElement('live-record-list', LiveRecordListElement);

declare global {
  interface HTMLElementTagNameMap {
    'live-record-list': LiveRecordListElement;
  }
}
