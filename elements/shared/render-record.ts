/**
 * How an element shows one record, in order of precedence: the `renderItem` function a
 * JavaScript user set, the author's `<template>`, or a default list of the record's fields.
 * Every path renders record values as text.
 */
import { html, type TemplateResult } from 'lit';
import { compilePath } from '../../protocol/json.js';
import type { LiveRecord } from '../../protocol/messages.js';
import { bindRecord } from './bind-record.js';
import { formatValue } from './format-value.js';
import type { TemplateBinder } from './template-binder.js';

/** A function that renders one record: a Lit template or a DOM node. */
export type ItemRenderer = (record: LiveRecord) => TemplateResult | Node;

/** What `renderRecord` needs besides the record. */
export type RecordRenderOptions = {
  renderItem: ItemRenderer | undefined;
  binder: TemplateBinder | undefined;
  /** The fields to show by default (the element's `fields`); all top-level fields when absent. */
  fields: readonly string[] | undefined;
  locale: string | undefined;
};

/** One record's content (see the module comment for which way is used). */
export function renderRecord(record: LiveRecord, options: RecordRenderOptions): unknown {
  if (options.renderItem) return options.renderItem(record);
  if (options.binder) return bindRecord(options.binder, record, options.locale);
  return renderFields(record, options.fields ?? Object.keys(record), options.locale);
}

/** The default: a description list of field names and values. */
function renderFields(
  record: LiveRecord,
  paths: readonly string[],
  locale: string | undefined,
): TemplateResult {
  return html`<dl part="fields">
    ${paths.map(
      (path) =>
        html`<div part="field">
          <dt part="field-name">${path}</dt>
          <dd part="field-value">${formatValue(compilePath(path)(record), undefined, locale)}</dd>
        </div>`,
    )}
  </dl>`;
}
