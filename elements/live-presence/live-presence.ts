import { LitElement, html, nothing, type PropertyDeclarations, type TemplateResult } from 'lit';
import type { LiveRecord, Member } from '../../protocol/index.js';
import { bindRecord } from '../shared/bind-record.js';
import { defineElement } from '../shared/define-element.js';
import { keyedList } from '../shared/keyed-list.js';
import { LivePresenceController, type MemberMeta } from '../shared/live-presence-controller.js';
import { renderEmpty, renderError, renderLoading } from '../shared/render-states.js';
import { resolveLocale } from '../shared/resolve-locale.js';
import { templateBinder, type TemplateBinder } from '../shared/template-binder.js';
import styles from './live-presence.styles.js';
import { PRESENCE_LABELS, type PresenceLabels } from './presence-labels.js';

/** A function that renders one member: a Lit template or a DOM node. */
export type MemberRenderer = (member: Member) => TemplateResult | Node;

/**
 * Who is here now: joins `room` as one member, with `meta` as what the others see of it, and
 * shows how many are in the room ("3 here", this element included), kept current as others join
 * and leave. Removing the element leaves the room; a new `room` or `meta` joins again.
 *
 * With a `<template>` child (or the `renderItem` property) it also lists the members: each one's
 * `meta` through the template's `data-field` elements (text only, never HTML; `data-format` as in
 * `<live-record-list>`). A member's key is its connection id, in the `item` part's `data-id`;
 * two members of one connection (two elements sharing it) are two items.
 *
 * @summary Who is in a room now: a live count, and the members through a template.
 *
 * @attr {string} meta
 *
 * @slot loading - Shown until the room's members arrive (default: "Loading…").
 * @slot empty - Shown instead of the count while no one else is in the room (default: the count, "1 here").
 * @slot error - Shown above the error message when the element cannot join.
 *
 * @csspart base - The wrapper of everything below; `data-state` is `loading`, `ready`, `empty` or `error`.
 * @csspart count - The number of members, in words ("3 here").
 * @csspart list - The members (`role="list"`), with a `<template>` or `renderItem` only.
 * @csspart item - One member (a list item); `data-id` holds its connection id.
 * @csspart changed - A member who joined a moment ago; also has `data-changed="added"`.
 * @csspart loading - The loading state.
 * @csspart empty - The count's place while no one else is in the room.
 * @csspart error - The error state (`role="alert"`).
 * @csspart error-message - The message that says what is wrong.
 * @csspart announcer - The visually hidden polite live region (with `announce`).
 *
 * @cssprop --live-color - Text color.
 * @cssprop --live-muted-color - Color of the loading and empty states.
 * @cssprop --live-error-color - Color of the error state.
 * @cssprop --live-gap - Space between the count and the list, and between members.
 * @cssprop --live-highlight-color - Background a member who joined flashes with.
 * @cssprop --live-highlight-duration - How long the flash fades (no flash under `prefers-reduced-motion`).
 *
 * @fires {LivePresenceChangeEvent} live-change - The members arrived, or some joined or left (`detail`: `{reason, added, removed, members}`).
 * @fires {LiveStatusEvent} live-status - The connection's state changed (`detail`: `{state, retryInMs?, at, lastError?}`).
 * @fires {LiveErrorEvent} live-error - The element cannot join: invalid attribute, no connection, refused (`detail`: `{source, name, message, code?}`).
 */
export class LivePresenceElement extends LitElement {
  static override styles = styles;
  // The reactive properties (each documented where it is declared below), declared here rather
  // than with `@property()`: once no element uses decorators, the script-tag bundle leaves out
  // Lit's decorator module and the decorator helper.
  static override properties: PropertyDeclarations = {
    room: {},
    meta: {},
    url: {},
    apiKey: { attribute: 'api-key' },
    locale: {},
    announce: { type: Boolean },
    highlight: { type: Number },
    labels: { attribute: false },
    renderItem: { attribute: false },
  };

  /** The room to join, e.g. `lobby` (letters, digits, `_ - . :`). Required. */
  room: string | undefined;

  /** What the others see of this member: JSON of an object of at most 1 KiB (`{"name":"Ada"}`); as a property, also the object. Default: `{}`. */
  meta: string | MemberMeta | undefined;

  /** The API's base URL (a relative one, like `/`, means the page's origin), when not inside a `<live-connection>` (with `api-key`). */
  url: string | undefined;

  /** The key, when not inside a `<live-connection>` (with `url`). */
  apiKey: string | undefined;

  /** Locale for `data-format`; default: the nearest `lang`, else the browser's. */
  locale: string | undefined;

  /** Announce the new count in a polite live region when members join or leave. */
  announce = false;

  /** How long a member who joined stays marked `changed`, in ms; 0 turns marking off. */
  highlight = 1500;

  /** The words shown (`PRESENCE_LABELS` is the English default, "3 here"); set to translate. */
  labels: Partial<PresenceLabels> = {};

  /** Renders one member (a Lit template or a DOM node); wins over the `<template>`. */
  renderItem: MemberRenderer | undefined;

  readonly #live = new LivePresenceController(this);

  /** How many members the room has, this element included (0 until they arrive). */
  get count(): number {
    return this.#live.members.length;
  }

  /** Everyone in the room, this element included, in order of arrival: `{connectionId, meta}`. */
  get members(): readonly Member[] {
    return this.#live.members;
  }

  override render() {
    const { state, members, changes } = this.#live;
    const shown =
      state === 'error'
        ? 'error'
        : state === 'loading' && members.length === 0
          ? 'loading'
          : members.length > 1
            ? 'ready'
            : 'empty';
    const count = { ...PRESENCE_LABELS, ...this.labels }.count(members.length);
    const template = this.querySelector<HTMLTemplateElement>(':scope > template');
    const binder = template ? templateBinder(template) : undefined;
    // A trailing no-break space on every other announcement: screen readers skip a repeat of the
    // very same text, and "3 here" after one left and another joined is news.
    const announcement = changes === 0 ? '' : changes % 2 ? count : `${count}\u00a0`;
    return html`<div part="base" data-state=${shown} aria-busy=${state === 'loading' ? 'true' : 'false'}>
      ${binder?.styles ?? nothing} ${this.#renderBody(shown, count, binder)}
      ${
        this.announce
          ? html`<div part="announcer" class="visually-hidden" aria-live="polite">${announcement}</div>`
          : nothing
      }
    </div>`;
  }

  #renderBody(shown: string, count: string, binder: TemplateBinder | undefined): unknown {
    if (shown === 'loading') return renderLoading();
    if (shown === 'error') return renderError(this.#live.error?.message ?? '');
    return html`${shown === 'empty' ? renderEmpty(count) : html`<span part="count">${count}</span>`}
    ${this.#renderList(binder)}`;
  }

  #renderList(binder: TemplateBinder | undefined): unknown {
    const { renderItem } = this;
    const live = this.#live;
    if (!renderItem && !binder) return nothing;
    const locale = resolveLocale(this, this.locale);
    return html`<ul part="list" role="list">
      ${keyedList(live.members, {
        key: (member) => live.keyOf(member),
        stamp: (member) => live.highlights.get(live.keyOf(member)),
        deps: [renderItem, binder, locale],
        template: (member) => {
          const mark = live.highlights.get(live.keyOf(member));
          return html`<li
            part=${mark ? 'item changed' : 'item'}
            data-id=${member.connectionId}
            data-changed=${mark ?? nothing}
          >
            ${
              renderItem
                ? renderItem(member)
                : // The binder only reads the template's `data-field` paths: `meta` needs no `id`.
                  binder && bindRecord(binder, member.meta as LiveRecord, locale)
            }
          </li>`;
        },
      })}
    </ul>`;
  }
}

defineElement('live-presence', LivePresenceElement);

declare global {
  interface HTMLElementTagNameMap {
    'live-presence': LivePresenceElement;
  }
}
