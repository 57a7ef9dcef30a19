/**
 * The `<template>` an author puts inside an element, prepared once: which nodes show which field
 * (`data-field`, a dotted path) in which format (`data-format`), and the `<style>`s it carries.
 * Each record gets one clone (`createView`); later changes only rewrite the text of its bound
 * nodes. Record values are only ever written as `textContent`: never parsed as HTML.
 *
 * ```html
 * <template>
 *   <style>h3 { margin: 0 }</style>
 *   <article><h3 data-field="title"></h3><b data-field="total" data-format="currency:EUR"></b></article>
 * </template>
 * ```
 *
 * A bound element's own children are replaced by the text, so put `data-field` on leaves.
 * `<style>` elements are taken out of the clone and rendered once per element, so they style
 * every item (inside the element's shadow root) without being copied into each.
 */
import { compilePath, fieldPathError } from '../../protocol/json.js';
import type { LiveRecord } from '../../protocol/messages.js';
import { formatValue, isTimeRelative } from './format-value.js';
import { watchRelativeTime } from './relative-time-ticker.js';

type Binding = { get: (record: unknown) => unknown; format: string | undefined };

const NOTHING = (): undefined => undefined;

/** A prepared template; get one with `templateBinder(template)`. */
export class TemplateBinder {
  /** The template's `<style>` elements, to render once next to the items. */
  readonly styles: readonly HTMLStyleElement[];
  readonly #content: DocumentFragment;
  readonly #bindings: readonly Binding[];

  constructor(template: HTMLTemplateElement) {
    this.#content = template.content.cloneNode(true) as DocumentFragment;
    const styles = [...this.#content.querySelectorAll('style')];
    for (const style of styles) style.remove();
    this.styles = styles;
    this.#bindings = [...this.#content.querySelectorAll<HTMLElement>('[data-field]')].map((node) => {
      const path = node.dataset.field ?? '';
      // An invalid path (empty, `__proto__`, …) binds to nothing rather than breaking the list.
      const get = fieldPathError(path) === undefined ? compilePath(path) : NOTHING;
      return { get, format: node.dataset.format || undefined };
    });
  }

  /** A fresh clone of the template, ready to show a record. */
  createView(): BoundView {
    const fragment = this.#content.cloneNode(true) as DocumentFragment;
    const nodes = [...fragment.querySelectorAll<HTMLElement>('[data-field]')];
    return new BoundView(fragment, nodes, this.#bindings);
  }
}

/** One clone of a template and the nodes in it that show record fields. */
export class BoundView {
  #record: LiveRecord | undefined;
  #locale: string | undefined;
  readonly #nodes: readonly HTMLElement[];
  readonly #bindings: readonly Binding[];

  constructor(
    /** The clone; empty once inserted into the document. */
    readonly fragment: DocumentFragment,
    nodes: readonly HTMLElement[],
    bindings: readonly Binding[],
  ) {
    this.#nodes = nodes;
    this.#bindings = bindings;
  }

  /** Writes `record`'s values into the bound nodes; a no-op when nothing changed. */
  update(record: LiveRecord, locale: string | undefined): void {
    if (record === this.#record && locale === this.#locale) return;
    this.#record = record;
    this.#locale = locale;
    const now = Date.now();
    for (let i = 0; i < this.#nodes.length; i++) {
      const node = this.#nodes[i] as HTMLElement;
      const { get, format } = this.#bindings[i] as Binding;
      const value = get(record);
      const text = formatValue(value, format, locale, now);
      if (node.textContent !== text) node.textContent = text;
      if (isTimeRelative(format)) watchRelativeTime(node, value, locale);
    }
  }
}

const binders = new WeakMap<HTMLTemplateElement, TemplateBinder>();

/** The binder of `template`, prepared on first use and kept while the template lives. */
export function templateBinder(template: HTMLTemplateElement): TemplateBinder {
  let binder = binders.get(template);
  if (!binder) binders.set(template, (binder = new TemplateBinder(template)));
  return binder;
}
