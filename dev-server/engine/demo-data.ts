/**
 * The built-in config the dev server runs without `--config`: demo keys, objects and records
 * that the demo page and the stories use. Generated from a fixed seed, so every start is alike.
 */
import type { DevServerConfig } from './config.js';

/** Keys of the built-in demo: a secret one for writes and a publishable one for pages. */
export const DEMO_KEYS = { secret: 'sk_dev_demo', publishable: 'pk_dev_demo' } as const;

const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'] as const;
const CUSTOMERS = [
  { name: 'Ada Lovelace', city: 'London' },
  { name: 'Grace Hopper', city: 'New York' },
  { name: 'Alan Turing', city: 'Manchester' },
  { name: 'Katherine Johnson', city: 'Hampton' },
  { name: 'Edsger Dijkstra', city: 'Rotterdam' },
  { name: 'Barbara Liskov', city: 'Boston' },
] as const;
const PRODUCTS = [
  'Walnut desk',
  'Linen lamp',
  'Oak shelf',
  'Wool rug',
  'Steel stool',
  'Glass vase',
  'Cotton throw',
  'Brass clock',
] as const;

/** A small deterministic generator (mulberry32), so the demo data is the same on every start. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks one element of a non-empty list. */
export function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)] as T;
}

/** The built-in demo config; `now` dates the seed records. */
export function demoConfig(now = Date.now()): DevServerConfig {
  const random = seededRandom(42);
  const products = PRODUCTS.map((title, i) => ({
    id: `p${i + 1}`,
    title,
    category: i % 2 ? 'lighting' : 'furniture',
    price: Math.round(20 + random() * 480),
    stock: Math.floor(random() * 30),
  }));
  const orders = Array.from({ length: 40 }, (_, i) => {
    const product = pick(random, products);
    const quantity = 1 + Math.floor(random() * 3);
    return {
      id: `o${i + 1}`,
      title: `${quantity} × ${product.title}`,
      status: pick(random, STATUSES),
      total: product.price * quantity,
      customer: { ...pick(random, CUSTOMERS) },
      createdAt: new Date(now - (40 - i) * 3_600_000).toISOString(),
    };
  });
  return {
    allowedOrigins: ['*'],
    keys: [
      { key: DEMO_KEYS.secret, client: 'demo', environment: 'production', role: 'secret' },
      { key: DEMO_KEYS.publishable, client: 'demo', environment: 'production', role: 'publishable' },
    ],
    objects: ['orders', 'products'],
    records: { demo: { production: { orders, products } } },
  };
}

/** Values the simulator draws from when it writes demo-like records. */
export const DEMO_VALUES = { STATUSES, CUSTOMERS, PRODUCTS } as const;
