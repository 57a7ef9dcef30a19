// The baseline: a keyed list written by hand, as a careful developer would without a framework. A
// Map from id to row (its <li> and the nodes showing fields), an array of the records in sort
// order, and each event applied in turn: binary search, sorted insert, one DOM move at most. The
// rows are clones of the same <template> the element is given, in a shadow root with the element's
// list styles, so both lists lay out the same boxes.
/* global document */

import { byPriceDescending } from './workload.js';

/** The list and item rules of `<live-record-list>` (its styles), so layout costs the same. */
const STYLES = `
  ul { display: grid; gap: 0.5rem; margin: 0; padding: 0; list-style: none; }
  li { padding: 0.5rem 0; border-bottom: 1px solid color-mix(in srgb, currentColor 15%, transparent); }
`;

/** Index of the first record that sorts at or after `record`. */
function lowerBound(order, record) {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (byPriceDescending(order[mid], record) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A hand-written keyed, sorted list of records in `host`'s shadow root. */
export class VanillaList {
  #list = document.createElement('ul');
  #rows = new Map();
  #order = [];

  constructor(host, template, locale) {
    const root = host.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLES;
    root.append(style, this.#list);
    this.template = template.content;
    this.price = new Intl.NumberFormat(locale);
  }

  /** Shows `records` (the snapshot), replacing everything. */
  reset(records) {
    this.#order = [...records].sort(byPriceDescending);
    this.#rows.clear();
    const fragment = document.createDocumentFragment();
    for (const record of this.#order) fragment.append(this.#createRow(record).item);
    this.#list.replaceChildren(fragment);
  }

  /** Applies a batch's events in order. */
  apply(events) {
    for (const { change, id, record } of events) {
      const row = this.#rows.get(id);
      if (change === 'removed') {
        if (!row) continue;
        this.#order.splice(lowerBound(this.#order, row.record), 1);
        row.item.remove();
        this.#rows.delete(id);
        continue;
      }
      if (!row) {
        const index = lowerBound(this.#order, record);
        this.#order.splice(index, 0, record);
        this.#list.insertBefore(this.#createRow(record).item, this.#itemAt(index + 1));
        continue;
      }
      const from = lowerBound(this.#order, row.record);
      this.#order.splice(from, 1);
      const to = lowerBound(this.#order, record);
      this.#order.splice(to, 0, record);
      if (to !== from) this.#list.insertBefore(row.item, this.#itemAt(to + 1));
      row.record = record;
      this.#fill(row, record);
    }
  }

  /** The ids shown, in order. */
  ids() {
    return [...this.#list.children].map((item) => item.dataset.id);
  }

  /** The list's items. */
  items() {
    return [...this.#list.children];
  }

  #itemAt(index) {
    const record = this.#order[index];
    return record ? this.#rows.get(record.id).item : null;
  }

  #createRow(record) {
    const item = document.createElement('li');
    item.dataset.id = record.id;
    item.append(this.template.cloneNode(true));
    const row = {
      item,
      record,
      name: item.querySelector('[data-field="name"]'),
      status: item.querySelector('[data-field="status"]'),
      price: item.querySelector('[data-field="price"]'),
    };
    this.#fill(row, record, true);
    this.#rows.set(record.id, row);
    return row;
  }

  #fill(row, record, fresh = false) {
    const name = record.name;
    const status = record.status;
    const price = this.price.format(record.price);
    if (fresh || row.name.textContent !== name) row.name.textContent = name;
    if (fresh || row.status.textContent !== status) row.status.textContent = status;
    if (fresh || row.price.textContent !== price) row.price.textContent = price;
  }
}
