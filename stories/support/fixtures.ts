/**
 * Data and templates the stories share: the dev server's built-in demo config (orders and
 * products), configs for the large and the formats stories, and the `<template>`s authors write.
 */
import { html } from 'lit';
import { pick, seededRandom } from '../../dev-server/engine/demo-data.js';
import { demoConfig, type DevServerConfig } from '../../mock/index.js';

export { demoConfig };

/** The demo config with `object` added and seeded with `records`. */
export function withObject(
  config: DevServerConfig,
  object: string,
  records: Record<string, unknown>[],
): DevServerConfig {
  const [key] = config.keys;
  if (!key) throw new Error('the config has no key');
  const env = config.records?.[key.client]?.[key.environment] ?? {};
  return {
    ...config,
    objects: [...config.objects, object],
    records: { ...config.records, [key.client]: { [key.environment]: { ...env, [object]: records } } },
  };
}

/** Ids of the first `count` demo orders (`o1` …). */
export const orderIds = (count: number): string[] => Array.from({ length: count }, (_, i) => `o${i + 1}`);

/** `count` records of a plain `items` object, the same on every load. */
export function manyItems(count: number): Record<string, unknown>[] {
  const random = seededRandom(7);
  const groups = ['alpha', 'beta', 'gamma', 'delta'] as const;
  return Array.from({ length: count }, (_, i) => ({
    id: `i${String(i + 1).padStart(5, '0')}`,
    title: `Item ${i + 1}`,
    group: pick(random, groups),
    value: Math.floor(random() * 1000),
  }));
}

/** Invoices whose fields exercise every `data-format`. */
export function invoices(now = Date.now()): Record<string, unknown>[] {
  const customers = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];
  return customers.map((name, i) => ({
    id: `inv${i + 1}`,
    title: `Invoice ${2025_001 + i}`,
    customer: { name },
    amount: 1234.5 * (i + 1),
    items: 3 + i * 1.6,
    discount: 0.05 * (i + 1),
    issuedAt: new Date(now - (i + 1) * 86_400_000 * 3).toISOString(),
    dueAt: now + (i - 1) * 3_600_000 * 5,
    notes: i === 0 ? '<b>not bold</b>: record values are text, never HTML' : null,
  }));
}

/** An order card, as DESIGN.md's example writes it. */
export const orderCard = html`<template>
  <style>
    article {
      display: flex;
      justify-content: space-between;
      gap: 1rem;
    }
    h3 {
      margin: 0;
      font-size: 1rem;
    }
    small {
      color: #57606a;
    }
  </style>
  <article>
    <div>
      <h3 data-field="title"></h3>
      <small><span data-field="customer.name"></span> · <span data-field="status"></span></small>
    </div>
    <b data-field="total" data-format="currency:EUR"></b>
  </article>
</template>`;

/** Every `data-format`, each next to its name, for an invoice. */
export const everyFormat = html`<template>
  <style>
    dl {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 0.15rem 1rem;
      margin: 0;
    }
    dt {
      color: #57606a;
      font-family: monospace;
    }
    dd {
      margin: 0;
    }
    h3 {
      margin: 0 0 0.25rem;
      font-size: 1rem;
    }
  </style>
  <h3 data-field="title"></h3>
  <dl>
    <dt>(none), nested path</dt>
    <dd data-field="customer.name"></dd>
    <dt>(none), markup in a value</dt>
    <dd data-field="notes"></dd>
    <dt>number</dt>
    <dd data-field="amount" data-format="number"></dd>
    <dt>integer</dt>
    <dd data-field="items" data-format="integer"></dd>
    <dt>percent</dt>
    <dd data-field="discount" data-format="percent"></dd>
    <dt>currency:EUR</dt>
    <dd data-field="amount" data-format="currency:EUR"></dd>
    <dt>currency:JPY</dt>
    <dd data-field="amount" data-format="currency:JPY"></dd>
    <dt>date</dt>
    <dd data-field="issuedAt" data-format="date"></dd>
    <dt>datetime</dt>
    <dd data-field="issuedAt" data-format="datetime"></dd>
    <dt>time</dt>
    <dd data-field="issuedAt" data-format="time"></dd>
    <dt>relative (epoch ms)</dt>
    <dd data-field="dueAt" data-format="relative"></dd>
    <dt>relative (ISO text)</dt>
    <dd data-field="issuedAt" data-format="relative"></dd>
  </dl>
</template>`;
