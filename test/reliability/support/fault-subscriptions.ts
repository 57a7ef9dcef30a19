/**
 * The subscriptions every client of the fault test holds — Node connection managers and browser
 * pages alike — and that the history replay checks them against: orders with a `where` that
 * matches part of them, all orders, and one custom-events topic.
 */
import type { SubscriptionRequest } from '../../../elements/connection/index.js';

/** The names of the three subscriptions. */
export const FAULT_SUBSCRIPTION_NAMES = ['pending', 'all', 'events'] as const;
/** One of `FAULT_SUBSCRIPTION_NAMES`. */
export type FaultSubscriptionName = (typeof FAULT_SUBSCRIPTION_NAMES)[number];

/** The `where` of the filtered subscription (and of the page's filtered list). */
export const PENDING = { status: 'pending' } as const;

/** The three subscription requests, for `topic`. Records subscriptions ask for a snapshot. */
export function faultSubscriptions(topic: string): Record<FaultSubscriptionName, SubscriptionRequest> {
  return {
    pending: { channel: 'records:orders', filter: { where: PENDING }, snapshot: true },
    all: { channel: 'records:orders', snapshot: true },
    events: { channel: `events:${topic}` },
  };
}
