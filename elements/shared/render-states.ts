/**
 * The loading, empty and error states of a data element, each a slot with default content and a
 * part of the same name. The error state shows the author's `error` slot *and* the specific
 * message, so a custom heading never hides what is wrong.
 */
import { html, type TemplateResult } from 'lit';

/** Until the first snapshot: the `loading` slot, by default "Loading…". */
export function renderLoading(): TemplateResult {
  return html`<div part="loading"><slot name="loading">Loading…</slot></div>`;
}

/** Nothing to show: the `empty` slot, by default `text`. */
export function renderEmpty(text: string): TemplateResult {
  return html`<div part="empty"><slot name="empty">${text}</slot></div>`;
}

/** A problem: the `error` slot followed by the message (part `error-message`). */
export function renderError(message: string): TemplateResult {
  return html`<div part="error" role="alert">
    <slot name="error"></slot>
    <span part="error-message">${message}</span>
  </div>`;
}
