/**
 * A Lit directive that shows a record through an author's `<template>`: the first render clones
 * the template (once per item), later renders only rewrite the bound text. Used inside `repeat`,
 * each keyed item keeps its own clone for as long as it is shown.
 */
import { noChange, nothing } from 'lit';
import { Directive, PartType, directive, type Part, type PartInfo } from 'lit/directive.js';
import type { LiveRecord } from '../../protocol/index.js';
import type { BoundView, TemplateBinder } from './template-binder.js';

class BindRecordDirective extends Directive {
  #binder: TemplateBinder | undefined;
  #view: BoundView | undefined;

  constructor(partInfo: PartInfo) {
    super(partInfo);
    if (partInfo.type !== PartType.CHILD) throw new Error('bindRecord() can only be used in child content');
  }

  render(_binder: TemplateBinder, _record: LiveRecord, _locale: string | undefined): unknown {
    return nothing; // all the work is in update(), which needs the part's memory
  }

  override update(_part: Part, [binder, record, locale]: Parameters<this['render']>): unknown {
    if (this.#binder === binder && this.#view) {
      this.#view.update(record, locale);
      return noChange;
    }
    this.#binder = binder;
    this.#view = binder.createView();
    this.#view.update(record, locale);
    return this.#view.fragment;
  }
}

/** Renders `record` through `binder`'s template, reusing the clone across renders. */
export const bindRecord = directive(BindRecordDirective);
