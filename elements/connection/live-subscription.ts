/**
 * One subscription as the connection manager keeps it across reconnects: the spec, the largest
 * `seq` it has seen (its resume position) and the handlers its element gave.
 */
import type { LiveEvent, SubscribedMessage, SubscriptionSpec } from '../../protocol/index.js';
import type { LiveError } from './connection-status.js';

/** What an element asks for: a subscription spec without the parts the manager owns. */
export type SubscriptionRequest = Omit<SubscriptionSpec, 'id' | 'since' | 'epoch'>;

/** Callbacks of one subscription. Each batch reaches `onEvents` once, as one array. */
export type SubscriptionHandlers = {
  /** The server answered `subscribed`: first time, after a change, or after a reconnect. */
  onSubscribed?(message: SubscribedMessage): void;
  /** Events of one batch for this subscription, in seq order, none seen before. */
  onEvents?(events: LiveEvent[]): void;
  /** The server refused the subscription (4000, 4003, 4008, 4010, 4029); it stays refused until `update`. */
  onError?(error: LiveError): void;
};

/** The handle an element holds. */
export interface LiveSubscriptionHandle {
  readonly id: string;
  /** Replaces the subscription atomically with a new request (a changed filter, sort, …). */
  update(request: SubscriptionRequest): void;
  /** Asks again for a fresh snapshot (same request). */
  resync(): void;
  /** Ends it; the socket closes after a short linger when it was the last one. */
  unsubscribe(): void;
}

/** The manager's record of one subscription. */
export class SubscriptionEntry {
  /** Largest seq seen on this subscription in `epoch` (its `subscribed.seq` or an event's). */
  seq: number | undefined;
  epoch: string | undefined;
  /** Sent and not yet answered: events that arrive meanwhile belong to the replaced spec. */
  pending = true;
  /** Refused by the server: not re-sent on reconnect until updated. */
  refused = false;
  /** Asked for a fresh snapshot: the next subscribe goes without `since`. */
  fresh = false;

  constructor(
    readonly id: string,
    public request: SubscriptionRequest,
    readonly handlers: SubscriptionHandlers,
  ) {}

  /** The subscribe spec to send now: with `since`/`epoch` when resuming. */
  spec(): SubscriptionSpec {
    const spec: SubscriptionSpec = { ...this.request, id: this.id };
    if (!this.fresh && this.seq !== undefined && this.epoch !== undefined) {
      spec.since = this.seq;
      spec.epoch = this.epoch;
    }
    return spec;
  }
}
